#pragma once
//! Constant-power pan law and a smoothed fader.

#include <cmath>
#include <numbers>
#include <span>

#include "tl/common/units.h"
#include "tl/dsp/smoother.h"

namespace tl::dsp {

struct PanGains {
  float left = 0.0f;
  float right = 0.0f;
};

//! Constant-power pan: theta = (pan + 1) pi / 4, L = cos theta, R = sin theta.
//! pan in [-1, +1] (clamped); centre is -3.01 dB in each side; L^2 + R^2 == 1.
inline PanGains pan_gains(float pan) noexcept {
  const double p = pan < -1.0f ? -1.0 : (pan > 1.0f ? 1.0 : static_cast<double>(pan));
  const double theta = (p + 1.0) * std::numbers::pi / 4.0;
  return {static_cast<float>(std::cos(theta)), static_cast<float>(std::sin(theta))};
}

//! Levels at or below this are silence (fader fully down).
inline constexpr float kFaderOffDb = -144.0f;

//! Linear gain from fader dB; kFaderOffDb and below give 0.
inline float fader_gain(float db) noexcept {
  return db <= kFaderOffDb ? 0.0f : db_to_gain(db);
}

//! A gain in dB applied with a linear ramp (default 20 ms) on every change.
class Fader {
 public:
  void prepare(double fs, float db = 0.0f, double ramp_ms = 20.0) noexcept {
    g_.prepare(fs, ramp_ms, fader_gain(db));
  }
  void set_db(float db) noexcept { g_.set_target(fader_gain(db)); }
  float gain() const noexcept { return g_.current(); }
  void process(std::span<float> block) noexcept { g_.apply(block); }

 private:
  LinearSmoother g_;
};

}  // namespace tl::dsp
