#include "tl/mixer/varispeed_control.h"

#include <algorithm>
#include <cmath>

#include "tl/mixer/drift_tracker.h"

namespace tl::mixer {

VarispeedControl::VarispeedControl() noexcept {
  configure(Config{});
}
VarispeedControl::VarispeedControl(Config config) noexcept {
  configure(config);
}

void VarispeedControl::configure(Config config) noexcept {
  config_ = config;
  rate_ = static_cast<double>(config.sample_rate);
  restart(base_);
}

void VarispeedControl::restart(MediaTime position) noexcept {
  origin_ = position;
  base_ = position;
  frac_ = 0.0;
  engaged_ = false;
  step_ = 1.0;
  drift_ = 0.0;
  have_reference_ = false;
  floor_count_ = floor_next_ = 0;
  have_line_ = consistent_ = false;
  window_open_ = false;
  now_ = 0.0;
  margin_ms_ = jitter_ms_ = 0.0;
}

void VarispeedControl::observe(MediaTime media_end, std::int64_t arrival_ns) noexcept {
  // Session samples since the stretch began; transit in samples.
  const double arrival = static_cast<double>(arrival_ns) * rate_ / 1e9 - static_cast<double>(origin_);
  const double transit = arrival - static_cast<double>(media_end - origin_);
  const double margin = static_cast<double>(media_end - base_) - frac_;
  if (window_open_ && arrival - window_start_ >= config_.window_s * rate_) close_window();
  if (!window_open_) {
    window_open_ = true;
    window_start_ = arrival;
    window_min_ = {.at = arrival, .transit = transit};
    window_max_transit_ = transit;
    window_min_margin_ = margin;
  } else {
    if (transit < window_min_.transit) window_min_ = {.at = arrival, .transit = transit};
    window_max_transit_ = std::max(window_max_transit_, transit);
    window_min_margin_ = std::min(window_min_margin_, margin);
  }
  now_ = std::max(now_, arrival);
}

void VarispeedControl::close_window() noexcept {
  window_open_ = false;
  floors_[floor_next_] = window_min_;
  floor_next_ = (floor_next_ + 1) % kFloors;
  floor_count_ = std::min(floor_count_ + 1, kFloors);
  margin_ms_ = window_min_margin_ * 1e3 / rate_;
  jitter_ms_ = (window_max_transit_ - window_min_.transit) * 1e3 / rate_;
  have_line_ = fit(floor_count_, line_);
  if (!have_line_) return;
  // The drift is trusted once the newer half of the floors has the same slope as
  // the whole: a step in the floors (a busy start-up) bends the line and is not drift.
  Line newer;
  consistent_ = floor_count_ >= 8 && fit(floor_count_ / 2, newer) &&
                std::fabs(newer.slope - line_.slope) <= 0.3 * std::fabs(line_.slope) + 2e-6;
  if (!have_reference_ && floor_count_ >= 4) {
    // The floor where the stretch began: the line through its first two seconds, at 0.
    have_reference_ = true;
    reference_ = line_.at(0.0);
  } else if (consistent_) {
    // Floors only ever sit above the fixed delay: a lower line lowers the reference.
    reference_ = std::min(reference_, line_.at(0.0));
  }
}

bool VarispeedControl::fit(std::size_t newest, Line& line) const noexcept {
  if (newest < 2 || newest > floor_count_) return false;
  // i = 0 is the newest floor.
  const auto at = [&](std::size_t i) -> const Floor& {
    return floors_[(floor_next_ + kFloors - 1 - i) % kFloors];
  };
  const auto n = static_cast<double>(newest);
  double mean_x = 0.0, mean_y = 0.0;
  for (std::size_t i = 0; i < newest; ++i) {
    mean_x += at(i).at;
    mean_y += at(i).transit;
  }
  mean_x /= n;
  mean_y /= n;
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < newest; ++i) {
    const double dx = at(i).at - mean_x;
    sxx += dx * dx;
    sxy += dx * (at(i).transit - mean_y);
  }
  if (sxx <= 0.0) return false;
  const double slope = sxy / sxx;
  double intercept = at(0).transit - slope * at(0).at;
  for (std::size_t i = 1; i < newest; ++i) intercept = std::min(intercept, at(i).transit - slope * at(i).at);
  line = Line{.slope = slope, .intercept = intercept};
  return true;
}

VarispeedControl::Block VarispeedControl::plan(MediaTime pos) noexcept {
  if (!have_reference_ || !have_line_) {
    return Block{.base = base_, .frac = frac_, .step = engaged_ ? step_ : 1.0, .exact = !engaged_};
  }
  drift_ = -line_.slope;  // transit shrinks when the node's media time runs fast
  const double target_lead = reference_ - line_.at(now_);
  const double lead = static_cast<double>(base_ - pos) + frac_;
  const double error = target_lead - lead;
  // Engage on an error that a trusted drift explains (same sign, over 1 ppm) and
  // that the node confirms: late start-up floors, or a path slowed by load, alone
  // do not switch a drift-free node to varispeed.
  const bool confirmed = std::fabs(reported_ppm_) > 2.0 && drift_agrees(reported_ppm_, drift_ * 1e6, 5.0);
  if (!engaged_ && consistent_ && confirmed && std::fabs(error) > config_.engage_samples &&
      error * drift_ > 0.0 && std::fabs(drift_) > 1e-6) {
    engaged_ = true;
  }
  if (!engaged_) return Block{.base = base_, .frac = 0.0, .step = 1.0, .exact = true};
  const double limit = config_.max_ppm * 1e-6;
  const double wanted = 1.0 + std::clamp(drift_ + error / (config_.settle_s * rate_), -limit, limit);
  const double slew = config_.slew_ppm * 1e-6;
  step_ = std::clamp(wanted, step_ - slew, step_ + slew);
  return Block{.base = base_, .frac = frac_, .step = step_, .exact = false};
}

void VarispeedControl::advance(const Block& block, std::size_t frames, double advance) noexcept {
  if (block.exact) {
    base_ = block.base + static_cast<MediaTime>(frames);
    frac_ = 0.0;
    return;
  }
  const double whole = std::floor(advance);
  base_ = block.base + static_cast<MediaTime>(whole);
  frac_ = advance - whole;
}

}  // namespace tl::mixer
