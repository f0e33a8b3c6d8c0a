#pragma once
//! take.json: what a take's folder holds, the one reader and writer of it.
//!
//! The recorder writes it as a take starts ("recording"), when it asks the nodes'
//! spools for missing audio ("backfilling") and when the take closes ("complete":
//! every track with its levels, what is still missing and why, how it was conformed,
//! where the live mix concealed it). `tlctl takes`, recovery and tl-render read it.
//! Users and scripts read it too: the keys and their meaning stay as they are.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/dsp/conform.h"

namespace tl::mixer {

//! Frames [from, from + frames) of a timeline (which one: see where it is used).
struct TakeRange {
  std::int64_t from = 0;
  std::int64_t frames = 0;
  bool operator==(const TakeRange&) const = default;
};

//! One file of a take: a node's input channel, or the mix.
struct TakeTrack {
  std::string file;  //!< relative to the take's folder
  std::string node;
  std::uint32_t channel = 0;       //!< from 1; 0 for the mix
  std::int64_t first_sample = -1;  //!< session sample where its audio starts (-1: none)
  std::uint64_t frames = 0;
  double peak_dbfs = -150.0;
  double rms_dbfs = -150.0;
  std::uint64_t lost_samples = 0;
  std::uint64_t concealed_samples = 0;
  std::uint64_t clipped_samples = 0;
  //! The transport-timeline position of the file's first frame (automation.json's
  //! TakeAutomation::placement); absent when the transport did not play in the take.
  std::optional<std::int64_t> timeline_sample;
  //! A node's track: the frames its placement was moved back by (what the performer heard
  //! the cue after, and the interface's round trip); absent when the node could not say.
  std::optional<std::int64_t> compensation_samples;
  bool compensation_changed = false;  //!< it changed during the take (written when true)
  //! A placed node track with raw/ (its raw_file, or the file moved back by moved_samples
  //! when the take keeps one): where raw/'s first frame lies on the timeline. Exact: raw/
  //! runs on the node's own clock, as its cue and its round trip do, where a session-aligned
  //! file the conform resampled for drift is placed by its start.
  std::optional<std::int64_t> raw_timeline_sample;

  // A node's track only (not written for the mix):
  std::uint64_t recovered_samples = 0;  //!< late, resent, or from the node's spool
  std::vector<TakeRange> missing;       //!< session samples still silence instead of audio
  std::string missing_reason;           //!< why (empty: nothing missing; not written)
  bool complete = false;                //!< nothing missing

  //! Where the live mix concealed this input, in its node's media time (as raw/ holds it).
  struct LiveConcealed {
    std::vector<TakeRange> runs;
    bool exact = true;     //!< every run was read sample for sample (not through the varispeed)
    bool complete = true;  //!< false: more runs than were kept
    bool operator==(const LiveConcealed&) const = default;
  };
  std::optional<LiveConcealed> live_concealed;
  std::uint16_t node_id = 0;  //!< the node's id in the live mixer (0: unknown; not written)
  std::string live_codec;     //!< "opus" when the live mix played decoded audio (empty: not written)

  //! How the session-aligned track was made from raw/ (absent: not conformed).
  struct Conform {
    //! "raw/<file>"; empty when the take keeps one file for a whole-sample move: raw/
    //! is then the track moved back by moved_samples, with raw_edge where the move
    //! pushed samples out of the take (see raw_edge_at()).
    std::string raw_file;
    std::vector<std::int32_t> raw_edge;        //!< those samples, 24-bit, in order
    double drift_ppm = 0.0;                    //!< the drift the conform applied (+: the node slow)
    double measured_drift_ppm = 0.0;           //!< what its arrivals alone showed (same sign)
    std::optional<double> reported_drift_ppm;  //!< the node's own report (+: fast; absent: none)
    double drift_samples = 0.0;
    bool resampled = false;              //!< written as "conform": "resampled" or "copy"
    double moved_samples = 0.0;          //!< how far it stands from its packets' stamps
    std::int64_t raw_first_sample = -1;  //!< where raw/ starts (-1: not written)
    bool linked = false;  //!< the track and raw/ are one file on disk (a hard link), written once
    double clock_offset_ms = 0.0;
    //! The session-aligned file is still to be written (the take is "conforming"), from
    //! raw/ by this map: what the conform needs, kept so a later mixer can finish it.
    bool pending = false;
    std::vector<dsp::ConformAnchor> map;
    //! Where raw_edge starts in raw/'s frames, for a track of `frames`: its end after a
    //! move later (moved_samples > 0), its start after a move earlier.
    std::int64_t raw_edge_at(std::int64_t frames) const {
      return moved_samples > 0.0 ? frames - static_cast<std::int64_t>(raw_edge.size()) : 0;
    }
    bool operator==(const Conform&) const = default;
  };
  std::optional<Conform> conform;

