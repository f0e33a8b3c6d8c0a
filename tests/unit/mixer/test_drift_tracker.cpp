#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "tl/mixer/drift_tracker.h"

namespace tl::mixer {
namespace {

constexpr std::uint32_t kRate = 48000;

//! Feeds seconds of 48-frame packets from a node whose clock runs skew_ppm fast,
//! arriving after 1 ms plus exponential queueing jitter.
void feed(DriftTracker& t, MediaTime first_ts, double start_s, double seconds, double skew_ppm,
          double jitter_ms, std::uint32_t seed, bool restart) {
  std::mt19937 rng(seed);
  std::exponential_distribution<double> queue(1.0 / std::max(jitter_ms, 1e-9));
  const double rate = kRate * (1.0 + skew_ppm * 1e-6);  // node samples per session second
  const auto packets = static_cast<std::int64_t>(seconds * rate / 48);
  for (std::int64_t k = 0; k < packets; ++k) {
    const MediaTime ts = first_ts + k * 48;
    const double captured_end_s = start_s + static_cast<double>((k + 1) * 48) / rate;
    const double arrival_s = captured_end_s + 1e-3 + (jitter_ms > 0 ? queue(rng) * 1e-3 : 0.0);
    t.add(ts, 48, static_cast<std::int64_t>(arrival_s * 1e9), restart && k == 0);
  }
}

TEST(DriftTracker, MeasuresANodeClockRateFromArrivalFloors) {
  for (const double skew : {0.0, 100.0, -200.0}) {
    DriftTracker t(kRate);
    feed(t, 10 * kRate, 10.0, 30.0, skew, 2.0, 7, false);
    const auto s = t.stretches();
    ASSERT_EQ(s.size(), 1u);
    // A node running fast needs its samples placed closer together: drift = -skew.
    EXPECT_NEAR(s[0].drift * 1e6, -skew, 1.0) << "skew " << skew;
  }
}

TEST(DriftTracker, DriftHiddenInHeavyJitterIsNotApplied) {
  // A drift-free node behind a FIFO path with +-20 ms of uniform jitter around 25 ms
  // (tl-netem's model): each departure waits for the previous one, so window floors
  // wander by milliseconds. 30 s cannot pin a slope to tens of ppm: none is applied.
  for (const std::uint32_t seed : {1u, 2u, 3u, 4u}) {
    DriftTracker t(kRate);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> jitter(-20e-3, 20e-3);
    double last_departure = 0.0;
    for (std::int64_t k = 0; k < 30 * kRate / 48; ++k) {
      const double captured_end_s = static_cast<double>((k + 1) * 48) / kRate;
      last_departure = std::max(captured_end_s + 25e-3 + jitter(rng), last_departure);
      t.add(k * 48, 48, static_cast<std::int64_t>(last_departure * 1e9), false);
    }
    const auto s = t.stretches();
    ASSERT_EQ(s.size(), 1u);
    std::printf("[ figure ] +-20 ms FIFO jitter, seed %u: uncertainty %.1f ppm, drift applied %.1f ppm\n",
                seed, s[0].sigma * 1e6, s[0].drift * 1e6);
    EXPECT_EQ(s[0].drift, 0.0) << "seed " << seed;
    EXPECT_GT(s[0].sigma * 1e6, 1.0) << "the floors are known to be loose";
  }
}

TEST(DriftTracker, AnchorsPlaceTheEndOfATakeWithinASample) {
  DriftTracker t(kRate);
  feed(t, 0, 0.0, 60.0, 100.0, 1.0, 3, false);
  const auto anchors = t.anchors(0);
  ASSERT_EQ(anchors.size(), 2u);
  // The node's last sample (index n) truly sits at n / (1 + 100 ppm).
  const double n = anchors.back().node_index;
  EXPECT_NEAR(anchors.back().session_pos, n / (1.0 + 100e-6), 1.0);
}

TEST(DriftTracker, ARestartedNodeStartsANewStretchAtItsNewPlace) {
  DriftTracker t(kRate);
  feed(t, 0, 0.0, 5.0, 0.0, 0.5, 1, false);
  feed(t, 8 * kRate, 8.0, 5.0, 0.0, 0.5, 2, true);
  const auto s = t.stretches();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].first, 8 * static_cast<MediaTime>(kRate));
  const auto anchors = t.anchors(0);
  ASSERT_EQ(anchors.size(), 4u);
  EXPECT_NEAR(anchors[2].session_pos, 8.0 * kRate, 1e-6);
}

