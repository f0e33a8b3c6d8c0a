#include "tl/common/clock_dll.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tl {

namespace {
constexpr double kNsPerS = 1e9;
// Rebase the integrators once they pass this (1000 s): doubles stay exact to ~0.1 ns.
constexpr double kRebaseNs = 1e12;
// Starting bandwidth; narrows as kStartBandwidthHz / (1 + seconds since start).
constexpr double kStartBandwidthHz = 1.0;
}  // namespace

ClockDll::ClockDll(std::int64_t nominal_rate_hz, std::int64_t period_frames, double bandwidth_hz)
    : nominal_rate_(std::max<std::int64_t>(nominal_rate_hz, 1)),
      period_frames_(std::max<std::int64_t>(period_frames, 1)) {
  const double period_ns = kNsPerS * static_cast<double>(period_frames_) / static_cast<double>(nominal_rate_);
  resync_ns_ = std::max<std::int64_t>(20'000'000, std::llround(4.0 * period_ns));
  set_bandwidth(bandwidth_hz);
  reset();
}

void ClockDll::set_bandwidth(double bandwidth_hz) noexcept {
  bandwidth_ = std::clamp(bandwidth_hz, 1e-4, 100.0);
  apply_bandwidth(bandwidth_);
}

void ClockDll::apply_bandwidth(double hz) noexcept {
  const double period_s = static_cast<double>(period_frames_) / static_cast<double>(nominal_rate_);
  const double w = 2.0 * std::numbers::pi * hz * period_s;
  b_ = std::numbers::sqrt2 * w;
  c_ = w * w;
}

void ClockDll::reset() noexcept {
  started_ = false;
  base_ns_ = 0;
  t0_ = t1_ = 0.0;
  ns_per_frame_ = kNsPerS / static_cast<double>(nominal_rate_);
  frame0_ = frame1_ = 0;
  blocks_ = 0;
  elapsed_s_ = 0.0;
  anchor_count_ = anchor_head_ = 0;
  next_anchor_s_ = 0.0;
}

std::int64_t ClockDll::update(std::int64_t callback_ns, std::int64_t frames) noexcept {
  frames = std::max<std::int64_t>(frames, 0);
  ++blocks_;
  const double e = started_ ? static_cast<double>(callback_ns - base_ns_) - t1_ : 0.0;
  if (!started_ || std::abs(e) > static_cast<double>(resync_ns_)) {
    if (started_) ++resyncs_;
    started_ = true;
    base_ns_ = callback_ns;
    t0_ = 0.0;
    t1_ = ns_per_frame_ * static_cast<double>(frames);
    frame0_ = frame1_;
    frame1_ = frame0_ + frames;
    elapsed_s_ = 0.0;
    anchor_count_ = anchor_head_ = 0;
    next_anchor_s_ = 0.0;
    return callback_ns;
  }
  const double block_s = static_cast<double>(frames) / static_cast<double>(nominal_rate_);
  elapsed_s_ += block_s;
  apply_bandwidth(std::max(bandwidth_, kStartBandwidthHz / (1.0 + elapsed_s_)));
  // The block starts where the loop predicted it; the error steers the next one.
  t0_ = t1_;
  frame0_ = frame1_;
  t1_ = t0_ + b_ * e + ns_per_frame_ * static_cast<double>(frames);
  frame1_ = frame0_ + frames;
  ns_per_frame_ += c_ * e / static_cast<double>(period_frames_);
  if (t0_ > kRebaseNs) rebase();
  if (elapsed_s_ >= next_anchor_s_) {
    next_anchor_s_ = elapsed_s_ + kAnchorSpacingS;
    anchors_[(anchor_head_ + anchor_count_) % kAnchors] = {block_time_ns(), frame0_};
    if (anchor_count_ < kAnchors) {
      ++anchor_count_;
    } else {
      anchor_head_ = (anchor_head_ + 1) % kAnchors;
    }
  }
  return block_time_ns();
}

void ClockDll::rebase() noexcept {
  const auto shift = static_cast<std::int64_t>(t0_);
  base_ns_ += shift;
  t0_ -= static_cast<double>(shift);
  t1_ -= static_cast<double>(shift);
}

std::int64_t ClockDll::block_time_ns() const noexcept {
  return base_ns_ + std::llround(t0_);
}

std::int64_t ClockDll::next_block_time_ns() const noexcept {
  return base_ns_ + std::llround(t1_);
}

std::int64_t ClockDll::frame_time_ns(std::int64_t frame) const noexcept {
  return base_ns_ + std::llround(t0_ + ns_per_frame_ * static_cast<double>(frame - frame0_));
}

double ClockDll::rate_hz() const noexcept {
  // Long baseline once there is one: endpoint errors divide by the span.
  if (anchor_count_ >= 4) {
    const Anchor& a = anchors_[anchor_head_];
    const double dt = static_cast<double>(block_time_ns() - a.time_ns);
    if (dt > 0.0) return kNsPerS * static_cast<double>(frame0_ - a.frame) / dt;
  }
  return kNsPerS / ns_per_frame_;
}

double ClockDll::rate_error_ppm() const noexcept {
  return (rate_hz() / static_cast<double>(nominal_rate_) - 1.0) * 1e6;
}

}  // namespace tl
