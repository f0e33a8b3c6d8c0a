#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "tl/dsp/conform.h"

namespace tl::dsp {
namespace {

constexpr double kRate = 48000.0;

TEST(Conform, UnderOneSampleOfDriftIsABitExactCopyAtTheRightShift) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> raw(48000);
  for (auto& v : raw) v = u(rng);
  // Node sample 0 belongs at session 1000.25; 10 ppm over 1 s is 0.48 samples.
  const std::vector<ConformAnchor> map = {{0.0, 1000.25}, {48000.0, 1000.25 + 48000.0 * (1.0 + 10e-6)}};
  const auto r = conform(raw, map, 1000, 48000);
  EXPECT_TRUE(r.copied);
  EXPECT_LT(r.drift_samples, 1.0);
  for (std::size_t i = 0; i < raw.size(); ++i) ASSERT_EQ(r.samples[i], raw[i]) << i;
}

TEST(Conform, DriftingNodeIsResampledOntoTheSessionTimeline) {
  // The node's clock runs 100 ppm fast: over 10 s it captures 48 samples more.
  const double skew = 100e-6;
  const std::size_t n = 480000;
  std::vector<float> raw(n + 100);
  const double f = 1000.0;
  for (std::size_t k = 0; k < raw.size(); ++k) {
    // Raw sample k was taken at session time k / (1 + skew) samples.
    raw[k] =
        static_cast<float>(0.5 * std::sin(2.0 * M_PI * f * (static_cast<double>(k) / (1.0 + skew)) / kRate));
  }
  const std::vector<ConformAnchor> map = {{0.0, 0.0},
                                          {static_cast<double>(n), static_cast<double>(n) / (1.0 + skew)}};
  const auto r = conform(raw, map, 0, 400000);
  EXPECT_FALSE(r.copied);
  EXPECT_NEAR(r.drift_samples, 40.0, 0.1);
  double err = 0.0, sig = 0.0;
  for (std::size_t i = 100; i < 400000 - 100; ++i) {
    const double want = 0.5 * std::sin(2.0 * M_PI * f * static_cast<double>(i) / kRate);
    err += (r.samples[i] - want) * (r.samples[i] - want);
    sig += want * want;
  }
  const double db = 10.0 * std::log10(err / sig);
  std::printf("[ figure ] conform of a 100 ppm node, 1 kHz tone: error %.1f dB\n", db);
  EXPECT_LT(db, -80.0);
}

TEST(Conform, ClicksLandWithinOneSampleOfWhereTheyHappened) {
  const double skew = -200e-6;
  std::vector<float> raw(480000, 0.0f);
  std::vector<double> at_session;
  for (std::size_t k = 24000; k < raw.size(); k += 48000) {
    raw[k] = 0.5f;
    at_session.push_back(static_cast<double>(k) / (1.0 + skew) + 250.0);
  }
  const std::vector<ConformAnchor> map = {{0.0, 250.0}, {480000.0, 480000.0 / (1.0 + skew) + 250.0}};
  const auto r = conform(raw, map, 0, 481000);
  for (const double where : at_session) {
    std::size_t best = 0;
    float peak = 0.0f;
    for (std::size_t i = static_cast<std::size_t>(where) - 40; i < static_cast<std::size_t>(where) + 40;
         ++i) {
      if (std::fabs(r.samples[i]) > peak) {
        peak = std::fabs(r.samples[i]);
        best = i;
      }
    }
    EXPECT_LE(std::fabs(static_cast<double>(best) - where), 1.0) << "click meant for " << where;
  }
}

TEST(Conform, PositionsOutsideTheRawTrackAreSilence) {
  std::vector<float> raw(100, 0.25f);
  const std::vector<ConformAnchor> map = {{0.0, 50.0}};
  const auto r = conform(raw, map, 0, 200);
  EXPECT_TRUE(r.copied);
  EXPECT_EQ(r.samples[49], 0.0f);
  EXPECT_EQ(r.samples[50], 0.25f);
  EXPECT_EQ(r.samples[149], 0.25f);
  EXPECT_EQ(r.samples[150], 0.0f);
}

// The take's conform runs a stretch at a time (bounded memory for a two-hour take):
// stretch by stretch it must give the whole conform's samples, bit for bit.
TEST(Conform, AStretchAtATimeGivesTheWholeConformBitForBit) {
  std::vector<float> raw(200000);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = 0.5f * std::sin(0.0123 * static_cast<double>(i));
  const std::vector<std::vector<ConformAnchor>> maps = {
      {{0.0, 1.0}, {200000.0, 200000.0 / (1.0 - 150e-6) + 1.0}},  // resampled
      {{0.0, -3.0}, {200000.0, 199997.2}},                        // a copy, three samples back
  };
  for (const auto& map : maps) {
    const auto whole = conform(raw, map, 0, 199000);
    EXPECT_EQ(whole.copied, &map == &maps[1]) << "one of each";
    std::vector<float> pieced(whole.samples.size());
    for (std::size_t at = 0; at < pieced.size(); at += 7001) {
      const std::size_t n = std::min<std::size_t>(7001, pieced.size() - at);
      const auto start = static_cast<std::int64_t>(at);
      const RawRange need = raw_needed(map, whole, start, n);
      std::vector<float> window(static_cast<std::size_t>(need.last - need.first), 0.0f);
      for (std::int64_t k = need.first; k < need.last; ++k) {
        if (k >= 0 && k < static_cast<std::int64_t>(raw.size()))
          window[static_cast<std::size_t>(k - need.first)] = raw[static_cast<std::size_t>(k)];
      }
      conform_into(window, need.first, map, whole, start, std::span<float>(pieced).subspan(at, n));
    }
    EXPECT_EQ(pieced, whole.samples) << (whole.copied ? "copy" : "resampled");
  }
}

}  // namespace
}  // namespace tl::dsp