  //! The mix only: where mix.wav holds concealed audio (session samples).
  std::vector<TakeRange> concealed;

  bool operator==(const TakeTrack&) const = default;
};

//! A punch range armed as the take started (tlctl record punch FROM TO; with none armed, a
//! loop's range, tlctl loop FROM TO): each time the
//! transport played through FROM while the take ran is a pass, and each pass of each
//! armed node track is written to punch-N/<file>: timeline [from - fade, to + fade), the
//! fades (raised cosine) outside the range, so the range itself is the take at full level
//! and the handles crossfade with whatever lies under it on the timeline. The take's own
//! tracks stay whole (nothing lost: a punch set too tight can be cut again from them).
struct TakePunch {
  std::int64_t from = 0;  //!< timeline samples
  std::int64_t to = 0;
  std::int64_t fade_samples = 0;
  std::vector<std::string> nodes;  //!< the armed nodes (empty: every node of the take)
  //! No punch was armed: a loop was set (tlctl loop), and each lap of it is a pass.
  bool from_loop = false;
  struct Pass {
    std::uint32_t number = 0;  //!< from 1, in the order played
    std::string folder;        //!< "punch-<number>"
    //! The session sample at which the mix played `from` (as mix.wav places it).
    std::int64_t mix_sample = 0;
    std::int64_t frames = 0;         //!< of the range played: to - from, less when it was cut short
    bool complete = false;           //!< the transport played the whole range
    std::vector<std::string> files;  //!< written (relative to the take's folder)
    bool operator==(const Pass&) const = default;
  };
  std::vector<Pass> passes;  //!< found as the take closed
  bool pending = false;      //!< the passes' files are still to be written
  std::string error;         //!< why they were not all written (empty: they were)
  bool armed(const std::string& node) const {
    return nodes.empty() || std::find(nodes.begin(), nodes.end(), node) != nodes.end();
  }
  bool operator==(const TakePunch&) const = default;
};

struct TakeManifest {
  static constexpr const char* kFormat = "tracklink-take/1";
  // A take's one state word, the same in take.json, `tlctl takes` and its --json:
  static constexpr const char* kRecording = "recording";      //!< being recorded
  static constexpr const char* kBackfilling = "backfilling";  //!< stopped, asking the spools
  static constexpr const char* kComplete = "complete";        //!< closed, nothing missing
  static constexpr const char* kIncomplete = "incomplete";    //!< closed, tracks list what is missing and why
  static constexpr const char* kUnfinished = "unfinished";    //!< its mixer stopped while recording it
  //! Closed (tracks, levels, what is missing: final); session-aligned files still being
  //! written in the background (the tracks whose conform is pending).
  static constexpr const char* kConforming = "conforming";

  std::string take;
  std::string state;  //!< one of the k* words above
  std::uint32_t sample_rate = 0;
  MediaTime start_sample = 0;
  MediaTime latency_frames = 0;             //!< the live mix's play-out delay when written
  bool recovered_after_mixer_stop = false;  //!< completed by a later mixer
  std::int64_t session_epoch_ns = 0;        //!< the session it was recorded in (0: not written)
  //! Where no mixer ran during the take (session samples): a killed mixer's take went on
  //! in the next one. The tracks are filled there from the spools; mix.wav is silent.
  std::vector<TakeRange> mixer_down;

  // Written once the take is closed (kComplete, kIncomplete or kConforming):
  std::uint64_t frames = 0;
  double seconds = 0.0;
  bool complete = false;  //!< no track is missing anything
  std::optional<TakeTrack> mix;

  std::vector<TakeTrack> tracks;   //!< the nodes' tracks (none until closed)
  std::optional<TakePunch> punch;  //!< armed at the start (its passes once closed)
  //! The BWF time reference of the song's start (timeline 0) in the take's files, when
  //! they are placed on the timeline (see take_bwf.h); 0: they hold session samples.
  std::int64_t bwf_song_start = 0;

  bool closed() const { return state == kComplete || state == kIncomplete || state == kConforming; }
  //! Node tracks whose session-aligned file is still to be written.
  std::size_t tracks_conforming() const;
  //! The closed state for a take with (or without) audio still missing.
  static const char* closed_state(bool complete) { return complete ? kComplete : kIncomplete; }
  bool operator==(const TakeManifest&) const = default;

  //! <take_dir>/take.json. Fields it does not hold keep their defaults; an error says
  //! which file is missing or not valid, or which field is of the wrong type.
  static Result<TakeManifest> read(const std::filesystem::path& take_dir);
  //! Replaces <take_dir>/take.json at once (written aside, then renamed).
  Status write(const std::filesystem::path& take_dir) const;
};

}  // namespace tl::mixer
