#include "tl/mixer/drift_tracker.h"

#include <algorithm>
#include <cmath>

namespace tl::mixer {

namespace {
//! Measured and reported drifts this close are both taken as right, to their noise.
constexpr double kCloseDrift = 2e-6;

//! How many standard errors a fit's slope must stand from zero to count, for a fit
//! through n floors (n - 2 degrees of freedom): Student's t at the confidence 3 sigma
//! gives a normal variable (99.73%, two-sided). A flat 3 sigma is only that sure with
//! many floors: through 3 floors (one degree of freedom) it passes noise one time in
//! five, and a 2.5 s take of a node on the mixer's own clock was resampled for -7.9 ppm.
double significant_t(std::size_t floors) {
  static constexpr double kT[] = {235.8, 19.21, 9.219, 6.620, 5.507, 4.904, 4.530, 4.277,
                                  4.094, 3.957, 3.850, 3.764, 3.694, 3.636, 3.586, 3.544};
  const std::size_t dof = floors > 2 ? floors - 2 : 1;
  if (dof <= std::size(kT)) return kT[dof - 1];
  return 3.0 + 8.0 / static_cast<double>(dof);  // 3.27 at 30, 3.0 in the limit
}
}  // namespace

DriftTracker::DriftTracker(std::uint32_t sample_rate, double window_seconds)
    : rate_(sample_rate), window_(static_cast<MediaTime>(window_seconds * sample_rate)) {}

void DriftTracker::add(MediaTime media_ts, std::uint32_t frames, std::int64_t arrival_ns, bool restart) {
  if (runs_.empty() || restart) {
    close_window();
    if (runs_.empty() || !runs_.back().floors.empty() || runs_.back().first != INT64_MAX)
      runs_.emplace_back();
    window_start_ = media_ts;
  }
  Run& run = runs_.back();
  const MediaTime end = media_ts + frames;
  run.first = std::min(run.first, media_ts);
  run.end = std::max(run.end, end);
  if (media_ts - window_start_ >= window_) {
    close_window();
    window_start_ = media_ts;
  }
  window_frames_ += frames;
  const double transit = static_cast<double>(arrival_ns) * rate_ / 1e9 - static_cast<double>(end);
  if (!have_best_ || transit < best_.transit) {
    best_ = Floor{.at = end, .transit = transit};
    have_best_ = true;
  }
}

void DriftTracker::close_window() {
  // A window with little audio in it (the tail of a stretch) has a floor that
  // still carries queueing delay: leave it out.
  if (have_best_ && !runs_.empty() && window_frames_ * 2 >= window_) runs_.back().floors.push_back(best_);
  have_best_ = false;
  window_frames_ = 0;
}

namespace {
//! Slope of the line under every floor that lies highest at their mean media
//! time: the lower convex hull's edge spanning that mean. Queueing only ever adds
//! delay, so the lowest floors are the truest and one noisy window cannot pull
//! the line up (a least-squares fit through the floors can be off by tenths of a
//! ppm on a busy machine).
double floor_slope(const std::vector<std::pair<double, double>>& pts) {
  std::vector<std::pair<double, double>> hull;
  for (const auto& p : pts) {
    while (hull.size() >= 2) {
      const auto& a = hull[hull.size() - 2];
      const auto& b = hull.back();
      const double cross =
          (b.first - a.first) * (p.second - a.second) - (b.second - a.second) * (p.first - a.first);
      if (cross > 0.0) break;  // a left turn: b stays on the lower hull
      hull.pop_back();
    }
    hull.push_back(p);
  }
  double mean_x = 0.0;
  for (const auto& p : pts) mean_x += p.first;
  mean_x /= static_cast<double>(pts.size());
  for (std::size_t i = 0; i + 1 < hull.size(); ++i) {
    if (hull[i + 1].first >= mean_x) {
      return (hull[i + 1].second - hull[i].second) / (hull[i + 1].first - hull[i].first);
    }
  }
  return 0.0;
}
}  // namespace

std::vector<DriftTracker::Stretch> DriftTracker::stretches(double reported_ppm) {
  close_window();
  std::vector<Stretch> out;
  for (const Run& run : runs_) {
    if (run.first == INT64_MAX) continue;
    Stretch s{.first = run.first, .end = run.end, .windows = run.floors.size()};
    // A slope needs a few windows over a couple of seconds; shorter stretches
    // are taken as the node's clock sync placed them.
    if (run.floors.size() >= 3 &&
        run.floors.back().at - run.floors.front().at >= 2 * static_cast<MediaTime>(rate_)) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& f : run.floors) pts.emplace_back(static_cast<double>(f.at), f.transit);
      // The lower hull's slope is the precise one on a quiet path. How well the floors
      // pin any slope shows in a least-squares fit's standard error: on a jittery path
      // (floors milliseconds apart) a short take cannot tell tens of ppm from none, and
      // the hull's edge can tilt wildly. The drift applied is the hull's while it agrees
      // with the fit, else the fit's, and only when the fit stands out of its noise
      // (significant_t: 3 sigma when many floors pin it).
      const double hull = floor_slope(pts);
      const auto n = static_cast<double>(pts.size());
      double mean_x = 0.0, mean_y = 0.0;
      for (const auto& p : pts) {
        mean_x += p.first;
        mean_y += p.second;
      }
      mean_x /= n;
      mean_y /= n;
      double sxx = 0.0, sxy = 0.0;
      for (const auto& p : pts) {
        sxx += (p.first - mean_x) * (p.first - mean_x);
        sxy += (p.first - mean_x) * (p.second - mean_y);
      }
      const double fit = sxy / sxx;
      double sum_sq = 0.0;
      for (const auto& p : pts) {
        const double r = p.second - mean_y - fit * (p.first - mean_x);
        sum_sq += r * r;
      }
      s.sigma = std::sqrt(sum_sq / std::max(1.0, n - 2.0) / sxx);
      const bool significant = std::fabs(fit) > significant_t(pts.size()) * s.sigma;
      s.drift = !significant ? 0.0 : std::fabs(hull - fit) <= 3.0 * s.sigma + 1e-6 ? hull : fit;
    }
    s.measured = s.drift;
    // The tracker's drift is + when the node runs slow, the report's when it runs fast.
    if (std::isfinite(reported_ppm)) {
      const double report = -1e-6 * reported_ppm;
      if (!drift_agrees(reported_ppm, -1e6 * s.drift, 2.0)) {
        s.drift = std::fabs(reported_ppm) <= 2.0 ? 0.0 : report;
      } else if (s.drift != 0.0 && std::fabs(s.drift - report) <= kCloseDrift) {
        // Two independent figures a few tenths of a ppm apart (one from one-way arrivals,
        // one from two-way sync): their mean is the better one. On a loaded 2-core machine
        // under ASan each was seen up to 0.8-1.1 ppm off a simulated clock, their mean 0.4.
        s.drift = 0.5 * (s.drift + report);
      }
    }
    out.push_back(s);
  }
  return out;
}

std::vector<dsp::ConformAnchor> DriftTracker::anchors(MediaTime origin, double reported_ppm) {
  std::vector<dsp::ConformAnchor> out;
  for (const Stretch& s : stretches(reported_ppm)) {
    const double a = static_cast<double>(s.first - origin);
    const double b = static_cast<double>(s.end - origin);
    const double start_pos = out.empty() ? a : std::max(a, out.back().session_pos + 1e-3);
    out.push_back({.node_index = a, .session_pos = start_pos});
    out.push_back({.node_index = b, .session_pos = start_pos + (b - a) * (1.0 + s.drift)});
  }
  return out;
}

}  // namespace tl::mixer
