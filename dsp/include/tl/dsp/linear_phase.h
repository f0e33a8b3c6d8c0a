#pragma once
//! Linear-phase filtering for the mastering chain: an FIR whose magnitude follows a given
//! response and whose phase is a pure delay (no phase shift between frequencies, the price
//! being latency and pre-ringing), run by FFT convolution.
//!
//! Value type in the tl::dsp shape: prepare() allocates, process() does not (no locks,
//! no I/O). The latency is long (a block of the convolution plus half the filter: about a
//! third of a second at 48 kHz): for offline mastering, not for the live mix.

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "tl/dsp/fft.h"

namespace tl::dsp {

//! Taps (odd count, symmetric) of a linear-phase FIR whose magnitude follows magnitude(hz)
//! from 0 to rate / 2: the response sampled on a grid four times finer than the taps, made
//! zero-phase, transformed back and shortened under a Hann window.
std::vector<double> design_linear_phase(const std::function<double(double)>& magnitude, double rate,
                                        std::size_t taps);

//! The taps a mastering EQ gets at rate: about 0.17 s worth (8191 at 48 kHz), odd, so
//! shelves down to ~30 Hz come out as asked.
std::size_t linear_phase_taps(double rate) noexcept;

//! An FIR of odd length run by overlap-save FFT convolution. The taps are real, so a
//! stereo pair goes through one complex transform (left real, right imaginary).
class LinearPhaseFir {
 public:
  //! taps: odd count (symmetric for linear phase). Allocates.
  void prepare(std::span<const double> taps);
  //! Clears the history (silence in, silence out) and the output waiting.
  void reset() noexcept;
  //! Frames the output lags the input: the convolution's block plus half the filter.
  std::size_t latency() const noexcept { return hop_ + (taps_ - 1) / 2; }
  //! The next frames of one or two channels, in place (right empty: mono; else as long
  //! as left).
  void process(std::span<float> left, std::span<float> right = {}) noexcept;

 private:
  void convolve() noexcept;
  Fft fft_;
  std::size_t taps_ = 1, hop_ = 1;
  std::vector<std::complex<double>> spectrum_;  // the filter's, fft_.size() bins
  std::vector<std::complex<double>> input_;     // the last taps - 1 frames, then hop_ new ones
  std::vector<std::complex<double>> work_;
  std::vector<std::complex<float>> output_;  // hop_ frames computed from the last block
  std::size_t fill_ = 0;                     // new frames in input_
};

}  // namespace tl::dsp