//! A drift-free node whose path slows as a machine gets busy: every packet's delay
//! grows by slowdown_us per second of audio, which the floors cannot tell from a
//! clock running slow.
DriftTracker slowing_path(double seconds, double slowdown_us) {
  DriftTracker t(kRate);
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(seconds * kRate / 48); ++k) {
    const double end_s = static_cast<double>((k + 1) * 48) / kRate;
    t.add(k * 48, 48, static_cast<std::int64_t>((end_s + 1e-3 + end_s * slowdown_us * 1e-6) * 1e9), false);
  }
  return t;
}

TEST(DriftTracker, APathSlowingUnderLoadIsNotTakenForTheClockOfANodeThatReportsNone) {
  // 20 us per second looks like a node 20 ppm slow: over 3 s, 2.9 samples.
  DriftTracker t = slowing_path(3.0, 20.0);
  const auto measured = t.stretches();
  ASSERT_EQ(measured.size(), 1u);
  EXPECT_NEAR(measured[0].drift * 1e6, 20.0, 1.0) << "without a report the arrivals are all there is";
  const auto s = t.stretches(0.4);  // the node says its clock runs with the session's
  EXPECT_EQ(s[0].drift, 0.0);
  EXPECT_NEAR(s[0].measured * 1e6, 20.0, 1.0);
  const auto anchors = t.anchors(0, 0.4);
  ASSERT_EQ(anchors.size(), 2u);
  EXPECT_DOUBLE_EQ(anchors[1].session_pos - anchors[0].session_pos,
                   anchors[1].node_index - anchors[0].node_index)
      << "a straight map: the conform copies";
  const dsp::ConformResult copy = dsp::conform(std::vector<float>(3 * kRate, 0.5f), anchors, 0, 3 * kRate);
  EXPECT_TRUE(copy.copied);
}

TEST(DriftTracker, ANodesReportIsAveragedWithAMeasuredDriftCloseToItAndOverrulesOneFarFromIt) {
  DriftTracker t(kRate);
  feed(t, 0, 0.0, 20.0, -150.0, 0.5, 5, false);  // node 150 ppm slow
  const double measured = t.stretches()[0].drift * 1e6;
  EXPECT_NEAR(measured, 150.0, 0.5);
  // Within 2 ppm the two independent figures are averaged; further apart (but within a
  // quarter) the arrivals' precise one stands.
  EXPECT_NEAR(t.stretches(-148.6)[0].drift * 1e6, 0.5 * (measured + 148.6), 1e-9);
  EXPECT_NEAR(t.stretches(-151.0)[0].drift * 1e6, 0.5 * (measured + 151.0), 1e-9);
  EXPECT_NEAR(t.stretches(-145.0)[0].drift * 1e6, measured, 1e-9) << "confirmed: the measured figure";
  // A report far from the arrivals wins: the node's two-way clock sync and device DLL
  // do not ride on a one-way path.
  EXPECT_NEAR(t.stretches(-300.0)[0].drift * 1e6, 300.0, 1e-9);
}

TEST(DriftTracker, ShortStretchesAreTakenAsPlaced) {
  DriftTracker t(kRate);
  feed(t, 0, 0.0, 1.0, 500.0, 0.0, 1, false);
  const auto s = t.stretches();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].drift, 0.0);
}

}  // namespace
}  // namespace tl::mixer
