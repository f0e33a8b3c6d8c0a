// Personal cue mixes: the mixer streams each performer's own mix back to their node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

TEST(Cue, APerformerHearsTheMixWithMoreOfThemselvesOnTheirOwnNode) {
  Session s("cue_file");
  s.start_mixer({"--latency-ms", "20"});
  const std::string cue_file = s.dir() + "/singer-cue.wav";
  s.start_capture("singer", "tone:440", {"--cue", "file:" + cue_file});
  s.start_capture("band", "tone:1000");
  ASSERT_TRUE(s.wait_node_state("singer", "streaming")) << s.logs();
  ASSERT_TRUE(s.wait_node_state("band", "streaming")) << s.logs();
  // The node asked for its cue mix when it registered; it plays it and reports back.
  ASSERT_TRUE(wait_until([&] { return json_int(s.node("singer"), "cue_packets") > 200; }, 20s, 100ms))
      << s.node("singer").dump() << s.logs();
  const json node = s.node("singer");
  EXPECT_TRUE(node.value("cue_on", false));
  EXPECT_EQ(node.value("cue_output", ""), "file:" + cue_file);
  const double latency = json_num(node, "cue_latency_ms");
  std::printf("[ figure ] cue latency %.1f ms (20 ms play-out delay, loopback)\n", latency);
  EXPECT_GT(latency, 20.0) << "the mix runs 20 ms behind the session clock";
  EXPECT_LT(latency, 200.0);
  EXPECT_FALSE(s.node("band").value("cue_on", false)) << "only a node that asks gets a cue mix";

  s.wait_session(1.0);
  const RunResult me = s.tlctl({"cue", "singer", "me", "+6"});
  ASSERT_EQ(me.exit_code, 0) << me.err;
  EXPECT_NE(me.out.find("me +6.0 dB"), std::string::npos) << me.out;
  s.wait_session(1.0);
  ASSERT_EQ(s.tlctl({"cue", "singer", "level", "band", "-60"}).exit_code, 0);
  s.wait_session(1.0);
  // Bad requests: clear errors, nothing changes.
  EXPECT_EQ(s.tlctl({"cue", "singer", "level", "nobody", "-6"}).exit_code, 1);
  EXPECT_EQ(s.tlctl({"cue", "band", "me", "+3"}).exit_code, 1) << "band has no cue mix on";
  EXPECT_EQ(s.tlctl({"cue", "singer", "me", "+30"}).exit_code, 2);
  // Its hearing protection: the limiter's ceiling, kept for the node.
  const RunResult limit = s.tlctl({"cue", "singer", "limit", "-3"});
  EXPECT_EQ(limit.exit_code, 0) << limit.err;
  EXPECT_NE(limit.out.find("limiter ceiling -3.0 dBTP"), std::string::npos) << limit.out;
  EXPECT_EQ(s.tlctl({"cue", "singer", "limit", "+3"}).exit_code, 2);
  s.capture("singer").stop();  // the node closes its cue file

  // The file holds the cue mix as it changed: both tones at the mix's level (-12 dBFS,
  // centre -3 dB), then the singer 6 dB up, then the band gone.
  const Audio cue = read_audio(cue_file);
  ASSERT_EQ(cue.channels, 2);
  ASSERT_GT(cue.frames(), 3 * 48000);
  const std::int64_t window = 4800;
  std::vector<int> states;         // per 0.1 s: 0 both equal, 1 singer +6 dB, 2 singer alone, -1 in between
  std::vector<double> level_both;  // the singer's level in the windows with both equal
  for (std::int64_t f = 0; f + window <= cue.frames(); f += window) {
    const double singer = tone_amplitude(cue, 0, f, window, 440.0);
    const double band = tone_amplitude(cue, 0, f, window, 1000.0);
    const double ratio_db = 20.0 * std::log10(singer / std::max(band, 1e-9));
    int state = -1;
    if (std::fabs(ratio_db) < 0.5) {
      state = 0;
      level_both.push_back(singer);
    } else if (std::fabs(ratio_db - 6.0) < 0.5) {
      state = 1;
    } else if (ratio_db > 50.0) {
      state = 2;
    }
    if (states.empty() || states.back() != state) states.push_back(state);
  }
  // Before the band's node joined the mix, the singer heard only themselves: from the
  // first window with both on.
  std::vector<int> settled;
  for (int st : states) {
    if (st >= 0 && (st == 0 || !settled.empty())) settled.push_back(st);
  }
  EXPECT_EQ(settled, (std::vector<int>{0, 1, 2})) << "the cue mix's states in order, 0.1 s windows";
  // The median window: the last one may end just after 'me +6' (up to 0.5 dB up and still
  // counted as equal).
  ASSERT_FALSE(level_both.empty());
  std::nth_element(level_both.begin(),
                   level_both.begin() + static_cast<std::ptrdiff_t>(level_both.size() / 2), level_both.end());
  EXPECT_NEAR(20.0 * std::log10(level_both[level_both.size() / 2]), -12.0 - 3.01, 0.3)
      << "each tone at its mix level, centre-panned";
}

TEST(Cue, ALevelForANodeThatPlaysACueTurnsItBackOn) {
  Session s("cue_implicit_on");
  s.start_mixer();
  s.start_capture("singer", "tone:440", {"--cue", "file:" + s.dir() + "/singer-cue.wav"});
  s.start_capture("band", "tone:1000");
  for (const char* n : {"singer", "band"}) ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  ASSERT_TRUE(wait_until([&] { return s.node("singer").value("cue_on", false); }, 20s, 100ms)) << s.logs();

  // Turned off, then a level set: the operator means it to be heard, so it comes back on.
  ASSERT_EQ(s.tlctl({"cue", "singer", "off"}).exit_code, 0);
  EXPECT_FALSE(s.node("singer").value("cue_on", true));
  const RunResult me = s.tlctl({"cue", "singer", "me", "+6"});
  EXPECT_EQ(me.exit_code, 0) << me.err;
  EXPECT_NE(me.out.find("singer: cue mix on"), std::string::npos) << me.out;
  EXPECT_NE(me.out.find("me +6.0 dB"), std::string::npos) << me.out;
  EXPECT_TRUE(s.node("singer").value("cue_on", false));
  const std::int64_t played = json_int(s.node("singer"), "cue_packets");
  ASSERT_TRUE(
      wait_until([&] { return json_int(s.node("singer"), "cue_packets") > played + 100; }, 20s, 100ms))
      << "the node plays it again: " << s.node("singer").dump();

  // A node that plays no cue mix gets none by a level: the refusal says how to give it one.
  const RunResult band = s.tlctl({"cue", "band", "me", "+3"});
  EXPECT_EQ(band.exit_code, 1) << band.err;
  EXPECT_NE(band.err.find("plays none (start its tl-capture with --cue"), std::string::npos) << band.err;
  EXPECT_FALSE(s.node("band").value("cue_on", true)) << "no cue mix taken for nobody to hear";
}

}  // namespace
}  // namespace tl::test
