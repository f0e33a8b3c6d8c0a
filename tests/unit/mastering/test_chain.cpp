// The tone stages before a master's gain: EQ, multiband compression, width.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "mastering_test_util.h"
#include "tl/mastering/chain.h"

namespace tl::mastering {
namespace {

using test::kRate;
using test::run_chain;
using test::stereo;

// RMS of one channel over the second half (filters settled), in dB.
double level_db(const std::vector<float>& audio, int channel) {
  const std::size_t frames = audio.size() / 2;
  double sum = 0.0;
  for (std::size_t i = frames / 2; i < frames; ++i) {
    const double v = audio[2 * i + static_cast<std::size_t>(channel)];
    sum += v * v;
  }
  return 10.0 * std::log10(sum / static_cast<double>(frames - frames / 2));
}

double sine_1k(double t) {
  return 0.25 * std::sin(2 * std::numbers::pi * 1000.0 * t);
}
double sine_100(double t) {
  return 0.25 * std::sin(2 * std::numbers::pi * 100.0 * t);
}
double sine_5k(double t) {
  return 0.2 * std::sin(2 * std::numbers::pi * 5000.0 * t + 1.0);
}

TEST(Chain, NothingSetIsAnExactPassThrough) {
  ChainSettings none;
  ASSERT_TRUE(none.empty());
  EXPECT_EQ(none.describe(), "none");
  Chain chain;
  chain.prepare(kRate, 2, 1024, none);
  auto audio = stereo(0.5, sine_1k, sine_5k);
  const auto before = audio;
  run_chain(chain, audio);
  EXPECT_EQ(audio, before);
}

TEST(Chain, AnEqBandMovesItsOwnFrequenciesAndNotOthers) {
  auto band = parse_eq_band("peak:1k:+6:2");
  ASSERT_TRUE(band) << band.error();
  ChainSettings s;
  s.eq = {*band};
  ASSERT_TRUE(check(s, kRate));
  Chain chain;
  chain.prepare(kRate, 2, 1024, s);
  // Left: the band's centre; right: three octaves under it.
  auto audio = stereo(2.0, sine_1k, sine_100);
  const double l0 = level_db(audio, 0), r0 = level_db(audio, 1);
  run_chain(chain, audio);
  EXPECT_NEAR(level_db(audio, 0) - l0, 6.0, 0.05);
  EXPECT_NEAR(level_db(audio, 1) - r0, 0.0, 0.1);
}

TEST(Chain, ALinearPhaseEqShapesAsItsBandsDoAndOnlyDelays) {
  ChainSettings s;
  s.eq = {*parse_eq_band("low-shelf:120:+4"), *parse_eq_band("peak:1k:+6:2")};
  s.eq_linear = true;
  ASSERT_TRUE(check(s, kRate));
  EXPECT_NE(s.describe().find("eq (linear phase) low-shelf"), std::string::npos) << s.describe();
  Chain linear, minimum;
  linear.prepare(kRate, 2, 1024, s);
  ChainSettings m = s;
  m.eq_linear = false;
  minimum.prepare(kRate, 2, 1024, m);
  EXPECT_GT(linear.latency(), 4000u);  // half the FIR and a block of the convolution
  EXPECT_EQ(minimum.latency(), 0u);
  // The same gain on each tone as the bands give (levels over the settled second half).
  auto a = stereo(2.0, sine_1k, sine_100), b = a;
  run_chain(linear, a);
  run_chain(minimum, b);
  EXPECT_NEAR(level_db(a, 0), level_db(b, 0), 0.05);
  EXPECT_NEAR(level_db(a, 1), level_db(b, 1), 0.05);
  // An impulse comes out at latency(), its ringing the same before as after (the phase is
  // a pure delay); through the minimum-phase bands it does not.
  const std::size_t n = 4 * linear.latency();
  std::vector<float> imp(2 * n, 0.0f);
  imp[0] = imp[1] = 0.5f;
  linear.prepare(kRate, 2, 1024, s);
  run_chain(linear, imp);
  const std::size_t centre = linear.latency();
  std::size_t peak = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::fabs(imp[2 * i]) > std::fabs(imp[2 * peak])) peak = i;
  }
  EXPECT_EQ(peak, centre);
  double asymmetry = 0.0;
  for (std::size_t k = 1; k < 2000; ++k) {
    asymmetry =
        std::max(asymmetry, static_cast<double>(std::fabs(imp[2 * (centre - k)] - imp[2 * (centre + k)])));
  }
  EXPECT_LT(asymmetry, 1e-6);
}

