#include "tl/mixer/bus_rack.h"

#include <algorithm>
#include <cmath>

namespace tl::mixer {

void BusRack::prepare(double sample_rate, std::size_t max_block) {
  max_block_ = max_block;
  in_l_ = std::make_unique<float[]>(kBuses * max_block);
  in_r_ = std::make_unique<float[]>(kBuses * max_block);
  fx_in_ = std::make_unique<float[]>(dsp::kSends * max_block);
  for (auto& b : buses_) b.prepare(sample_rate, dsp::BusParams{}, max_block);
  reverb_.prepare(sample_rate);
  delay_.prepare(sample_rate);
}

void BusRack::begin(std::size_t frames) noexcept {
  frames_ = std::min(frames, max_block_);
  for (std::size_t b = 0; b < dsp::kGroupBuses; ++b) {
    std::fill_n(group_left(b), frames_, 0.0f);
    std::fill_n(group_right(b), frames_, 0.0f);
  }
  std::fill_n(fx_in_.get(), dsp::kSends * max_block_, 0.0f);
}

void BusRack::finish(std::span<float> left, std::span<float> right) noexcept {
  const std::size_t n = std::min({frames_, left.size(), right.size()});
  // The effects' wet outputs take the places after the groups'.
  const std::span<const float> verb_in(send_input(0), n), delay_in(send_input(1), n);
  reverb_.process(verb_in, {&in_l_[dsp::kGroupBuses * max_block_], n}, {&in_r_[dsp::kGroupBuses * max_block_], n});
  delay_.process(delay_in, {&in_l_[(dsp::kGroupBuses + 1) * max_block_], n},
                 {&in_r_[(dsp::kGroupBuses + 1) * max_block_], n});
  for (std::size_t b = 0; b < kBuses; ++b) {
    const std::span<float> l(&in_l_[b * max_block_], n), r(&in_r_[b * max_block_], n);
    buses_[b].process(l, r);
    float peak = peak_[b];
    for (std::size_t i = 0; i < n; ++i) {
      left[i] += l[i];
      right[i] += r[i];
      peak = std::max(peak, std::max(std::fabs(l[i]), std::fabs(r[i])));
    }
    peak_[b] = peak;
  }
}

float BusRack::take_peak(std::size_t index) noexcept {
  const float p = peak_[index];
  peak_[index] = 0.0f;
  return p;
}

}  // namespace tl::mixer
