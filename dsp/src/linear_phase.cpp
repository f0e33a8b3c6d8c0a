#include "tl/dsp/linear_phase.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

namespace tl::dsp {

std::vector<double> design_linear_phase(const std::function<double(double)>& magnitude, double rate,
                                        std::size_t taps) {
  taps |= 1u;  // odd: a whole-sample delay
  Fft fft;
  fft.prepare(4 * taps);
  const std::size_t g = fft.size();
  std::vector<std::complex<double>> h(g);
  for (std::size_t k = 0; k <= g / 2; ++k) {
    const double m = magnitude(static_cast<double>(k) * rate / static_cast<double>(g));
    h[k] = m;
    if (k > 0 && k < g / 2) h[g - k] = m;
  }
  fft.inverse(h);  // real and even: the zero-phase impulse response, centred on 0
  std::vector<double> out(taps);
  const auto half = static_cast<std::ptrdiff_t>(taps / 2);
  for (std::ptrdiff_t n = 0; n <= half; ++n) {
    // Even by construction (the transform's rounding would leave the halves 1e-5 apart
    // in their last digits): the mean of h[n] and h[-n], mirrored.
    const double w =
        0.5 + 0.5 * std::cos(std::numbers::pi * static_cast<double>(n) / static_cast<double>(half + 1));
    const auto k = static_cast<std::size_t>(n);
    const double v = 0.5 * (h[k].real() + h[(g - k) % g].real()) * w;
    out[static_cast<std::size_t>(half + n)] = v;
    out[static_cast<std::size_t>(half - n)] = v;
  }
  return out;
}

std::size_t linear_phase_taps(double rate) noexcept {
  return static_cast<std::size_t>(0.17 * rate) | 1u;
}

void LinearPhaseFir::prepare(std::span<const double> taps) {
  taps_ = std::max<std::size_t>(taps.size(), 1);
  fft_.prepare(4 * taps_);
  const std::size_t m = fft_.size();
  hop_ = m - taps_ + 1;
  spectrum_.assign(m, {0.0, 0.0});
  for (std::size_t i = 0; i < taps.size(); ++i) spectrum_[i] = taps[i];
  fft_.forward(spectrum_);
  input_.assign(m, {0.0, 0.0});
  work_.assign(m, {0.0, 0.0});
  output_.assign(hop_, {0.0f, 0.0f});
  reset();
}

void LinearPhaseFir::reset() noexcept {
  std::fill(input_.begin(), input_.end(), std::complex<double>{});
  std::fill(output_.begin(), output_.end(), std::complex<float>{});
  fill_ = 0;
}

void LinearPhaseFir::convolve() noexcept {
  const std::size_t m = fft_.size();
  std::copy(input_.begin(), input_.end(), work_.begin());
  fft_.forward(work_);
  for (std::size_t k = 0; k < m; ++k) {
    const std::complex<double> a = work_[k], b = spectrum_[k];
    work_[k] = {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
  }
  fft_.inverse(work_);
  // Overlap-save: the first taps - 1 outputs wrapped around; the last hop_ are the block's.
  for (std::size_t i = 0; i < hop_; ++i) {
    const std::complex<double> y = work_[taps_ - 1 + i];
    output_[i] = {static_cast<float>(y.real()), static_cast<float>(y.imag())};
  }
  // The newest taps - 1 frames are the next block's history.
  std::copy(input_.end() - static_cast<std::ptrdiff_t>(taps_ - 1), input_.end(), input_.begin());
  fill_ = 0;
}

void LinearPhaseFir::process(std::span<float> left, std::span<float> right) noexcept {
  const bool stereo = right.size() >= left.size();
  for (std::size_t i = 0; i < left.size(); ++i) {
    const std::complex<float> y = output_[fill_];
    input_[taps_ - 1 + fill_] = {left[i], stereo ? right[i] : 0.0f};
    left[i] = y.real();
    if (stereo) right[i] = y.imag();
    if (++fill_ == hop_) convolve();
  }
}

}  // namespace tl::dsp
