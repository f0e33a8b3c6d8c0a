#pragma once
//! Sample-peak and RMS metering over blocks; read and reset by the caller.

#include <cmath>
#include <cstddef>
#include <span>

namespace tl::dsp {

class PeakRmsMeter {
 public:
  //! Accumulates a block. No allocation, no locks.
  void process(std::span<const float> block) noexcept {
    for (const float v : block) {
      const float a = std::fabs(v);
      if (a > peak_) peak_ = a;
      sum_sq_ += static_cast<double>(v) * v;
    }
    count_ += block.size();
  }

  float peak() const noexcept { return peak_; }
  float rms() const noexcept {
    return count_ == 0 ? 0.0f : static_cast<float>(std::sqrt(sum_sq_ / static_cast<double>(count_)));
  }
  std::size_t count() const noexcept { return count_; }

  void reset() noexcept {
    peak_ = 0.0f;
    sum_sq_ = 0.0;
    count_ = 0;
  }

 private:
  float peak_ = 0.0f;
  double sum_sq_ = 0.0;
  std::size_t count_ = 0;
};

}  // namespace tl::dsp
