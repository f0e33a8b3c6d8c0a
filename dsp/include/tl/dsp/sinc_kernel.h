#pragma once
//! A table of Kaiser-windowed sinc interpolation kernels, one row per fractional
//! phase, for band-limited reading between samples (conform, varispeed).
//!
//! Row p (0..phases) holds the 2 * half_taps weights for a point p / phases of a
//! sample past input index base: weight k applies to input base - half_taps + 1 + k.
//! Every row sums to exactly 1 (unity gain at DC). Built once, at set-up (allocates).

#include <cstddef>
#include <span>
#include <vector>

namespace tl::dsp {

//! I0, the modified Bessel function of the first kind and order 0: the Kaiser window's
//! shape, w(r) = I0(beta * sqrt(1 - r^2)) / I0(beta).
double bessel_i0(double x) noexcept;

struct SincKernelSpec {
  int half_taps = 16;    //!< the kernel reaches this many samples each side
  int phases = 512;      //!< table rows between two samples
  double beta = 8.0;     //!< Kaiser window shape
  double cutoff = 0.92;  //!< of Nyquist
};

class SincKernel {
 public:
  explicit SincKernel(const SincKernelSpec& spec);

  int taps() const noexcept { return 2 * spec_.half_taps; }
  int half_taps() const noexcept { return spec_.half_taps; }
  int phases() const noexcept { return spec_.phases; }

  //! Weights for the fractional position frac in [0, 1): the two nearest rows,
  //! interpolated linearly, written to out (size taps()). Never allocates.
  void weights(double frac, std::span<float> out) const noexcept;

  //! One table row (phase 0..phases()).
  std::span<const float> row(int phase) const noexcept {
    return {table_.data() + static_cast<std::size_t>(phase) * static_cast<std::size_t>(taps()),
            static_cast<std::size_t>(taps())};
  }

 private:
  SincKernelSpec spec_;
  std::vector<float> table_;  // [phase][tap]
};

}  // namespace tl::dsp
