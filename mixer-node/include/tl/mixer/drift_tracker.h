#pragma once
//! Measures a node's sample clock against the session clock from its own audio.
//!
//! Every packet says where its audio belongs (media time) and the receiver notes
//! when it arrived (session clock). Transit = arrival - end of the packet's audio.
//! Queueing only ever adds to it, so the smallest transit of each window of audio
//! traces the fixed part of the delay; if that floor creeps, the node's clock runs
//! at another rate than the session's: a floor rising by 1 sample per 10,000
//! means the node runs 100 ppm slow. The line under the window floors (their
//! lower convex hull at the middle of the stretch), one per stretch of continuous
//! audio (a node restart starts a new stretch), gives the timestamp map the
//! conform step needs. Measured, not assumed.
//!
//! Recorder thread only.

#include <cstdint>
#include <vector>

#include "tl/common/units.h"
#include "tl/dsp/conform.h"

namespace tl::mixer {

class DriftTracker {
 public:
  explicit DriftTracker(std::uint32_t sample_rate, double window_seconds = 1.0);

  //! One packet: its media time, frames, and arrival on the session clock (ns).
  //! restart: the node began a new timeline with this packet.
  void add(MediaTime media_ts, std::uint32_t frames, std::int64_t arrival_ns, bool restart);

  struct Stretch {
    MediaTime first = 0, end = 0;  // media time covered
    double drift = 0.0;            // session samples gained per media sample (+: node runs slow);
                                   // 0 when the slope does not stand out of its uncertainty (3 sigma)
    double sigma = 0.0;            // that uncertainty, from the floors' spread around the line
    std::size_t windows = 0;       // window floors the fit used
  };
  //! Closes the current window and fits every stretch.
  std::vector<Stretch> stretches();

  //! Anchors mapping raw-track index (media time - origin) to session position
  //! (- origin), for tl::dsp::conform. Each stretch starts where its media time
  //! says (the node's clock sync placed it) and drifts by its fit.
  std::vector<dsp::ConformAnchor> anchors(MediaTime origin);

 private:
  struct Floor {
    MediaTime at = 0;      // media time of the packet with the smallest transit
    double transit = 0.0;  // samples
  };
  struct Run {
    std::vector<Floor> floors;
    MediaTime first = INT64_MAX, end = INT64_MIN;
  };
  void close_window();

  std::uint32_t rate_;
  MediaTime window_;
  std::vector<Run> runs_;
  MediaTime window_start_ = 0;
  MediaTime window_frames_ = 0;
  Floor best_{};
  bool have_best_ = false;
};

}  // namespace tl::mixer
