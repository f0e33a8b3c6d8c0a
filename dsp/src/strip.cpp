#include "tl/dsp/strip.h"

#include <algorithm>
#include <cmath>

#include "tl/common/units.h"

namespace tl::dsp {
namespace {

double log2_hz(float hz, double fs) noexcept {
  return std::log2(std::clamp<double>(hz, 10.0, 0.49 * fs));
}

}  // namespace

void ChannelStrip::prepare(const ProcessSpec& spec, const StripParams& initial, const StripConfig& cfg) {
  spec_ = spec;
  spec_.max_block = std::max<std::size_t>(spec_.max_block, 1);
  cfg_ = cfg;
  cfg_.max_delay_samples = std::max<std::int32_t>(cfg_.max_delay_samples, 0);
  const double fs = spec_.sample_rate, ms = cfg_.smooth_ms;
  delay_.assign(static_cast<std::size_t>(cfg_.max_delay_samples) + spec_.max_block + 1, 0.0f);
  mono_.assign(spec_.max_block, 0.0f);
  dry_.assign(spec_.max_block, 0.0f);
  for (LinearSmoother* s :
       {&in_gain_, &fader_, &pan_l_, &pan_r_, &hpf_wet_, &lpf_wet_, &gate_wet_, &comp_wet_, &delay_xfade_})
    s->prepare(fs, ms);
  hpf_logf_.prepare(fs, ms);
  lpf_logf_.prepare(fs, ms);
  gate_.prepare(spec_);
  comp_.prepare(spec_);
  eq_.prepare(spec_);
  p_ = initial;
  reset();
}

void ChannelStrip::reset() noexcept {
  const StripParams& p = p_;
  const double fs = spec_.sample_rate;
  in_gain_.reset(db_to_gain(p.trim_db) * (p.phase_invert ? -1.0f : 1.0f));
  fader_.reset(p.mute ? 0.0f : fader_gain(p.fader_db));
  const PanGains pg = pan_gains(p.pan);
  pan_l_.reset(pg.left);
  pan_r_.reset(pg.right);
  hpf_wet_.reset(p.hpf_on ? 1.0f : 0.0f);
  lpf_wet_.reset(p.lpf_on ? 1.0f : 0.0f);
  gate_wet_.reset(p.gate_on ? 1.0f : 0.0f);
  comp_wet_.reset(p.comp_on ? 1.0f : 0.0f);
  hpf_logf_.reset(log2_hz(p.hpf_hz, fs));
  lpf_logf_.reset(log2_hz(p.lpf_hz, fs));
  hpf_.design(PassFilter::Kind::highpass, fs, std::exp2(hpf_logf_.current()), p.hpf_slope);
  lpf_.design(PassFilter::Kind::lowpass, fs, std::exp2(lpf_logf_.current()), p.lpf_slope);
  hpf_.reset();
  lpf_.reset();
  gate_.set_params(p.gate);
  gate_.reset();
  comp_.set_params(p.comp);
  comp_.reset();
  eq_.reset(p.eq);
  std::fill(delay_.begin(), delay_.end(), 0.0f);
  delay_pos_ = 0;
  delay_cur_ = delay_next_ = std::clamp(p.delay_samples, 0, cfg_.max_delay_samples);
  delay_xfade_.reset(0.0f);
  history_ = delay_cur_ != 0 ? cfg_.max_delay_samples : 0;  // after a reset the past is silence
  delay_fading_ = false;
  last_n_ = 0;
}

void ChannelStrip::set_params(const StripParams& p) noexcept {
  const double fs = spec_.sample_rate;
  in_gain_.set_target(db_to_gain(p.trim_db) * (p.phase_invert ? -1.0f : 1.0f));
  fader_.set_target(p.mute ? 0.0f : fader_gain(p.fader_db));
  const PanGains pg = pan_gains(p.pan);
  pan_l_.set_target(pg.left);
  pan_r_.set_target(pg.right);

  // A stage switched on from fully off starts from clean state.
  auto switch_on = [](LinearSmoother& wet, bool on, auto&& clear) {
    if (on && wet.settled() && wet.current() == 0.0f) clear();
    wet.set_target(on ? 1.0f : 0.0f);
  };
  switch_on(hpf_wet_, p.hpf_on, [&] { hpf_.reset(); });
  switch_on(lpf_wet_, p.lpf_on, [&] { lpf_.reset(); });
  switch_on(gate_wet_, p.gate_on, [&] { gate_.reset(); });
  switch_on(comp_wet_, p.comp_on, [&] { comp_.reset(); });
  hpf_logf_.set_target(log2_hz(p.hpf_hz, fs));
  lpf_logf_.set_target(log2_hz(p.lpf_hz, fs));
  if (p.hpf_slope != p_.hpf_slope)
    hpf_.design(PassFilter::Kind::highpass, fs, std::exp2(hpf_logf_.current()), p.hpf_slope);
  if (p.lpf_slope != p_.lpf_slope)
    lpf_.design(PassFilter::Kind::lowpass, fs, std::exp2(lpf_logf_.current()), p.lpf_slope);
  gate_.set_params(p.gate);
  comp_.set_params(p.comp);
  eq_.set(p.eq);

  const std::int32_t d = std::clamp(p.delay_samples, 0, cfg_.max_delay_samples);
  if (d != delay_next_) {
    // Finish an old move that had begun; one still waiting for history just changes target.
    if (delay_fading_) delay_cur_ = delay_next_;
    delay_fading_ = false;
    delay_next_ = d;
    delay_xfade_.reset(0.0f);
    delay_xfade_.set_target(1.0f);
  }
  p_ = p;
}

template <class Stage>
void ChannelStrip::blend(LinearSmoother& wet, std::span<float> block, Stage&& stage) noexcept {
  if (wet.settled()) {
    if (wet.current() == 0.0f) return;  // bypassed
    stage(block);
    return;
  }
  const std::size_t n = block.size();
  std::copy_n(block.data(), n, dry_.data());
  stage(block);
  for (std::size_t i = 0; i < n; ++i) {
    const float w = wet.next();
    block[i] = dry_[i] + w * (block[i] - dry_[i]);
  }
}

void ChannelStrip::run_pass(PassFilter& f, OnePoleSmoother& logf, PassFilter::Kind kind, Slope slope,
                            std::span<float> block) noexcept {
  const std::size_t n = block.size();
  if (logf.settled()) {
    f.process(block);
    return;
  }
  constexpr std::size_t kStep = EqBand::kControlInterval;
  for (std::size_t i = 0; i < n; i += kStep) {
    logf.advance(static_cast<int>(kStep));
    f.design(kind, spec_.sample_rate, std::exp2(logf.current()), slope);
    f.process(block.subspan(i, std::min(kStep, n - i)));
  }
}

void ChannelStrip::process(std::span<const float> in, std::span<float> out_left,
                           std::span<float> out_right) noexcept {
  const std::size_t n = std::min({in.size(), spec_.max_block, out_left.size(), out_right.size()});
  last_n_ = n;
  float* m = mono_.data();
  std::copy_n(in.data(), n, m);
  run_chain(std::span<float>(m, n));
  meter_.process(std::span<const float>(m, n));
  if (pan_l_.settled() && pan_r_.settled()) {
    const float gl = pan_l_.current(), gr = pan_r_.current();
    for (std::size_t i = 0; i < n; ++i) {
      out_left[i] = m[i] * gl;
      out_right[i] = m[i] * gr;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      out_left[i] = m[i] * pan_l_.next();
      out_right[i] = m[i] * pan_r_.next();
    }
  }
}

void ChannelStrip::process(std::span<float> block) noexcept {
  block = block.first(std::min(block.size(), spec_.max_block));
  run_chain(block);
  skip_pan(block.size());
}

void ChannelStrip::process_back(std::span<float> block) noexcept {
  run_back(block);
  skip_pan(block.size());
}

void ChannelStrip::skip_pan(std::size_t n) noexcept {
  // The pan gains glide on as if they had been applied (a later stereo block starts where
  // the smoother would have been).
  pan_l_.skip(n);
  pan_r_.skip(n);
}

void ChannelStrip::run_chain(std::span<float> block) noexcept {
  std::array<Biquad*, kMaxCascadeSections> sections{};
  const std::size_t k = process_front(block, sections.data());
  run_cascade(block, sections.data(), k);
  run_back(block);
}

std::size_t ChannelStrip::process_front(std::span<float> block, Biquad** sections) noexcept {
  const std::size_t n = block.size();
  float* m = block.data();

  // Trim and polarity.
  if (in_gain_.settled()) {
    const float g = in_gain_.current();
    if (g != 1.0f)
      for (std::size_t i = 0; i < n; ++i) m[i] *= g;
  } else {
    in_gain_.apply(block);
  }

  // Sample-accurate delay; a change cross-fades from the old tap to the new one. The line
  // is written only while a delay is set or asked for: a strip without one costs nothing
  // here. A change from no delay waits until the line holds as much history as the new
  // tap reads (at most the longest delay), then cross-fades, so it never reads stale audio.
  const std::size_t size = delay_.size();
  const bool asked = delay_next_ != delay_cur_ || !delay_xfade_.settled();
  if (delay_cur_ == 0 && !asked) {
    history_ = 0;
  } else {
    const std::size_t first = std::min(n, size - delay_pos_);
    std::copy_n(m, first, delay_.data() + delay_pos_);
    std::copy_n(m + first, n - first, delay_.data());
    history_ = std::min<std::int64_t>(history_ + static_cast<std::int64_t>(n), cfg_.max_delay_samples);
  }
  // (History before this block: its first sample reads that far back.)
  const bool moving = asked && history_ - static_cast<std::int64_t>(n) >= std::max(delay_cur_, delay_next_);
  if (delay_cur_ != 0 || moving) {
    std::size_t rc = (delay_pos_ + size - static_cast<std::size_t>(delay_cur_)) % size;
    std::size_t rn = (delay_pos_ + size - static_cast<std::size_t>(delay_next_)) % size;
    for (std::size_t i = 0; i < n; ++i) {
      if (moving) {
        const float w = delay_xfade_.next();
        m[i] = delay_[rc] + w * (delay_[rn] - delay_[rc]);
      } else {
        m[i] = delay_[rc];
      }
      if (++rc == size) rc = 0;
      if (++rn == size) rn = 0;
    }
    delay_fading_ = moving;
    if (moving && delay_xfade_.settled()) {
      delay_cur_ = delay_next_;
      delay_xfade_.reset(0.0f);
      delay_fading_ = false;
    }
  }
  if (history_ != 0) {
    delay_pos_ = (delay_pos_ + n) % size;
    // The next block writes fresh cache lines of the (long) delay line: ask for them now, so
    // the write does not wait on memory while the other strips run.
    for (std::size_t i = 0; i < n; i += 16) __builtin_prefetch(delay_.data() + (delay_pos_ + i) % size, 1);
    __builtin_prefetch(delay_.data() + (delay_pos_ + n - 1) % size, 1);
  }

  // Filters (HPF, LPF, EQ), then dynamics (gate, compressor), as on a Yamaha-style strip.
  // Steady filters run as one fused cascade; switching or gliding ones run on their own.
  std::array<Biquad*, 4> pre{};
  std::size_t npre = 0;
  const auto steady = [](const LinearSmoother& wet, const OnePoleSmoother& f) {
    return wet.settled() && wet.current() == 1.0f && f.settled();
  };
  if (steady(hpf_wet_, hpf_logf_)) {
    npre += hpf_.sections(&pre[npre]);
  } else {
    blend(hpf_wet_, block, [&](std::span<float> b) {
      run_pass(hpf_, hpf_logf_, PassFilter::Kind::highpass, p_.hpf_slope, b);
    });
  }
  if (steady(lpf_wet_, lpf_logf_)) {
    npre += lpf_.sections(&pre[npre]);
  } else {
    blend(lpf_wet_, block,
          [&](std::span<float> b) { run_pass(lpf_, lpf_logf_, PassFilter::Kind::lowpass, p_.lpf_slope, b); });
  }
  return eq_.process_front(block, std::span<Biquad* const>(pre.data(), npre), sections);
}

void ChannelStrip::run_back(std::span<float> block) noexcept {
  blend(gate_wet_, block, [&](std::span<float> b) { gate_.process(b); });
  blend(comp_wet_, block, [&](std::span<float> b) { comp_.process(b); });

  // Fader and mute (a settled 0 dB fader, as the mix engine uses it, is skipped).
  if (!fader_.settled() || fader_.current() != 1.0f) fader_.apply(block);
}

}  // namespace tl::dsp
