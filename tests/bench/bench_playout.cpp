// Adaptive play-out delay figures in virtual time: the real MixEngine fed by a
// simulated link whose jitter steps up and down and whose path stalls now and then
// (tests/support/playout_sim.h). For each step: the link's exact p99.9 and worst
// transit, where the delay settled (the policy: the worst need of the last 30 s
// plus a 1 ms margin), how long it took to get there, and what the live mix
// concealed. Plain program, seeded.

#include <cstdio>
#include <vector>

#include "playout_sim.h"

int main() {
  using tl::test::LinkPhase;
  std::printf(
      "Adaptive play-out delay, virtual time: 48-frame packets every 1 ms, transit base + U(-J, +J),\n");
  std::printf(
      "stalls (every packet due in one arrives at its end); the delay starts at 20 ms and adapts within\n");
  std::printf("1-200 ms, margin 1 ms, hold 30 s.\n\n");
  std::printf("%-34s %6s %10s %10s %11s %10s %11s %9s %10s\n", "link (base, +-J, stalls)", "secs",
              "p99.9(ms)", "worst(ms)", "settled(ms)", "above p99.9", "in band(s)", "late", "concealed");
  const std::vector<std::vector<LinkPhase>> runs = {
      {{40, 2, 0.5}, {20, 2, 10}, {40, 2, 0.5}},
      {{40, 5, 3}, {20, 5, 30}, {40, 5, 3}},
      {{40, 20, 5}, {20, 20, 60}, {40, 20, 5}},
      {{60, 1, 0.3, 5, 8}, {60, 1, 0.3, 20, 8}, {60, 1, 0.3, 2, 4}},
  };
  for (const auto& phases : runs) {
    const auto figures = tl::test::simulate_playout(phases, 29);
    for (std::size_t p = 0; p < phases.size(); ++p) {
      const auto& f = figures[p];
      const LinkPhase& l = phases[p];
      char link[64];
      if (l.stall_every_s > 0.0) {
        std::snprintf(link, sizeof link, "%s%.0f ms +-%.1f, %.0f ms stall/%.0f s", p == 0 ? "" : "-> ",
                      l.base_ms, l.jitter_ms, l.stall_ms, l.stall_every_s);
      } else {
        std::snprintf(link, sizeof link, "%s%.0f ms, +-%.1f ms", p == 0 ? "" : "-> ", l.base_ms, l.jitter_ms);
      }
      std::printf("%-34s %6.0f %10.2f %10.2f %11.2f %10.2f %11.2f %8.3f%% %10llu\n", link, l.seconds,
                  f.p999_ms, f.worst_ms, f.settled_ms, f.settled_ms - f.p999_ms, f.readapt_s,
                  100.0 * f.late_share, static_cast<unsigned long long>(f.concealed));
    }
    std::printf("\n");
  }
  std::printf(
      "in band: from the phase's start until the delay sits between its p99.9 and its worst + margin\n");
  std::printf("(a worse link: at once; a better one: once the hold of 30 s has passed, then a 1 s glide).\n");
  std::printf("late: packets that came after the mix read (some of) their audio, which it concealed (the\n");
  std::printf(
      "recording still gets them); concealed: samples. A stall conceals once, never in the hold after.\n");
  return 0;
}
