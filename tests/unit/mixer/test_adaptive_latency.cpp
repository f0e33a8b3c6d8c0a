// The adaptive play-out delay against a simulated link, in virtual time: the real
// MixEngine, packets with known transit, the link's jitter stepped up and down and
// its path stalled now and then.
#include <gtest/gtest.h>

#include <cstdio>

#include "playout_sim.h"

namespace tl::test {
namespace {

void print(const std::vector<LinkPhase>& phases, const std::vector<PhaseFigures>& figures) {
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const PhaseFigures& f = figures[p];
    std::printf(
        "[ figure ] link %.0f ms +-%.1f ms (stall %.0f ms every %.0f s): p99.9 %.2f ms, worst %.2f ms, delay "
        "settled at %.2f ms, ends at %.2f ms, in band after %.2f s (%.1f%% after), late packets %.3f%%, "
        "concealed "
        "%llu samples, the last at %.2f s\n",
        phases[p].base_ms, phases[p].jitter_ms, phases[p].stall_ms, phases[p].stall_every_s, f.p999_ms,
        f.worst_ms, f.settled_ms, f.final_ms, f.readapt_s, 100.0 * f.in_band_share, 100.0 * f.late_share,
        static_cast<unsigned long long>(f.concealed), f.last_concealed_s);
  }
}

TEST(AdaptivePlayout, SettlesBetweenTheP999AndTheWorstPlusTheMargin) {
  const std::vector<LinkPhase> phases = {{50.0, 5.0, 3.0}};
  const auto f = simulate_playout(phases, 17);
  print(phases, f);
  // A new node needs the starting 20 ms until it has been measured for a whole hold.
  EXPECT_GE(f[0].readapt_s, 30.0);
  EXPECT_LE(f[0].readapt_s, 30.0 + 6.0) << "down gently once a whole hold was measured";
  EXPECT_GE(f[0].in_band_share, 0.99);
  EXPECT_GE(f[0].settled_ms, f[0].p999_ms);
  EXPECT_LE(f[0].settled_ms, f[0].worst_ms + 1.0 + 0.3);
  EXPECT_EQ(f[0].late_share, 0.0);
}

TEST(AdaptivePlayout, RisesAtOnceWhenTheLinkWorsens) {
  const std::vector<LinkPhase> phases = {{10.0, 5.0, 3.0}, {10.0, 5.0, 20.0}};
  const auto f = simulate_playout(phases, 23);
  print(phases, f);
  EXPECT_LE(f[1].readapt_s, 0.5);
  EXPECT_GE(f[1].in_band_share, 0.98);
  // Only the packets that set a new worst come late; each one lifts the delay at once.
  EXPECT_LE(f[1].late_share, 0.002);
  EXPECT_LE(f[1].last_concealed_s, 2.0);
}

TEST(AdaptivePlayout, FallsOnlyOnceTheHoldHasPassed) {
  const PlayoutSimConfig sim{.hold_s = 5.0};
  const std::vector<LinkPhase> phases = {{10.0, 5.0, 20.0}, {16.0, 5.0, 2.0}};
  const auto f = simulate_playout(phases, 31, sim);
  print(phases, f);
  // The needs of the jittery link are held for the whole hold (in sub-windows of 1/16).
  EXPECT_GE(f[1].readapt_s, sim.hold_s * 15.0 / 16.0 - 0.2);
  EXPECT_LE(f[1].readapt_s, sim.hold_s + 6.0) << "down gently (1 s time constant) once the hold has passed";
  EXPECT_LE(f[1].final_ms, f[1].worst_ms + sim.margin_ms + 0.3);
  EXPECT_EQ(f[1].concealed, 0u);
}

TEST(AdaptivePlayout, StallsInTheFirstHoldAreNeverConcealed) {
  // A quiet 1 ms path whose sender stalls 8 ms every 5 s: the node's first 30 s keep the
  // starting 20 ms, which covers them, and from then on their own need does.
  const std::vector<LinkPhase> phases = {{90.0, 1.0, 0.3, 5.0, 8.0}};
  const auto f = simulate_playout(phases, 41);
  print(phases, f);
  EXPECT_EQ(f[0].concealed, 0u);
  EXPECT_GE(f[0].final_ms, f[0].worst_ms) << "the delay covers the stall";
  EXPECT_LE(f[0].final_ms, f[0].worst_ms + 1.0 + 0.3) << "and no more than the margin above it";
}

TEST(AdaptivePlayout, AStallAfterAQuietHoldConcealsOnceThenTheHoldCoversTheNext) {
  // The first stall comes at 40 s, once the quiet path's need has brought the delay down:
  // it is concealed, and holds the delay up, so the next one (25 s later, inside the
  // 30 s hold) is not.
  const std::vector<LinkPhase> phases = {{45.0, 1.0, 0.3, 40.0, 8.0}, {30.0, 1.0, 0.3, 20.0, 8.0}};
  const auto f = simulate_playout(phases, 43);
  print(phases, f);
  EXPECT_GT(f[0].concealed, 0u) << "the stall at 40 s comes unannounced";
  EXPECT_LE(f[0].last_concealed_s, 40.1);
  EXPECT_EQ(f[1].concealed, 0u) << "the stall 25 s later was concealed too";
  EXPECT_GE(f[1].final_ms, f[0].worst_ms);
}

TEST(AdaptivePlayout, APathLongerThanTheDelayIsFollowedAtOnce) {
  // Every packet is late at the starting 20 ms: the node still counts, and the delay follows.
  const std::vector<LinkPhase> phases = {{6.0, 60.0, 2.0}};
  const auto f = simulate_playout(phases, 5);
  print(phases, f);
  EXPECT_GE(f[0].readapt_s, 0.0);
  EXPECT_LE(f[0].readapt_s, 0.5);
  EXPECT_GE(f[0].settled_ms, f[0].p999_ms);
  EXPECT_LE(f[0].settled_ms, f[0].worst_ms + 1.3);
}

TEST(AdaptivePlayout, StaysWithinTheOperatorsRange) {
  // +-40 ms would ask for 46 ms; the range stops at 30 ms, and late audio is counted.
  const PlayoutSimConfig sim{.min_ms = 10.0, .max_ms = 30.0, .hold_s = 4.0};
  const std::vector<LinkPhase> phases = {{6.0, 5.0, 40.0}, {12.0, 1.0, 0.2}};
  const auto f = simulate_playout(phases, 3, sim);
  print(phases, f);
  EXPECT_NEAR(f[0].settled_ms, 30.0, 0.05);
  EXPECT_GT(f[0].late_share, 0.05);
  EXPECT_NEAR(f[1].final_ms, 10.0, 0.05);
  EXPECT_LE(f[1].late_share, 0.01);  // stragglers of the first phase
}

}  // namespace
}  // namespace tl::test
