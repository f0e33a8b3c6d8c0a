#include "tl/dsp/varispeed.h"

#include <algorithm>
#include <cmath>

namespace tl::dsp {

Varispeed::Varispeed() : kernel_(kLiveKernel) {}

void Varispeed::prepare(const ProcessSpec& spec) {
  max_block_ = spec.max_block;
  first_ = std::make_unique<std::size_t[]>(max_block_);
  weights_ = std::make_unique<float[]>(max_block_ * static_cast<std::size_t>(kernel_.taps()));
}

std::size_t Varispeed::plan(double frac, double step, std::size_t frames) noexcept {
  frames_ = std::min(frames, max_block_);
  step = std::clamp(step, 1.0 - kMaxStepDeviation, 1.0 + kMaxStepDeviation);
  frac = std::clamp(frac, 0.0, std::nextafter(1.0, 0.0));
  const auto taps = static_cast<std::size_t>(kernel_.taps());
  std::size_t last = 0;
  for (std::size_t i = 0; i < frames_; ++i) {
    const double x = frac + static_cast<double>(i) * step;
    const double whole = std::floor(x);
    first_[i] = static_cast<std::size_t>(whole);
    last = first_[i];
    kernel_.weights(x - whole, std::span<float>(weights_.get() + i * taps, taps));
  }
  advance_ = frac + static_cast<double>(frames_) * step;
  return frames_ == 0 ? 0 : last + taps;
}

void Varispeed::apply(std::span<const float> window, std::span<float> out) const noexcept {
  const auto taps = static_cast<std::size_t>(kernel_.taps());
  const std::size_t n = std::min(out.size(), frames_);
  for (std::size_t i = 0; i < n; ++i) {
    if (first_[i] + taps > window.size()) {
      out[i] = 0.0f;  // window shorter than planned: a caller bug, never read past it
      continue;
    }
    const float* w = weights_.get() + i * taps;
    const float* in = window.data() + first_[i];
    float acc = 0.0f;
    for (std::size_t k = 0; k < taps; ++k) acc += w[k] * in[k];
    out[i] = acc;
  }
}

}  // namespace tl::dsp
