#include "tl/dsp/bus.h"

#include <cmath>

namespace tl::dsp {

void StereoBus::prepare(double fs, const BusParams& p) noexcept {
  p_ = p;
  eq_l_.prepare(fs);
  eq_r_.prepare(fs);
  eq_l_.reset(p.eq);
  eq_r_.reset(p.eq);
  comp_.set_params(p.comp);
  comp_.prepare(fs);
  fader_.prepare(fs, 20.0, p.mute ? 0.0f : fader_gain(p.fader_db));
}

void StereoBus::set_params(const BusParams& p) noexcept {
  if (p.comp_on && !p_.comp_on) comp_.reset();
  p_ = p;
  eq_l_.set(p.eq);
  eq_r_.set(p.eq);
  comp_.set_params(p.comp);
  fader_.set_target(p.mute ? 0.0f : fader_gain(p.fader_db));
}

void StereoBus::process(std::span<float> left, std::span<float> right) noexcept {
  eq_l_.process(left);
  eq_r_.process(right);
  if (p_.comp_on) comp_.process(left, right);
  if (fader_.settled()) {
    const float g = fader_.current();
    if (g != 1.0f)
      for (std::size_t i = 0; i < left.size(); ++i) {
        left[i] *= g;
        right[i] *= g;
      }
  } else {
    for (std::size_t i = 0; i < left.size(); ++i) {
      const float g = fader_.next();
      left[i] *= g;
      right[i] *= g;
    }
  }
}

void MasterChain::prepare(double fs, const MasterParams& p) {
  p_ = p;
  bus_.prepare(fs, p.bus);
  limiter_.prepare(fs, 2, p.limiter);
  for (auto& m : tp_) m.reset();
  loudness_.prepare(fs, 2);
}

void MasterChain::set_params(const MasterParams& p) noexcept {
  p_ = p;
  bus_.set_params(p.bus);
  limiter_.set_params(p.limiter);
}

void MasterChain::process(std::span<float> left, std::span<float> right) noexcept {
  bus_.process(left, right);
  if (p_.limiter_on) {
    limiter_.process(left, right);
  } else {
    // Keep the latency constant so switching the limiter never shifts the timeline.
    LimiterParams open = p_.limiter;
    open.ceiling_dbtp = 1000.0f;
    limiter_.set_params(open);
    limiter_.process(left, right);
    limiter_.set_params(p_.limiter);
  }
  tp_[0].process(left);
  tp_[1].process(right);
  loudness_.process(left, right);
}

}  // namespace tl::dsp
