// Dynamics against theory: static curves (steady sine, after settling) within 0.1 dB of the
// formula, and attack/release behaving like the stated time constants.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "dsp_test_util.h"
#include "tl/dsp/dynamics.h"
#include "tl/dsp/fast_math.h"
#include "tl/dsp/smoother.h"

namespace tl::dsp {
namespace {

using test::db;
using test::kFs;

TEST(FastMath, LogExpAccuracy) {
  for (double x = 1e-12; x < 1e4; x *= 1.37) {
    EXPECT_NEAR(fast::amp_to_db(x), 20.0 * std::log10(x), 1e-6) << x;
    EXPECT_NEAR(fast::pow_to_db(x), 10.0 * std::log10(x), 1e-6) << x;
  }
  for (double d = -200.0; d < 40.0; d += 0.173)
    EXPECT_NEAR(fast::db_to_amp(d) / std::pow(10.0, d / 20.0), 1.0, 1e-7);
}

TEST(FastMath, BranchFreeLogExpHoldAtTheirSeams) {
  // log2 re-centres the mantissa at sqrt(2) by integer arithmetic and exp2 rounds with a
  // magic constant: check densely around those seams (powers of two, sqrt(2) times them,
  // half-integer exponents) and at the clamps.
  for (int k = -60; k <= 20; ++k) {
    for (const double base : {1.0, std::sqrt(2.0)}) {
      const double c = std::ldexp(base, k);
      for (const double r : {1.0 - 1e-12, 1.0 - 1e-6, 1.0, 1.0 + 1e-12, 1.0 + 1e-6}) {
        const double x = c * r;
        ASSERT_NEAR(fast::log2(x), std::log2(x), 2e-8) << x;
      }
    }
  }
  EXPECT_EQ(fast::log2(1.0), 0.0);
  EXPECT_NEAR(fast::log2(0.0), std::log2(1e-30), 1e-7);  // floor, finite
  EXPECT_NEAR(fast::log2(-1.0), std::log2(1e-30), 1e-7);
  for (double x = -30.5; x <= 30.5; x += 0.5) {
    for (const double e : {-1e-9, 0.0, 1e-9}) {
      // Degree-7 series on |f| <= ln2/2: relative remainder (ln2/2)^8 / 8! / e^(-ln2/2) = 7.5e-9.
      ASSERT_NEAR(fast::exp2(x + e) / std::exp2(x + e), 1.0, 8e-9) << x + e;
    }
  }
  EXPECT_EQ(fast::exp2(0.0), 1.0);
  EXPECT_EQ(fast::exp2(-5000.0), std::exp2(-1000.0));
  EXPECT_EQ(fast::exp2(5000.0), std::exp2(1000.0));
}

//! Steady 1 kHz sine of the given peak level; gain (dB) measured over the last 0.1 s after 0.6 s.
template <class Proc>
double steady_gain_db(Proc& proc, double peak_db) {
  const double a = std::pow(10.0, peak_db / 20.0);
  auto in = test::sine(1000.0, a, 33600);
  auto out = in;
  proc.process(std::span<float>(out));
  const std::span<const float> wi(in.data() + 28800, 4800), wo(out.data() + 28800, 4800);
  return db(test::rms(wo) / test::rms(wi));
}

TEST(Compressor, StaticCurveMatchesFormula) {
  double worst = 0.0;
  for (const Detection det : {Detection::peak, Detection::rms}) {
    for (const float knee : {0.0f, 10.0f}) {
      for (const float ratio : {1.0f, 1.5f, 2.0f, 4.0f, 10.0f, 20.0f}) {
        for (double level = -40.0; level <= 0.0; level += 2.5) {
          CompressorParams p{.threshold_db = -20.0f,
                             .ratio = ratio,
                             .knee_db = knee,
                             .attack_ms = 5.0f,
                             .release_ms = 100.0f,
                             .makeup_db = 3.0f,
                             .detection = det};
          Compressor c;
          c.set_params(p);
          c.prepare({.sample_rate = kFs});
          // The detector sees the peak level (peak mode) or the RMS level (sine: peak - 3.01 dB).
          const double det_db = det == Detection::peak ? level : level - 10.0 * std::log10(2.0);
          const double expect = Compressor::static_curve_db(p, det_db) - det_db + p.makeup_db;
          const double got = steady_gain_db(c, level);
          worst = std::max(worst, std::abs(got - expect));
          EXPECT_NEAR(got, expect, 0.1)
              << "det=" << int(det) << " knee=" << knee << " ratio=" << ratio << " level=" << level;
        }
      }
    }
  }
  std::printf(
      "[ figure ] compressor static curve (peak+rms, hard+soft knee, 1:1..20:1) worst error %.4f dB\n",
      worst);
}

TEST(Compressor, GainComputerIsTheStaticCurveAcrossTheKnee) {
  // A DC key holds the peak detector at exactly its level, so the settled gain reduction is
  // the gain computer's value: it must be the formula on both sides of and inside the knee.
  for (const float knee : {0.0f, 6.0f, 12.0f}) {
    for (const float ratio : {1.0f, 3.0f, 20.0f}) {
      const CompressorParams p{.threshold_db = -20.0f, .ratio = ratio, .knee_db = knee, .attack_ms = 0.1f};
      for (double level = -40.0; level <= 0.0; level += 0.25) {
        Compressor c;
        c.set_params(p);
        c.prepare({.sample_rate = kFs});
        const auto a = static_cast<float>(std::pow(10.0, level / 20.0));
        std::vector<float> dc(480, a);
        c.process(std::span<float>(dc));
        const double in_db = 20.0 * std::log10(static_cast<double>(a));
        ASSERT_NEAR(c.gain_reduction_db(), Compressor::static_curve_db(p, in_db) - in_db, 1e-5)
            << "knee " << knee << " ratio " << ratio << " level " << level;
      }
    }
  }
}

TEST(Compressor, BelowTheKneeIsExactlyMakeupGainAfterRelease) {
  // Loud (compressing), then quiet below the knee: once the detector has fallen below the
  // knee the gain is exactly the make-up, sample for sample (the below-knee shortcut).
  const CompressorParams p{.threshold_db = -20.0f,
                           .ratio = 4.0f,
                           .knee_db = 6.0f,
                           .attack_ms = 5.0f,
                           .release_ms = 50.0f,
                           .makeup_db = 4.0f};
  Compressor c;
  c.set_params(p);
  c.prepare({.sample_rate = kFs});
  auto loud = test::sine(1000.0, 0.9, 4800);
  c.process(std::span<float>(loud));
  EXPECT_LT(c.gain_reduction_db(), -5.0);
  const auto quiet = test::sine(700.0, 0.01, 48000);  // -40 dB
  auto out = quiet;
  for (std::size_t i = 0; i < out.size(); i += 48) c.process(std::span<float>(out.data() + i, 48));
  const double makeup = std::pow(10.0, 4.0 / 20.0);
  for (std::size_t i = 24000; i < out.size(); ++i)
    ASSERT_EQ(out[i], static_cast<float>(quiet[i] * makeup)) << i;
  EXPECT_EQ(c.gain_reduction_db(), 0.0f);
}

TEST(Compressor, SoftKneeFormulaIsContinuousAndBounded) {
  const CompressorParams p{.threshold_db = -20.0f, .ratio = 4.0f, .knee_db = 12.0f};
  EXPECT_DOUBLE_EQ(Compressor::static_curve_db(p, -26.0), -26.0);
  EXPECT_NEAR(Compressor::static_curve_db(p, -14.0), -20.0 + 6.0 / 4.0, 1e-12);
  // At the threshold a soft knee of width W reduces by (1/R - 1) W / 8.
  EXPECT_NEAR(Compressor::static_curve_db(p, -20.0), -20.0 + (0.25 - 1.0) * 12.0 / 8.0, 1e-12);
}

TEST(Compressor, AttackAndReleaseTimeConstants) {
  CompressorParams p{
      .threshold_db = -20.0f, .ratio = 4.0f, .knee_db = 0.0f, .attack_ms = 10.0f, .release_ms = 200.0f};
  Compressor c;
  c.set_params(p);
  c.prepare({.sample_rate = kFs});
  auto quiet = test::sine(1000.0, 0.01, 24000);  // -40 dB: no reduction
  c.process(std::span<float>(quiet));
  EXPECT_NEAR(c.gain_reduction_db(), 0.0, 1e-9);
  // Step to 0 dB: final reduction (1/4 - 1) * 20 = -15 dB; 63 % of it after one attack time constant.
  auto loud = test::sine(1000.0, 1.0, 48000);
  int t63 = -1;
  for (std::size_t i = 0; i < loud.size(); ++i) {
    c.process(std::span<float>(&loud[i], 1));
    if (t63 < 0 && c.gain_reduction_db() <= -15.0 * 0.632) t63 = static_cast<int>(i);
  }
  EXPECT_NEAR(c.gain_reduction_db(), -15.0, 0.05);
  EXPECT_NEAR(t63 / 48.0, 10.0, 1.0) << "attack 63% time (ms)";
  std::printf("[ figure ] compressor attack 10 ms: 63%% of reduction after %.2f ms\n", t63 / 48.0);
  // Drop to -40 dB: the peak detector decays 8.69 dB per release time constant, so the
  // reduction halves (level falls 10 dB to -10 dB) after 10/8.69 release time constants.
  int thalf = -1;
  for (std::size_t i = 0; i < quiet.size(); ++i) {
    quiet[i] =
        static_cast<float>(0.01 * std::sin(2.0 * std::numbers::pi * 1000.0 * static_cast<double>(i) / kFs));
    c.process(std::span<float>(&quiet[i], 1));
    if (thalf < 0 && c.gain_reduction_db() >= -7.5) thalf = static_cast<int>(i);
  }
  EXPECT_NEAR(thalf / 48.0, 200.0 * 10.0 / 8.6859, 200.0 * 0.1) << "release half-way time (ms)";
  std::printf("[ figure ] compressor release 200 ms: half recovered after %.1f ms (theory %.1f)\n",
              thalf / 48.0, 200.0 * 10.0 / 8.6859);
  EXPECT_NEAR(c.gain_reduction_db(), 0.0, 1e-9);
}

TEST(Compressor, SidechainHighPassIgnoresLowEnd) {
  CompressorParams p{.threshold_db = -20.0f, .ratio = 8.0f, .knee_db = 0.0f};
  Compressor plain, sc;
  plain.set_params(p);
  plain.prepare({.sample_rate = kFs});
  p.sidechain_hpf_hz = 300.0f;
  sc.set_params(p);
  sc.prepare({.sample_rate = kFs});
  EXPECT_LT(steady_gain_db(plain, -6.0), -10.0);
  // 30 Hz through a 300 Hz 12 dB/oct HPF is ~-40 dB: the key stays under the threshold.
  auto in = test::sine(30.0, 0.5, 48000);
  auto out = in;
  sc.process(std::span<float>(out));
  EXPECT_NEAR(sc.gain_reduction_db(), 0.0, 1e-6);
}

TEST(Compressor, StereoLinkedUsesLouderChannelAndOneGain) {
  const CompressorParams p{.threshold_db = -20.0f, .ratio = 4.0f, .knee_db = 0.0f};
  Compressor c;
  c.set_params(p);
  c.prepare({.sample_rate = kFs});
  auto l = test::sine(1000.0, 1.0, 33600);   // 0 dB: drives the detector
  auto r = test::sine(1000.0, 0.01, 33600);  // -40 dB: alone it would not compress
  auto lo = l, ro = r;
  c.process(std::span<float>(lo), std::span<float>(ro));
  const std::span<const float> wl(l.data() + 28800, 4800), wr(r.data() + 28800, 4800);
  const std::span<const float> wlo(lo.data() + 28800, 4800), wro(ro.data() + 28800, 4800);
  const double gl = db(test::rms(wlo) / test::rms(wl)), gr = db(test::rms(wro) / test::rms(wr));
  EXPECT_NEAR(gl, -15.0, 0.1);
  EXPECT_NEAR(gr, gl, 1e-3);  // the same gain on both channels keeps the image
}

TEST(Gate, ExpanderAndGateStaticCurves) {
  for (const float ratio : {2.0f, 4.0f, 100.0f}) {
    for (const double level : {-10.0, -25.0, -32.0, -38.0, -45.0, -60.0}) {
      const GateParams p{.threshold_db = -30.0f,
                         .range_db = -40.0f,
                         .ratio = ratio,
                         .attack_ms = 1.0f,
                         .hold_ms = 20.0f,
                         .release_ms = 50.0f};
      Gate g;
      g.set_params(p);
      g.prepare({.sample_rate = kFs});
      EXPECT_NEAR(steady_gain_db(g, level), Gate::static_gain_db(p, level), 0.1)
          << "ratio=" << ratio << " level=" << level;
    }
  }
}

TEST(Gate, OpensFastHoldsThenCloses) {
  const GateParams p{
      .threshold_db = -40.0f, .range_db = -60.0f, .attack_ms = 0.5f, .hold_ms = 50.0f, .release_ms = 100.0f};
  Gate g;
  g.set_params(p);
  g.prepare({.sample_rate = kFs});
  EXPECT_NEAR(g.gain_db(), -60.0, 1e-9);  // starts closed
  auto tone = test::sine(1000.0, 0.5, 4800);
  g.process(std::span<float>(tone));
  EXPECT_GT(g.gain_db(), -0.01);  // open within 100 ms (0.5 ms attack)
  // Silence: stays open for the hold time, then closes with the release time constant
  // (plus the detector's 5 ms decay from -6 dB to the -40 dB threshold, ~20 ms).
  std::vector<float> silence(48000, 0.0f);
  int t_close63 = -1;
  for (std::size_t i = 0; i < silence.size(); ++i) {
    g.process(std::span<float>(&silence[i], 1));
    if (i == 48 * 48) {
      EXPECT_GT(g.gain_db(), -0.01) << "still open inside the hold time";
    }
    if (t_close63 < 0 && g.gain_db() <= -60.0 * 0.632) t_close63 = static_cast<int>(i);
  }
  const double ms = t_close63 / 48.0;
  EXPECT_GT(ms, 50.0 + 100.0 * 0.85);
  EXPECT_LT(ms, 50.0 + 25.0 + 100.0 * 1.15);
  EXPECT_NEAR(g.gain_db(), -60.0, 0.1);
}

TEST(Gate, BlocksFollowThePerSampleDetector) {
  // The gate as documented, sample by sample: peak held for max(hold, 10 ms) then decaying
  // over 5 ms, gain smoothed in dB (attack opening, release closing). An open, settled gate
  // skips the per-sample work; its output and state must not change.
  const GateParams p{
      .threshold_db = -40.0f, .range_db = -50.0f, .attack_ms = 0.5f, .hold_ms = 20.0f, .release_ms = 60.0f};
  const double thr = std::pow(10.0, p.threshold_db / 20.0);
  const double att = 1.0 - std::exp(-1.0 / (kFs * p.attack_ms / 1000.0));
  const double rel = 1.0 - std::exp(-1.0 / (kFs * p.release_ms / 1000.0));
  const double decay = std::exp(-1.0 / (kFs * 5.0 / 1000.0));
  const std::int64_t hold = std::llround(kFs * 20.0 / 1000.0);
  double peak = 0.0, g = p.range_db;
  std::int64_t held = 0;
  // A tone whose level steps between loud, just above and below the threshold, and silence.
  std::vector<float> in = test::sine(330.0, 1.0, 48000);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double levels[] = {0.3, 0.0125, 0.004, 0.0, 0.05, 0.011};
    in[i] = static_cast<float>(in[i] * levels[(i / 4000) % 6]);
  }
  std::vector<float> ref(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double a = std::abs(static_cast<double>(in[i]));
    if (a >= peak) {
      peak = a;
      held = hold;
    } else if (held > 0) {
      --held;
    } else {
      peak *= decay;
    }
    const double target = peak < thr ? static_cast<double>(p.range_db) : 0.0;
    if (g != target) {
      g += (target > g ? att : rel) * (target - g);
      if (std::abs(g - target) < 1e-4) g = target;
    }
    ref[i] = static_cast<float>(in[i] * std::pow(10.0, g / 20.0));
  }
  for (const std::size_t block : {1u, 48u, 256u}) {
    Gate gate;
    gate.set_params(p);
    gate.prepare({.sample_rate = kFs});
    std::vector<float> out = in;
    for (std::size_t i = 0; i < out.size(); i += block)
      gate.process(std::span<float>(out.data() + i, std::min(block, out.size() - i)));
    for (std::size_t i = 0; i < out.size(); ++i)
      ASSERT_NEAR(out[i], ref[i], 1e-6 * std::abs(in[i]) + 1e-12) << "block " << block << " i " << i;
    EXPECT_NEAR(gate.gain_db(), g, 1e-9) << "block " << block;
  }
}

TEST(Smoother, LinearRampStepHasNoJumpAboveBound) {
  LinearSmoother s;
  s.prepare(kFs, 20.0, 1.0f);
  s.set_target(0.0f);  // a full-scale gain step
  // Bound: the step spread over 20 ms = 960 samples, so <= 1/960 per sample.
  auto tone = test::sine(997.0, 1.0, 4800);
  std::vector<float> g(4800);
  for (auto& v : g) v = s.next();
  for (std::size_t i = 1; i < g.size(); ++i) EXPECT_LE(std::abs(g[i] - g[i - 1]), 1.0 / 960 + 1e-6);
  EXPECT_EQ(g.back(), 0.0f);
  EXPECT_TRUE(s.settled());
  // Applied to audio: output jumps stay within the signal's own slope plus the ramp step.
  LinearSmoother s2;
  s2.prepare(kFs, 20.0, 0.0f);
  s2.set_target(1.0f);
  auto out = tone;
  s2.apply(std::span<float>(out));
  const double max_signal_step = 2.0 * std::numbers::pi * 997.0 / kFs;
  for (std::size_t i = 1; i < out.size(); ++i)
    EXPECT_LE(std::abs(out[i] - out[i - 1]), max_signal_step + 1.0 / 960 + 1e-6);
}

TEST(Smoother, OnePoleReachesTargetInStatedTime) {
  OnePoleSmoother s;
  s.prepare(kFs, 10.0, 0.0);
  s.set_target(1.0);
  s.advance(479);
  EXPECT_LT(s.current(), 0.999);
  s.advance(2);
  EXPECT_GT(s.current(), 0.999);
}

}  // namespace
}  // namespace tl::dsp
