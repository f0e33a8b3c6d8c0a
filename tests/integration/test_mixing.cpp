// Mixing on the mixer node: channel strips, master limiter and meters, driven by tlctl,
// checked on the files the real tl-mixer writes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

//! A left-justified 32-bit sample as -1..1.
double to_unit(std::int32_t v) {
  return static_cast<double>(v) / 2147483648.0;
}

//! Mean square of one channel of an interleaved file, skipping the first `skip` frames.
double mean_square(const Audio& a, int channel, std::int64_t skip = 0) {
  double sum = 0.0;
  std::int64_t n = 0;
  for (std::int64_t f = skip; f < a.frames(); ++f) {
    const double x = to_unit(a.samples[static_cast<std::size_t>(f * a.channels + channel)]);
    sum += x * x;
    ++n;
  }
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

//! True peak of one channel by 8x windowed-sinc interpolation (independent of the DSP library).
double true_peak(const Audio& a, int channel) {
  constexpr int kUp = 8, kHalf = 16;
  std::vector<double> x(static_cast<std::size_t>(a.frames()));
  for (std::int64_t f = 0; f < a.frames(); ++f) {
    x[static_cast<std::size_t>(f)] = to_unit(a.samples[static_cast<std::size_t>(f * a.channels + channel)]);
  }
  double peak = 0.0;
  for (std::int64_t f = kHalf; f + kHalf < a.frames(); ++f) {
    for (int p = 0; p < kUp; ++p) {
      const double t = static_cast<double>(p) / kUp;
      double acc = 0.0;
      for (int k = -kHalf + 1; k <= kHalf; ++k) {
        const double d = t - k;
        const double sinc = d == 0.0 ? 1.0 : std::sin(M_PI * d) / (M_PI * d);
        const double w = 0.5 + 0.5 * std::cos(M_PI * d / kHalf);  // Hann
        acc += x[static_cast<std::size_t>(f + k)] * sinc * w;
      }
      peak = std::max(peak, std::fabs(acc));
    }
  }
  return peak;
}

TEST(Mixing, StripHighPassAboveAToneCutsTheMixByTheFilterResponseAndLeavesTheTrack) {
  Session s("mixing_hpf");
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("room-a", "tone:440");
  ASSERT_TRUE(s.wait_node_state("room-a", "streaming")) << s.logs();

  s.record_start("dry");
  s.wait_session(1.0);
  s.record_stop();

  const json state = s.tlctl_json({"strip", "room-a/1", "hpf", "4k"});
  EXPECT_TRUE(state["hpf"].value("on", false)) << state.dump();
  EXPECT_NEAR(json_num(state["hpf"], "freq_hz"), 4000.0, 1e-3);
  s.wait_session(0.3);  // the filter fades in over 20 ms
  s.record_start("wet");
  s.wait_session(1.0);
  s.record_stop();

  const Audio dry_mix = read_audio(s.take_dir() + "/dry/mix.wav");
  const Audio dry_track = read_audio(s.take_dir() + "/dry/room-a-1.wav");
  const Audio wet_mix = read_audio(s.take_dir() + "/wet/mix.wav");
  const Audio wet_track = read_audio(s.take_dir() + "/wet/room-a-1.wav");
  const std::int64_t skip = 4800;  // the first 100 ms of a take
  const double track_change_db =
      10.0 * std::log10(mean_square(wet_track, 0, skip) / mean_square(dry_track, 0, skip));
  EXPECT_NEAR(track_change_db, 0.0, 0.1) << "the raw track does not go through the strip";

  // 12 dB/oct Butterworth high-pass: |H|^2 = r^4 / (1 + r^4), r = f / fc.
  const double r = 440.0 / 4000.0;
  const double want_db = 10.0 * std::log10(std::pow(r, 4) / (1.0 + std::pow(r, 4)));
  const double got_db = 10.0 * std::log10(mean_square(wet_mix, 0, skip) / mean_square(dry_mix, 0, skip));
  std::printf("hpf 4 kHz on a 440 Hz tone: mix energy %.2f dB (analytic %.2f dB)\n", got_db, want_db);
  EXPECT_NEAR(got_db, want_db, 1.0);

  // Every parameter is reported back, and the mixer logged the change.
  const json shown = s.tlctl_json({"strip", "room-a/1", "show"});
  EXPECT_EQ(shown["eq"].size(), 4u) << shown.dump();
  EXPECT_NE(s.logs().find("room-a/1 hpf freq=4000 set by"), std::string::npos);
  EXPECT_NE(s.tlctl({"strip", "room-a/1", "comp", "ratio=40"}).exit_code, 0);
}

TEST(Mixing, MasterLimiterKeepsTheMixUnderItsCeilingWithNoClipping) {
  Session s("mixing_limiter");
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("loud", "tone:100", {"--level-db", "-1"});
  ASSERT_TRUE(s.wait_node_state("loud", "streaming")) << s.logs();
  const json master = s.tlctl_json({"master", "limiter", "on", "ceiling=-1"});
  EXPECT_TRUE(master.value("limiter_on", false)) << master.dump();
  ASSERT_EQ(s.tlctl({"gain", "loud/1", "12"}).exit_code, 0);  // after the limiter: the session never clips
  s.wait_session(0.3);
  s.record_start("limited");
  s.wait_session(1.5);
  s.record_stop();

  const std::string dir = s.take_dir() + "/limited";
  const json take = read_json(dir + "/take.json");
  EXPECT_EQ(json_int(take["mix"], "clipped_samples"), 0) << take.dump(2);
  const Audio mix = read_audio(dir + "/mix.wav");
  const double ceiling = std::pow(10.0, -1.0 / 20.0);
  const double tp = std::max(true_peak(mix, 0), true_peak(mix, 1));
  std::printf("limiter ceiling -1 dBTP, tone +7 dB over full scale: mix.wav true peak %.3f dBTP\n",
              20.0 * std::log10(tp));
  EXPECT_LE(tp, ceiling * 1.006) << "within 0.05 dB of the ceiling (24-bit file, test interpolator)";
  EXPECT_GT(tp, ceiling * 0.9) << "the limiter holds at the ceiling, it does not crush";

  const json status = s.tlctl_json({"status"});
  EXPECT_EQ(json_int(status, "clipped_samples"), 0);
  EXPECT_LE(json_num(status, "master_true_peak_dbtp"), -0.95) << status.dump();
  EXPECT_LT(json_num(status, "master_limiter_gr_db"), -3.0) << status.dump();
  EXPECT_GT(json_num(status, "master_momentary_lufs"), -20.0) << status.dump();

  // meters: bounded live view; JSON lines.
  const RunResult meters = s.tlctl({"--json", "meters", "--count", "2"});
  ASSERT_EQ(meters.exit_code, 0) << meters.err;
  int lines = 0;
  for (char c : meters.out) lines += c == '\n';
  EXPECT_EQ(lines, 2) << meters.out;
}

TEST(Mixing, GroupBusFaderAndAPreFaderReverbSendShapeTheMix) {
  Session s("mixing_buses");
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("room-a", "tone:440");
  ASSERT_TRUE(s.wait_node_state("room-a", "streaming")) << s.logs();
  const auto take = [&](const std::string& name) {
    s.wait_session(0.3);  // changes glide over 20 ms; the reverb builds up
    s.record_start(name);
    s.wait_session(1.0);
    s.record_stop();
    return mean_square(read_audio(s.take_dir() + "/" + name + "/mix.wav"), 0, 4800);
  };
  const double direct = take("direct");
  ASSERT_GT(direct, 1e-4);

  // Through group bus 2, its fader at -6 dB.
  const json routed = s.tlctl_json({"strip", "room-a/1", "route", "bus2"});
  EXPECT_EQ(json_int(routed, "route"), 2) << routed.dump();
  const json bus = s.tlctl_json({"bus", "bus2", "fader", "-6"});
  EXPECT_NEAR(json_num(bus, "fader_db"), -6.0, 1e-3) << bus.dump();
  const double grouped = take("grouped");
  const double ratio_db = 10.0 * std::log10(grouped / direct);
  std::printf("[ figure ] room-a/1 through bus2 at -6 dB: the mix moved %.2f dB\n", ratio_db);
  EXPECT_NEAR(ratio_db, -6.0, 0.2);

  // Fader down, a pre-fader send into the reverb: only the reverb is left in the mix.
  ASSERT_EQ(s.tlctl({"gain", "room-a/1", "-inf"}).exit_code, 0);
  const json send = s.tlctl_json({"strip", "room-a/1", "send", "1", "level=0", "pre=on"});
  ASSERT_EQ(send["sends"].size(), 2u) << send.dump();
  EXPECT_TRUE(send["sends"][0].value("pre", false)) << send.dump();
  const RunResult verb = s.tlctl({"bus", "fx1", "reverb", "decay=1.5", "predelay=10"});
  ASSERT_EQ(verb.exit_code, 0) << verb.err;
  EXPECT_NE(verb.out.find("reverb decay 1.50 s"), std::string::npos) << verb.out;
  const double wet = take("wet");
  std::printf(
      "[ figure ] fader off, pre-fader send to fx1: the mix holds the reverb at %.1f dB under the direct "
      "tone\n",
      -10.0 * std::log10(wet / direct));
  EXPECT_GT(wet, direct * 1e-3) << "a pre-fader send ignores the fader";
  const json fx1 = s.tlctl_json({"bus", "fx1", "show"});
  EXPECT_GT(json_num(fx1, "peak_dbfs"), -60.0) << fx1.dump();
  // The meters view has every bus: the reverb's return carries audio; bus2 none, its channel faded out.
  const RunResult meters = s.tlctl({"meters", "--count", "1"});
  ASSERT_EQ(meters.exit_code, 0) << meters.err;
  EXPECT_NE(meters.out.find("buses  bus1 -inf  bus2 -inf"), std::string::npos) << meters.out;
  EXPECT_EQ(meters.out.find("fx1 -inf"), std::string::npos) << meters.out;

  // Bad input: an unknown bus, and a reverb on the delay bus, are refused by name.
  const RunResult unknown = s.tlctl({"bus", "bus9", "fader", "0"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("no bus 'bus9'"), std::string::npos) << unknown.err;
  const RunResult misplaced = s.tlctl({"bus", "fx2", "reverb", "decay=2"});
  EXPECT_NE(misplaced.exit_code, 0);
  EXPECT_NE(misplaced.err.find("fx2"), std::string::npos) << misplaced.err;
}

TEST(Mixing, TakeAutomationRecordsEachChangeAtTheMixFrameItTakesEffect) {
  Session s("mixing_automation");
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("room-a", "tone:440");
  ASSERT_TRUE(s.wait_node_state("room-a", "streaming")) << s.logs();
  ASSERT_EQ(s.tlctl({"strip", "room-a/1", "eq", "2", "freq=1k", "gain=2"}).exit_code, 0);
  s.wait_session(0.3);
  s.record_start("auto");
  s.wait_session(1.0);
  ASSERT_EQ(s.tlctl({"gain", "room-a/1", "-6"}).exit_code, 0);
  s.wait_session(0.5);
  ASSERT_EQ(s.tlctl({"bus", "fx1", "reverb", "decay=3"}).exit_code, 0);
  s.wait_session(0.5);
  s.record_stop();

  const std::string dir = s.take_dir() + "/auto";
  const json doc = read_json(dir + "/automation.json");
  ASSERT_FALSE(doc.is_discarded()) << "automation.json is written with the take";
  EXPECT_EQ(json_int(doc, "sample_rate"), 48000);
  // The starting point: the strip as it was (its EQ band 2 at +2 dB, fader at 0 dB).
  const json& initial = doc["initial"];
  ASSERT_EQ(initial["strips"].size(), 1u) << initial.dump();
  EXPECT_NEAR(json_num(initial["strips"][0]["eq"][1], "gain_db"), 2.0, 1e-3);
  EXPECT_NEAR(json_num(initial["strips"][0]["channel"], "gain_db"), 0.0, 1e-3);
  EXPECT_EQ(initial["buses"].size(), 10u);
  // Two changes, in order, each with its target's whole state after it.
  const json& changes = doc["changes"];
  ASSERT_EQ(changes.size(), 2u) << changes.dump();
  EXPECT_EQ(changes[0].value("target", ""), "room-a/1");
  EXPECT_NEAR(json_num(changes[0]["state"]["channel"], "gain_db"), -6.0, 1e-3);
  EXPECT_EQ(changes[1].value("target", ""), "fx1");
  EXPECT_NEAR(json_num(changes[1]["state"]["reverb"], "decay_s"), 3.0, 1e-3);
  const std::int64_t at = json_int(changes[0], "offset");
  EXPECT_LT(at, json_int(changes[1], "offset"));

  // The recorded position is where mix.wav changes: -6 dB from that frame on (the
  // gain ramps over one 48-frame block), not before.
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_GT(mix.frames(), at + 4800);
  ASSERT_GT(at, 4800);
  const auto window_ms = [&](std::int64_t from, std::int64_t to) {
    double sum = 0.0;
    for (std::int64_t f = from; f < to; ++f) {
      const double x = to_unit(mix.samples[static_cast<std::size_t>(f * mix.channels)]);
      sum += x * x;
    }
    return sum / static_cast<double>(to - from);
  };
  const double before = window_ms(at - 4800, at), after = window_ms(at + 48, at + 4848);
  const double step_db = 10.0 * std::log10(after / before);
  std::printf("[ figure ] automation: gain change recorded at mix frame %lld; the mix steps %.2f dB there\n",
              static_cast<long long>(at), step_db);
  EXPECT_NEAR(step_db, -6.0, 0.1);
  EXPECT_NEAR(10.0 * std::log10(window_ms(at - 960, at) / before), 0.0, 0.1) << "the change started early";
}

TEST(Mixing, SceneSaveAndRecallRoundTripTheWholeMixerState) {
  Session s("mixing_scene");
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("room-a", "tone:440", {"--channels", "2"});
  ASSERT_TRUE(s.wait_node_state("room-a", "streaming")) << s.logs();
  ASSERT_EQ(s.tlctl({"strip", "room-a/1", "hpf", "120", "slope=24"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/2", "comp", "threshold=-20", "ratio=3", "detect=rms"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/2", "eq", "3", "freq=3k", "gain=-4.5"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"gain", "room-a/1", "-6"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"pan", "room-a/2", "0.5"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"master", "limiter", "on", "ceiling=-2"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/2", "route", "bus4"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/1", "send", "2", "level=-12"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"bus", "bus4", "comp", "threshold=-15"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"bus", "fx2", "delay", "bpm=96", "division=1/8d"}).exit_code, 0);
  const json saved = s.tlctl_json({"scene", "save", "verse"});
  EXPECT_EQ(json_int(saved, "channels"), 2) << saved.dump();
  const json file = [&] {
    std::ifstream in(s.take_dir() + "/scenes/verse.json");
    return json::parse(in, nullptr, false);
  }();
  ASSERT_FALSE(file.is_discarded()) << "scene file under <record-dir>/scenes";
  EXPECT_EQ(file["strips"].size(), 2u);

  // Change everything, then recall.
  ASSERT_EQ(s.tlctl({"strip", "room-a/1", "hpf", "off"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/2", "comp", "off"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"gain", "room-a/1", "0"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"master", "limiter", "off"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/2", "route", "master"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"strip", "room-a/1", "send", "2", "off"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"bus", "bus4", "comp", "off"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"bus", "fx2", "delay", "bpm=120", "division=1/4"}).exit_code, 0);
  const json recalled = s.tlctl_json({"scene", "recall", "verse"});
  EXPECT_EQ(json_int(recalled, "channels"), 2) << recalled.dump();

  const json a1 = s.tlctl_json({"strip", "room-a/1", "show"});
  EXPECT_TRUE(a1["hpf"].value("on", false)) << a1.dump();
  EXPECT_NEAR(json_num(a1["hpf"], "freq_hz"), 120.0, 1e-3);
  EXPECT_EQ(json_int(a1["hpf"], "slope_db"), 24);
  EXPECT_NEAR(json_num(a1["channel"], "gain_db"), -6.0, 1e-3);
  const json a2 = s.tlctl_json({"strip", "room-a/2", "show"});
  EXPECT_TRUE(a2["comp"].value("on", false)) << a2.dump();
  EXPECT_NEAR(json_num(a2["comp"], "ratio"), 3.0, 1e-3);
  EXPECT_TRUE(a2["comp"].value("rms", false));
  EXPECT_NEAR(json_num(a2["eq"][2], "gain_db"), -4.5, 1e-3);
  EXPECT_NEAR(json_num(a2["channel"], "pan"), 0.5, 1e-3);
  const json master = s.tlctl_json({"master", "show"});
  EXPECT_TRUE(master.value("limiter_on", false)) << master.dump();
  EXPECT_NEAR(json_num(master, "ceiling_dbtp"), -2.0, 1e-3);
  EXPECT_EQ(json_int(a2, "route"), 4) << a2.dump();
  EXPECT_TRUE(a1["sends"][1].value("on", false)) << a1.dump();
  EXPECT_NEAR(json_num(a1["sends"][1], "level_db"), -12.0, 1e-3);
  const json bus4 = s.tlctl_json({"bus", "bus4", "show"});
  EXPECT_TRUE(bus4["comp"].value("on", false)) << bus4.dump();
  EXPECT_NEAR(json_num(bus4["comp"], "threshold_db"), -15.0, 1e-3);
  const json fx2 = s.tlctl_json({"bus", "fx2", "show"});
  EXPECT_NEAR(json_num(fx2["delay"], "bpm"), 96.0, 1e-3) << fx2.dump();
  EXPECT_EQ(fx2["delay"].value("division", ""), "1/8d");

  const RunResult list = s.tlctl({"scene", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("verse"), std::string::npos) << list.out;
  EXPECT_NE(s.tlctl({"scene", "recall", "chorus"}).exit_code, 0) << "an unknown scene is an error";
  EXPECT_NE(s.tlctl({"scene", "save", "../evil"}).exit_code, 0)
      << "scene names cannot leave the scenes folder";
  EXPECT_NE(s.logs().find("scene 'verse' recalled"), std::string::npos);
}

}  // namespace
}  // namespace tl::test
