// A mixer killed with SIGKILL in the middle of a take: its files stay readable up
// to within a second of the kill. The mixer that starts next on the same record
// directory goes on with the take (second test); with --no-resume it reports the
// unfinished take (log, tlctl takes), goes on with the same
// session timeline, and completes the take from the node's spool once the node
// is back (tlctl record recover): bit-exact to the kill, nothing missing. A node
// that left before the take has no track in it and is not waited for. A node started
// again while its mixer is away captures into its spool on the session's timeline.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;

TEST(Crash, AMixerKilledMidTakeLeavesReadableFilesAndTheNextCompletesTheTakeFromTheSpool) {
  Session s("crash");
  // Mono 24-bit noise: every sample distinct, so a single wrong one shows.
  std::vector<std::int32_t> source(30 * kRate);
  std::mt19937 rng(9);
  for (auto& v : source) v = static_cast<std::int32_t>(rng() & 0xFFFFFF00u);
  const std::string file = s.dir() + "/source.wav";
  ASSERT_TRUE(write_wav(file, kRate, 1, SF_FORMAT_PCM_24, source));

  s.start_mixer();
  // A node that came and went before the take: it has no track in it, and the take's
  // recovery does not wait for it.
  s.start_capture("left", "tone:300");
  ASSERT_TRUE(s.wait_node_state("left", "streaming")) << s.logs();
  s.capture("left").stop();
  ASSERT_TRUE(s.wait_node_state("left", "gone")) << s.logs();
  const json started = s.record_start("killed");
  const std::int64_t start = json_int(started, "start_sample");
  s.start_capture("far", "file:" + file);
  ASSERT_TRUE(s.wait_node_state("far", "streaming")) << s.logs();
  // A node of the take that will not come back: recovery goes on without it only when
  // asked, and says what its track misses and why.
  s.start_capture("gone", "tone:500");
  ASSERT_TRUE(s.wait_node_state("gone", "streaming")) << s.logs();
  s.wait_session(2.0);
  // A change during the take: automation.json is journaled as the take goes.
  ASSERT_EQ(s.tlctl({"gain", "far/1", "-6"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"mute", "far/1"}).exit_code, 0);
  s.wait_session(4.0);
  s.capture("gone").stop();
  const double killed_at = s.session_seconds();  // just before the kill (a later kill only helps the files)
  s.mixer().kill_hard();

  // What any reader sees now: the track and the mix, up to their last header refresh.
  const std::string dir = s.take_dir() + "/killed";
  const Audio track = read_audio(dir + "/far-1.wav");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(track.channels, 1);
  ASSERT_EQ(mix.channels, 2);
  const double recorded = (killed_at * kRate - static_cast<double>(start)) / kRate;
  const double track_s = static_cast<double>(track.frames()) / kRate;
  const double mix_s = static_cast<double>(mix.frames()) / kRate;
  std::printf(
      "[ figure ] killed %.2f s into the take: far-1.wav readable to %.2f s (%.2f s short), mix.wav to %.2f "
      "s "
      "(%.2f s short)\n",
      recorded, track_s, recorded - track_s, mix_s, recorded - mix_s);
  EXPECT_GT(track_s, recorded - 1.0) << "the track is more than a second short of the kill";
  EXPECT_GT(mix_s, recorded - 1.0) << "mix.wav is more than a second short of the kill";

  // The next mixer on the same record directory, told not to go on with it, names the
  // take it did not finish.
  s.start_mixer({"--no-resume"});
  ASSERT_TRUE(s.mixer().wait_for_output("take killed", 10s)) << s.mixer().err();
  EXPECT_NE(s.mixer().err().find("was not finished"), std::string::npos) << s.mixer().err();
  EXPECT_NE(s.mixer().err().find("session timeline goes on"), std::string::npos) << s.mixer().err();
  const RunResult listed = s.tlctl({"takes"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("unfinished"), std::string::npos) << listed.out;
  const json takes = s.tlctl_json({"takes"});
  ASSERT_EQ(takes["takes"].size(), 1u) << takes.dump();
  EXPECT_EQ(takes["takes"][0].value("state", ""), "unfinished");
  EXPECT_EQ(read_json(dir + "/take.json").value("state", ""), "unfinished") << "the file says the same";
  // Described from its files: as long as the longest (gone's stopped before the kill, but
  // its file is written out as far as the others, or further at a header refresh).
  const double gone_s = static_cast<double>(read_audio(dir + "/gone-1.wav").frames()) / kRate;
  EXPECT_NEAR(json_num(takes["takes"][0], "seconds"), std::max({track_s, mix_s, gone_s}), 0.01);

  // Without its node the take cannot be completed; the message says what to do.
  s.capture("far").stop();
  const RunResult early = s.tlctl({"record", "recover", "killed"});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("not connected: 'far', 'gone';"), std::string::npos) << early.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/left-1.wav")) << "a node gone before the take has no track";

  // A bad name is a usage error (tlctl checks the mixer's name rule); an unknown or
  // complete take is refused with the reason.
  const RunResult escape = s.tlctl({"record", "recover", "../killed"});
  EXPECT_EQ(escape.exit_code, 2);
  EXPECT_NE(escape.err.find("bad take name"), std::string::npos) << escape.err;
  const RunResult nothing = s.tlctl({"record", "recover", "never-recorded"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_NE(nothing.err.find("no take 'never-recorded'"), std::string::npos) << nothing.err;

  // The node comes back (same name, same spool) and the take is completed from it.
  s.start_capture("far", "file:" + file);
  ASSERT_TRUE(s.wait_node_state("far", "streaming")) << s.logs();
  // The desk came back with the mixer: the strip has the gain and mute set before the kill.
  const json strip = s.tlctl_json({"strip", "far/1", "show"});
  EXPECT_NEAR(json_num(strip["channel"], "gain_db"), -6.0, 1e-6) << strip.dump();
  EXPECT_TRUE(strip["channel"].value("mute", false)) << strip.dump();
  EXPECT_NE(s.mixer().err().find("restored from the last desk"), std::string::npos) << s.mixer().err();
  const RunResult waits = s.tlctl({"record", "recover", "killed"});
  EXPECT_EQ(waits.exit_code, 1);
  EXPECT_NE(waits.err.find("not connected: 'gone';"), std::string::npos) << waits.err;
  EXPECT_NE(waits.err.find("--skip-absent"), std::string::npos) << waits.err;
  const RunResult recovered = s.tlctl({"record", "recover", "killed", "--skip-absent"});
  ASSERT_EQ(recovered.exit_code, 0) << recovered.err << s.logs();
  const json take = wait_take_closed(dir);  // a moved track is written after the answer
  ASSERT_FALSE(take.is_discarded());
  EXPECT_EQ(take.value("state", ""), "incomplete") << "gone's track is short";
  EXPECT_TRUE(take.value("recovered_after_mixer_stop", false));
  ASSERT_EQ(take["tracks"].size(), 2u);
  const json* skipped = find_track(take, "gone", 1);
  ASSERT_NE(skipped, nullptr) << take.dump(2);
  EXPECT_FALSE(skipped->value("complete", true)) << skipped->dump();
  EXPECT_GT(json_int(*skipped, "lost_samples"), 0) << skipped->dump();
  EXPECT_NE(skipped->value("missing_reason", "").find("not connected when the take was recovered"),
            std::string::npos)
      << skipped->dump();
  const json* far = find_track(take, "far", 1);
  ASSERT_NE(far, nullptr) << take.dump(2);
  const json& t = *far;
  EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
  EXPECT_TRUE(t.value("complete", false)) << t.dump();
  const Audio raw = read_raw_track(dir, t);
  // raw/ is where the packets' stamps put it (first_sample follows any conform move).
  const std::int64_t offset = json_int(t, "raw_first_sample") - start;
  ASSERT_GT(offset, 0);
  const std::int64_t frames = raw.frames() - offset;
  std::printf(
      "[ figure ] recovered: %.2f s of the node's audio (%.2f s short of the kill), %lld samples from its "
      "spool\n",
      static_cast<double>(raw.frames()) / kRate, recorded - static_cast<double>(raw.frames()) / kRate,
      static_cast<long long>(json_int(t, "recovered_samples")));
  // It runs to where the take had got to (.alive, written every 20 ms), past what
  // the files held, and within 0.3 s of the kill even on a busy machine (was 1 s with .alive
  // at 4 Hz).
  EXPECT_GE(static_cast<double>(raw.frames()) / kRate, track_s)
      << "the recovered take is shorter than its files";
  EXPECT_GT(static_cast<double>(raw.frames()) / kRate, recorded - 0.3)
      << "the take ends well before the kill";
  EXPECT_GT(json_int(t, "recovered_samples"), 0) << "nothing came from the spool";
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < frames; ++i) {
    const std::int32_t want = source[static_cast<std::size_t>(i)];
    const std::int32_t got = raw.samples[static_cast<std::size_t>(offset + i)];
    if (want != got && mismatches++ < 5)
      ADD_FAILURE() << "frame " << i << ": want " << want << " got " << got;
  }
  EXPECT_EQ(mismatches, 0);
  // The change made before the kill survived it, and the recovered take renders.
  const json automation = read_json(dir + "/automation.json");
  ASSERT_TRUE(automation.contains("changes")) << automation.dump();
  ASSERT_EQ(automation["changes"].size(), 2u) << automation.dump();
  EXPECT_EQ(automation["changes"][0].value("target", ""), "far/1");
  EXPECT_TRUE(automation["changes"][1]["state"]["channel"].value("mute", false)) << automation.dump();
  const RunResult render = run({bin("tl-render"), dir, "--quiet"}, 120s);
  EXPECT_EQ(render.exit_code, 0) << render.out << render.err;

  const RunResult again = s.tlctl({"record", "recover", "killed"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("is incomplete"), std::string::npos) << again.err;
}

//! Mono 24-bit noise of `seconds`, every sample distinct: a single wrong one shows.
std::vector<std::int32_t> noise(double seconds, unsigned seed) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(seconds * kRate));
  std::mt19937 rng(seed);
  for (auto& x : v) x = static_cast<std::int32_t>(rng() & 0xFFFFFF00u);
  return v;
}

