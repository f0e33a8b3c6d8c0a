#include "tl/mixer/drift_tracker.h"

#include <algorithm>
#include <cmath>

namespace tl::mixer {

DriftTracker::DriftTracker(std::uint32_t sample_rate, double window_seconds)
    : rate_(sample_rate), window_(static_cast<MediaTime>(window_seconds * sample_rate)) {}

void DriftTracker::add(MediaTime media_ts, std::uint32_t frames, std::int64_t arrival_ns, bool restart) {
  if (runs_.empty() || restart) {
    close_window();
    if (runs_.empty() || !runs_.back().floors.empty() || runs_.back().first != INT64_MAX) runs_.emplace_back();
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
//! Least-squares slope of transit against media time.
double fit_slope(const std::vector<std::pair<double, double>>& pts) {
  double mx = 0.0, my = 0.0;
  for (const auto& [x, y] : pts) {
    mx += x;
    my += y;
  }
  mx /= static_cast<double>(pts.size());
  my /= static_cast<double>(pts.size());
  double sxy = 0.0, sxx = 0.0;
  for (const auto& [x, y] : pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx > 0.0 ? sxy / sxx : 0.0;
}
}  // namespace

std::vector<DriftTracker::Stretch> DriftTracker::stretches() {
  close_window();
  std::vector<Stretch> out;
  for (const Run& run : runs_) {
    if (run.first == INT64_MAX) continue;
    Stretch s{.first = run.first, .end = run.end, .windows = run.floors.size()};
    // A slope needs a few windows over a couple of seconds; shorter stretches
    // are taken as the node's clock sync placed them.
    if (run.floors.size() >= 3 && run.floors.back().at - run.floors.front().at >= 2 * static_cast<MediaTime>(rate_)) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& f : run.floors) pts.emplace_back(static_cast<double>(f.at), f.transit);
      double slope = fit_slope(pts);
      // One pass of outlier rejection: a window whose floor still sits on a
      // queue (a stall at the node) is dropped if it is far above the line.
      const double x0 = pts.front().first, y0 = pts.front().second;
      std::vector<double> residuals;
      double intercept = 0.0;
      for (const auto& [x, y] : pts) intercept += y - y0 - slope * (x - x0);
      intercept /= static_cast<double>(pts.size());
      for (const auto& [x, y] : pts) residuals.push_back(std::fabs(y - y0 - slope * (x - x0) - intercept));
      std::vector<double> sorted = residuals;
      std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
      const double limit = std::max(2.0, 4.0 * sorted[sorted.size() / 2]);
      std::vector<std::pair<double, double>> kept;
      for (std::size_t i = 0; i < pts.size(); ++i) {
        if (residuals[i] <= limit) kept.push_back(pts[i]);
      }
      if (kept.size() >= 3) slope = fit_slope(kept);
      s.drift = slope;
      s.windows = kept.size();
    }
    out.push_back(s);
  }
  return out;
}

std::vector<dsp::ConformAnchor> DriftTracker::anchors(MediaTime origin) {
  std::vector<dsp::ConformAnchor> out;
  for (const Stretch& s : stretches()) {
    const double a = static_cast<double>(s.first - origin);
    const double b = static_cast<double>(s.end - origin);
    const double start_pos = out.empty() ? a : std::max(a, out.back().session_pos + 1e-3);
    out.push_back({.node_index = a, .session_pos = start_pos});
    out.push_back({.node_index = b, .session_pos = start_pos + (b - a) * (1.0 + s.drift)});
  }
  return out;
}

}  // namespace tl::mixer
