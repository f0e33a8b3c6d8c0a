// Sample-accurate alignment across nodes whose clocks disagree (simulated):
// clicks made at the same real instants must land on the same sample of every
// conformed track.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

//! Positions of clicks, to a fraction of a sample: the largest |sample| of each
//! run above threshold, refined by a parabola through it and its neighbours (a
//! resampled impulse is a sinc whose peak falls between samples).
struct Click {
  std::int64_t index;  // the peak sample
  double position;     // refined between samples
};

std::vector<Click> clicks(const Audio& track, std::int64_t from) {
  std::vector<Click> out;
  auto at = [&](std::int64_t i) {
    if (i < 0 || i >= track.frames()) return 0.0;
    return std::fabs(static_cast<double>(track.samples[static_cast<std::size_t>(i)]));
  };
  const double threshold = 0.1 * 2147483648.0;
  for (std::int64_t i = std::max<std::int64_t>(from, 0); i < track.frames(); ++i) {
    if (at(i) < threshold) continue;
    std::int64_t best = i;
    for (std::int64_t j = i; j < std::min<std::int64_t>(i + 48, track.frames()); ++j) {
      if (at(j) > at(best)) best = j;
    }
    const double l = at(best - 1), c = at(best), r = at(best + 1);
    const double denom = l - 2.0 * c + r;
    out.push_back({best, static_cast<double>(best) + (denom != 0.0 ? 0.5 * (l - r) / denom : 0.0)});
    i += 48;
  }
  return out;
}

TEST(Alignment, ClicksFromNodesWithSkewedClocksLandOnTheSameSample) {
  Session s("alignment");
  s.start_mixer({"--latency-ms", "100"});
  struct NodeClock {
    std::string name;
    double offset_ms, skew_ppm;
  };
  const std::vector<NodeClock> nodes = {
      {"ref", 0.0, 0.0}, {"ahead", 250.0, 100.0}, {"behind", -1300.0, -200.0}};
  s.record_start("aligned");
  for (const auto& n : nodes) {
    s.start_capture(n.name, "click:1s",
                    {"--sim-clock-offset-ms", std::to_string(n.offset_ms), "--sim-clock-skew-ppm",
                     std::to_string(n.skew_ppm)});
  }
  for (const auto& n : nodes) ASSERT_TRUE(s.wait_node_state(n.name, "streaming")) << s.logs();
  const double seconds =
      std::getenv("TL_ALIGNMENT_SECONDS") ? std::atof(std::getenv("TL_ALIGNMENT_SECONDS")) : 60.0;
  s.wait_session(seconds);
  s.record_stop();

  const std::string dir = s.take_dir() + "/aligned";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in);
  const std::int64_t start = json_int(take, "start_sample");
  std::map<std::string, std::vector<Click>> found;
  for (const auto& t : take["tracks"]) {
    const std::string node = t["node"];
    // From 5 s after the node joined (its clock sync has locked by then).
    const std::int64_t from = json_int(t, "first_sample") - start + 5 * 48000;
    found[node] = clicks(read_audio(dir + "/" + t["file"].get<std::string>()), from);
    std::printf("[ figure ] %s: drift %.2f ppm (%s; arrivals %.2f, node %.2f), %zu clicks\n", node.c_str(),
                json_num(t, "drift_ppm"), t.value("conform", "?").c_str(), t.value("measured_drift_ppm", 0.0),
                -t.value("reported_drift_ppm", 0.0), found[node].size());
  }
  ASSERT_EQ(found.size(), 3u);
  const auto& ref = found["ref"];
  ASSERT_GT(ref.size(), static_cast<std::size_t>(seconds) - 10) << "one click a second";
  // The criterion is on sample indices (each click's peak sample). Sub-sample
  // peak positions are printed too: one-sample clicks are quantised where they
  // are made (each node marks the sample it captured at the real second), so two
  // nodes can differ by up to one sample before any error of ours.
  std::int64_t worst = 0;
  double worst_fraction = 0.0;
  for (const auto& [name, list] : found) {
    if (name == "ref") continue;
    std::size_t matched = 0;
    for (const Click& c : list) {
      double nearest = 1e18;
      std::int64_t nearest_index = 0;
      for (const Click& r : ref) {
        if (std::fabs(c.position - r.position) < nearest) {
          nearest = std::fabs(c.position - r.position);
          nearest_index = std::llabs(c.index - r.index);
        }
      }
      if (nearest > 24000) continue;  // a click outside the reference's range (edges)
      ++matched;
      worst = std::max(worst, nearest_index);
      worst_fraction = std::max(worst_fraction, nearest);
      EXPECT_LE(nearest_index, 1) << name << " click at " << c.index;
    }
    EXPECT_GE(matched + 2, ref.size()) << name;
  }
  std::printf("[ figure ] worst click misalignment across nodes: %lld sample(s) (peak positions %.2f)\n",
              static_cast<long long>(worst), worst_fraction);
}

}  // namespace
}  // namespace tl::test
