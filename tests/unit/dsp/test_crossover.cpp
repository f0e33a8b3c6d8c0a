// Linkwitz-Riley crossover and multiband compressor against theory: the bands re-sum to a
// flat magnitude (an impulse's spectrum, 200 log-spaced frequencies), each band holds its
// range (-6.02 dB at a split, >= 24 dB down an octave away), and compressing one band
// follows the static curve there while leaving the others untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numbers>
#include <vector>

#include "alloc_counter.h"
#include "dsp_test_util.h"
#include "tl/common/realtime.h"
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

TEST(MultibandCompressor, NothingActingIsFlat) {
  for (const double fs : {44100.0, 48000.0}) {
    for (std::size_t bands = 2; bands <= 4; ++bands) {
      for (const bool bands_on : {false, true}) {
        MultibandParams p{.bands = bands, .split_hz = kSplits};
        for (auto& c : p.band) c.threshold_db = 20.0f;  // far above the impulse (0 dBFS)
        p.band_on.fill(bands_on);
        MultibandCompressor m;
        // One call of 8192 frames with max_block 512: the compressor works it in chunks.
        m.prepare({.sample_rate = fs, .max_block = 512}, p);
        std::vector<float> mono = impulse(kImpulseLen), left = mono, right = impulse(kImpulseLen, 0.5f);
        m.process(mono);
        const double worst_mono = worst_flatness_db(mono, fs);
        m.reset();
        m.process(left, right);
        for (float& v : right) v *= 2.0f;
        const double worst =
            std::max({worst_mono, worst_flatness_db(left, fs), worst_flatness_db(right, fs)});
        std::printf(
            "[ figure ] multiband %zu bands at %.1f kHz, bands %s: worst deviation from flat %.1e dB\n",
            bands, fs / 1000.0, bands_on ? "on, not acting" : "off", worst);
        EXPECT_LT(worst, 0.01) << bands << " bands at " << fs;
        for (std::size_t b = 0; b < bands; ++b) EXPECT_EQ(m.gain_reduction_db(b), 0.0f);
      }
    }
  }
}

//! Amplitude of the sine at f in x (over a whole number of its cycles).
double amplitude(std::span<const float> x, double f, double fs) {
  return 2.0 * std::abs(dft(x, f, fs)) / static_cast<double>(x.size());
}

TEST(MultibandCompressor, CompressingOneBandLeavesTheOthers) {
  constexpr double fs = 48000.0, lo = 50.0, hi = 5000.0;
  constexpr double lo_amp = 0.5, hi_amp = 0.25;
  constexpr std::size_t kBlock = 240;  // divides the 1.5 s run
  MultibandParams p{.bands = 3, .split_hz = {250.0f, 2000.0f, 8000.0f}};
  // The other bands are on, but their thresholds sit above anything they see.
  for (auto& c : p.band) c.threshold_db = 0.0f;
  // Release long enough that the peak detector sags only ~0.35 dB between a 50 Hz sine's peaks.
  p.band[0] = {
      .threshold_db = -30.0f, .ratio = 8.0f, .knee_db = 0.0f, .attack_ms = 5.0f, .release_ms = 500.0f};
  const double expected_db = Compressor::static_curve_db(p.band[0], db(lo_amp)) - db(lo_amp);  // -21 dB
  MultibandCompressor m;
  m.prepare({.sample_rate = fs, .max_block = kBlock}, p);

  // Mono: both sines in one signal. Measured over the last 0.5 s of 1.5 s (25 cycles of 50 Hz).
  constexpr std::size_t total = 72000, window = 24000;
  static_assert(total % kBlock == 0);
  std::vector<float> in = test::sine(lo, lo_amp, total, fs), high = test::sine(hi, hi_amp, total, fs);
  for (std::size_t i = 0; i < total; ++i) in[i] += high[i];
  std::vector<float> out = in;
  for (std::size_t at = 0; at < total; at += kBlock) m.process(std::span<float>(out).subspan(at, kBlock));
  const std::span<const float> wi = std::span<const float>(in).last(window),
                               wo = std::span<const float>(out).last(window);
  const double lo_db = db(amplitude(wo, lo, fs) / amplitude(wi, lo, fs));
  const double hi_db = db(amplitude(wo, hi, fs) / amplitude(wi, hi, fs));
  std::printf("[ figure ] multiband mono: 50 Hz %+.2f dB (static curve %+.2f dB), 5 kHz %+.4f dB\n", lo_db,
              expected_db, hi_db);
  EXPECT_NEAR(lo_db, expected_db, 0.5);
  EXPECT_NEAR(hi_db, 0.0, 0.1);
  EXPECT_NEAR(m.gain_reduction_db(0), expected_db, 0.5);
  EXPECT_EQ(m.gain_reduction_db(1), 0.0f);
  EXPECT_EQ(m.gain_reduction_db(2), 0.0f);

  // Stereo, linked per band: the low sine on the left keys band 0 for both channels, and
  // the right channel's high sine (band 2) is still left alone.
  m.reset();
  std::vector<float> left = test::sine(lo, lo_amp, total, fs), right = high;
  const std::vector<float> left_in = left;
  for (std::size_t at = 0; at < total; at += kBlock)
    m.process(std::span<float>(left).subspan(at, kBlock), std::span<float>(right).subspan(at, kBlock));
  const double l_db = db(amplitude(std::span<const float>(left).last(window), lo, fs) /
                         amplitude(std::span<const float>(left_in).last(window), lo, fs));
  const double r_db = db(amplitude(std::span<const float>(right).last(window), hi, fs) /
                         amplitude(std::span<const float>(high).last(window), hi, fs));
  std::printf("[ figure ] multiband stereo: left 50 Hz %+.2f dB, right 5 kHz %+.4f dB\n", l_db, r_db);
  EXPECT_NEAR(l_db, expected_db, 0.5);
  EXPECT_NEAR(r_db, 0.0, 0.1);
}

TEST(MultibandCompressor, ProcessDoesNotAllocate) {
  MultibandParams p{.bands = 4};
  for (auto& c : p.band) c.threshold_db = -40.0f;  // every band compressing
  MultibandCompressor m;
  m.prepare({.sample_rate = 48000.0, .max_block = 64}, p);
  std::vector<float> l = test::sine(997.0, 0.5, 4800), r = test::sine(150.0, 0.5, 4800);
  const auto before = tl::test::realtime_allocations();
  const auto total_before = tl::test::total_allocations();
  for (std::size_t at = 0; at < l.size(); at += 480) {
    tl::rt::RealtimeScope rt;
    p.band_on[3] = at / 480 % 2 == 0;  // a band switched on and off between blocks
    m.set_params(p);
    m.process(std::span<float>(l).subspan(at, 240));  // longer than max_block: chunks
    m.process(std::span<float>(l).subspan(at + 240, 240), std::span<float>(r).subspan(at + 240, 240));
  }
  EXPECT_EQ(tl::test::realtime_allocations(), before);
  EXPECT_EQ(tl::test::total_allocations(), total_before);
  EXPECT_LT(m.gain_reduction_db(1), 0.0f);
}

}  // namespace
}  // namespace tl::dsp
