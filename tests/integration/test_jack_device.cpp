// The real RtAudio path without a sound card: a JACK server with the dummy driver
// gives tl-capture an input device and tl-mixer a monitor output that clocks the mix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "harness.h"
#include "jack_server.h"
#include "wav.h"

namespace tl::test {
namespace {

TEST(JackDevice, CaptureFromAndMonitorToAJackDummyServer) {
  // The server outlives the session: its clients (mixer, capture) stop first,
  // so jackd shuts down cleanly on SIGTERM.
  JackServer jack(make_work_dir("jack_device_server"));
  Session s("jack_device");
  ASSERT_TRUE(jack.wait_ready()) << jack.process().err();

  s.start_mixer({"--monitor", "device", "--audio-api", "jack", "--latency-ms", "60"}, jack.env());
  const json status = s.tlctl_json({"status"});
  EXPECT_EQ(status.value("clock", "").rfind("device:", 0), 0u) << status.dump();

  s.start_capture("jackin", "device", {"--audio-api", "jack", "--channels", "2"}, jack.env());
  ASSERT_TRUE(s.wait_node_state("jackin", "streaming")) << s.logs();
  // The tone node plays its personal cue mix on a JACK output.
  s.start_capture("tone", "tone:440", {"--cue", "device", "--audio-api", "jack"}, jack.env());
  ASSERT_TRUE(s.wait_node_state("tone", "streaming")) << s.logs();
  EXPECT_TRUE(wait_until([&] { return json_int(s.node("tone"), "cue_packets") > 100; }, 20s, 100ms))
      << s.node("tone").dump() << s.logs();
  const json cue = s.node("tone");
  EXPECT_EQ(cue.value("cue_output", "").rfind("device:", 0), 0u) << cue.dump();
  EXPECT_GT(json_num(cue, "cue_latency_ms"), 0.0) << cue.dump();

  const std::int64_t blocks_before = json_int(s.tlctl_json({"status"}), "mix_blocks");
  s.record_start("jack");
  s.wait_session(1.5);
  s.record_stop();
  EXPECT_GT(json_int(s.tlctl_json({"status"}), "mix_blocks"), blocks_before)
      << "the device callback drives the mix";

  const std::string dir = s.take_dir() + "/jack";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in);
  int device_tracks = 0;
  for (const auto& t : take["tracks"]) {
    if (t["node"] != "jackin") continue;
    ++device_tracks;
    EXPECT_GE(json_int(t, "first_sample"), json_int(take, "start_sample"));
    EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
  }
  EXPECT_EQ(device_tracks, 2);
  const Audio mix = read_audio(dir + "/mix.wav");
  const Audio jack_track = read_audio(dir + "/jackin-1.wav");
  EXPECT_EQ(mix.frames(), jack_track.frames());
  // The dummy driver delivers silence; the tone node proves the device-clocked mix carries audio.
  double energy = 0.0;
  for (const auto v : mix.samples)
    energy += (static_cast<double>(v) / 2147483648.0) * (static_cast<double>(v) / 2147483648.0);
  EXPECT_GT(energy, 1.0);
}

TEST(JackDevice, APerformerTalksBackIntoTheMonitorOutputNeverIntoTheMix) {
  // A node on the same JACK server captures the mixer's monitor output through a
  // connection made here: what the operator would hear.
  JackServer jack(make_work_dir("jack_talk_server"));
  Session s("jack_talk");
  ASSERT_TRUE(jack.wait_ready()) << jack.process().err();
  s.start_mixer({"--monitor", "device", "--audio-api", "jack", "--latency-ms", "60"}, jack.env());
  s.start_capture("band", "tone:1000");
  s.start_capture("booth", "tone:2000");  // the performer's talkback mic
  s.start_capture("control", "device", {"--audio-api", "jack", "--channels", "1"}, jack.env());
  for (const char* n : {"band", "booth", "control"})
    ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  ASSERT_TRUE(jack_wire(jack, "tl-mixer", "outport 0", "tl-capture", "inport 0")) << s.logs();
  ASSERT_EQ(s.tlctl({"mute", "booth/1"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"mute", "control/1"}).exit_code, 0);  // it hears the monitor: no loop

  s.record_start("talkback");
  s.wait_session(1.0);
  RunResult r = s.tlctl({"talk", "monitor", "--source", "booth/1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("booth/1 talks to monitor"), std::string::npos) << r.out;
  s.wait_session(1.5);
  ASSERT_EQ(s.tlctl({"talk", "off", "--source", "booth/1"}).exit_code, 0);
  s.wait_session(1.0);
  s.record_stop();

  // What the monitor played, as the control node recorded it: the band (-15 dBFS: -12
  // centre-panned), then the booth's voice over it (-12 dBFS) with the band 20 dB down,
  // then the band alone again. mix.wav: the band only.
  const std::string dir = s.take_dir() + "/talkback";
  const Audio heard = read_audio(dir + "/control-1.wav");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_GT(heard.frames(), 3 * 48000);
  const std::int64_t window = 4800;
  std::vector<int> states;
  for (std::int64_t f = 0; f + window <= heard.frames(); f += window) {
    const double band = amplitude_db(tone_amplitude(heard, 0, f, window, 1000.0));
    const double voice = amplitude_db(tone_amplitude(heard, 0, f, window, 2000.0));
    int state = -1;
    if (std::fabs(band + 15.05) < 0.5 && voice < -60.0) state = 0;
    if (std::fabs(band + 35.05) < 0.5 && std::fabs(voice + 12.04) < 0.5) state = 1;
    if (state >= 0 && (states.empty() || states.back() != state)) states.push_back(state);
  }
  EXPECT_EQ(states, (std::vector<int>{0, 1, 0})) << "band, voice over the band dimmed, band";
  double loudest_voice = -200.0;  // (the take's first and last windows: its edges splatter)
  for (std::int64_t f = window; f + 2 * window <= mix.frames(); f += window)
    loudest_voice = std::max(loudest_voice, amplitude_db(tone_amplitude(mix, 0, f, window, 2000.0)));
  EXPECT_LT(loudest_voice, -90.0) << "the monitor's voice is never in mix.wav";
}

}  // namespace
}  // namespace tl::test