TEST(Chain, WidthScalesTheSideAndLeavesTheMid) {
  for (const double width : {0.0, 0.5, 1.6}) {
    SCOPED_TRACE(width);
    ChainSettings s;
    s.width = width;
    ASSERT_TRUE(check(s, kRate));
    Chain chain;
    chain.prepare(kRate, 2, 1024, s);
    auto audio = stereo(0.5, sine_1k, sine_5k);
    const auto before = audio;
    run_chain(chain, audio);
    double side_ratio_max = 0.0, mid_err = 0.0;
    for (std::size_t i = 0; i < audio.size(); i += 2) {
      const double mid0 = 0.5 * (before[i] + before[i + 1]), side0 = 0.5 * (before[i] - before[i + 1]);
      const double mid = 0.5 * (audio[i] + audio[i + 1]), side = 0.5 * (audio[i] - audio[i + 1]);
      mid_err = std::max(mid_err, std::fabs(mid - mid0));
      if (std::fabs(side0) > 0.05) side_ratio_max = std::max(side_ratio_max, std::fabs(side / side0 - width));
    }
    EXPECT_LT(mid_err, 1e-6);
    EXPECT_LT(side_ratio_max, 1e-4);
  }
}

TEST(Chain, MultibandFromOptionsCompressesTheLoudBandOnly) {
  // A loud 100 Hz tone and a quiet 5 kHz one, three bands at the default splits,
  // a threshold between their levels: the low band comes down, the top band does not.
  auto mb = parse_multiband("-24:4");
  ASSERT_TRUE(mb) << mb.error();
  EXPECT_EQ(mb->bands, 3u);
  EXPECT_FLOAT_EQ(mb->split_hz[0], 120.0f);
  EXPECT_FLOAT_EQ(mb->split_hz[1], 2000.0f);
  EXPECT_GT(mb->band[0].release_ms, mb->band[2].release_ms) << "a low band releases slower";
  ChainSettings s;
  s.multiband = *mb;
  ASSERT_TRUE(check(s, kRate));
  Chain chain;
  chain.prepare(kRate, 2, 1024, s);
  auto audio = stereo(
      2.0, [](double t) { return 0.5 * std::sin(2 * std::numbers::pi * 60.0 * t); },
      [](double t) { return 0.02 * std::sin(2 * std::numbers::pi * 5000.0 * t); });
  const double l0 = level_db(audio, 0), r0 = level_db(audio, 1);
  run_chain(chain, audio);
  EXPECT_LT(level_db(audio, 0) - l0, -6.0) << "the loud low band is compressed";
  EXPECT_NEAR(level_db(audio, 1) - r0, 0.0, 0.1) << "the quiet top band is not";
}

