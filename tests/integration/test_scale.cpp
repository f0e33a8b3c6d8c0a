// One mixer at scale: 32 capture nodes of 8 channels each (256 channels of PCM24 in
// 48-frame packets, 32,000 packets a second) on loopback, recording. Every track must
// come out complete and bit-exact, the live mix must conceal nothing after its first
// second that a node's own busy machine does not explain, and the mixer's CPU is reported. TL_SCALE_SECONDS
// sets the take's length (20 s). Skipped in a sanitized build: 33 sanitized processes cannot keep this pace
// on two cores, and every path it runs is checked by the other integration tests.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000, kNodes = 32, kChannels = 8;

double take_seconds() {
  const char* v = std::getenv("TL_SCALE_SECONDS");
  return v != nullptr ? std::atof(v) : 20.0;
}

//! The process's user + system CPU time in seconds (from /proc/PID/stat).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  // Fields after the command name (in parentheses, which may hold spaces): utime is the
  // 12th and stime the 13th of them.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double utime = 0.0, stime = 0.0;
  for (int i = 1; i <= 13 && rest >> field; ++i) {
    if (i == 12) utime = std::atof(field.c_str());
    if (i == 13) stime = std::atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST(Scale, ThirtyTwoNodesOfEightChannelsAreRecordedBitExactWithNothingConcealed) {
  if (kSanitized) GTEST_SKIP() << "a figure of the plain build";
  const double seconds = take_seconds();
  Session s("scale");
  s.start_mixer();
  // One second of 8-channel 24-bit noise that every node loops: each sample of every
  // track can be found in it.
  std::vector<std::int32_t> source(static_cast<std::size_t>(kRate) * kChannels);
  std::mt19937 rng(17);
  for (auto& v : source) v = static_cast<std::int32_t>(rng() & 0xFFFFFF00u);
  const std::string file = s.dir() + "/loop.wav";
  ASSERT_TRUE(write_wav(file, kRate, kChannels, SF_FORMAT_PCM_24, source));
  std::vector<std::string> names;
  for (int n = 0; n < kNodes; ++n) {
    char name[8];
    std::snprintf(name, sizeof name, "n%02d", n);
    names.emplace_back(name);
    // No spool: on loopback nothing may be lost, and 32 spools would write as much as
    // the take itself; a recorder that fell behind shows as a lost sample. No real-time
    // priority: 32 senders at SCHED_FIFO on two cores (a studio runs one per machine)
    // would starve everything else here, the mixer's own recorder and the test included.
    s.start_capture(name, "file:" + file, {"--loop", "--spool-dir", "none", "--no-realtime"});
  }
  for (const auto& n : names) ASSERT_TRUE(s.wait_node_state(n, "streaming", 60s)) << n << "\n" << s.logs();
  s.wait_session(1.0);

  const pid_t mixer = s.mixer().pid();
  s.record_start("scale");
  const double cpu0 = cpu_seconds(mixer), t0 = s.session_seconds();
  s.wait_session(seconds);
  const double cpu = (cpu_seconds(mixer) - cpu0) / (s.session_seconds() - t0);
  const json status = s.tlctl_json({"status"});
  s.record_stop();

  const std::string dir = s.take_dir() + "/scale";
  const json take = read_json(dir + "/take.json");
  ASSERT_FALSE(take.is_discarded());
  EXPECT_EQ(take.value("state", ""), "complete");
  EXPECT_TRUE(take.value("complete", false)) << "a track is missing audio";
  ASSERT_EQ(take["tracks"].size(), static_cast<std::size_t>(kNodes * kChannels));
  const std::int64_t start = json_int(take, "start_sample");
  // The live mix: nothing concealed after the take's first second, unless a node's own
  // machine held its audio back longer than the play-out delay (never below the 20 ms
  // it starts at while a node's first 30 s are measured): 33 processes share two cores
  // here, the nodes without real-time priority, and a shared machine can stop one for
  // tens of milliseconds. The node says so (held_max_ms and held_max_at, and its latest
  // spells of long holds); a concealment no node's hold explains is the mixer's, and fails.
  const json nodes = s.tlctl_json({"nodes"});
  struct Hold {
    std::string node;
    double ms;
    std::int64_t at;
  };
  std::vector<Hold> holds;
  Hold worst{"-", 0.0, 0};
  for (const json& n : nodes["nodes"]) {
    const Hold h{n.value("name", ""), json_num(n, "held_max_ms"), json_int(n, "held_max_at")};
    if (h.ms > worst.ms) worst = h;
    if (h.ms >= 20.0) holds.push_back(h);
    for (const json& spell : n.value("long_holds", json::array())) {
      const Hold held{h.node, json_num(spell, "ms"), json_int(spell, "at")};
      if (held.ms >= 20.0) holds.push_back(held);
    }
  }
  std::int64_t concealed_late = 0, unexplained = 0;
  for (const json& g : take["mix"]["concealed"]) {
    const std::int64_t from = json_int(g, "from"), frames = json_int(g, "frames");
    if (from - start < kRate) continue;
    concealed_late += frames;
    bool explained = false;
    for (const Hold& h : holds) {
      // The blocks late for the mix are those captured during the hold (slack: two
      // blocks and the node's clock map).
      const auto held = static_cast<std::int64_t>(h.ms * kRate / 1000.0);
      explained = explained || (from + frames > h.at - 480 && from < h.at + held + 480);
    }
    if (!explained) unexplained += frames;
  }
  std::printf(
      "[ figure ] 256 channels (32 nodes x 8, PCM24, 48-frame packets), %.0f s: mixer %.1f%% of a core "
      "recording, play-out delay %.1f ms, mix frames concealed after the first second %lld (%lld not "
      "explained by a node's own hold), longest hold at a node %.1f ms (%s), real-time %s\n",
      seconds, 100.0 * cpu, json_num(status, "latency_ms"), static_cast<long long>(concealed_late),
      static_cast<long long>(unexplained), worst.ms, worst.node.c_str(),
      status.value("realtime", "").empty() ? "yes" : status.value("realtime", "").c_str());
  EXPECT_EQ(unexplained, 0) << take["mix"].dump();

  // Every raw track: the node's samples exactly, at their stamps, the loop unbroken.
  std::int64_t checked = 0;
  for (const json& t : take["tracks"]) {
    SCOPED_TRACE(t.value("file", ""));
    EXPECT_EQ(json_int(t, "lost_samples"), 0);
    const int c = t.value("channel", 0) - 1;
    ASSERT_GE(c, 0);
    const Audio raw = read_raw_track(dir, t);
    ASSERT_EQ(raw.channels, 1);
    const std::int64_t first = json_int(t, "raw_first_sample", json_int(t, "first_sample")) - start;
    ASSERT_GE(first, 0);
    ASSERT_LT(first + kRate, raw.frames());
    // Where in the loop the track's first samples are: a run of four, as one 24-bit
    // value is found twice in a second of noise (~70 such pairs per channel).
    std::int64_t phase = -1;
    for (std::int64_t i = 0; i < kRate && phase < 0; ++i) {
      bool same = true;
      for (std::int64_t k = 0; k < 4 && same; ++k) {
        same = source[static_cast<std::size_t>(((i + k) % kRate) * kChannels + c)] ==
               raw.samples[static_cast<std::size_t>(first + k)];
      }
      if (same) phase = i;
    }
    ASSERT_GE(phase, 0) << "the first sample is not the node's";
    std::int64_t mismatches = 0;
    for (std::int64_t i = first; i < raw.frames(); ++i) {
      const std::int64_t k = (phase + i - first) % kRate;
      if (source[static_cast<std::size_t>(k * kChannels + c)] != raw.samples[static_cast<std::size_t>(i)] &&
          mismatches++ < 3) {
        ADD_FAILURE() << "frame " << i << " is not the node's sample";
      }
    }
    EXPECT_EQ(mismatches, 0);
    checked += raw.frames() - first;
  }
  EXPECT_GT(checked, static_cast<std::int64_t>(0.9 * seconds * kRate) * kNodes * kChannels);
}

}  // namespace
}  // namespace tl::test
