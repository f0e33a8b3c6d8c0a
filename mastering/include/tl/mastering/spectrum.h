#pragma once
//! A recording's long-term average spectrum, of its mid (L+R)/2 and side (L-R)/2 apart, in
//! third-octave bands from 25 Hz to 16 kHz: what reference matching compares and what the
//! spectrum picture draws.
//!
//! Welch's method: Hann windows of 8192 frames overlapping by half, each one's power
//! spectrum (dsp::Fft) added up bin by bin; a band's power is the sum of
//! the bins whose centres fall in it (edges a sixth of an octave either side of the
//! centre). Memory is the window and the bins, whatever the length of the file.

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/dsp/fft.h"
#include "tl/mastering/master.h"

namespace tl::mastering {

//! Third-octave centres 1000 x 2^(k/3), k = -16..12: 25 Hz .. 16 kHz (nominal 1/3 octaves).
inline constexpr std::size_t kSpectrumBands = 29;
double band_centre_hz(std::size_t band) noexcept;

struct Spectrum {
  double rate = 0.0;
  std::size_t fft_size = 0;
  std::int64_t windows = 0;
  //! Mean power per bin (0 .. fft_size / 2), of the mid and of the side (all zero for mono).
  std::vector<double> mid_bins, side_bins;
  //! Band powers in dB (the sum of the bins in the band; a full-scale sine: 0 dB).
  std::array<double, kSpectrumBands> mid_db{}, side_db{};

  //! The frequency of bin i.
  double bin_hz(std::size_t i) const noexcept { return static_cast<double>(i) * rate / fft_size; }
  //! Side against mid, dB, from the bands 60 Hz to 12 kHz (how wide the recording is).
  double side_to_mid_db() const noexcept;
};

//! Shape only: band dB with the mean over 60 Hz .. 12 kHz taken out, then smoothed across
//! bands (1/4, 1/2, 1/4: an octave wide), so two recordings at different levels compare.
std::array<double, kSpectrumBands> tone_shape(const std::array<double, kSpectrumBands>& band_db) noexcept;

//! How much of bin `bin` (its width centred on its frequency) lies in a band.
struct BinShare {
  std::size_t bin;
  double weight;  //!< 0..1
};
//! The bins of every band of a spectrum with bins of `bin_hz` up to `bins` (low bands are a
//! few bins wide: whole bins only would step by a decibel).
std::array<std::vector<BinShare>, kSpectrumBands> band_shares(double bin_hz, std::size_t bins);

//! Whether band lies in 60 Hz .. 12 kHz, the range matching is judged over.
bool in_judged_range(std::size_t band) noexcept;

class SpectrumAnalyzer {
 public:
  //! channels: 1 or 2. May allocate.
  void prepare(double rate, std::size_t channels);
  //! Interleaved frames.
  void add(std::span<const float> interleaved, std::size_t frames);
  //! The spectrum of everything added (a last part window is zero-padded). Needs some audio.
  Spectrum result() const;

 private:
  void run_window();
  double rate_ = 48000.0;
  std::size_t channels_ = 2;
  std::vector<float> mid_, side_;  // the window being filled
  std::size_t filled_ = 0;
  std::vector<double> window_;  // Hann
  std::vector<double> mid_sum_, side_sum_;
  dsp::Fft fft_;
  std::vector<std::complex<double>> z_;  // the transform's buffer
  std::int64_t windows_ = 0;
};

//! The spectrum of a file (WAV, FLAC, AIFF; mono or stereo), streamed.
Result<Spectrum> spectrum_of_file(const std::string& path, const Progress& progress = {});

}  // namespace tl::mastering
