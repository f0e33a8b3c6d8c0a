#include "tl/mixer/playout_policy.h"

#include <algorithm>
#include <cmath>

namespace tl::mixer {
namespace {
// The hold is cut into this many sub-windows: a need leaves the span within
// hold * (1 + 1/16).
constexpr std::size_t kSubWindows = DelayNeed::kMaxWindows;
}  // namespace

NodeDelay::NodeDelay(const PlayoutConfig& config) noexcept
    : quantile_({.window_samples = config.hold_seconds * config.sample_rate / kSubWindows,
                 .quantile = 0.999,
                 .windows = kSubWindows}),
      window_(config.hold_seconds * config.sample_rate / kSubWindows),
      hold_(config.hold_seconds * config.sample_rate),
      start_need_(config.start_samples - config.margin_seconds * config.sample_rate) {}

void NodeDelay::reset() noexcept {
  quantile_.reset();
  closed_ = next_ = 0;
  open_max_ = -1.0f;
  open_ = false;
  first_ = -1.0;
  learning_ = true;
}

bool NodeDelay::observe(double need, double arrival) noexcept {
  quantile_.observe(need, arrival);
  bool changed = false;
  if (first_ < 0.0) first_ = arrival;
  if (learning_ && arrival - first_ >= hold_) {
    learning_ = false;
    changed = true;
  }
  if (open_ && arrival - open_start_ >= window_) {
    // The oldest sub-window leaves the span as this one closes.
    max_[next_] = open_max_;
    next_ = (next_ + 1) % kWindows;
    closed_ = std::min(closed_ + 1, kWindows);
    open_ = false;
    changed = true;
  }
  if (!open_) {
    open_ = true;
    open_start_ = arrival;
    open_max_ = -1.0f;
  }
  const auto v = static_cast<float>(need);
  if (v > open_max_) {
    open_max_ = v;
    changed = true;
  }
  return changed;
}

bool NodeDelay::need(double& out) const noexcept {
  float m = open_ ? open_max_ : -1.0f;
  for (std::size_t i = 0; i < closed_; ++i) m = std::max(m, max_[i]);
  if (!open_ && closed_ == 0) return false;
  out = learning_ ? std::max<double>(m, start_need_) : m;
  return true;
}

PlayoutPolicy::PlayoutPolicy(const PlayoutConfig& config, MediaTime start, MediaTime min,
                             MediaTime max) noexcept
    : margin_(config.margin_seconds * config.sample_rate),
      glide_(std::max(1.0, config.glide_seconds * config.sample_rate)),
      min_(min),
      max_(std::max(min, max)),
      delay_(std::clamp(start, min_, max_)) {
  delay_f_ = static_cast<double>(delay_);
}

double PlayoutPolicy::ask(double need, double lo, double hi) const noexcept {
  return std::clamp(need + margin_, lo, std::max(lo, hi));
}

MediaTime PlayoutPolicy::update(double largest_ask, std::size_t frames) noexcept {
  if (largest_ask < 0.0) {  // no streaming node has an estimate: keep the delay
    wanted_ = 0;
    return delay_;
  }
  wanted_ = static_cast<MediaTime>(std::ceil(largest_ask));
  const MediaTime target = std::clamp(wanted_, min_, max_);
  if (target >= delay_) {
    delay_ = target;
    delay_f_ = static_cast<double>(target);
  } else {
    // Down gently: the gap shrinks by frames/glide each block.
    const double t = static_cast<double>(target);
    delay_f_ -= (delay_f_ - t) * std::min(1.0, static_cast<double>(frames) / glide_);
    if (delay_f_ - t < 1.0) delay_f_ = t;
    delay_ = static_cast<MediaTime>(std::ceil(delay_f_));
  }
  return delay_;
}

}  // namespace tl::mixer
