// Clock sync on loopback with the real binaries: capture nodes that simulate wrong clocks
// (--sim-clock-offset-ms / --sim-clock-skew-ppm), and a node behind the tl-netem proxy.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "harness.h"

namespace tl::test {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string sync_of(const json& node) {
  return node.is_null() ? std::string{} : node.value("sync_state", std::string{});
}

struct SimNode {
  std::string name;
  double offset_ms;
  double skew_ppm;
  Clock::time_point started{};
  Clock::time_point streaming{};
  double lock_after_s = -1;  // seconds from streaming to the first SYNC_LOCKED report
};

TEST(ClockSync, SimulatedClocksLockAndReportTheirOffsetAndDrift) {
  Session s("clock_sync_sim");
  s.start_mixer();
  std::vector<SimNode> nodes = {{"ref", 0.0, 0.0}, {"ahead", 250.0, 100.0}, {"behind", -1300.0, -200.0}};
  for (auto& n : nodes) {
    n.started = Clock::now();
    s.start_capture(n.name, "tone:440",
                    {"--sim-clock-offset-ms", std::to_string(n.offset_ms), "--sim-clock-skew-ppm",
                     std::to_string(n.skew_ppm)});
  }
  for (auto& n : nodes) {
    ASSERT_TRUE(s.wait_node_state(n.name, "streaming")) << s.logs();
    n.streaming = Clock::now();
  }

  // Lock: each node reports SYNC_LOCKED within 5 s of streaming (polled; overall bound generous).
  ASSERT_TRUE(wait_until(
      [&] {
        const json list = s.tlctl_json({"nodes"});
        bool all = true;
        for (auto& n : nodes) {
          if (n.lock_after_s < 0) {
            for (const auto& j : list["nodes"]) {
              if (j.value("name", "") == n.name && sync_of(j) == "SYNC_LOCKED") {
                n.lock_after_s = seconds_since(n.streaming);
              }
            }
          }
          all = all && n.lock_after_s >= 0;
        }
        return all;
      },
      20s, 100ms))
      << s.logs();
  for (const auto& n : nodes) {
    EXPECT_LE(n.lock_after_s, 5.0) << n.name;
    std::printf("[ clock    ] %-6s locked %.2f s after streaming\n", n.name.c_str(), n.lock_after_s);
  }

  // Offset (session - node) relative to the unsimulated node: -X - skew * (time since the node
  // started), since a node Y ppm fast gains Y us per second on real time. Drift: the skew. The
  // drift needs a few seconds of baseline: poll until every node is within bounds (20 s).
  struct Seen {
    double offset_err_ms = 1e9, drift_err_ppm = 1e9, offset_ms = 0, drift_ppm = 0, residual_us = 0;
  };
  std::map<std::string, Seen> seen;
  const bool settled = wait_until(
      [&] {
        const json list = s.tlctl_json({"nodes"});
        const auto find = [&](const std::string& name) {
          for (const auto& j : list["nodes"]) {
            if (j.value("name", "") == name) return j;
          }
          return json();
        };
        const json ref = find("ref");
        if (ref.is_null() || sync_of(ref) != "SYNC_LOCKED") return false;
        bool ok = true;
        for (const auto& n : nodes) {
          const json j = find(n.name);
          if (j.is_null()) return false;
          Seen& v = seen[n.name];
          v.offset_ms = json_num(j, "offset_ms") - json_num(ref, "offset_ms");
          v.drift_ppm = json_num(j, "drift_ppm");
          const double expected = -n.offset_ms - n.skew_ppm * 1e-3 * seconds_since(n.started);
          v.offset_err_ms = v.offset_ms - expected;
          v.drift_err_ppm = v.drift_ppm - n.skew_ppm;
          ok = ok && sync_of(j) == "SYNC_LOCKED" && std::abs(v.offset_err_ms) <= 1.0 &&
               std::abs(v.drift_err_ppm) <= 5.0;
        }
        return ok;
      },
      20s, 250ms);
  for (const auto& n : nodes) {
    const Seen& v = seen[n.name];
    std::printf("[ clock    ] %-6s offset %+.3f ms (error %+.3f ms)  drift %+.2f ppm (error %+.2f ppm)\n",
                n.name.c_str(), v.offset_ms, v.offset_err_ms, v.drift_ppm, v.drift_err_ppm);
    EXPECT_LE(std::abs(v.offset_err_ms), 1.0) << n.name;
    EXPECT_LE(std::abs(v.drift_err_ppm), 5.0) << n.name;
  }
  EXPECT_TRUE(settled) << s.logs();
}

TEST(ClockSync, NodeBehindTheNetemProxyLocksAndIsRecordedWithoutLoss) {
  const std::string netem_bin = bin("tl-netem");
  ASSERT_TRUE(std::filesystem::exists(netem_bin)) << "build tl-netem first (ninja tl-netem)";
  Session s("clock_sync_netem");
  s.start_mixer();
  // The mixer's audio UDP port is its control port.
  Process netem({netem_bin, "--listen", "127.0.0.1:0", "--forward", s.mixer_address(), "--delay-ms", "5",
                 "--jitter-ms", "1", "--seed", "7", "--stats-interval", "0"},
                s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();

  s.start_capture("far", "tone:440", {"--audio-to", proxy});
  ASSERT_TRUE(s.wait_node_state("far", "streaming")) << s.logs();
  const auto streaming = Clock::now();
  ASSERT_TRUE(wait_until([&] { return sync_of(s.node("far")) == "SYNC_LOCKED"; }, 20s, 100ms)) << s.logs();
  const json far = s.node("far");
  std::printf("[ clock    ] far locked %.2f s after streaming via tl-netem, rtt %.3f ms\n",
              seconds_since(streaming), json_num(far, "rtt_ms"));
  EXPECT_GE(json_num(far, "rtt_ms"), 8.0) << "the sync path goes through the 5 ms proxy both ways";

  s.record_start("via-netem");
  s.wait_session(2.0);
  s.record_stop();
  std::ifstream in(s.take_dir() + "/via-netem/take.json");
  const json take = json::parse(in, nullptr, false);
  ASSERT_FALSE(take.is_discarded());
  bool found = false;
  for (const auto& t : take["tracks"]) {
    if (t.value("node", "") != "far") continue;
    found = true;
    EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
  }
  EXPECT_TRUE(found) << take.dump();
  netem.stop();
}

}  // namespace
}  // namespace tl::test
