// True-peak metering and the look-ahead limiter: output true peak never above the ceiling.
#include <ebur128.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include "dsp_test_util.h"
#include "tl/dsp/limiter.h"
#include "tl/dsp/true_peak.h"

namespace tl::dsp {
namespace {

using test::db;
using test::kFs;

double true_peak_db(std::span<const float> v) {
  TruePeakMeter m;
  m.process(v);
  m.flush();
  return m.peak_dbtp();
}

double ebur128_true_peak_db(std::span<const float> v) {
  ebur128_state* st = ebur128_init(1, 48000, EBUR128_MODE_TRUE_PEAK);
  ebur128_add_frames_float(st, v.data(), v.size());
  double tp = 0.0;
  ebur128_true_peak(st, 0, &tp);
  ebur128_destroy(&st);
  return db(tp);
}

//! Raised-cosine fades over 10 ms at both ends: an abrupt start or stop is a step, whose
//! true peak overshoots.
std::vector<float> faded(std::vector<float> v) {
  for (std::size_t i = 0; i < 480 && i < v.size(); ++i) {
    const auto w =
        static_cast<float>(0.5 - 0.5 * std::cos(std::numbers::pi * static_cast<double>(i) / 480.0));
    v[i] *= w;
    v[v.size() - 1 - i] *= w;
  }
  return v;
}

//! fs/4 sine at 45 degrees: every sample is +-A/sqrt2, the true peak is A (+3.01 dB above sample peak).
std::vector<float> isp_tone(double amplitude, std::size_t n) {
  return test::sine(kFs / 4.0, amplitude, n, kFs, std::numbers::pi / 4.0);
}

TEST(TruePeak, InterSamplePeakToneReadsThreeDbAboveSamplePeak) {
  const auto v = faded(isp_tone(1.0, 4800));
  float sp = 0.0f;
  for (const float x : v) sp = std::max(sp, std::fabs(x));
  EXPECT_NEAR(db(sp), -3.0103, 0.001);
  EXPECT_NEAR(true_peak_db(v), 0.0, 0.05);
  EXPECT_NEAR(ebur128_true_peak_db(v), 0.0, 0.05);  // same reading as libebur128
}

TEST(TruePeak, SinesReadTheirAmplitudeAtAnyPhase) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> ph(0.0, 2.0 * std::numbers::pi);
  for (const double f : test::log_freqs(20, 50.0, 16000.0)) {
    const auto v = faded(test::sine(f, 0.5, 9600, kFs, ph(rng)));
    EXPECT_NEAR(true_peak_db(v), db(0.5), 0.1) << "f=" << f;
  }
}

TEST(TruePeak, PhaseZeroIsTheInputSample) {
  Oversampler4x os;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> x(200);
  for (auto& v : x) v = d(rng);
  for (std::size_t i = 0; i < x.size(); ++i) {
    os.push(x[i]);
    if (i >= Oversampler4x::kDelay) {
      EXPECT_EQ(os.phases()[0], x[i - Oversampler4x::kDelay]);
    }
  }
}

//! Square wave (band-unlimited: Gibbs overshoot between samples).
std::vector<float> square(double f, double amplitude, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] =
        static_cast<float>(std::fmod(static_cast<double>(i) * f / kFs, 1.0) < 0.5 ? amplitude : -amplitude);
  return v;
}

//! Synthetic drum loop driven +12 dB into a hard clip at full scale.
std::vector<float> clipped_drums(std::size_t n) {
  std::vector<float> v(n, 0.0f);
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  const std::size_t beat = 12000;  // 240 BPM eighths at 48 kHz
  for (std::size_t start = 0; start < n; start += beat) {
    const bool kick = (start / beat) % 2 == 0;
    for (std::size_t i = 0; i < beat && start + i < n; ++i) {
      const double t = static_cast<double>(i) / kFs;
      double s = kick ? std::sin(2.0 * std::numbers::pi * (50.0 + 100.0 * std::exp(-t * 30.0)) * t) *
                            std::exp(-t * 8.0)
                      : noise(rng) * 0.5 * std::exp(-t * 25.0);
      s *= 4.0;  // +12 dB
      v[start + i] = static_cast<float>(std::clamp(s, -1.0, 1.0));
    }
  }
  return v;
}

//! Limits v (followed by silence long enough to flush the limiter) and returns the output true peak.
double limit_and_measure(std::vector<float> v, float ceiling, double* ebur_db = nullptr) {
  TruePeakLimiter lim;
  lim.prepare({.sample_rate = kFs, .channels = 1},
              {.ceiling_dbtp = ceiling, .lookahead_ms = 1.5f, .release_ms = 80.0f});
  v.resize(v.size() + 480, 0.0f);
  for (std::size_t i = 0; i < v.size(); i += 48)
    lim.process(std::span<float>(v.data() + i, std::min<std::size_t>(48, v.size() - i)));
  if (ebur_db) *ebur_db = ebur128_true_peak_db(v);
  return true_peak_db(v);
}

