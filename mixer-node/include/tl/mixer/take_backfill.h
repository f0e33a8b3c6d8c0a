#pragma once
//! The audio a take is missing, asked of its nodes' spools (FetchAudio over their
//! control connections), and how each request went.
//!
//! While recording, an Opus node is asked for the exact samples behind the decoded
//! audio written as a stand-in (one request in flight per node); when the take stops,
//! each node is asked for every range its tracks still miss. What is still missing
//! after that gets a reason for the operator (take.json missing_reason).

#include <cstdint>
#include <string>
#include <vector>

#include "tl/common/units.h"
#include "tl/mixer/take_concealment.h"
#include "tl/mixer/track_writer.h"

namespace tl::mixer {

//! A node's gaps over all its channels (take-relative; a node resends whole frames,
//! every channel), merged and cut into the ranges to ask for, each at most max_frames.
std::vector<FrameSpan> backfill_ranges(std::vector<TrackWriter::Gap> gaps, std::int64_t max_frames);

//! The stand-ins (provisional gaps, every channel's) written from `asked` on: the range
//! to ask for next, from the first of them, at most max_frames. Empty (first >= second)
//! when there are none.
FrameSpan stand_in_range(const std::vector<TrackWriter::Gap>& gaps, std::int64_t asked,
                         std::int64_t max_frames);

class Backfill {
 public:
  static constexpr std::uint32_t kMaxRequestFrames = 48000u * 60u;  //!< one take-end request
  static constexpr std::int64_t kMaxStandInFrames = 48000 * 5;      //!< one request while recording

  struct Request {
    std::uint16_t node = 0;
    MediaTime from = 0;  //!< the node's media time
    std::uint32_t frames = 0;
    bool done = false;
    std::uint32_t not_in_spool = 0;  //!< frames the node's spool did not hold
    std::uint32_t evicted = 0;       //!< of those, older than its oldest (--spool-max)
    bool no_spool = false;           //!< the node has no spool (--spool-dir none)
    std::string failure;             //!< why it could not be asked (node not connected)
  };
  //! The node's last message for a request: what its spool did not hold, and why.
  struct Answer {
    std::uint32_t not_in_spool = 0;
    std::uint32_t evicted = 0;
    bool no_spool = false;
  };

  //! How long the take-end backfill waits for answers: 5 s plus 2 s per second of
  //! missing audio, 45 s at most (under tlctl record stop's 60 s wait).
  static std::int64_t wait_ns(std::uint64_t missing_frames, std::uint32_t sample_rate);

  void ask(std::uint16_t node, MediaTime from, std::uint32_t frames);
  void answered(std::uint16_t node, MediaTime from, std::uint32_t frames, const Answer& answer);
  //! A request that could not be sent.
  void failed(std::uint16_t node, MediaTime from, std::uint32_t frames, const std::string& reason);

  //! Whether a request of the node's is still unanswered.
  bool waiting_for(std::uint16_t node) const;
  bool all_answered() const;
  std::size_t answered_count() const;
  const std::vector<Request>& requests() const noexcept { return requests_; }

  //! Why a node's tracks still miss audio after the backfill, for the operator.
  //! shutting_down: the mixer was stopping (nothing could be asked).
  std::string missing_reason(std::uint16_t node, bool shutting_down) const;

 private:
  std::vector<Request> requests_;
};

}  // namespace tl::mixer
