#include "tl/dsp/bus.h"

#include <algorithm>
#include <cmath>

namespace tl::dsp {

void StereoBus::prepare(const ProcessSpec& spec, const BusParams& p) {
  const double fs = spec.sample_rate;
  p_ = p;
  dry_l_.assign(spec.max_block, 0.0f);
  dry_r_.assign(spec.max_block, 0.0f);
  comp_wet_.prepare(fs, 20.0, p.comp_on ? 1.0f : 0.0f);
  eq_l_.prepare(spec);
  eq_r_.prepare(spec);
  eq_l_.reset(p.eq);
  eq_r_.reset(p.eq);
  comp_.set_params(p.comp);
  comp_.prepare(spec);
  fader_.prepare(fs, 20.0, p.mute ? 0.0f : fader_gain(p.fader_db));
}

void StereoBus::set_params(const BusParams& p) noexcept {
  if (p.comp_on && comp_wet_.settled() && comp_wet_.current() == 0.0f) comp_.reset();
  comp_wet_.set_target(p.comp_on ? 1.0f : 0.0f);
  p_ = p;
  eq_l_.set(p.eq);
  eq_r_.set(p.eq);
  comp_.set_params(p.comp);
  fader_.set_target(p.mute ? 0.0f : fader_gain(p.fader_db));
}

void StereoBus::process(std::span<float> left, std::span<float> right) noexcept {
  eq_l_.process(left);
  eq_r_.process(right);
  if (!comp_wet_.settled()) {
    const std::size_t n = std::min({left.size(), right.size(), dry_l_.size()});
    std::copy_n(left.data(), n, dry_l_.data());
    std::copy_n(right.data(), n, dry_r_.data());
    comp_.process(left.first(n), right.first(n));
    for (std::size_t i = 0; i < n; ++i) {
      const float w = comp_wet_.next();
      left[i] = dry_l_[i] + w * (left[i] - dry_l_[i]);
      right[i] = dry_r_[i] + w * (right[i] - dry_r_[i]);
    }
  } else if (comp_wet_.current() == 1.0f) {
    comp_.process(left, right);
  }
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

void MasterChain::prepare(const ProcessSpec& spec, const MasterParams& p) {
  ProcessSpec stereo = spec;
  stereo.channels = 2;
  p_ = p;
  bus_.prepare(stereo, p.bus);
  limiter_.prepare(stereo, p.limiter);
  for (auto& m : tp_) m.reset();
  loudness_.prepare(stereo);
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