TEST(Limiter, OutputTruePeakNeverAboveCeiling) {
  struct Case {
    const char* name;
    std::vector<float> signal;
  };
  const std::vector<Case> cases = {
      {"square 1 kHz full scale", square(1000.0, 1.0, 48000)},
      {"square 60 Hz full scale", square(60.0, 1.0, 48000)},
      {"square 5 kHz full scale", square(5000.0, 1.0, 48000)},
      {"clipped drums", clipped_drums(96000)},
      {"ISP tone +3 dBTP", isp_tone(std::sqrt(2.0), 48000)},
      // A full-scale 100 Hz tone 24 dB hot (a fader pushed all the way, before any clip):
      // 24 dB of reduction whose release must not ripple at the tone's rate.
      {"100 Hz tone +23 dBFS", test::sine(100.0, 14.1, 48000, kFs, 0.0)},
  };
  for (const float ceiling : {-1.0f, -0.1f, -6.0f}) {
    for (const auto& c : cases) {
      EXPECT_GT(true_peak_db(c.signal), ceiling + 0.5) << c.name;  // the limiter has work to do
      double ebur = 0.0;
      const double out = limit_and_measure(c.signal, ceiling, &ebur);
      EXPECT_LE(out, ceiling + 1e-4) << c.name << " ceiling " << ceiling;
      std::printf(
          "[ figure ] limiter ceiling %5.1f dBTP  %-26s in %+6.2f dBTP -> out %+7.3f dBTP (libebur128 "
          "%+7.3f)\n",
          ceiling, c.name, true_peak_db(c.signal), out, ebur);
      EXPECT_LE(ebur, ceiling + 0.05) << c.name << " (libebur128 reading)";
      EXPECT_GT(out, ceiling - 1.0) << c.name << " should not over-limit";
    }
  }
}

TEST(Limiter, QuietSignalPassesUnchangedAfterLatency) {
  TruePeakLimiter lim;
  lim.prepare({.sample_rate = kFs, .channels = 2}, {.ceiling_dbtp = -1.0f, .lookahead_ms = 1.5f});
  EXPECT_EQ(lim.latency(), 72u + Oversampler4x::kDelay - 1);
  auto l = test::sine(440.0, 0.5, 4800), r = test::sine(3000.0, 0.25, 4800);
  auto lo = l, ro = r;
  lim.process(std::span<float>(lo), std::span<float>(ro));
  const std::size_t lat = lim.latency();
  for (std::size_t i = 0; i < lat; ++i) EXPECT_EQ(lo[i], 0.0f);
  for (std::size_t i = lat; i < l.size(); ++i) {
    ASSERT_EQ(lo[i], l[i - lat]) << i;
    ASSERT_EQ(ro[i], r[i - lat]) << i;
  }
}

TEST(Limiter, BlocksThatCannotReachTheCeilingTakeAShortcutWithTheSameOutput) {
  // Quiet passages skip the interpolation (a bound on the interpolator's gain says they
  // cannot reach the ceiling); loud ones do not. Cut into blocks of 1, 7 and 48 frames the
  // shortcut is taken at different places, so the outputs only agree if it changes nothing.
  std::vector<float> l, r;
  for (int section = 0; section < 6; ++section) {
    const double amp = section % 2 == 0 ? 0.2 : 1.6;  // quiet, then 4 dB over full scale
    const auto a = test::sine(997.0 + 100.0 * section, amp, 4800), b = test::sine(211.0, amp * 0.7, 4800);
    l.insert(l.end(), a.begin(), a.end());
    r.insert(r.end(), b.begin(), b.end());
  }
  l.resize(l.size() + 4800, 0.0f);  // the last of it out of the look-ahead
  r.resize(r.size() + 4800, 0.0f);
  const auto run = [&](std::size_t block) {
    TruePeakLimiter lim;
    lim.prepare({.sample_rate = kFs, .channels = 2},
                {.ceiling_dbtp = -1.0f, .lookahead_ms = 1.5f, .release_ms = 30.0f});
    auto lo = l, ro = r;
    for (std::size_t i = 0; i < lo.size(); i += block) {
      const std::size_t n = std::min(block, lo.size() - i);
      lim.process(std::span<float>(lo.data() + i, n), std::span<float>(ro.data() + i, n));
    }
    return std::pair{lo, ro};
  };
  const auto one = run(1), seven = run(7), block = run(48);
  EXPECT_EQ(one.first, seven.first);
  EXPECT_EQ(one.second, seven.second);
  EXPECT_EQ(one.first, block.first);
  EXPECT_EQ(one.second, block.second);
  EXPECT_LE(std::max(true_peak_db(block.first), true_peak_db(block.second)), -1.0 + 1e-4);
}

TEST(Limiter, RecoversAfterRelease) {
  TruePeakLimiter lim;
  lim.prepare({.sample_rate = kFs, .channels = 1},
              {.ceiling_dbtp = -1.0f, .lookahead_ms = 1.5f, .release_ms = 50.0f});
  auto loud = square(1000.0, 1.0, 9600);
  lim.process(std::span<float>(loud));
  EXPECT_LT(lim.gain_reduction_db(), -1.0);
  auto quiet = test::sine(1000.0, 0.1, 48000);
  lim.process(std::span<float>(quiet));
  EXPECT_GT(lim.gain_reduction_db(), -0.01);  // 20 release time constants later
}

}  // namespace
}  // namespace tl::dsp
