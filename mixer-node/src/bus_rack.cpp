#include "tl/mixer/bus_rack.h"

#include <algorithm>
#include <cmath>

namespace tl::mixer {
namespace {
// A bus fed nothing whose output stayed under this (-180 dBFS, far under a 24-bit
// LSB) for kQuietBlocks blocks sleeps: it is skipped until something feeds it. Its
// filters keep the state they had, so waking is seamless and the same offline. An
// effect holds audio inside for a while before any comes out (a reverb's pre-delay,
// an echo up to 4 s later): it sleeps only after kEffectQuietSeconds of silence.
constexpr float kSilent = 1e-9f;
constexpr std::uint32_t kQuietBlocks = 2;
constexpr double kEffectQuietSeconds = 5.0;

float peak_of(std::span<const float> l, std::span<const float> r) noexcept {
  float peak = 0.0f;
  for (std::size_t i = 0; i < l.size(); ++i)
    peak = std::max(peak, std::max(std::fabs(l[i]), std::fabs(r[i])));
  return peak;
}
}  // namespace

void BusRack::prepare(const dsp::ProcessSpec& spec) {
  const std::size_t max_block = spec.max_block;
  max_block_ = max_block;
  in_l_ = std::make_unique<float[]>(kBuses * max_block);
  in_r_ = std::make_unique<float[]>(kBuses * max_block);
  fx_in_ = std::make_unique<float[]>(dsp::kSends * max_block);
  for (auto& b : buses_) b.prepare(spec);
  reverb_.prepare(spec);
  delay_.prepare(spec);
  effect_quiet_frames_ = static_cast<std::uint64_t>(kEffectQuietSeconds * spec.sample_rate);
  quiet_.fill(kQuietBlocks);  // nothing has fed them yet
  fx_quiet_.fill(effect_quiet_frames_);
}

void BusRack::begin(std::size_t frames) noexcept {
  frames_ = std::min(frames, max_block_);
  fed_.fill(false);
  fx_fed_.fill(false);
}

float* BusRack::group_left(std::size_t group) noexcept {
  feed_group(group);
  return &in_l_[group * max_block_];
}

float* BusRack::group_right(std::size_t group) noexcept {
  feed_group(group);
  return &in_r_[group * max_block_];
}

void BusRack::feed_group(std::size_t group) noexcept {
  if (fed_[group]) return;
  fed_[group] = true;
  std::fill_n(&in_l_[group * max_block_], frames_, 0.0f);
  std::fill_n(&in_r_[group * max_block_], frames_, 0.0f);
}

float* BusRack::send_input(std::size_t fx) noexcept {
  if (!fx_fed_[fx]) {
    fx_fed_[fx] = true;
    std::fill_n(&fx_in_[fx * max_block_], frames_, 0.0f);
  }
  return &fx_in_[fx * max_block_];
}

void BusRack::finish(std::span<float> left, std::span<float> right) noexcept {
  const std::size_t n = std::min({frames_, left.size(), right.size()});
  // The effects: their wet outputs feed the returns (the places after the groups').
  for (std::size_t k = 0; k < dsp::kSends; ++k) {
    if (!fx_fed_[k] && fx_quiet_[k] >= effect_quiet_frames_) continue;  // asleep: no input, no tail
    float* input = &fx_in_[k * max_block_];
    if (!fx_fed_[k]) std::fill_n(input, n, 0.0f);  // its tail, with silence behind it
    const std::span<const float> in(input, n);
    const std::size_t b = dsp::kGroupBuses + k;
    const std::span<float> wet_l(&in_l_[b * max_block_], n), wet_r(&in_r_[b * max_block_], n);
    if (k == 0) {
      reverb_.process(in, wet_l, wet_r);
    } else {
      delay_.process(in, wet_l, wet_r);
    }
    fed_[b] = true;
    fx_quiet_[k] = !fx_fed_[k] && peak_of(wet_l, wet_r) < kSilent ? fx_quiet_[k] + n : 0;
  }
  for (std::size_t b = 0; b < kBuses; ++b) {
    if (!fed_[b] && quiet_[b] >= kQuietBlocks) continue;  // asleep: contributes nothing
    if (!fed_[b]) feed_group(b);                          // a tail with silence behind it
    const std::span<float> l(&in_l_[b * max_block_], n), r(&in_r_[b * max_block_], n);
    const bool input = b >= dsp::kGroupBuses ? fx_fed_[b - dsp::kGroupBuses] : fed_[b];
    buses_[b].process(l, r);
    float peak = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      left[i] += l[i];
      right[i] += r[i];
      peak = std::max(peak, std::max(std::fabs(l[i]), std::fabs(r[i])));
    }
    peak_[b] = std::max(peak_[b], peak);
    quiet_[b] = !input && peak < kSilent ? quiet_[b] + 1 : 0;
  }
}

float BusRack::take_peak(std::size_t index) noexcept {
  const float p = peak_[index];
  peak_[index] = 0.0f;
  return p;
}

}  // namespace tl::mixer
