#include "tl/dsp/sinc_kernel.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tl::dsp {

double bessel_i0(double x) noexcept {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

SincKernel::SincKernel(const SincKernelSpec& spec) : spec_(spec) {
  const auto taps = static_cast<std::size_t>(2 * spec.half_taps);
  table_.assign(static_cast<std::size_t>(spec.phases + 1) * taps, 0.0f);
  const double norm = bessel_i0(spec.beta);
  std::vector<double> row(taps);
  for (int p = 0; p <= spec.phases; ++p) {
    const double frac = static_cast<double>(p) / spec.phases;
    double sum = 0.0;
    for (std::size_t k = 0; k < taps; ++k) {
      const double x =
          static_cast<double>(static_cast<int>(k) - spec.half_taps + 1) - frac;  // from the point
      const double w_arg = x / spec.half_taps;
      const double window =
          std::fabs(w_arg) >= 1.0 ? 0.0 : bessel_i0(spec.beta * std::sqrt(1.0 - w_arg * w_arg)) / norm;
      const double sinc =
          x == 0.0 ? spec.cutoff : std::sin(std::numbers::pi * spec.cutoff * x) / (std::numbers::pi * x);
      row[k] = sinc * window;
      sum += row[k];
    }
    float* out = table_.data() + static_cast<std::size_t>(p) * taps;
    for (std::size_t k = 0; k < taps; ++k) out[k] = static_cast<float>(row[k] / sum);
  }
}

void SincKernel::weights(double frac, std::span<float> out) const noexcept {
  const double where = std::clamp(frac, 0.0, 1.0) * spec_.phases;
  const int phase = std::min(static_cast<int>(where), spec_.phases - 1);
  const auto mix = static_cast<float>(where - phase);
  const std::span<const float> a = row(phase);
  const std::span<const float> b = row(phase + 1);
  for (std::size_t k = 0; k < a.size() && k < out.size(); ++k) out[k] = a[k] + mix * (b[k] - a[k]);
}

}  // namespace tl::dsp
