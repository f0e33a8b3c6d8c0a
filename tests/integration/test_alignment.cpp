// Sample-accurate alignment across nodes whose clocks disagree (simulated):
// pulses made at the same real instants must land within a sample of each other on
// every conformed track.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

//! Positions of pulses (tl-capture's pulse:PERIOD, band-limited and centred between
//! samples on the real instant): each run above threshold, its peak sample and its
//! energy centroid, which is the pulse's centre to about 0.001 sample.
struct Click {
  std::int64_t index;  // the peak sample
  double position;     // the centroid, between samples
};

std::vector<Click> clicks(const Audio& track, std::int64_t from) {
  std::vector<Click> out;
  auto at = [&](std::int64_t i) {
    if (i < 0 || i >= track.frames()) return 0.0;
    return static_cast<double>(track.samples[static_cast<std::size_t>(i)]);
  };
  const double threshold = 0.1 * 2147483648.0;
  for (std::int64_t i = std::max<std::int64_t>(from, 0); i < track.frames(); ++i) {
    if (std::fabs(at(i)) < threshold) continue;
    std::int64_t best = i;
    for (std::int64_t j = i; j < std::min<std::int64_t>(i + 48, track.frames()); ++j) {
      if (std::fabs(at(j)) > std::fabs(at(best))) best = j;
    }
    double energy = 0.0, moment = 0.0;
    for (std::int64_t j = best - 24; j <= best + 24; ++j) {
      energy += at(j) * at(j);
      moment += static_cast<double>(j) * at(j) * at(j);
    }
    out.push_back({best, moment / energy});
    i = best + 48;
  }
  return out;
}

TEST(Alignment, PulsesFromNodesWithSkewedClocksLandWithinASample) {
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
    s.start_capture(n.name, "pulse:1s",
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
    std::printf("[ figure ] %s: drift %.2f ppm (%s; arrivals %.2f, node %.2f), %zu pulses\n", node.c_str(),
                json_num(t, "drift_ppm"), t.value("conform", "?").c_str(), t.value("measured_drift_ppm", 0.0),
                -t.value("reported_drift_ppm", 0.0), found[node].size());
  }
  ASSERT_EQ(found.size(), 3u);
  const auto& ref = found["ref"];
  ASSERT_GT(ref.size(), static_cast<std::size_t>(seconds) - 10) << "one pulse a second";
  // Pulses made at the same real instants: their centres, not rounded to a sample where
  // they were made, differ only by our alignment error, which must stay under a sample.
  // (One-sample clicks would add up to a sample of each node's own rounding.)
  double worst = 0.0;
  for (const auto& [name, list] : found) {
    if (name == "ref") continue;
    std::size_t matched = 0;
    for (const Click& c : list) {
      double nearest = 1e18;
      for (const Click& r : ref) nearest = std::min(nearest, std::fabs(c.position - r.position));
      if (nearest > 24000) continue;  // a pulse outside the reference's range (edges)
      ++matched;
      worst = std::max(worst, nearest);
      EXPECT_LT(nearest, 1.0) << name << " pulse at " << c.index;
    }
    EXPECT_GE(matched + 2, ref.size()) << name;
  }
  std::printf("[ figure ] worst pulse misalignment across nodes: %.3f sample(s)\n", worst);
}

}  // namespace
}  // namespace tl::test
