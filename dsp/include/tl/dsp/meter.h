#pragma once
//! Sample-peak and RMS metering over blocks; read and reset by the caller.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

namespace tl::dsp {

class PeakRmsMeter {
 public:
  //! Accumulates a block. No allocation, no locks.
  void process(std::span<const float> block) noexcept {
    // Four partial sums: one running sum is a chain of dependent additions per sample.
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    float peak = peak_;
    const std::size_t n = block.size(), n4 = n - n % 4;
    for (std::size_t i = 0; i < n4; i += 4) {
      for (std::size_t k = 0; k < 4; ++k) {
        const float v = block[i + k];
        peak = std::max(peak, std::fabs(v));
        sum[k] += static_cast<double>(v) * v;
      }
    }
    for (std::size_t i = n4; i < n; ++i) {
      peak = std::max(peak, std::fabs(block[i]));
      sum[0] += static_cast<double>(block[i]) * block[i];
    }
    peak_ = peak;
    sum_sq_ += (sum[0] + sum[1]) + (sum[2] + sum[3]);
    count_ += n;
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
