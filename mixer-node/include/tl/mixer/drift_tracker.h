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

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tl/common/units.h"
#include "tl/dsp/conform.h"

namespace tl::mixer {

//! Whether a drift measured from the arrival of a node's audio agrees with the node's
//! own report of it (clock sync plus its device's DLL; ppm, + = the node runs fast;
//! NaN: not reported): within a quarter of the report plus slack_ppm. Arrival times
//! alone cannot tell a drifting clock from a path that grows slower under load.
inline bool drift_agrees(double reported_ppm, double measured_ppm, double slack_ppm) noexcept {
  return std::isfinite(reported_ppm) &&
         std::fabs(reported_ppm - measured_ppm) <= 0.25 * std::fabs(reported_ppm) + slack_ppm;
}

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
    double measured = 0.0;         // the drift the arrivals alone gave (drift differs when the
                                   // node's report overruled it)
  };
  //! Closes the current window and fits every stretch. reported_ppm is the node's own
  //! figure for its clock (+ = fast; NaN: none): a measured drift it does not confirm
  //! (see drift_agrees, 2 ppm of slack) gives way to it, or to none when the node
  //! reports under 2 ppm; one within 2 ppm of it is averaged with it. On a loaded machine a few floors can
  //! show a drift-free node several ppm off, which over a take is samples: a needless resample.
  std::vector<Stretch> stretches(double reported_ppm = std::numeric_limits<double>::quiet_NaN());

  //! Anchors mapping raw-track index (media time - origin) to session position
  //! (- origin), for tl::dsp::conform. Each stretch starts where its media time
  //! says (the node's clock sync placed it) and drifts by its stretches() figure.
  std::vector<dsp::ConformAnchor> anchors(MediaTime origin,
                                          double reported_ppm = std::numeric_limits<double>::quiet_NaN());

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
