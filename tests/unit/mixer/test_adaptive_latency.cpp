// The adaptive play-out delay against a simulated link, in virtual time: the real
// MixEngine, packets with known transit, the link's jitter stepped up and down.
#include <gtest/gtest.h>

#include <cstdio>

#include "playout_sim.h"

namespace tl::test {
namespace {

void print(const std::vector<LinkPhase>& phases, const std::vector<PhaseFigures>& figures) {
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const PhaseFigures& f = figures[p];
    std::printf(
        "[ figure ] link %.0f ms +-%.0f ms: p99 %.2f ms, delay settled at %.2f ms (%+.2f ms), re-adapted in %.2f s, "
        "in band %.1f%% after, late packets %.2f%%\n",
        phases[p].base_ms, phases[p].jitter_ms, f.p99_ms, f.settled_ms, f.settled_ms - f.p99_ms, f.readapt_s,
        100.0 * f.in_band_share, 100.0 * f.late_share);
  }
}

TEST(AdaptivePlayout, SettlesJustAboveTheP99AndReadaptsWithinTwoSecondsBothWays) {
  const std::vector<LinkPhase> phases = {{8.0, 5.0, 3.0}, {8.0, 5.0, 20.0}, {8.0, 5.0, 3.0}, {8.0, 30.0, 1.0}};
  const auto figures = simulate_playout(phases, 17);
  print(phases, figures);
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const PhaseFigures& f = figures[p];
    EXPECT_GE(f.readapt_s, 0.0) << "phase " << p << " never settled";
    EXPECT_LE(f.readapt_s, 2.0) << "phase " << p;
    EXPECT_GE(f.in_band_share, 0.95) << "phase " << p;
    EXPECT_GE(f.settled_ms, f.p99_ms) << "phase " << p;
    EXPECT_LE(f.settled_ms, f.p99_ms + 1.0) << "phase " << p;
    // Where the link gets worse, its first packets are late by design (the delay follows).
    if (p == 0 || p == 2) {
      EXPECT_LE(f.late_share, 0.01) << "phase " << p;
    }
  }
}

TEST(AdaptivePlayout, APathLongerThanTheDelayIsFollowedNotStarved) {
  // Every packet is late at the starting 20 ms: the node still counts, and the delay follows.
  const std::vector<LinkPhase> phases = {{6.0, 60.0, 2.0}};
  const auto figures = simulate_playout(phases, 5);
  print(phases, figures);
  EXPECT_GE(figures[0].readapt_s, 0.0);
  EXPECT_LE(figures[0].readapt_s, 2.0);
  EXPECT_GE(figures[0].settled_ms, figures[0].p99_ms);
  EXPECT_LE(figures[0].settled_ms, figures[0].p99_ms + 1.0);
}

TEST(AdaptivePlayout, StaysWithinTheOperatorsRange) {
  // +-40 ms would ask for 45 ms; the range stops at 30 ms, and late audio is counted.
  const std::vector<LinkPhase> phases = {{6.0, 5.0, 40.0}, {6.0, 1.0, 0.2}};
  const auto figures = simulate_playout(phases, 3, /*min_ms=*/10.0, /*max_ms=*/30.0);
  print(phases, figures);
  EXPECT_NEAR(figures[0].settled_ms, 30.0, 0.05);
  EXPECT_GT(figures[0].late_share, 0.05);
  EXPECT_NEAR(figures[1].settled_ms, 10.0, 0.05);
  EXPECT_LE(figures[1].late_share, 0.01);  // stragglers of the first phase
}

}  // namespace
}  // namespace tl::test