TEST(Chain, SaturationAddsHarmonicsLastAndSaysItsDelay) {
  auto sat = parse_saturation("12:1:0.2");
  ASSERT_TRUE(sat) << sat.error();
  ChainSettings s;
  s.saturation = *sat;
  ASSERT_TRUE(check(s, kRate));
  EXPECT_NE(s.describe().find("saturation 12.0 dB drive, mix 1.00, bias 0.20"), std::string::npos)
      << s.describe();
  Chain chain;
  chain.prepare(kRate, 2, 1024, s);
  EXPECT_GT(chain.latency(), 0u) << "its oversampling filters are linear phase";
  Chain plain;
  plain.prepare(kRate, 2, 1024, ChainSettings{});
  EXPECT_EQ(plain.latency(), 0u);
  // A loud 1 kHz tone: the 2nd (bias) and 3rd harmonics appear, measured by correlation
  // over the settled second half.
  auto audio = stereo(
      1.0, [](double t) { return 0.5 * std::sin(2 * std::numbers::pi * 1000.0 * t); },
      [](double t) { return 0.5 * std::sin(2 * std::numbers::pi * 1000.0 * t); });
  run_chain(chain, audio);
  const auto harmonic_db = [&](double hz) {
    const std::size_t frames = audio.size() / 2;
    double re = 0.0, im = 0.0, fund = 0.0, fim = 0.0;
    for (std::size_t i = frames / 2; i < frames; ++i) {
      const double t = static_cast<double>(i) / kRate, v = audio[2 * i];
      re += v * std::cos(2 * std::numbers::pi * hz * t);
      im += v * std::sin(2 * std::numbers::pi * hz * t);
      fund += v * std::cos(2 * std::numbers::pi * 1000.0 * t);
      fim += v * std::sin(2 * std::numbers::pi * 1000.0 * t);
    }
    return 10.0 * std::log10((re * re + im * im) / (fund * fund + fim * fim));
  };
  EXPECT_GT(harmonic_db(3000.0), -40.0) << "odd harmonics from the curve";
  EXPECT_GT(harmonic_db(2000.0), -40.0) << "even harmonics from the bias";
}

TEST(ChainOptions, BadValuesAreRefusedWithTheReason) {
  const auto refused = [](const auto& r, const std::string& word) {
    if (r) return ::testing::AssertionFailure() << "accepted";
    if (r.error().find(word) == std::string::npos) return ::testing::AssertionFailure() << r.error();
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(refused(parse_eq_band("peak:1k"), "three or four fields"));
  EXPECT_TRUE(refused(parse_eq_band("notch:1k:3"), "low-shelf, peak or high-shelf"));
  EXPECT_TRUE(refused(parse_eq_band("peak:loud:3"), "not a frequency"));
  EXPECT_TRUE(refused(parse_eq_band("peak:1k:3dB"), "not a gain"));
  EXPECT_TRUE(refused(parse_multiband("x"), "not a threshold"));
  EXPECT_TRUE(refused(parse_multiband("-20:2:100,200,400,800"), "at most three splits"));
  auto ok = parse_eq_band("high-shelf:12.5k:-2:0.8");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->type, dsp::BandType::high_shelf);
  EXPECT_FLOAT_EQ(ok->freq_hz, 12500.0f);
  EXPECT_FLOAT_EQ(ok->gain_db, -2.0f);

  ChainSettings s;
  s.eq = {*ok};
  EXPECT_TRUE(check(s, 48000.0));
  EXPECT_TRUE(refused(check(s, 22050.0), "frequency must be between"));
  s.eq[0].q = 40.0f;
  EXPECT_TRUE(refused(check(s, 48000.0), "Q must be"));
  ChainSettings m;
  m.multiband = *parse_multiband("-20:2:2000,1500");
  EXPECT_TRUE(refused(check(m, 48000.0), "octave"));
  m.multiband = *parse_multiband("-80");
  EXPECT_TRUE(refused(check(m, 48000.0), "threshold"));
  ChainSettings w;
  w.width = 2.5;
  EXPECT_TRUE(refused(check(w, 48000.0), "width"));
  EXPECT_TRUE(refused(parse_saturation("hot"), "not a drive"));
  EXPECT_TRUE(refused(parse_saturation("6:half"), "not a mix"));
  ChainSettings t;
  t.saturation = *parse_saturation("30");
  EXPECT_TRUE(refused(check(t, 48000.0), "drive must be between 0 and 24"));
  t.saturation = *parse_saturation("6:1:0.5");
  EXPECT_TRUE(refused(check(t, 48000.0), "bias must be between"));
}

}  // namespace
}  // namespace tl::mastering
