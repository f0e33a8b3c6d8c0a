// tl-render: a recorded take mixed again offline from its tracks and automation.json.
#include <gtest/gtest.h>

#include <sndfile.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;

//! A take with a mix set up before it (EQ, HPF, gain, pan, a group bus, the limiter)
//! and changed during it (gain, EQ, pan, a reverb send).
std::string record_automated_take(Session& s) {
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("a", "tone:440", {"--channels", "2"});
  s.start_capture("b", "noise");
  for (const char* n : {"a", "b"}) EXPECT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  const std::vector<std::vector<std::string>> before = {
      {"strip", "a/2", "eq", "2", "freq=2.5k", "gain=-3", "q=1.2"},
      {"strip", "a/1", "hpf", "120"},
      {"gain", "a/1", "-6"},
      {"pan", "b/1", "-0.4"},
      {"strip", "b/1", "route", "bus3"},
      {"bus", "bus3", "fader", "-2"},
      {"master", "limiter", "on", "ceiling=-1"},
  };
  for (const auto& c : before) EXPECT_EQ(s.tlctl(c).exit_code, 0) << c[0] << " " << c[1];
  s.wait_session(0.3);
  s.record_start("rendered");
  s.wait_session(0.7);
  EXPECT_EQ(s.tlctl({"gain", "a/1", "-12"}).exit_code, 0);
  s.wait_session(0.3);
  EXPECT_EQ(s.tlctl({"strip", "a/2", "eq", "2", "freq=2.5k", "gain=6", "q=1.2"}).exit_code, 0);
  s.wait_session(0.3);
  EXPECT_EQ(s.tlctl({"pan", "b/1", "0.7"}).exit_code, 0);
  EXPECT_EQ(s.tlctl({"strip", "b/1", "send", "1", "level=-10"}).exit_code, 0);
  s.wait_session(0.6);
  s.record_stop();
  return s.take_dir() + "/rendered";
}

TEST(Render, ATakeRenderedFromItsRawTracksAndAutomationIsItsLiveMix) {
  Session s("render_exact");
  const std::string take = record_automated_take(s);
  const json doc = read_json(take + "/automation.json");
  ASSERT_EQ(doc["changes"].size(), 4u) << doc["changes"].dump();

  // The live mix's own inputs (raw/, at their stamps) through the engine again, with every
  // change at its recorded frame, the nodes summed in the live order: mix.wav exactly from
  // 0.25 s on (before that, the live filters still held audio from before the take).
  const std::string out = s.dir() + "/again.wav";
  const RunResult r = run({bin("tl-render"), take, "--raw", "--out", out, "--compare", "--settle", "0.25",
                           "--tolerance-lsb", "0", "--quiet"},
                          120s);
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("3 tracks, 4 changes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max difference 0 LSB, 0 frames over 0 LSB"), std::string::npos) << r.out;

  const Audio mix = read_audio(take + "/mix.wav");
  const Audio again = read_audio(out);
  ASSERT_EQ(again.channels, 2);
  ASSERT_EQ(again.frames(), mix.frames());
  // Not a copy of mix.wav: the first frames (no pre-take history) differ.
  std::int64_t early_diff = 0;
  for (std::int64_t i = 0; i < 2 * 480; ++i) {
    early_diff += mix.samples[static_cast<std::size_t>(i)] != again.samples[static_cast<std::size_t>(i)];
  }
  EXPECT_GT(early_diff, 0) << "a render has no audio from before the take";

  // Without its changes, the same tracks do not make this mix: the render depends on them.
  const std::string stripped = s.dir() + "/stripped";
  fs::create_directories(stripped + "/raw");
  for (const auto& e : fs::recursive_directory_iterator(take)) {
    if (e.is_regular_file()) fs::copy_file(e.path(), stripped / fs::relative(e.path(), take));
  }
  json flat = doc;
  flat["changes"] = json::array();
  std::ofstream(stripped + "/automation.json") << flat.dump();
  const RunResult f =
      run({bin("tl-render"), stripped, "--raw", "--compare", "--settle", "0.25", "--quiet"}, 120s);
  EXPECT_EQ(f.exit_code, 3) << f.out << f.err;

  // The default render mixes the session-aligned tracks.
  const RunResult d = run({bin("tl-render"), take, "--quiet"}, 120s);
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_EQ(read_audio(take + "/mix-render.wav").frames(), mix.frames());

  // tl-master takes the take folder itself: mixed as tl-render mixes it, then mastered.
  const std::string master = s.dir() + "/master.wav";
  const RunResult m = run({bin("tl-master"), take, "-o", master, "--preset", "ebu-r128", "--quiet"}, 120s);
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_NE(m.out.find("(its tracks mixed)"), std::string::npos) << m.out;
  const Audio mastered = read_audio(master);
  EXPECT_EQ(mastered.frames(), mix.frames());
  EXPECT_NEAR(integrated_lufs(mastered), -23.0, 0.5);
  EXPECT_LE(true_peak_dbtp(mastered), -1.0);
  EXPECT_FALSE(fs::exists(master + ".mix.wav")) << "the take's mix was a step, not a result";

  // The same job on the mixer's machine, from the operator's terminal: the same master,
  // sample for sample, into the take's master/ folder; a second one keeps the first.
  RunResult t = s.tlctl({"take", "master", "rendered", "--preset", "ebu-r128"}, 120s);
  ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_NE(t.out.find("take 'rendered' mastered (ebu-r128)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("-23.0 LUFS integrated"), std::string::npos) << t.out;
  EXPECT_NE(t.err.find("mastering rendered (ebu-r128):"), std::string::npos) << "a progress line: " << t.err;
  const Audio remote = read_audio(take + "/master/ebu-r128.wav");
  ASSERT_EQ(remote.samples.size(), mastered.samples.size());
  EXPECT_TRUE(remote.samples == mastered.samples) << "the mixer's master is tl-master's";
  t = s.tlctl({"take", "master", "rendered", "--preset", "ebu-r128", "--target", "-20", "--json"}, 120s);
  ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
  const json state = json::parse(t.out);
  EXPECT_EQ(state["state"], "done");
  EXPECT_EQ(state["output"], take + "/master/ebu-r128-2.wav");
  EXPECT_NEAR(json_num(state, "integrated_lufs"), -20.0, 0.2);
  EXPECT_NEAR(integrated_lufs(read_audio(take + "/master/ebu-r128-2.wav")), -20.0, 0.5);
  EXPECT_EQ(read_audio(take + "/master/ebu-r128.wav").samples, mastered.samples) << "the first is kept";
  t = s.tlctl({"take", "master", "rendered", "--status"});
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("ebu-r128-2.wav"), std::string::npos) << t.out;
  EXPECT_FALSE(fs::exists(take + "/master/ebu-r128-2.wav.mix.wav")) << "the job's mix was a step";
  // Refusals, with the usual exit codes: unknown take 1, bad preset or target 2.
  t = s.tlctl({"take", "master", "nope"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("no take named 'nope'"), std::string::npos) << t.err;
  t = s.tlctl({"take", "master", "rendered", "--preset", "loud"});
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.err.find("no delivery preset 'loud' (streaming, apple"), std::string::npos) << t.err;
  EXPECT_EQ(s.tlctl({"take", "master", "rendered", "--target", "-60"}).exit_code, 2);
}

