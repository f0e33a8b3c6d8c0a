#include "tl/dsp/true_peak.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tl/dsp/sinc_kernel.h"

namespace tl::dsp {

Oversampler4x::Oversampler4x() noexcept {
  // Phase p interpolates position m + p/4 from x[m - kDelay + 1 .. m + kDelay] (oldest first):
  // tap k multiplies the sample at offset j = k - (kTapsPerPhase - 1 - kDelay) from m.
  constexpr double beta = 7.0;
  constexpr double half = kTapsPerPhase / 2.0;
  for (std::size_t p = 1; p < 4; ++p) {
    const double tau = static_cast<double>(p) / 4.0;
    double sum = 0.0;
    std::array<double, kTapsPerPhase> h{};
    for (std::size_t k = 0; k < kTapsPerPhase; ++k) {
      const double j = static_cast<double>(k) - (kTapsPerPhase - 1 - kDelay);
      const double u = tau - j;  // distance from the sample to the wanted position
      const double sinc = std::sin(std::numbers::pi * u) / (std::numbers::pi * u);
      const double r = u / half;
      const double w = r * r < 1.0 ? bessel_i0(beta * std::sqrt(1.0 - r * r)) / bessel_i0(beta) : 0.0;
      h[k] = sinc * w;
      sum += h[k];
    }
    double l1 = 0.0;
    for (std::size_t k = 0; k < kTapsPerPhase; ++k) {
      taps_[k][p] = static_cast<float>(h[k] / sum);
      l1 += std::fabs(h[k] / sum);
    }
    // A hair over the sum of |taps|: float rounding in the dot product stays under it.
    gain_bound_ = std::max(gain_bound_, static_cast<float>(l1 * 1.0001));
  }
}

}  // namespace tl::dsp
