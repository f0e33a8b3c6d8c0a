#pragma once
//! A complex FFT of a power-of-two size (iterative radix-2, twiddles and the bit-reversal
//! order worked out once), for the offline tools: spectra (mastering's reference
//! matching) and FFT convolution (linear_phase.h).
//!
//! prepare() allocates; forward() and inverse() do not, and run in place.

#include <complex>
#include <cstddef>
#include <span>
#include <vector>

namespace tl::dsp {

class Fft {
 public:
  //! n: a power of two, 2 or more.
  void prepare(std::size_t n);
  std::size_t size() const noexcept { return n_; }
  //! X[k] = sum x[i] e^(-2 pi i k / n). data.size() == size().
  void forward(std::span<std::complex<double>> data) const noexcept;
  //! The inverse, scaled by 1/n: inverse(forward(x)) == x.
  void inverse(std::span<std::complex<double>> data) const noexcept;

 private:
  void run(std::span<std::complex<double>> data, bool inverse) const noexcept;
  std::size_t n_ = 0;
  std::vector<std::size_t> reversed_;          // i's bit-reversed index
  std::vector<std::complex<double>> twiddle_;  // per stage: e^(-2 pi i k / len), k < len / 2
};

}  // namespace tl::dsp
