// Saturator against theory: steady tones across the band (a stepped sweep, 1..19 kHz) come
// out with nothing but their harmonics above -90 dBFS, where the same curve at the base rate
// aliases far above it; a low-level signal passes at unity after latency(); mix 0 is the dry
// signal delayed exactly; the curve makes the harmonics a tanh should; process() does not
// allocate.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

#include "alloc_counter.h"
#include "dsp_test_util.h"
#include "tl/common/realtime.h"
#include "tl/dsp/saturation.h"

namespace tl::dsp {
namespace {

using test::db;

// 16384-point spectra: the tones sit exactly on (odd) bins, so each line of a steady output,
// harmonic or alias, is one window main lobe of 7 bins and nothing leaks between them.
constexpr std::size_t kFftSize = 16384;
constexpr std::size_t kLobe = 3;  // a 4-term Blackman-Harris line spans bins -3..+3
// Long enough for the filters and the 5 Hz DC blocker to settle (16384 frames: 10.7 time
// constants at 48 kHz, so the bias's DC step has decayed by 90 dB).
constexpr std::size_t kSettle = 16384;
const std::array<double, 9> kSweepHz{1000.0, 2000.0,  3000.0,  5000.0, 7000.0,
                                     9500.0, 13000.0, 17000.0, 19000.0};
constexpr double kMinus6Dbfs = 0.50118723;

//! In-place radix-2 FFT (size a power of two).
void fft(std::vector<std::complex<double>>& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; (j & bit) != 0; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * std::numbers::pi / static_cast<double>(len);
    for (std::size_t i = 0; i < n; i += len)
      for (std::size_t k = 0; k < len / 2; ++k) {
        const std::complex<double> w = std::polar(1.0, ang * static_cast<double>(k));
        const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
  }
}

//! Level of each bin 0..N/2 as the amplitude of a sine on that bin, in dBFS, under a periodic
//! 4-term Blackman-Harris window (sidelobes -92 dB; for bin-exact lines, none at all).
std::vector<double> spectrum_dbfs(std::span<const float> x) {
  std::vector<std::complex<double>> a(kFftSize);
  double sum = 0.0;
  for (std::size_t i = 0; i < kFftSize; ++i) {
    const double t = 2.0 * std::numbers::pi * static_cast<double>(i) / kFftSize;
    const double w = 0.35875 - 0.48829 * std::cos(t) + 0.14128 * std::cos(2 * t) - 0.01168 * std::cos(3 * t);
    a[i] = static_cast<double>(x[i]) * w;
    sum += w;
  }
  fft(a);
  std::vector<double> out(kFftSize / 2 + 1);
  for (std::size_t b = 0; b < out.size(); ++b) out[b] = db(2.0 * std::abs(a[b]) / sum);
  return out;
}

//! The odd bin nearest f: with N a power of two, no harmonic of an odd bin ever folds onto
//! another harmonic.
std::size_t odd_bin(double f, double fs) {
  return static_cast<std::size_t>(std::lround(f * kFftSize / fs)) | 1;
}

double bin_hz(std::size_t bin, double fs) {
  return static_cast<double>(bin) * fs / kFftSize;
}

//! Highest level among the bins that are neither DC nor a harmonic of `bin` below Nyquist
//! (each with its main lobe); where it is, through *at.
double worst_non_harmonic_dbfs(std::span<const double> spec, std::size_t bin, std::size_t* at = nullptr) {
  std::vector<bool> skip(spec.size(), false);
  for (std::size_t b = 0; b <= kLobe; ++b) skip[b] = true;
  for (std::size_t h = bin; h < spec.size(); h += bin)
    for (std::size_t b = h - kLobe; b <= std::min(h + kLobe, spec.size() - 1); ++b) skip[b] = true;
  double worst = -400.0;
  for (std::size_t b = 0; b < spec.size(); ++b)
    if (!skip[b] && spec[b] > worst) {
      worst = spec[b];
      if (at != nullptr) *at = b;
    }
  return worst;
}

//! A steady -6 dBFS tone on an odd bin near f through the saturator; the spectrum of the
//! output after it has settled.
std::vector<double> saturated_spectrum(double f, double fs, const SaturationParams& p, std::size_t* bin) {
  *bin = odd_bin(f, fs);
  Saturator s;
  s.prepare({.sample_rate = fs, .max_block = 1024, .channels = 1}, p);
  std::vector<float> x = test::sine(bin_hz(*bin, fs), kMinus6Dbfs, kSettle + kFftSize, fs);
  s.process(x);
  return spectrum_dbfs(std::span<const float>(x).last(kFftSize));
}

//! The same tone through the bare curve at the base rate (no oversampling, no DC blocker).
std::vector<double> bare_spectrum(double f, double fs, const SaturationParams& p, std::size_t* bin) {
  *bin = odd_bin(f, fs);
  std::vector<float> x = test::sine(bin_hz(*bin, fs), kMinus6Dbfs, kFftSize, fs);
  for (float& v : x) v = Saturator::transfer(v, p);
  return spectrum_dbfs(x);
}

// The requirement: at drive 12 dB a -6 dBFS tone anywhere from 1 to 19 kHz leaves
// nothing above -90 dBFS but its own harmonics, at 44.1 and 48 kHz, with and without bias.
// The bare curve at the base rate, on the same tones, aliases at -26 dBFS and worse.
TEST(Saturator, AliasingBelowMinus90DbfsAcrossSweep) {
  for (const double fs : {44100.0, 48000.0}) {
    for (const float bias : {0.0f, 0.3f}) {
      const SaturationParams p{.drive_db = 12.0f, .bias = bias};
      double worst = -400.0, worst_bare = -400.0, worst_f = 0.0, worst_bare_f = 0.0;
      for (const double f : kSweepHz) {
        std::size_t bin = 0, at = 0;
        const std::vector<double> spec = saturated_spectrum(f, fs, p, &bin);
        const double w = worst_non_harmonic_dbfs(spec, bin, &at);
        EXPECT_LT(w, -90.0) << fs << " Hz, bias " << bias << ", tone " << bin_hz(bin, fs)
                            << " Hz: " << bin_hz(at, fs) << " Hz at " << w << " dBFS";
        if (w > worst) {
          worst = w;
          worst_f = bin_hz(bin, fs);
        }
        const std::vector<double> bare = bare_spectrum(f, fs, p, &bin);
        const double wb = worst_non_harmonic_dbfs(bare, bin);
        if (wb > worst_bare) {
          worst_bare = wb;
          worst_bare_f = bin_hz(bin, fs);
        }
      }
      std::printf(
          "[ figure ] saturator alias at %.1f kHz, drive 12 dB, bias %.1f: worst %.1f dBFS (tone %.0f Hz); "
          "bare "
          "curve at 1x %.1f dBFS (tone %.0f Hz)\n",
          fs / 1000.0, bias, worst, worst_f, worst_bare, worst_bare_f);
      EXPECT_GT(worst_bare, -60.0);  // what oversampling is for
    }
  }
}

// Compensated, a -60 dBFS sine comes out at its own level after latency(), whatever the
// drive and bias: the curve's small-signal slope is divided out exactly.
TEST(Saturator, LowLevelPassesAtUnity) {
  const std::array<SaturationParams, 3> cases{{{}, {.drive_db = 24.0f, .bias = 0.3f}, {.drive_db = 0.0f}}};
  for (const SaturationParams& p : cases) {
    Saturator s;
    s.prepare({.sample_rate = 48000.0, .max_block = 512, .channels = 1}, p);
    const std::size_t lat = s.latency(), n = test::whole_cycles(1000.0, 9600);
    const std::vector<float> in = test::sine(1000.0, 0.001, n + kSettle);
    std::vector<float> out = in;
    s.process(out);
    double err = 0.0;
    for (std::size_t i = kSettle; i < in.size(); ++i)
      err = std::max(err, std::abs(static_cast<double>(out[i]) - in[i - lat]));
    const double gain_db = db(test::rms(std::span<const float>(out).last(n)) /
                              test::rms(std::span<const float>(in).subspan(in.size() - n - lat, n)));
    std::printf(
        "[ figure ] saturator -60 dBFS 1 kHz, drive %4.1f dB bias %.1f: gain %+.4f dB, worst error %.1f dB "
        "re signal\n",
        p.drive_db, p.bias, gain_db, db(err / 0.001));
    EXPECT_NEAR(gain_db, 0.0, 0.1);
    EXPECT_LT(err, 0.001 * 0.0116);  // 0.1 dB of the amplitude, sample by sample
  }
}

// Half wet, half dry at 15 kHz: with the dry path off by one frame the two would cancel
// to -5 dB; aligned, the level stays.
TEST(Saturator, HalfMixIsAligned) {
  Saturator s;
  s.prepare({.sample_rate = 48000.0, .max_block = 256, .channels = 1}, {.drive_db = 12.0f, .mix = 0.5f});
  const std::size_t n = test::whole_cycles(15000.0, 9600);
  const std::vector<float> in = test::sine(15000.0, 0.001, n + kSettle);
  std::vector<float> out = in;
  s.process(out);
  const double gain_db =
      db(test::rms(std::span<const float>(out).last(n)) / test::rms(std::span<const float>(in).last(n)));
  std::printf("[ figure ] saturator mix 0.5, -60 dBFS 15 kHz: gain %+.4f dB\n", gain_db);
  EXPECT_NEAR(gain_db, 0.0, 0.1);
}

// mix 0 is the input delayed by latency(), to the bit, however hard the wet path is driven.
TEST(Saturator, MixZeroIsDryDelayedExactly) {
  Saturator s;
  s.prepare({.sample_rate = 48000.0, .max_block = 100, .channels = 2},
            {.drive_db = 24.0f, .mix = 0.0f, .bias = 0.3f});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> l(4000), r(4000);
  for (std::size_t i = 0; i < l.size(); ++i) {
    l[i] = u(rng);
    r[i] = 0.5f * u(rng);
  }
  std::vector<float> ol = l, or_ = r;
  s.process(ol, or_);  // in chunks of max_block
  const std::size_t lat = s.latency();
  ASSERT_GT(lat, 0u);
  for (std::size_t i = 0; i < lat; ++i) ASSERT_EQ(ol[i], 0.0f) << i;
  for (std::size_t i = lat; i < l.size(); ++i) {
    ASSERT_EQ(ol[i], l[i - lat]) << i;
    ASSERT_EQ(or_[i], r[i - lat]) << i;
  }
}

// latency() is where a click comes out: the peak of the input/output cross-correlation,
// at 44.1, 48 and 96 kHz. Its height is the wet path's centre tap: the area under a
// low-pass flat to 0.907 and shut at 1.0 of Nyquist, about 0.95.
TEST(Saturator, LatencyIsWhereAClickComesOut) {
  for (const double fs : {44100.0, 48000.0, 96000.0}) {
    Saturator s;
    s.prepare({.sample_rate = fs, .max_block = 64, .channels = 1}, {.drive_db = 12.0f});
    std::vector<float> in(2048, 0.0f);
    in[300] = 0.001f;
    std::vector<float> out = in;
    s.process(out);
    std::size_t best_lag = 0;
    double best = 0.0;
    for (std::size_t lag = 0; lag < 1000; ++lag) {
      double c = 0.0;
      for (std::size_t i = 0; i + lag < out.size(); ++i) c += static_cast<double>(in[i]) * out[i + lag];
      if (c > best) {
        best = c;
        best_lag = lag;
      }
    }
    std::printf("[ figure ] saturator at %.1f kHz: click out after %zu frames, latency() %zu, height %.6f\n",
                fs / 1000.0, best_lag, s.latency(), static_cast<double>(out[300 + best_lag]) / 0.001);
    EXPECT_EQ(best_lag, s.latency());
    EXPECT_NEAR(out[300 + best_lag] / 0.001f, 0.95f, 0.02f);
  }
}

// A tanh makes odd harmonics; with bias, even ones too; the DC the bias makes is removed.
TEST(Saturator, HarmonicsOfTheCurve) {
  const double fs = 48000.0;
  for (const float bias : {0.0f, 0.3f}) {
    std::size_t bin = 0;
    const SaturationParams p{.drive_db = 12.0f, .bias = bias};
    const std::vector<double> spec = saturated_spectrum(1000.0, fs, p, &bin);
    const double h1 = spec[bin], h2 = spec[2 * bin] - h1, h3 = spec[3 * bin] - h1;
    // DC over the analysis window (whole cycles of the bin-exact tone).
    Saturator s;
    s.prepare({.sample_rate = fs, .max_block = 1024, .channels = 1}, p);
    std::vector<float> x = test::sine(bin_hz(bin, fs), kMinus6Dbfs, kSettle + kFftSize, fs);
    s.process(x);
    double dc = 0.0;
    for (const float v : std::span<const float>(x).last(kFftSize)) dc += v;
    dc /= kFftSize;
    // The same through the bare curve: the DC the bias makes, before the blocker.
    double bare_dc = 0.0;
    for (const float v : test::sine(bin_hz(bin, fs), kMinus6Dbfs, kFftSize, fs))
      bare_dc += Saturator::transfer(v, p);
    bare_dc /= kFftSize;
    std::printf(
        "[ figure ] saturator 1 kHz -6 dBFS drive 12 dB bias %.1f: fundamental %.1f dBFS, H2 %.1f dBc, H3 "
        "%.1f dBc, "
        "DC %.1f dBFS (curve alone %.1f dBFS)\n",
        bias, h1, h2, h3, db(std::abs(dc)), db(std::abs(bare_dc)));
    EXPECT_GT(h3, -40.0);
    if (bias > 0.0f)
      EXPECT_GT(h2, -40.0);
    else
      EXPECT_LT(h2, -100.0);
    EXPECT_LT(db(std::abs(dc)), -80.0);
  }
}

// With compensate, a drive change glides without moving a low-level signal's level, and
// the glide itself (a fresh target every block) stays within 0.1 dB.
TEST(Saturator, DriveGlideKeepsLowLevelAtUnity) {
  Saturator s;
  s.prepare({.sample_rate = 48000.0, .max_block = 128, .channels = 1}, {.drive_db = 0.0f});
  const std::size_t lat = s.latency();
  const std::vector<float> in = test::sine(1000.0, 0.001, 24000);
  std::vector<float> out = in;
  for (std::size_t at = 0; at < in.size(); at += 128) {
    if (at == 4096) s.set_params({.drive_db = 24.0f, .bias = 0.3f});
    if (at == 12288) s.set_params({.drive_db = 3.0f, .compensate = false});
    s.process(std::span<float>(out).subspan(at, std::min<std::size_t>(128, in.size() - at)));
  }
  double err = 0.0;
  for (std::size_t i = 2048; i < 12288; ++i)
    err = std::max(err, std::abs(static_cast<double>(out[i]) - in[i - lat]));
  std::printf("[ figure ] saturator drive glide 0 -> 24 dB at -60 dBFS: worst error %.1f dB re signal\n",
              db(err / 0.001));
  EXPECT_LT(err, 0.001 * 0.0116);
  // Without compensation the output is the curve's own gain (3 dB) once the glide is over.
  const std::size_t n = test::whole_cycles(1000.0, 4800);
  const double gain_db =
      db(test::rms(std::span<const float>(out).last(n)) / test::rms(std::span<const float>(in).last(n)));
  EXPECT_NEAR(gain_db, 3.0, 0.05);
}

TEST(Saturator, ProcessDoesNotAllocate) {
  Saturator s;
  s.prepare({.sample_rate = 48000.0, .max_block = 64, .channels = 2}, {});
  std::vector<float> l = test::sine(997.0, 0.5, 4800), r = test::sine(150.0, 0.5, 4800);
  const auto before = tl::test::realtime_allocations();
  const auto total_before = tl::test::total_allocations();
  for (std::size_t at = 0; at < l.size(); at += 480) {
    tl::rt::RealtimeScope rt;
    const bool odd = at / 480 % 2 == 1;
    s.set_params({.drive_db = odd ? 18.0f : 3.0f,
                  .mix = odd ? 0.5f : 1.0f,
                  .bias = odd ? 0.2f : 0.0f,
                  .compensate = !odd});               // every glide running
    s.process(std::span<float>(l).subspan(at, 240));  // longer than max_block: chunks
    s.process(std::span<float>(l).subspan(at + 240, 240), std::span<float>(r).subspan(at + 240, 240));
  }
  EXPECT_EQ(tl::test::realtime_allocations(), before);
  EXPECT_EQ(tl::test::total_allocations(), total_before);
}

// Not a timed assertion: the figure for offline mastering (stereo 48 kHz, 512-frame blocks).
TEST(Saturator, SpeedFigure) {
  Saturator s;
  s.prepare({.sample_rate = 48000.0, .max_block = 512, .channels = 2}, {.drive_db = 12.0f, .bias = 0.1f});
  std::vector<float> l = test::sine(440.0, 0.5, 48000), r = test::sine(3000.0, 0.5, 48000);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < l.size(); at += 512) {
    const std::size_t n = std::min<std::size_t>(512, l.size() - at);
    s.process(std::span<float>(l).subspan(at, n), std::span<float>(r).subspan(at, n));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ figure ] saturator stereo 48 kHz, %dx: %.0fx real time on one core\n",
              Saturator::kOversampling, 1.0 / secs);
  EXPECT_TRUE(std::isfinite(l.back()));
}

}  // namespace
}  // namespace tl::dsp