// The figure: a mixer killed 4 s into a take and started again 3 s later on the
// same folders goes on with the take; stopped 4 s after that, every track is its source,
// bit for bit, over the whole take, the 3 s without a mixer included (the nodes kept
// their timelines and spooled meanwhile), and the desk and automation came through.
TEST(Crash, ATakeGoesOnThroughAMixerKilledAndStartedAgainWithNothingLost) {
  Session s("crash_goes_on");
  const std::map<std::string, std::vector<std::int32_t>> sources = {{"a", noise(40, 21)},
                                                                    {"b", noise(40, 22)}};
  s.reserve_port();  // the restarted mixer listens where the nodes look for it
  s.start_mixer();
  const json started = s.record_start("goes-on");
  const std::int64_t start = json_int(started, "start_sample");
  for (const auto& [name, samples] : sources) {
    const std::string file = s.dir() + "/" + name + ".wav";
    ASSERT_TRUE(write_wav(file, kRate, 1, SF_FORMAT_PCM_24, samples));
    // a plays its personal cue mix (to a file): its levels are part of the desk too.
    if (name == "a") {
      s.start_capture(name, "file:" + file, {"--cue", "file:" + s.dir() + "/a-cue.wav"});
    } else {
      s.start_capture(name, "file:" + file);
    }
  }
  for (const auto& [name, samples] : sources) ASSERT_TRUE(s.wait_node_state(name, "streaming")) << s.logs();
  s.wait_session(1.0);
  ASSERT_EQ(s.tlctl({"gain", "a/1", "-6"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"mute", "b/1"}).exit_code, 0);
  const RunResult more_me = s.tlctl({"cue", "a", "me", "+6"});
  ASSERT_EQ(more_me.exit_code, 0) << more_me.err;
  const RunResult less_b = s.tlctl({"cue", "a", "level", "b", "-3"});
  ASSERT_EQ(less_b.exit_code, 0) << less_b.err;
  // The desk is kept within half a second of a change: the kill comes after that.
  const std::string desk_file = s.take_dir() + "/.desk/current.json";
  ASSERT_TRUE(wait_until(
      [&] {
        const json desk = read_json(desk_file);
        return desk.contains("cues") && !desk["cues"].empty() &&
               desk["cues"][0].value("levels", json::array()).size() == 2;
      },
      10s, 50ms))
      << read_json(desk_file).dump();
  while (s.session_seconds() < static_cast<double>(start) / kRate + 4.0) s.wait_session(0.1);
  s.mixer().kill_hard();
  // The mixer stays down for 3 s: the outage is the scenario, not a wait for a condition.
  std::this_thread::sleep_for(3s);
  s.start_mixer();
  ASSERT_TRUE(s.mixer().wait_for_output("goes on", 20s)) << s.mixer().err();
  for (const auto& [name, samples] : sources) ASSERT_TRUE(s.wait_node_state(name, "streaming")) << s.logs();
  EXPECT_NE(s.capture("a").err().find("its timeline goes on"), std::string::npos) << s.capture("a").err();
  // The desk came back with the mixer, each strip as its node rejoined.
  const json a = s.tlctl_json({"strip", "a/1", "show"});
  EXPECT_NEAR(json_num(a["channel"], "gain_db"), -6.0, 1e-6) << a.dump();
  EXPECT_TRUE(s.tlctl_json({"strip", "b/1", "show"})["channel"].value("mute", false));
  // And a's cue mix as its performer had it: more of itself, less of b.
  const json cue = s.tlctl_json({"cue", "a", "show"});
  EXPECT_TRUE(cue.value("on", false)) << cue.dump();
  std::map<std::string, double> levels;
  for (const auto& l : cue.value("levels", json::array()))
    levels[l.value("source", "")] = json_num(l, "level_db");
  EXPECT_NEAR(levels["a"], 6.0, 1e-6) << cue.dump();
  EXPECT_NEAR(levels["b"], -3.0, 1e-6) << cue.dump();
  s.wait_session(4.0);
  const json stopped = s.record_stop();

  const std::string dir = s.take_dir() + "/goes-on";
  const json take = read_json(dir + "/take.json");
  EXPECT_EQ(take.value("state", ""), "complete") << take.dump(2);
  ASSERT_TRUE(take.contains("mixer_down")) << take.dump(2);
  ASSERT_EQ(take["mixer_down"].size(), 1u);
  const double down_s = static_cast<double>(json_int(take["mixer_down"][0], "frames")) / kRate;
  const double take_s = json_num(take, "seconds");
  std::printf("[ figure ] take %.2f s, no mixer for %.2f s of it\n", take_s, down_s);
  EXPECT_GT(down_s, 2.9);
  EXPECT_LT(down_s, 10.0);
  for (const auto& [name, samples] : sources) {
    const json* t = find_track(take, name, 1);
    ASSERT_NE(t, nullptr) << take.dump(2);
    EXPECT_TRUE(t->value("complete", false)) << t->dump();
    EXPECT_EQ(json_int(*t, "lost_samples"), 0) << t->dump();
    const Audio raw = read_raw_track(dir, *t);
    const std::int64_t offset = json_int(*t, "raw_first_sample") - start;
    ASSERT_GT(offset, 0) << t->dump();
    const std::int64_t frames = raw.frames() - offset;
    std::printf(
        "[ figure ] %s-1: %.2f s bit-exact from its first sample to the stop, %lld samples from its spool\n",
        name.c_str(), static_cast<double>(frames) / kRate,
        static_cast<long long>(json_int(*t, "recovered_samples")));
    EXPECT_GT(static_cast<double>(frames) / kRate, take_s - 2.0) << "the track runs to the stop";
    EXPECT_EQ(count_mismatches(samples, 1, 0, raw, offset, frames), 0) << name;
  }
  const json automation = read_json(dir + "/automation.json");
  ASSERT_GE(automation["changes"].size(), 2u) << automation.dump();
  EXPECT_EQ(automation["changes"][0].value("target", ""), "a/1");
  EXPECT_EQ(automation["changes"][1].value("target", ""), "b/1");
  (void)stopped;
}

