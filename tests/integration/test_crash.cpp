// A mixer killed with SIGKILL in the middle of a take: its files stay readable up
// to within a second of the kill, and the mixer that starts next on the same record
// directory reports the unfinished take (log, tlctl takes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;

TEST(Crash, AMixerKilledMidTakeLeavesReadableFilesAndReportsTheTakeOnRestart) {
  Session s("crash");
  s.start_mixer();
  s.start_capture("far", "tone:440", {"--level-db", "-12"});
  ASSERT_TRUE(s.wait_node_state("far", "streaming")) << s.logs();
  const json started = s.record_start("killed");
  const std::int64_t start = json_int(started, "start_sample");
  s.wait_session(6.0);
  const double killed_at = s.session_seconds();  // just before the kill (a later kill only helps the files)
  s.mixer().kill_hard();

  // What any reader sees now: the track and the mix, up to their last header refresh.
  const std::string dir = s.take_dir() + "/killed";
  const Audio track = read_audio(dir + "/far-1.wav");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(track.channels, 1);
  ASSERT_EQ(mix.channels, 2);
  const double recorded = static_cast<double>(killed_at * kRate - static_cast<double>(start)) / kRate;
  const double track_s = static_cast<double>(track.frames()) / kRate;
  const double mix_s = static_cast<double>(mix.frames()) / kRate;
  std::printf(
      "[ figure ] killed %.2f s into the take: far-1.wav readable to %.2f s (%.2f s short), mix.wav to %.2f s "
      "(%.2f s short)\n",
      recorded, track_s, recorded - track_s, mix_s, recorded - mix_s);
  EXPECT_GT(track_s, recorded - 1.0) << "the track is more than a second short of the kill";
  EXPECT_GT(mix_s, recorded - 1.0) << "mix.wav is more than a second short of the kill";
  // And what is there is the node's tone, to its last frame (not silence written ahead).
  ASSERT_GT(track.frames(), kRate);
  std::int32_t peak = 0;
  for (std::int64_t f = track.frames() - kRate / 10; f < track.frames(); ++f) {
    peak = std::max(peak, std::abs(track.samples[static_cast<std::size_t>(f)]));
  }
  EXPECT_NEAR(20.0 * std::log10(peak / 2147483648.0), -12.0, 0.5) << "the file's last 100 ms are not the tone";

  // The next mixer on the same record directory names the take it did not finish.
  s.start_mixer();
  ASSERT_TRUE(s.mixer().wait_for_output("take killed", 10s)) << s.mixer().err();
  EXPECT_NE(s.mixer().err().find("was not finished"), std::string::npos) << s.mixer().err();
  const RunResult listed = s.tlctl({"takes"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("unfinished"), std::string::npos) << listed.out;
  const json takes = s.tlctl_json({"takes"});
  ASSERT_EQ(takes["takes"].size(), 1u) << takes.dump();
  const json& take = takes["takes"][0];
  EXPECT_EQ(take.value("take_name", ""), "killed");
  EXPECT_EQ(take.value("state", ""), "unfinished");
  EXPECT_FALSE(take.value("complete", true));
  EXPECT_NEAR(json_num(take, "seconds"), std::max(track_s, mix_s), 0.01);
}

}  // namespace
}  // namespace tl::test
