#pragma once
//! automation.json: the mix as a take began and every change made during it, the one
//! reader and writer of it.
//!
//! The recorder writes it as the take starts and again (aside, then renamed) within
//! 0.1 s of each change, so a killed mixer's take keeps its changes; tl-render
//! reads it to mix the take again. `initial` is a proto::Scene and each change's
//! `state` a proto::StripState, both in protobuf's JSON form; each change is written
//! with `offset` (the mix.wav frame it applies from) and `target` beside them.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/mixer/timeline_loop.h"

namespace tl::mixer {

//! How a node's audio is placed on the transport timeline: its audio at media time m was
//! played against mix position m - play_delay - round_trip (NodeReport). -1: not known.
struct NodeCompensation {
  MediaTime play_delay = -1;
  MediaTime round_trip = -1;
  bool known() const noexcept { return play_delay >= 0 && round_trip >= 0; }
  MediaTime frames() const noexcept { return play_delay + round_trip; }
  bool operator==(const NodeCompensation&) const = default;
};

struct TakeAutomation {
  std::string take;
  std::uint32_t sample_rate = 0;
  MediaTime start_sample = 0;

  //! How the live mix ran: what a render needs to repeat it block for block.
  struct Mix {
    std::uint32_t block_frames = 0;    //!< the mix engine's block
    MediaTime block_origin = 0;        //!< where one of its blocks began (its grid)
    std::size_t lookahead_frames = 0;  //!< the master chain's delay (mix.wav is placed back by it)
    bool operator==(const Mix&) const = default;
  };
  Mix mix;

  //! The whole mixer state as the take began (JSON text; read back compact).
  std::string initial;

  struct Change {
    MediaTime position = 0;  //!< session samples, as mix.wav places them
    std::string state;       //!< the target's whole state after the change (JSON text)
    bool operator==(const Change&) const = default;
  };
  //! In the order the mix applied them. A change whose state is not JSON is not written.
  std::vector<Change> changes;

  //! The transport timeline (position 0: the song's start), as the engine moved it: the
  //! mark in force as the take began (its position may lie before the take), then each
  //! play, locate and stop, in order. From `position` (session samples, as mix.wav
  //! places them) on, mix position p is timeline `timeline` + (p - position) while
  //! playing (folded by its loop, if any), and stands at `timeline` while stopped.
  struct TransportMark {
    MediaTime position = 0;
    bool playing = false;
    MediaTime timeline = 0;
    //! A play that loops (tlctl loop): mix position p is then straight timeline `timeline`
    //! + (p - position) folded by it (see TimelineLoop), written as "loop": {"from", "to"}.
    TimelineLoop loop;
    bool operator==(const TransportMark&) const = default;
  };
  std::vector<TransportMark> transport;
  //! The timeline position of session sample p; none when the transport did not play then
  //! (or the take has no transport record: an older tl-mixer's).
  std::optional<MediaTime> timeline_at(MediaTime p) const;
  //! Where a track that begins at session sample `first` lies on the timeline: the
  //! timeline position of its first sample, counted back from the first time the
  //! transport played at or after it (negative when the take began that much before the
  //! song's start); none when the transport did not play during the take.
  std::optional<MediaTime> placement(MediaTime first) const;

  //! The backing tracks that played as the take began (tlctl backing list), where the
  //! mixer read them: a render plays them from the same files on the same timeline.
  struct Backing {
    std::string name;
    std::string path;
    std::uint16_t node_id = 0;  //!< its registry slot (the engine sums slots in id order)
    std::uint32_t channels = 0;
    MediaTime at = 0;      //!< timeline position of its first frame
    MediaTime frames = 0;  //!< at the session's rate
    bool operator==(const Backing&) const = default;
  };
  std::vector<Backing> backing;
  //! A backing track was added or removed while the take ran: its render cannot know when
  //! the live mix first heard it.
  bool backing_changed = false;

  bool operator==(const TakeAutomation&) const = default;

  //! <take_dir>/automation.json. An error says whether it is missing or not valid, or
  //! which field is of the wrong type.
  static Result<TakeAutomation> read(const std::filesystem::path& take_dir);
  Status write(const std::filesystem::path& take_dir) const;
};

}  // namespace tl::mixer
