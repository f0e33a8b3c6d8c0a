// Talkback with the real programs: the operator's mic (a node named talkback, muted in the
// main mix) and a file talk into a singer's cue mix, the band dimmed under them; neither
// is ever in mix.wav. The singer's node writes its cue mix to a file, which is read back.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

TEST(Talk, TheOperatorsMicAndAFileTalkIntoACueDimmingTheBandAndNeverIntoTheMix) {
  Session s("talk");
  s.start_mixer({"--latency-ms", "20"});
  const std::string cue_file = s.dir() + "/singer-cue.wav";
  s.start_capture("singer", "tone:440", {"--cue", "file:" + cue_file});
  s.start_capture("band", "tone:1000");
  s.start_capture("talkback", "tone:2000");  // the operator's mic: what --source device names
  for (const char* n : {"singer", "band", "talkback"})
    ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  ASSERT_TRUE(wait_until([&] { return json_int(s.node("singer"), "cue_packets") > 100; }, 20s, 100ms))
      << s.logs();
  // A talkback mic is muted in the main mix; it still talks (before its fader and mute).
  ASSERT_EQ(s.tlctl({"mute", "talkback/1"}).exit_code, 0);
  // A voice file at another rate (resampled): 0.8 s of 3 kHz at -12 dBFS, stereo.
  const std::string voice = s.dir() + "/voice.wav";
  std::vector<std::int32_t> tone(static_cast<std::size_t>(2 * 0.8 * 44100));
  for (std::size_t i = 0; i < tone.size(); ++i) {
    tone[i] =
        static_cast<std::int32_t>(0.25 * 2147483647.0 * std::sin(2.0 * M_PI * 3000.0 * (i / 2) / 44100.0));
  }
  ASSERT_TRUE(write_wav(voice, 44100, 2, SF_FORMAT_PCM_24, tone));

  s.record_start("talk");
  s.wait_session(1.0);
  RunResult r = s.tlctl({"talk", "singer", "--source", "device"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("talkback/1 talks to singer at +0.0 dB, the programme -20.0 dB under it"),
            std::string::npos)
      << r.out;
  s.wait_session(1.5);
  r = s.tlctl({"talk", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nobody talks\n");
  s.wait_session(1.0);
  r = s.tlctl({"talk", "singer", "--source", "file:" + voice, "--level", "-6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("of 0.8 s"), std::string::npos) << r.out;
  // It stops by itself at the file's end.
  EXPECT_TRUE(
      wait_until([&] { return s.tlctl_json({"talk"}).value("lines", json::array()).empty(); }, 10s, 50ms));
  s.wait_session(1.0);

  // Mistakes: refused (1) with the reason, or a usage error (2); nothing talks.
  const struct {
    std::vector<std::string> args;
    int code;
    const char* says;
  } refused[] = {
      {{"talk", "nobody", "--source", "device"}, 1, "no node 'nobody' to talk to"},
      {{"talk", "band", "--source", "device"}, 1, "node 'band' has no cue mix on"},
      {{"talk", "monitor", "--source", "device"}, 1, "no monitor output"},
      {{"talk", "singer", "--source", "drums/1"}, 1, "no node or backing track 'drums'"},
      {{"talk", "singer", "--source", "talkback/3"}, 1, "'talkback' has 1 channel(s)"},
      {{"talk", "singer", "--source", "file:/no/such.wav"}, 1, "/no/such.wav"},
      {{"talk", "singer", "--source", "talkback"}, 2, "not a talkback source"},
  };
  for (const auto& c : refused) {
    const RunResult bad = s.tlctl(c.args);
    EXPECT_EQ(bad.exit_code, c.code) << c.says << ": " << bad.err;
    EXPECT_NE(bad.err.find(c.says), std::string::npos) << bad.err;
  }
  EXPECT_TRUE(s.tlctl_json({"talk"}).value("lines", json::array()).empty());
  s.record_stop();
  s.capture("singer").stop();  // the node closes its cue file

  // The cue, in 0.1 s windows: the band alone (-15 dBFS: -12 centre-panned), the mic over
  // it (2 kHz at -12, the band 20 dB down), the band again, the file (3 kHz at -18: -12
  // at -6 dB), the band again.
  const Audio cue = read_audio(cue_file);
  ASSERT_EQ(cue.channels, 2);
  const std::int64_t window = 4800;
  std::vector<int> states;
  int file_windows = 0;
  for (std::int64_t f = 0; f + window <= cue.frames(); f += window) {
    const double band = amplitude_db(tone_amplitude(cue, 0, f, window, 1000.0));
    const double mic = amplitude_db(tone_amplitude(cue, 0, f, window, 2000.0));
    const double file = amplitude_db(tone_amplitude(cue, 0, f, window, 3000.0));
    int state = -1;
    if (std::fabs(band + 15.05) < 0.5 && mic < -60.0 && file < -60.0) state = 0;
    if (std::fabs(mic + 12.04) < 0.5 && std::fabs(band + 35.05) < 0.5 && file < -60.0) state = 1;
    if (std::fabs(file + 18.06) < 0.5 && std::fabs(band + 35.05) < 0.5 && mic < -60.0) state = 2;
    file_windows += state == 2;
    if (state >= 0 && (states.empty() || states.back() != state)) states.push_back(state);
  }
  EXPECT_EQ(states, (std::vector<int>{0, 1, 0, 2, 0})) << "band, mic, band, file, band";
  EXPECT_GE(file_windows, 6) << "the file talked for its 0.8 s";
  EXPECT_LE(file_windows, 8);

  // mix.wav has the band and never a voice.
  const Audio mix = read_audio(s.take_dir() + "/talk/mix.wav");
  ASSERT_GT(mix.frames(), 5 * 48000);
  double loudest_voice = -200.0;  // (the take's first and last windows: its edges splatter)
  for (std::int64_t f = window; f + 2 * window <= mix.frames(); f += window) {
    loudest_voice = std::max({loudest_voice, amplitude_db(tone_amplitude(mix, 0, f, window, 2000.0)),
                              amplitude_db(tone_amplitude(mix, 0, f, window, 3000.0))});
  }
  std::printf("[ figure ] talkback: loudest voice in mix.wav %.1f dBFS\n", loudest_voice);
  EXPECT_LT(loudest_voice, -90.0);
  EXPECT_NEAR(amplitude_db(tone_amplitude(mix, 0, 48000, window, 1000.0)), -15.05, 0.5)
      << "the band is in it";
}

}  // namespace
}  // namespace tl::test
