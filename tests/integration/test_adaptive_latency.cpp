// The live mix's play-out delay follows the link: a node behind tl-netem whose
// jitter steps from +-2 ms to +-60 ms and back. The real binaries; the mixer's own
// figures (tlctl nodes: its delay now, the node's measured need) and the link's
// known shape are compared.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace tl::test {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

TEST(AdaptiveLatency, FollowsTheLinkJitterUpAtOnceAndDownAfterTheHold) {
  Session s("adaptive_latency");
  // Adapts within 5-200 ms (the default); a need is held 2 s here (30 s by default) so
  // the way down fits the test.
  constexpr double kHold = 2.0;
  s.start_mixer({"--latency-hold", "2"});
  constexpr double kDelay = 10.0, kLow = 2.0, kHigh = 60.0, kUp = 14.0, kDown = 24.0, kEnd = 37.0;
  // One way: the mixer's replies (clock sync, NACKs) pass untouched.
  Process netem({bin("tl-netem"), "--listen", "127.0.0.1:0", "--forward", s.mixer_address(), "--delay-ms",
                 std::to_string(kDelay), "--jitter-ms", std::to_string(kLow), "--change",
                 "14:jitter-ms=" + std::to_string(kHigh), "--change", "24:jitter-ms=" + std::to_string(kLow),
                 "--one-way", "--seed", "3", "--stats-interval", "0"},
                s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const auto t0 = Clock::now();  // the link's changes count from here (its start line)
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();
  s.start_capture("far", "tone:440", {"--audio-to", proxy});
  ASSERT_TRUE(s.wait_node_state("far", "streaming", 20s)) << s.logs();
  // A new node needs the mix's starting delay for its first hold; then the delay glides
  // down (1 s time constant). Settled from here on:
  const double settled_from = std::chrono::duration<double>(Clock::now() - t0).count() + kHold + 4.0;
  ASSERT_LT(settled_from, kUp - 2.0) << "the node took too long to start streaming";

  struct Sample {
    double t, latency_ms, need_ms;
  };
  std::vector<Sample> samples;
  const auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::uint64_t late = 0, packets = 0;
  while (since() < kEnd) {
    const json n = s.node("far");
    if (!n.is_null()) {
      // Stamped when the answer is in: a figure is never credited earlier than it was seen.
      samples.push_back({since(), json_num(n, "latency_ms"), json_num(n, "need_ms", -1.0)});
      late = static_cast<std::uint64_t>(json_int(n, "late"));
      packets = static_cast<std::uint64_t>(json_int(n, "packets"));
    }
    std::this_thread::sleep_for(50ms);
  }
  // A node's own range, from tlctl: a floor raises the whole mix's delay while it streams.
  const RunResult set = s.tlctl({"latency", "far", "min=50"});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("far: play-out delay range min 50.0 ms"), std::string::npos) << set.out;
  const auto raised = Clock::now() + 5s;
  double floor_latency = 0.0;
  while (Clock::now() < raised && floor_latency < 50.0) {
    floor_latency = json_num(s.node("far"), "latency_ms");
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(floor_latency, 50.0) << "the node's floor did not reach the mix";
  EXPECT_EQ(json_num(s.node("far"), "latency_min_ms"), 50.0);
  EXPECT_EQ(s.tlctl({"latency", "far", "reset"}).exit_code, 0);
  const RunResult unknown = s.tlctl({"latency", "nobody", "max=20"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no node named 'nobody'"), std::string::npos) << unknown.err;
  netem.stop();
  ASSERT_TRUE(netem.wait_for_output("change t=24.0s", 5s)) << netem.out();

  // Settled on each steady link: the delay sits the margin (1 ms) above the measured need
  // (the largest of the hold), a little more while it glides down after a need leaves it.
  const auto settled = [&](double from, double to, double jitter,
                           const char* name) -> std::pair<double, double> {
    std::vector<double> above, need, latency;
    std::size_t in_band = 0;
    for (const Sample& x : samples) {
      if (x.t < from || x.t >= to || x.need_ms < 0.0) continue;
      above.push_back(x.latency_ms - x.need_ms);
      need.push_back(x.need_ms);
      latency.push_back(x.latency_ms);
      in_band += x.latency_ms - x.need_ms >= 0.95 ? 1 : 0;
    }
    std::printf(
        "[ figure ] %s link (%.0f ms +-%.0f ms): delay %.1f ms, need %.1f ms, delay above need %.2f ms "
        "(median), the margin or more above it %zu of %zu samples\n",
        name, kDelay, jitter, median(latency), median(need), median(above), in_band, above.size());
    EXPECT_GT(above.size(), 20u) << name;
    EXPECT_GE(static_cast<double>(in_band), 0.95 * static_cast<double>(above.size())) << name;
    EXPECT_GE(median(above), 0.95) << name;
    // The delay rises at once with the need but glides down after it (1 s), so while a
    // need that moves within the window steps down, the delay sits up to that step above
    // need + margin: the bound is the margin plus the need's spread here, plus 0.3 ms.
    // (A CI run saw 1.51 ms with the need moving; a steady need gives 1.0-1.3.)
    const auto [lo_need, hi_need] = std::minmax_element(need.begin(), need.end());
    const double spread = need.empty() ? 0.0 : *hi_need - *lo_need;
    EXPECT_LE(median(above), 1.3 + spread) << name << ": the need moved " << spread << " ms";
    return std::pair{median(latency), median(need)};
  };
  const auto [low, low_need] = settled(settled_from, kUp, kLow, "steady");
  const auto [high, high_need] = settled(kUp + 4.0, kDown, kHigh, "jittery");
  // The hold, then a 1 s glide from ~66 ms.
  const auto [again, again_need] = settled(kDown + kHold + 7.0, kEnd, kLow, "steady again");
  // The need is measured against the node's timestamps, which carry its clock sync's
  // share of the path's asymmetry: what the link adds shows in the difference. A busy
  // machine's scheduling stalls (10 ms seen on a CI run) lift the steady link's 99th
  // percentile but hide inside the jittery link's, so the difference may fall short of
  // the added jitter by that much; the delay-above-need bands above are the exact check.
  EXPECT_GE(high_need - low_need, 0.7 * (kHigh - kLow)) << "the need does not follow the link's jitter";

  // Re-adapting: the first sample past each change that has followed it.
  const auto first_after = [&](double change, auto followed) {
    for (const Sample& x : samples) {
      if (x.t >= change && followed(x)) return x.t - change;
    }
    return 1e9;
  };
  // Re-adapted: 90% of the way from one settled delay to the other. Up, that waits for a
  // packet from the far tail of the new jitter (the settled delay is the hold's largest
  // need), which is chance: a CI run waited 4.4 s. Half-way shows the delay following.
  // Down, the way ends at the new steady link's own settled delay: a busy machine's
  // stalls can hold its need above the first steady link's (a CI run: 20.3 ms against
  // 9.6 ms, the delay 1.0 ms above it in both), and the bands above check that level.
  const double up_to = low + 0.9 * (high - low), down_to = again + 0.1 * (high - again);
  const double half_to = low + 0.5 * (high - low);
  const double up = first_after(kUp, [&](const Sample& x) { return x.latency_ms >= up_to; });
  const double half_up = first_after(kUp, [&](const Sample& x) { return x.latency_ms >= half_to; });
  const double down = first_after(kDown, [&](const Sample& x) { return x.latency_ms <= down_to; });
  std::printf(
      "[ figure ] jitter +-%.0f -> +-%.0f ms: delay over %.1f ms after %.2f s (over %.1f ms after %.2f s); "
      "back to +-%.0f ms: under %.1f ms after %.2f s; late packets %.2f%%\n",
      kLow, kHigh, half_to, half_up, up_to, up, kLow, down_to, down,
      packets == 0 ? 0.0 : 100.0 * static_cast<double>(late) / static_cast<double>(packets));
  // The figures are asserted exactly in virtual time by unit_mixer's AdaptivePlayout
  // tests and printed by bench_playout; here, with real binaries on a shared machine, a
  // busy spell has been seen to stretch the rise to 3.5 s (0.2 s idle).
  EXPECT_LE(half_up, 4.0) << "the delay did not follow the jitter up";
  EXPECT_LE(up, 10.0) << "the delay did not reach the new jitter's need";
  // Down only once the jittery needs have left the hold, then a 1 s glide.
  EXPECT_GE(down, kHold * 15.0 / 16.0 - 0.3) << "the delay fell before the hold had passed";
  EXPECT_LE(down, kHold + 6.0) << "the delay did not come back down";
  EXPECT_LT(again, half_to) << "the delay stayed near the jittery link's (need " << again_need << " ms)";
}

}  // namespace
}  // namespace tl::test
