#include "tl/dsp/fft.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <utility>

namespace tl::dsp {

void Fft::prepare(std::size_t n) {
  n_ = std::bit_ceil(std::max<std::size_t>(n, 2));
  const int bits = std::countr_zero(n_);
  reversed_.resize(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    std::size_t r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
    reversed_[i] = r;
  }
  // Each stage's twiddles side by side (stage len: len / 2 of them, from index len / 2 - 1),
  // so a stage reads them in order rather than striding over one table.
  twiddle_.resize(n_);
  for (std::size_t len = 2; len <= n_; len <<= 1) {
    for (std::size_t k = 0; k < len / 2; ++k) {
      const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(len);
      twiddle_[len / 2 - 1 + k] = {std::cos(a), std::sin(a)};
    }
  }
}

void Fft::run(std::span<std::complex<double>> a, bool inverse) const noexcept {
  for (std::size_t i = 0; i < n_; ++i) {
    if (i < reversed_[i]) std::swap(a[i], a[reversed_[i]]);
  }
  for (std::size_t len = 2; len <= n_; len <<= 1) {
    const std::size_t half = len / 2;
    const std::complex<double>* tw = &twiddle_[half - 1];
    for (std::size_t i = 0; i < n_; i += len) {
      for (std::size_t k = 0; k < half; ++k) {
        // Written out: std::complex's operator* checks for infinities through a library call.
        const std::complex<double> w = tw[k];
        const double wr = w.real(), wi = inverse ? -w.imag() : w.imag();
        const std::complex<double> x = a[i + k + half];
        const std::complex<double> v{x.real() * wr - x.imag() * wi, x.real() * wi + x.imag() * wr};
        const std::complex<double> u = a[i + k];
        a[i + k] = u + v;
        a[i + k + half] = u - v;
      }
    }
  }
}

void Fft::forward(std::span<std::complex<double>> data) const noexcept {
  run(data, false);
}

void Fft::inverse(std::span<std::complex<double>> data) const noexcept {
  run(data, true);
  const double scale = 1.0 / static_cast<double>(n_);
  for (auto& v : data) v *= scale;
}

}  // namespace tl::dsp
