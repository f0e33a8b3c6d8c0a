// Linkwitz-Riley crossover against theory: the bands re-sum to a flat magnitude (an
// impulse's spectrum, 200 log-spaced frequencies) and each band holds its range (-6.02 dB
// at a split, >= 24 dB down an octave away).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numbers>
#include <vector>

#include "dsp_test_util.h"
#include "tl/dsp/crossover.h"

namespace tl::dsp {
namespace {

using test::db;

constexpr std::array<float, 3> kSplits{120.0f, 2000.0f, 8000.0f};
// The slowest poles (120 Hz, Q 0.71) decay by 1e-9 within ~2500 samples; 8192 leaves the
// truncated tail far below the 0.01 dB being checked.
constexpr std::size_t kImpulseLen = 8192;

//! X(f) = sum x[n] e^{-j 2 pi f n / fs}, the phasor advanced by multiplication (its rounding
//! drift over 8192 steps is ~1e-12, far below what is checked).
std::complex<double> dft(std::span<const float> x, double f, double fs) {
  const double w = 2.0 * std::numbers::pi * f / fs;
  const std::complex<double> step(std::cos(w), -std::sin(w));
  std::complex<double> phasor(1.0, 0.0), sum(0.0, 0.0);
  for (const float v : x) {
    sum += static_cast<double>(v) * phasor;
    phasor *= step;
  }
  return sum;
}

//! Worst |20 log10 |X(f)|| over 200 log-spaced frequencies from 20 Hz to 20 kHz, for an
//! impulse response x of a unit impulse.
double worst_flatness_db(std::span<const float> x, double fs) {
  double worst = 0.0;
  for (const double f : test::log_freqs(200)) worst = std::max(worst, std::abs(db(std::abs(dft(x, f, fs)))));
  return worst;
}

//! Splits `in` (mono) in blocks of `block` frames; returns the bands.
std::vector<std::vector<float>> split_all(Crossover& x, std::span<const float> in, std::size_t block = 256) {
  std::vector<std::vector<float>> bands(x.bands(), std::vector<float>(in.size()));
  std::array<float*, Crossover::kMaxBands> out{};
  for (std::size_t at = 0; at < in.size(); at += block) {
    const std::size_t n = std::min(block, in.size() - at);
    for (std::size_t b = 0; b < x.bands(); ++b) out[b] = bands[b].data() + at;
    x.split(0, in.subspan(at, n), std::span<float* const>(out.data(), x.bands()));
  }
  return bands;
}

std::vector<float> impulse(std::size_t n, float a = 1.0f) {
  std::vector<float> v(n, 0.0f);
  v[0] = a;
  return v;
}

TEST(Crossover, BandsResumFlat) {
  for (const double fs : {44100.0, 48000.0}) {
    for (std::size_t bands = 2; bands <= 4; ++bands) {
      Crossover x;
      x.prepare({.sample_rate = fs, .max_block = 256, .channels = 1}, bands, kSplits);
      ASSERT_EQ(x.bands(), bands);
      const std::vector<float> in = impulse(kImpulseLen);
      const auto out = split_all(x, in);
      std::vector<float> sum(kImpulseLen, 0.0f);
      for (const auto& band : out)
        for (std::size_t i = 0; i < kImpulseLen; ++i) sum[i] += band[i];
      const double worst = worst_flatness_db(sum, fs);
      std::printf("[ figure ] crossover %zu bands at %.1f kHz: worst deviation from flat %.1e dB\n", bands,
                  fs / 1000.0, worst);
      EXPECT_LT(worst, 0.01) << bands << " bands at " << fs;
    }
  }
}

TEST(Crossover, EachBandHoldsItsRangeAndSplitsAtMinus6dB) {
  for (const double fs : {44100.0, 48000.0}) {
    for (std::size_t bands = 2; bands <= 4; ++bands) {
      Crossover x;
      x.prepare({.sample_rate = fs, .max_block = 256, .channels = 1}, bands, kSplits);
      // A frequency inside each band and at least an octave from every split: the bottom
      // band 2.4x below its split, the top one 2x above, an inner one at the geometric mean.
      std::vector<double> inside;
      inside.push_back(kSplits[0] / 2.4);
      for (std::size_t k = 1; k + 1 < bands; ++k)
        inside.push_back(std::sqrt(double(kSplits[k - 1]) * kSplits[k]));
      inside.push_back(2.0 * kSplits[bands - 2]);
      // Steady-state level of each band for a sine at f, relative to the sine (dB).
      const auto band_levels_db = [&](double f) {
        x.reset();
        const std::size_t settle = 9600, window = test::whole_cycles(f, 9600, fs);
        const std::vector<float> in = test::sine(f, 0.5, settle + window, fs);
        const auto out = split_all(x, in);
        std::vector<double> level;
        const double ref = test::rms(std::span<const float>(in).subspan(settle));
        for (const auto& band : out)
          level.push_back(db(test::rms(std::span<const float>(band).subspan(settle)) / ref));
        return level;
      };
      double worst_leak = -1000.0, worst_split = 0.0;
      for (std::size_t k = 0; k < bands; ++k) {
        const auto level = band_levels_db(inside[k]);
        EXPECT_GT(level[k], -1.0) << "band " << k << " at " << inside[k] << " Hz";
        for (std::size_t b = 0; b < bands; ++b) {
          if (b == k) continue;
          EXPECT_LT(level[b], -24.0) << "band " << b << " for a " << inside[k] << " Hz sine in band " << k;
          worst_leak = std::max(worst_leak, level[b]);
        }
      }
      for (std::size_t s = 0; s + 1 < bands; ++s) {
        const auto level = band_levels_db(kSplits[s]);
        // LR4: each Butterworth pair is -3.01 dB at the split, so each band is -6.02 dB. The
        // band's other splits (at least 2 octaves away) take at most ~0.02 dB more.
        for (const std::size_t b : {s, s + 1}) {
          EXPECT_NEAR(level[b], -6.02, 0.1) << "band " << b << " at split " << kSplits[s] << " Hz";
          worst_split = std::max(worst_split, std::abs(level[b] + 6.0206));
        }
      }
      std::printf(
          "[ figure ] crossover %zu bands at %.1f kHz: worst leak an octave out %.1f dB, "
          "worst |band at split + 6.02 dB| %.3f dB\n",
          bands, fs / 1000.0, worst_leak, worst_split);
    }
  }
}

}  // namespace
}  // namespace tl::dsp
