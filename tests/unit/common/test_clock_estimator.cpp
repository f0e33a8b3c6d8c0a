#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

#include "sync_sim.h"
#include "tl/common/clock_estimator.h"

namespace tl {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = kNanosPerSecond;

using test::Net;
using test::Sim;

//! Runs exchanges every period_ns for duration_ns; calls check(sim, est) every 10 ms.
template <typename Check>
void run(Sim& sim, ClockEstimator& est, std::int64_t duration_ns, std::int64_t period_ns, Check&& check) {
  const std::int64_t end = sim.now() + duration_ns;
  std::int64_t next = sim.now();
  while (sim.now() < end) {
    if (sim.now() >= next) {
      SyncExchange x;
      if (sim.exchange(x)) (void)est.add(x);
      est.poll(sim.node_now());
      next += period_ns;
    }
    sim.advance(10 * kMs);
    check(sim, est);
  }
}

void run(Sim& sim, ClockEstimator& est, std::int64_t duration_ns, std::int64_t period_ns = 100 * kMs) {
  run(sim, est, duration_ns, period_ns, [](const Sim&, const ClockEstimator&) {});
}

TEST(ClockEstimator, RejectsAndCountsAbsurdExchanges) {
  ClockEstimator est;
  EXPECT_FALSE(est.add({.t1 = 100, .t2 = 200, .t3 = 210, .t4 = 50}));   // t4 < t1
  EXPECT_FALSE(est.add({.t1 = 100, .t2 = 200, .t3 = 190, .t4 = 300}));  // t3 < t2
  EXPECT_FALSE(est.add({.t1 = 100, .t2 = 200, .t3 = 400, .t4 = 150}));  // negative RTT
  EXPECT_FALSE(est.add({.t1 = 0, .t2 = 1, .t3 = 2, .t4 = 60 * kS}));    // 60 s RTT
  EXPECT_EQ(est.rejected(), 4u);
  EXPECT_FALSE(est.has_estimate());
  EXPECT_EQ(est.state(), ClockSyncState::Acquiring);
  EXPECT_EQ(est.exchanges_used(), 0u);
}

TEST(ClockEstimator, ExactOnAQuietNetwork) {
  Sim sim({.offset_s = -3.25, .skew_ppm = 250, .spike_prob = 0}, 1);
  ClockEstimator est;
  run(sim, est, 30 * kS);
  EXPECT_EQ(est.state(), ClockSyncState::Locked);
  EXPECT_LT(sim.error(est), 1'000.0);
  EXPECT_NEAR(est.skew_ppm(), 250.0, 0.01);
  EXPECT_GT(est.exchanges_used(), 250u);
  EXPECT_GT(est.min_rtt_ns(), 800'000);
  EXPECT_LT(est.min_rtt_ns(), 900'000);
  EXPECT_EQ(est.to_session_ns(sim.node_now()), sim.node_now() + est.offset_ns_at(sim.node_now()));
}

TEST(ClockEstimator, LocksWithinFiveSecondsAcrossOffsetsSkewsJitterAndLoss) {
  // Every case: locked, and within 1 ms of the truth, 5 s after the first exchange.
  // (Exchanges every 100 ms while acquiring; 5% of trips get +50 ms spikes.)
  std::uint64_t seed = 10;
  for (double offset : {-10.0, -0.5, 0.003, 10.0}) {
    for (double skew : {-500.0, 0.0, 100.0, 500.0}) {
      for (double jitter : {0.0, 0.5, 2.0}) {
        for (double loss : {0.0, 0.1, 0.3}) {
          Sim sim({.offset_s = offset, .skew_ppm = skew, .jitter_ms = jitter, .loss = loss}, ++seed);
          ClockEstimator est;
          run(sim, est, 5 * kS);
          SCOPED_TRACE(testing::Message() << "offset " << offset << " s, skew " << skew << " ppm, jitter "
                                          << jitter << " ms, loss " << loss);
          EXPECT_EQ(est.state(), ClockSyncState::Locked);
          EXPECT_LT(sim.error(est), 1'000'000.0);
        }
      }
    }
  }
}

TEST(ClockEstimator, HeavyJitterLocksLaterButNeverLocksWrong) {
  // 5 and 20 ms of mean queueing per direction: locking takes longer (see
  // bench_clock_sync), but whenever the estimator says Locked it is within 1 ms.
  std::uint64_t seed = 500;
  for (double jitter : {5.0, 20.0}) {
    for (double loss : {0.0, 0.3}) {
      Sim sim({.offset_s = 7.0, .skew_ppm = -300, .jitter_ms = jitter, .loss = loss}, ++seed);
      ClockEstimator est;
      double worst_locked = 0;
      run(sim, est, 30 * kS, 100 * kMs, [&](const Sim& s, const ClockEstimator& e) {
        if (e.state() == ClockSyncState::Locked) worst_locked = std::max(worst_locked, s.error(e));
      });
      SCOPED_TRACE(testing::Message() << "jitter " << jitter << " ms, loss " << loss);
      EXPECT_EQ(est.state(), ClockSyncState::Locked);
      EXPECT_LT(worst_locked, 1'000'000.0);
    }
  }
}

TEST(ClockEstimator, TwoMsJitterStaysWithinOneSampleAt48kHz) {
  // The hard requirement: with 2 ms of symmetric delay jitter the
  // offset error stays under 20 us (one 48 kHz sample) once converged
  // (window full: 180 s at one exchange per 100 ms), spikes and loss included.
  std::uint64_t seed = 900;
  for (double loss : {0.0, 0.3}) {
    Sim sim({.offset_s = -4.0, .skew_ppm = 120, .jitter_ms = 2.0, .loss = loss}, ++seed);
    ClockEstimator est;
    run(sim, est, 180 * kS);
    double worst = 0;
    run(sim, est, 120 * kS, 100 * kMs,
        [&](const Sim& s, const ClockEstimator& e) { worst = std::max(worst, s.error(e)); });
    EXPECT_LT(worst, 20'000.0) << "loss " << loss;
    EXPECT_EQ(est.state(), ClockSyncState::Locked);
    EXPECT_NEAR(est.skew_ppm(), 120.0, 0.1);
  }
}

TEST(ClockEstimator, SkewWithinOnePpmAfterThirtySeconds) {
  std::uint64_t seed = 1300;
  for (double jitter : {0.5, 2.0}) {
    for (double skew : {-500.0, 40.0, 500.0}) {
      Sim sim({.offset_s = 1.0, .skew_ppm = skew, .jitter_ms = jitter, .loss = 0.1}, ++seed);
      ClockEstimator est;
      run(sim, est, 30 * kS);
      EXPECT_NEAR(est.skew_ppm(), skew, 1.0) << "jitter " << jitter << " ms";
    }
  }
}

TEST(ClockEstimator, AsymmetricDelayGivesExactlyTheDocumentedBias) {
  // 3 ms up, 1 ms down: the estimate reads (3 - 1) / 2 = 1 ms above the true offset.
  Sim sim({.offset_s = 2.0, .skew_ppm = -80, .jitter_ms = 0.2, .base_up_ms = 3.0, .base_down_ms = 1.0}, 77);
  ClockEstimator est;
  run(sim, est, 60 * kS);
  const std::int64_t n = sim.node_now();
  const double seen_bias = static_cast<double>(est.offset_ns_at(n)) - sim.true_offset(n);
  EXPECT_NEAR(seen_bias, 1'000'000.0, 10'000.0);
  EXPECT_NEAR(sim.bias(), 1'000'000.0, 1.0);
}

TEST(ClockEstimator, NodeClockStepIsDetectedAndReacquired) {
  Sim sim({.offset_s = 0.25, .skew_ppm = 60, .jitter_ms = 1.0, .loss = 0.1}, 5);
  ClockEstimator est;
  run(sim, est, 20 * kS);
  ASSERT_EQ(est.state(), ClockSyncState::Locked);
  sim.step_node(300 * kMs);  // the node's clock jumps 300 ms forward
  run(sim, est, 1 * kS);
  EXPECT_EQ(est.steps(), 1u);
  run(sim, est, 4 * kS);
  EXPECT_EQ(est.state(), ClockSyncState::Locked);
  EXPECT_LT(sim.error(est), 1'000'000.0);
  run(sim, est, 60 * kS);
  EXPECT_LT(sim.error(est), 50'000.0);
  EXPECT_EQ(est.steps(), 1u);
}

TEST(ClockEstimator, IsolatedBogusExchangeIsDroppedNotFollowed) {
  Sim sim({.offset_s = -1.0, .skew_ppm = 10, .jitter_ms = 0.5}, 6);
  ClockEstimator est;
  run(sim, est, 20 * kS);
  const std::int64_t before = est.offset_ns_at(sim.node_now());
  SyncExchange x;
  (void)sim.exchange(x);
  x.t2 += 80 * kMs;  // a mixer timestamp 80 ms off, once
  x.t3 += 80 * kMs;
  EXPECT_TRUE(est.add(x));
  EXPECT_EQ(est.offset_ns_at(sim.node_now()), before);
  run(sim, est, 2 * kS);
  EXPECT_EQ(est.outliers(), 1u);
  EXPECT_EQ(est.steps(), 0u);
  EXPECT_LT(sim.error(est), 100'000.0);
}

TEST(ClockEstimator, LostAfterSilenceThenRelocksOnTheNextExchange) {
  Sim sim({.offset_s = 9.0, .skew_ppm = -450, .jitter_ms = 0.5}, 8);
  ClockEstimator est;
  run(sim, est, 30 * kS);
  ASSERT_EQ(est.state(), ClockSyncState::Locked);
  sim.advance(4 * kS);
  est.poll(sim.node_now());
  EXPECT_EQ(est.state(), ClockSyncState::Locked);
  sim.advance(2 * kS);
  est.poll(sim.node_now());
  EXPECT_EQ(est.state(), ClockSyncState::Lost);
  // Holdover: the model coasts on the measured skew.
  EXPECT_LT(sim.error(est), 100'000.0);
  SyncExchange x;
  while (!sim.exchange(x)) sim.advance(100 * kMs);
  EXPECT_TRUE(est.add(x));
  EXPECT_EQ(est.state(), ClockSyncState::Locked);
}

TEST(ClockEstimator, MappingSnapshotAgreesWithTheEstimator) {
  Sim sim({.offset_s = 6.5, .skew_ppm = -210, .jitter_ms = 0.5}, 12);
  ClockEstimator est;
  EXPECT_FALSE(est.mapping(sim.node_now()).valid);
  run(sim, est, 20 * kS);
  const std::int64_t now = sim.node_now();
  const ClockMap map = est.mapping(now);
  ASSERT_TRUE(map.valid);
  for (std::int64_t later : {std::int64_t{0}, 250 * kMs, 3 * kS}) {
    EXPECT_NEAR(static_cast<double>(map.to_session_ns(now + later)),
                static_cast<double>(est.to_session_ns(now + later)), 1.0);
  }
}

TEST(ClockEstimator, ReportsRttAndResidual) {
  Sim sim({.jitter_ms = 2.0, .spike_prob = 0}, 9);
  ClockEstimator est;
  run(sim, est, 30 * kS);
  EXPECT_GE(est.last_rtt_ns(), est.min_rtt_ns());
  EXPECT_GT(est.min_rtt_ns(), 800'000);
  EXPECT_LT(est.min_rtt_ns(), 1'500'000);
  EXPECT_GT(est.residual_ns(), 0);
  EXPECT_LT(est.residual_ns(), 200'000);
  EXPECT_GT(est.error_estimate_ns(), 0);
  EXPECT_LT(est.error_estimate_ns(), 100'000);
}

}  // namespace
}  // namespace tl
