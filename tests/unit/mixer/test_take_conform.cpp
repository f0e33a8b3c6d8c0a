// Where a take's conform puts each track: the node's stamps, moved by what its own
// converged clock estimate says about them; a drift-free node stays a plain copy.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tl/mixer/drift_tracker.h"
#include "tl/mixer/take_conform.h"

namespace tl::mixer {
namespace {

constexpr std::uint32_t kRate = 48000;
constexpr MediaTime kOrigin = 480000;  // the take's start, session samples

//! A stretch of 10 s whose stamps the map keeps as they are.
std::vector<dsp::ConformAnchor> straight() {
  return {{.node_index = 0.0, .session_pos = 0.0}, {.node_index = 10.0 * kRate, .session_pos = 10.0 * kRate}};
}

//! Converged estimates every 0.5 s over the stretch, `off` samples from the stamps, with
//! uniform noise of +-`noise` samples.
std::vector<std::pair<MediaTime, double>> reports(double off, double noise, std::uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  std::vector<std::pair<MediaTime, double>> out;
  for (MediaTime t = kOrigin + kRate / 2; t < kOrigin + 10 * kRate; t += kRate / 2) {
    out.emplace_back(t, static_cast<double>(t) + off + u(rng));
  }
  return out;
}

TEST(AnchorPlacement, ACopyMovesByTheNearestWholeSampleOfTheMedianDisagreement) {
  // Converged estimates 0.3 or 0.7 samples from the stamps, give or take 0.03: a copy
  // stays, or moves by one sample (what alignment across nodes needs).
  for (const auto& [off, moved] : {std::pair{0.3, 0.0}, std::pair{0.7, 1.0}, std::pair{-0.7, -1.0}}) {
    auto map = straight();
    place_by_node_anchors(map, reports(off, 0.03), kOrigin, kRate);
    EXPECT_NEAR(map[0].session_pos, off, 0.05);
    const dsp::ConformResult r = dsp::conform(std::vector<float>(10 * kRate, 0.25f), map, 0, 10 * kRate);
    EXPECT_TRUE(r.copied);
    EXPECT_EQ(r.shift, moved) << off;
  }
}

TEST(AnchorPlacement, TheStretchMovesByTheMedianDisagreementNotStretched) {
  auto map = straight();
  place_by_node_anchors(map, reports(3.2, 0.5), kOrigin, kRate);
  EXPECT_NEAR(map[0].session_pos, 3.2, 0.3);
  EXPECT_NEAR(map[1].session_pos - map[0].session_pos, 10.0 * kRate, 1e-9) << "moved, not stretched";
  const dsp::ConformResult r = dsp::conform(std::vector<float>(10 * kRate, 0.25f), map, 0, 10 * kRate);
  EXPECT_TRUE(r.copied);
  EXPECT_EQ(r.shift, 3.0);
}

TEST(AnchorPlacement, TooFewReportsOrAnotherTimelineMoveNothing) {
  auto map = straight();
  auto few = reports(5.0, 0.0);
  few.resize(2);
  place_by_node_anchors(map, few, kOrigin, kRate);
  EXPECT_EQ(map[0].session_pos, 0.0) << "two reports are not a converged estimate";
  place_by_node_anchors(map, reports(0.6 * kRate, 0.0), kOrigin, kRate);
  EXPECT_EQ(map[0].session_pos, 0.0) << "0.6 s apart: another timeline (the node restarted)";
}

TEST(AnchorPlacement, NoisyArrivalsOfADriftFreeNodeOnABusyHostConformToAnUnmovedCopy) {
  // The whole decision for a drift-free node whose packets queue behind busy threads:
  // arrival floors that creep by several ppm, a report of 0 ppm, converged estimates a
  // fraction of a sample from the stamps. The track is its raw samples, where they were.
  DriftTracker tracker(kRate);
  std::mt19937_64 rng(9);
  std::exponential_distribution<double> queueing(1.0 / 0.0008);  // ~0.8 ms of waiting, long tail
  for (MediaTime k = 0; k < 10 * kRate / 48; ++k) {
    const MediaTime ts = kOrigin + k * 48;
    const double load = 8e-6 * static_cast<double>(k * 48) / kRate;  // the path slows 8 us a second
    const double arrival_s = static_cast<double>(ts + 48) / kRate + 0.0002 + load + queueing(rng);
    tracker.add(ts, 48, static_cast<std::int64_t>(arrival_s * 1e9), k == 0);
  }
  auto map = tracker.anchors(kOrigin, /*reported_ppm=*/0.3);
  place_by_node_anchors(map, reports(0.2, 0.2), kOrigin, kRate);
  const dsp::ConformResult r = dsp::conform(std::vector<float>(10 * kRate, 0.25f), map, 0, 10 * kRate);
  EXPECT_TRUE(r.copied) << "drift " << r.drift_samples << " samples";
  EXPECT_EQ(r.shift, 0.0);
}

}  // namespace
}  // namespace tl::mixer
