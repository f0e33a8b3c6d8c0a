#pragma once
//! Parameter smoothing so gain and filter changes between blocks make no zipper noise.

#include <cmath>
#include <cstdint>
#include <span>

#include "tl/common/units.h"

namespace tl::dsp {

//! Linear ramp to a new target over a fixed time. Each sample moves by at most
//! |target - start| / ramp_samples, so a step change is spread evenly.
class LinearSmoother {
 public:
  //! Sets the ramp length; the value jumps to `initial`. Call before real-time use.
  void prepare(double fs, double ramp_ms, float initial = 0.0f) noexcept {
    ramp_ = static_cast<std::int32_t>(std::lround(ms_to_frames(ramp_ms, fs)));
    if (ramp_ < 1) ramp_ = 1;
    reset(initial);
  }
  //! Jumps to v with no ramp.
  void reset(float v) noexcept {
    current_ = target_ = v;
    step_ = 0.0;
    left_ = 0;
  }
  //! Starts a ramp from the current value to v (no-op when v is already the target).
  void set_target(float v) noexcept {
    if (v == target_) return;
    target_ = v;
    left_ = ramp_;
    step_ = (static_cast<double>(v) - current_) / ramp_;
  }
  float target() const noexcept { return target_; }
  float current() const noexcept { return static_cast<float>(current_); }
  bool settled() const noexcept { return left_ == 0; }

  float next() noexcept {
    if (left_ > 0) {
      if (--left_ == 0)
        current_ = target_;
      else
        current_ += step_;
    }
    return static_cast<float>(current_);
  }
  //! Moves on n samples without using them.
  void skip(std::size_t n) noexcept {
    for (std::size_t i = 0; i < n && !settled(); ++i) next();
  }
  //! Multiplies a block by the (ramping) value.
  void apply(std::span<float> block) noexcept {
    if (settled()) {
      const float g = target_;
      for (float& v : block) v *= g;
      return;
    }
    for (float& v : block) v *= next();
  }

 private:
  double current_ = 0.0;
  double step_ = 0.0;
  float target_ = 0.0f;
  std::int32_t ramp_ = 1;
  std::int32_t left_ = 0;
};

//! One-pole (exponential) smoother; `time_ms` is the time to close 99.9 % of a step.
class OnePoleSmoother {
 public:
  void prepare(double fs, double time_ms, double initial = 0.0) noexcept {
    const double n = ms_to_frames(time_ms, fs);
    coef_ = n <= 1.0 ? 1.0 : 1.0 - std::exp(std::log(1e-3) / n);
    reset(initial);
  }
  void reset(double v) noexcept { current_ = target_ = v; }
  void set_target(double v) noexcept { target_ = v; }
  double target() const noexcept { return target_; }
  double current() const noexcept { return current_; }
  bool settled() const noexcept { return current_ == target_; }
  //! Advances n samples at once (used for control-rate updates).
  double advance(int n = 1) noexcept {
    for (int i = 0; i < n; ++i) current_ += coef_ * (target_ - current_);
    if (std::abs(target_ - current_) <= 1e-6 * (1.0 + std::abs(target_))) current_ = target_;
    return current_;
  }

 private:
  double coef_ = 1.0;
  double current_ = 0.0;
  double target_ = 0.0;
};

}  // namespace tl::dsp
