// The live path of nodes whose clocks drift (simulated): the mixer's varispeed
// keeps each node's play-out where the node played it, so its queue neither
// drains nor grows, and the mix carries the tone with no jump or click.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

TEST(LiveVarispeed, DriftingNodesStayInStepInTheMixWithoutClicks) {
  Session s("varispeed");
  s.start_mixer();  // the default 20 ms play-out delay: drift would eat it in under a minute
  struct NodeClock {
    std::string name;
    double skew_ppm, pan;
  };
  // Panned hard apart, so each side of mix.wav carries one node alone.
  const std::vector<NodeClock> nodes = {{"fast", 400.0, -1.0}, {"slow", -400.0, 1.0}};
  const double level_db = -12.0;
  s.record_start("drifting");
  for (const auto& n : nodes) {
    s.start_capture(
        n.name, "tone:440",
        {"--sim-clock-skew-ppm", std::to_string(n.skew_ppm), "--level-db", std::to_string(level_db)});
  }
  for (const auto& n : nodes) {
    ASSERT_TRUE(s.wait_node_state(n.name, "streaming")) << s.logs();
    ASSERT_EQ(s.tlctl({"pan", n.name + "/1", std::to_string(n.pan)}).exit_code, 0);
  }

  // Watch the live path for 30 s of session time: how far ahead of its play-out
  // each node's audio arrives (margin), and the correction applied.
  const double begin = s.session_seconds();
  std::map<std::string, std::vector<std::pair<double, double>>> margins;  // (t, ms)
  std::map<std::string, double> varispeed;
  for (double t = 0.0; t < 30.0; t = s.session_seconds() - begin) {
    const json list = s.tlctl_json({"nodes"});
    for (const auto& j : list["nodes"]) {
      const std::string name = j.value("name", "");
      margins[name].emplace_back(t, json_num(j, "margin_ms"));
      varispeed[name] = json_num(j, "varispeed_ppm");
    }
    std::this_thread::sleep_for(250ms);
  }
  const json stopped = s.record_stop();

  for (const auto& n : nodes) {
    // Early (8-19 s) against late (19-30 s): uncorrected, 400 ppm moves the margin by 4.4 ms.
    std::vector<double> early, late;
    for (const auto& [t, ms] : margins[n.name]) {
      if (t >= 8.0 && t < 19.0) early.push_back(ms);
      if (t >= 19.0) late.push_back(ms);
    }
    ASSERT_GT(early.size(), 10u) << n.name;
    ASSERT_GT(late.size(), 10u) << n.name;
    const double moved = median(late) - median(early);
    std::printf(
        "[ figure ] %-4s %+.0f ppm: varispeed %+.1f ppm, margin %.2f ms -> %.2f ms (moved %+.2f ms in 11 "
        "s)\n",
        n.name.c_str(), n.skew_ppm, varispeed[n.name], median(early), median(late), moved);
    EXPECT_NEAR(varispeed[n.name], n.skew_ppm, 20.0) << n.name;
    EXPECT_LT(std::fabs(moved), 1.5) << n.name << ": the node's queue drains or grows";
    EXPECT_GT(median(late), 2.0) << n.name << ": audio arrives too close to its play-out";
  }

  // The mix: a 440 Hz tone changes slope smoothly; its second difference never exceeds
  // A * w^2. A dropped or repeated sample, or a cursor jump, shows as a spike of ~A * w.
  const std::string dir = s.take_dir() + "/drifting";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in);
  const std::int64_t start = json_int(take, "start_sample");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(mix.channels, 2);
  const double amplitude = std::pow(10.0, level_db / 20.0);
  const double w = 2.0 * std::numbers::pi * 440.0 * 1.0004 / 48000.0;
  const double smooth = amplitude * w * w;
  for (const auto& t : take["tracks"]) {
    const std::string node = t["node"];
    const std::size_t side = node == "fast" ? 0 : 1;
    // From 2 s after the node's first sample (its tone fades in from silence) to the end.
    const std::int64_t from = json_int(t, "first_sample") - start + 2 * 48000;
    ASSERT_LT(from + 20 * 48000, mix.frames()) << node;
    double worst = 0.0, energy = 0.0;
    for (std::int64_t f = from + 1; f + 1 < mix.frames(); ++f) {
      const auto x = [&](std::int64_t i) {
        return static_cast<double>(mix.samples[static_cast<std::size_t>(2 * i) + side]) / 2147483648.0;
      };
      worst = std::max(worst, std::fabs(x(f + 1) - 2.0 * x(f) + x(f - 1)));
      energy += x(f) * x(f);
    }
    std::printf(
        "[ figure ] %-4s mix side: worst second difference %.2f x the tone's own (a skipped sample: ~%.0f "
        "x)\n",
        node.c_str(), worst / smooth, 1.0 / w);
    EXPECT_GT(energy, 1.0) << node << ": its side of the mix is silent";
    EXPECT_LT(worst, 3.0 * smooth) << node << ": a jump or click in the live mix";
  }
  EXPECT_EQ(json_int(stopped, "clipped_samples", 0), 0);
}

}  // namespace
}  // namespace tl::test
