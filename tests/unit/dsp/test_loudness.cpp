// BS.1770-4 loudness against libebur128: momentary, short-term and integrated within 0.1 LU.
#include <ebur128.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "dsp_test_util.h"
#include "tl/dsp/loudness.h"

namespace tl::dsp {
namespace {

constexpr double kTolLu = 0.1;

struct Signal {
  const char* name;
  unsigned rate;
  std::vector<std::vector<float>> ch;
};

//! Runs both meters hop by hop (100 ms) and compares momentary/short-term at every hop and
//! integrated at the end; prints the worst differences seen.
void compare(const Signal& s) {
  const std::size_t nch = s.ch.size(), n = s.ch[0].size();
  ebur128_state* st = ebur128_init(static_cast<unsigned>(nch), s.rate, EBUR128_MODE_I | EBUR128_MODE_S);
  ASSERT_NE(st, nullptr);
  LoudnessMeter m;
  m.prepare({.sample_rate = static_cast<double>(s.rate), .channels = nch});
  const std::size_t hop = s.rate / 10;
  std::vector<float> inter(hop * nch);
  double worst_m = 0.0, worst_s = 0.0;
  for (std::size_t pos = 0; pos + hop <= n; pos += hop) {
    for (std::size_t i = 0; i < hop; ++i)
      for (std::size_t c = 0; c < nch; ++c) inter[i * nch + c] = s.ch[c][pos + i];
    ebur128_add_frames_float(st, inter.data(), hop);
    std::vector<std::span<const float>> spans;
    for (std::size_t c = 0; c < nch; ++c) spans.emplace_back(s.ch[c].data() + pos, hop);
    // Feed in uneven pieces to exercise hop bookkeeping.
    const std::size_t cut = hop / 3;
    std::vector<std::span<const float>> a, b;
    for (auto& sp : spans) {
      a.push_back(sp.subspan(0, cut));
      b.push_back(sp.subspan(cut));
    }
    m.process(std::span<const std::span<const float>>(a));
    m.process(std::span<const std::span<const float>>(b));
    double em = 0.0, es = 0.0;
    ebur128_loudness_momentary(st, &em);
    ebur128_loudness_shortterm(st, &es);
    if (std::isfinite(em) && em > -70.0) {
      EXPECT_NEAR(m.momentary_lufs(), em, kTolLu) << s.name << " momentary at " << pos;
      worst_m = std::max(worst_m, std::abs(m.momentary_lufs() - em));
    }
    if (std::isfinite(es) && es > -70.0) {
      EXPECT_NEAR(m.short_term_lufs(), es, kTolLu) << s.name << " short-term at " << pos;
      worst_s = std::max(worst_s, std::abs(m.short_term_lufs() - es));
    }
  }
  double ei = 0.0;
  ebur128_loudness_global(st, &ei);
  const double mi = m.integrated_lufs();
  EXPECT_NEAR(mi, ei, kTolLu) << s.name << " integrated";
  std::printf(
      "[ figure ] %-32s integrated %.3f LUFS (libebur128 %.3f), worst momentary diff %.1e LU, short-term "
      "%.1e LU\n",
      s.name, mi, ei, worst_m, worst_s);
  ebur128_destroy(&st);
}

std::vector<float> noise(std::size_t n, double amplitude, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0.0, amplitude);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(std::clamp(d(rng), -1.0, 1.0));
  return v;
}

TEST(Loudness, KWeightingMatchesBs1770TableAt48k) {
  const auto k = k_weighting(48000.0);
  // ITU-R BS.1770-4 Table 1 and 2 coefficients.
  EXPECT_NEAR(k[0].b0, 1.53512485958697, 1e-10);
  EXPECT_NEAR(k[0].b1, -2.69169618940638, 1e-10);
  EXPECT_NEAR(k[0].b2, 1.19839281085285, 1e-10);
  EXPECT_NEAR(k[0].a1, -1.69065929318241, 1e-10);
  EXPECT_NEAR(k[0].a2, 0.73248077421585, 1e-10);
  EXPECT_NEAR(k[1].a1, -1.99004745483398, 1e-10);
  EXPECT_NEAR(k[1].a2, 0.99007225036621, 1e-10);
}

TEST(Loudness, SineAtMinus20IsMinus23Lufs) {
  // BS.1770: a 997 Hz sine at 0 dBFS in one channel reads -3.01 LKFS (K-weighting ~0 dB there),
  // so -20 dBFS reads -23.0 LUFS.
  LoudnessMeter m;
  m.prepare({.sample_rate = 48000.0, .channels = 1});
  const auto v = test::sine(997.0, 0.1, 48000 * 4);
  m.process(std::span<const float>(v));
  EXPECT_NEAR(m.integrated_lufs(), -23.0, 0.1);
  EXPECT_NEAR(m.momentary_lufs(), -23.0, 0.1);
}

TEST(Loudness, StereoSineMatchesLibebur128) {
  Signal s{"stereo sines 997 Hz / 5 kHz",
           48000,
           {test::sine(997.0, 0.3, 48000 * 6), test::sine(5000.0, 0.1, 48000 * 6)}};
  compare(s);
}

TEST(Loudness, MonoNoiseWithSilenceAndQuietPartsIsGatedLikeLibebur128) {
  // Loud 4 s, silence 3 s (absolute gate), quiet 4 s at -30 dB (relative gate), loud 3 s.
  std::vector<float> v;
  auto append = [&](const std::vector<float>& p) { v.insert(v.end(), p.begin(), p.end()); };
  append(noise(48000 * 4, 0.2, 1));
  append(std::vector<float>(48000 * 3, 0.0f));
  append(noise(48000 * 4, 0.2 * 0.0316, 2));
  append(noise(48000 * 3, 0.25, 3));
  compare({"mono noise, silence, quiet part", 48000, {v}});
}

TEST(Loudness, StereoProgrammeWithLowAndHighContentMatchesLibebur128) {
  // Bass (K-weighting cuts it), bright noise (shelf boosts it), gaps, different L/R.
  const std::size_t n = 48000 * 12;
  std::vector<float> l(n), r(n);
  auto nz = noise(n, 0.1, 9);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 48000.0;
    const double env = (static_cast<int>(t * 2.0) % 5 == 4) ? 0.0 : 1.0;  // a gap every 2.5 s
    l[i] = static_cast<float>(env * (0.5 * std::sin(2.0 * std::numbers::pi * 40.0 * t) + nz[i]));
    r[i] = static_cast<float>(env * (0.2 * std::sin(2.0 * std::numbers::pi * 12000.0 * t) + 0.5 * nz[i]));
  }
  compare({"stereo bass/bright programme", 48000, {l, r}});
}

TEST(Loudness, At44k1MatchesLibebur128) {
  compare({"mono noise at 44.1 kHz", 44100, {noise(44100 * 5, 0.1, 4)}});
}

}  // namespace
}  // namespace tl::dsp