TEST(Render, AsLiveRepeatsTheLiveMixConcealmentIncludedToTheLsb) {
  Session s("render_as_live");
  // A fixed delay no resend beats: the packets netem drops are concealed live (and
  // backfilled into the recording from the node's spool).
  s.start_mixer({"--latency-ms", "15"});
  Process netem({bin("tl-netem"), "--listen", "127.0.0.1:0", "--forward", s.mixer_address(), "--loss", "3",
                 "--one-way", "--seed", "21", "--stats-interval", "0"},
                s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();
  s.start_capture("far", "tone:330", {"--audio-to", proxy});
  s.start_capture("near", "noise", {"--level-db", "-30"});
  for (const char* n : {"far", "near"}) ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  // State that outlives a concealment: a high-pass, and a reverb tail (sent to only once
  // the take runs: a tail from before it, no render could have).
  EXPECT_EQ(s.tlctl({"strip", "far/1", "hpf", "100"}).exit_code, 0);
  s.wait_session(0.3);
  s.record_start("lossy");
  s.wait_session(0.1);
  EXPECT_EQ(s.tlctl({"strip", "far/1", "send", "1", "level=-6"}).exit_code, 0);
  s.wait_session(3.0);
  s.record_stop();
  netem.stop();
  const std::string take = s.take_dir() + "/lossy";
  const json doc = read_json(take + "/take.json");
  ASSERT_FALSE(doc["mix"]["concealed"].empty()) << "nothing was concealed live: the test shows nothing";
  const json* far = find_track(doc, "far", 1);
  ASSERT_NE(far, nullptr);
  ASSERT_TRUE(far->contains("live_concealed")) << far->dump();
  EXPECT_FALSE((*far)["live_concealed"].empty());
  EXPECT_TRUE(far->value("complete", false)) << "the recording lost nothing: " << far->dump();

  // As live: every frame of mix.wav again, the concealed ones included, to the LSB.
  const RunResult live = run({bin("tl-render"), take, "--as-live", "--out", s.dir() + "/as-live.wav",
                              "--compare", "--settle", "0.25", "--quiet"},
                             120s);
  std::printf("%s", live.out.c_str());
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
  EXPECT_NE(live.out.find("max difference 0 LSB, 0 frames over 0 LSB"), std::string::npos) << live.out;
  EXPECT_EQ(live.out.find("left out (concealed live)"), std::string::npos)
      << "as live, every frame is compared";
  long long left_out = 0;
  const auto at = live.out.find("as live: ");
  ASSERT_NE(at, std::string::npos) << live.out;
  EXPECT_EQ(std::sscanf(live.out.c_str() + at, "as live: %lld input frames left out", &left_out), 1);
  EXPECT_GT(left_out, 0) << "the render left out what the live mix missed";

  // The complete raw tracks are not what the engineers heard: past each concealment the
  // reverb and filter hold other audio.
  const RunResult raw = run({bin("tl-render"), take, "--raw", "--out", s.dir() + "/raw.wav", "--compare",
                             "--settle", "0.25", "--tolerance-lsb", "0", "--quiet"},
                            120s);
  EXPECT_EQ(raw.exit_code, 3) << raw.out << raw.err;
  EXPECT_NE(raw.out.find("--as-live repeats it exactly"), std::string::npos)
      << "and says what would: " << raw.out;
}

TEST(Render, ATrackCutShortIsNamedAndStrictRefusesIt) {
  Session s("render_short");
  s.start_mixer();
  s.start_capture("a", "tone:440", {"--channels", "2"});
  s.start_capture("b", "noise");
  for (const char* n : {"a", "b"}) ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  s.record_start("cut");
  s.wait_session(1.0);
  s.record_stop();
  const std::string take = s.take_dir() + "/cut";
  const std::int64_t take_frames = json_int(read_json(take + "/take.json"), "frames");
  ASSERT_GT(take_frames, 40000);

  // Whole, the take renders without a word, --strict or not.
  const RunResult whole = run({bin("tl-render"), take, "--strict", "--quiet"}, 120s);
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(whole.err.find("warning"), std::string::npos) << whole.err;

  // b-1.wav cut to its first half, as a copy that stopped early would leave it.
  const Audio b = read_audio(take + "/b-1.wav");
  ASSERT_EQ(b.frames(), take_frames);
  const std::int64_t half = take_frames / 2;
  ASSERT_TRUE(write_wav(take + "/b-1.wav", b.rate, 1, SF_FORMAT_PCM_24,
                        std::vector<std::int32_t>(b.samples.begin(), b.samples.begin() + half)));
  ASSERT_EQ(read_audio(take + "/b-1.wav").frames(), half);

  const std::string out = s.dir() + "/cut-render.wav";
  const RunResult warned = run({bin("tl-render"), take, "--out", out, "--quiet"}, 120s);
  EXPECT_EQ(warned.exit_code, 0) << warned.err;
  char line[200];
  std::snprintf(line, sizeof line,
                "tl-render: warning: track b-1.wav is %.3f s (%lld frames), the take %.3f s (%lld frames): "
                "silence after its end\n",
                static_cast<double>(half) / 48000.0, static_cast<long long>(half),
                static_cast<double>(take_frames) / 48000.0, static_cast<long long>(take_frames));
  EXPECT_EQ(warned.err, line) << "one line, for the one short track";
  EXPECT_EQ(read_audio(out).frames(), take_frames) << "rendered at the take's length";

  fs::remove(out);
  const RunResult strict = run({bin("tl-render"), take, "--out", out, "--strict", "--quiet"}, 120s);
  EXPECT_EQ(strict.exit_code, 4) << strict.err;
  EXPECT_NE(strict.err.find(line), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("--strict: 1 track(s) shorter than the take; nothing rendered"),
            std::string::npos)
      << strict.err;
  EXPECT_FALSE(fs::exists(out)) << "nothing written";
}

TEST(Render, BadTakesAndOptionsGetAClearError) {
  Session s("render_errors");
  const RunResult none = run({bin("tl-render"), s.dir(), "--quiet"}, 30s);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no take.json"), std::string::npos) << none.err;

  const std::string take = s.dir() + "/take";
  fs::create_directories(take);
  std::ofstream(take + "/take.json") << R"({"state": "complete", "sample_rate": 48000, "frames": 480})";
  const RunResult no_auto = run({bin("tl-render"), take, "--quiet"}, 30s);
  EXPECT_EQ(no_auto.exit_code, 1);
  EXPECT_NE(no_auto.err.find("no automation.json"), std::string::npos) << no_auto.err;

  std::ofstream(take + "/automation.json") << "{ not json";
  const RunResult bad = run({bin("tl-render"), take, "--quiet"}, 30s);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not valid JSON"), std::string::npos) << bad.err;

  std::ofstream(take + "/automation.json")
      << R"({"mix": {"block_frames": 48, "block_origin": 0, "lookahead_frames": 0}, )"
      << R"("initial": {}, "changes": []})";
  std::ofstream(take + "/take.json") << R"({"state": "complete", "sample_rate": 48000, "frames": 480, )"
                                     << R"("tracks": [{"node": "x", "channel": 1, "file": "x-1.wav"}]})";
  const RunResult missing = run({bin("tl-render"), take, "--quiet"}, 30s);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("x-1.wav"), std::string::npos) << missing.err;

  const RunResult option = run({bin("tl-render"), take, "--tolerance-lsb", "-3"}, 30s);
  EXPECT_EQ(option.exit_code, 2) << option.err;
}

}  // namespace
}  // namespace tl::test