TEST(Crash, ANodeStartedAgainWhileItsMixerIsAwaySpoolsOnTheSessionTimeline) {
  Session s("crash_node_first");
  s.reserve_port();  // the restarted mixer listens where the node looks for it
  s.start_mixer();
  s.start_capture("a", "tone:440");
  ASSERT_TRUE(s.wait_node_state("a", "streaming")) << s.logs();
  // While it streams, its spool keeps the session's timeline.
  const std::string kept = s.dir() + "/spool-a/timeline";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(kept); }, 20s, 100ms)) << s.logs();
  s.record_start("node-first");
  s.wait_session(1.0);

  // Both go down; the node comes back first and captures with no mixer to answer it.
  s.mixer().kill_hard();
  s.capture("a").kill_hard();
  Process& again = s.start_capture("a", "tone:440");
  ASSERT_TRUE(again.wait_for_output("capturing into the spool until the mixer answers", 20s)) << again.err();
  // The mixer stays away for 3 s: that outage is the scenario, not a wait for a condition.
  std::this_thread::sleep_for(3s);
  s.start_mixer();
  ASSERT_TRUE(s.wait_node_state("a", "streaming", 30s)) << s.logs();
  EXPECT_NE(again.err().find("its timeline goes on"), std::string::npos) << again.err();
  s.wait_session(1.0);
  s.record_stop();

  const json take = read_json(s.take_dir() + "/node-first/take.json");
  const json* track = find_track(take, "a", 1);
  ASSERT_NE(track, nullptr) << take.dump(2);
  const double lost_s = static_cast<double>(json_int(*track, "lost_samples")) / kRate;
  const double recovered_s = static_cast<double>(json_int(*track, "recovered_samples")) / kRate;
  std::printf("[ figure ] node down %.3f s of the take; %.3f s recovered from its spool\n", lost_s,
              recovered_s);
  // Only the time the node itself was not running is missing (well under the 3 s the
  // mixer was away, which its spool holds); without the kept timeline all of it was.
  EXPECT_LT(lost_s, 2.0) << track->dump(2);
  EXPECT_GT(recovered_s, 2.5) << track->dump(2);
  if (lost_s > 0.0) {
    EXPECT_NE(track->value("missing_reason", "").find("not running"), std::string::npos) << track->dump(2);
  }
}

}  // namespace
}  // namespace tl::test
