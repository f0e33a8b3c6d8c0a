#pragma once
//! The transport and the backing tracks as the operator drives them (io thread):
//! tlctl play, stop, locate, transport, and backing add|list|remove.
//!
//! A play or locate first has every backing track read ahead from the new position
//! (BackingTracks::prepare), waits for that (polling every 2 ms, at most 2 s; the io
//! thread never blocks), then posts the transport command with the read's generation
//! and answers. The transport command takes effect at the next mix block: timeline
//! position P plays at that block's play-out position.

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tl/mixer/backing_tracks.h"
#include "tl/mixer/control_server.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/take_manifest.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class TransportControl {
 public:
  //! changed: called (io thread) after a backing track was added or removed.
  TransportControl(asio::io_context& io, MixEngine& engine, BackingTracks& backing, std::uint32_t rate,
                   std::function<void()> changed)
      : io_(io), engine_(engine), backing_(backing), rate_(rate), changed_(std::move(changed)) {}

  void request(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::TransportRequest& r);
  void backing(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::BackingRequest& r);
  //! tlctl tempo BPM [BEATS]: bar.beat positions and the click follow it.
  void tempo(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::TempoRequest& r);
  //! tlctl click on|off|level DB: the metronome in every cue mix.
  void click(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::ClickRequest& r);

  //! The transport now (the engine's, as of its last block).
  proto::TransportState state() const;
  //! The punch range armed (tlctl record punch) as a take starting now keeps it; with none
  //! armed and a loop set, the loop's range for every node (each lap a pass).
  std::optional<TakePunch> punch_for_take() const;

  //! Counts the changes the desk journal keeps: tempo, click, backing tracks. (The
  //! mixer counts the transport's moves as the engine applies them.)
  std::uint64_t changes() const noexcept { return changes_; }
  //! What the desk journal keeps.
  proto::TransportSetup setup() const;
  //! A restarted mixer takes back the last one's tempo, click and backing tracks, and
  //! stands where the transport stood. A value out of range or a file it cannot play is
  //! skipped with a warning. Returns the names of the backing tracks added again.
  std::vector<std::string> restore(const proto::TransportSetup& setup);

 private:
  //! Answers request id with a TransportState.
  static void reply_state(ControlSession& s, std::uint64_t id, const proto::TransportState& st);
  //! A position as samples at the session rate (bar.beat at the tempo); an error when it
  //! is before 0.
  Result<MediaTime> samples(const proto::TimelinePosition& p) const;
  //! A beat's length in samples at the tempo.
  double beat_frames() const { return 60.0 * rate_ / bpm_; }
  //! tlctl record punch FROM TO [NODE...] | off.
  void punch(ControlSession& s, std::uint64_t id, const proto::TransportRequest& r, MediaTime from);
  //! tlctl loop FROM TO | off.
  void loop(ControlSession& s, std::uint64_t id, const proto::TransportRequest& r, MediaTime from);
  //! A range's end (PUNCH, LOOP): after `from`, at least `min_frames` on; else the error.
  Result<MediaTime> range_end(const proto::TransportRequest& r, MediaTime from, MediaTime min_frames,
                              const char* what) const;
  //! Posts the command once generation is read ahead (or 2 s have gone), then answers.
  void post_when_ready(const std::weak_ptr<ControlSession>& s, std::uint64_t id, MixCommand command,
                       std::shared_ptr<asio::steady_timer> timer, int tries_left);

  asio::io_context& io_;
  MixEngine& engine_;
  BackingTracks& backing_;
  std::uint32_t rate_;
  std::function<void()> changed_;
  //! The metronome as it stands (tempo, meter, level, on) for the engine.
  MixCommand click_command() const;
  //! Posts it; a refusal answers request id.
  bool post_click(ControlSession& s, std::uint64_t id);
  //! A new stereo backing track starts panned left and right (its strips' own state after
  //! that).
  Status pan_new_track(const BackingTracks::Added& added);
  std::uint64_t changes_ = 0;
  double bpm_ = 120.0;
  std::uint32_t beats_per_bar_ = 4;
  bool click_on_ = false;
  float click_level_db_ = -12.0f;
  std::uint32_t count_in_bars_ = 0;
  std::optional<proto::Punch> punch_;
  TimelineLoop loop_;  //!< tlctl loop (off: none); each play or locate takes it
};

}  // namespace tl::mixer
