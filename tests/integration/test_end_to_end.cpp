// End to end on loopback: real tl-mixer, tl-capture and tlctl; assertions on the files they write.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;

//! Deterministic full-range content: a sweep plus noise, with both extremes present.
std::vector<std::int32_t> make_source(int frames, int channels, int bits, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::int32_t max = (1 << (bits - 1)) - 1;
  std::uniform_int_distribution<std::int32_t> noise(-max / 8, max / 8);
  std::vector<std::int32_t> v(static_cast<std::size_t>(frames) * channels);
  for (int f = 0; f < frames; ++f) {
    for (int c = 0; c < channels; ++c) {
      const double tone = 0.6 * std::sin(2.0 * M_PI * (220.0 + 110.0 * c) * f / kRate);
      std::int32_t s = static_cast<std::int32_t>(tone * max) + noise(rng);
      if (f == 1) s = max;  // full-scale extremes survive exactly
      if (f == 2) s = -max - 1;
      if (f == 0) s = 1000 + c;                                          // a recognisable first sample
      v[static_cast<std::size_t>(f) * channels + c] = s << (32 - bits);  // left-justified
    }
  }
  return v;
}

TEST(EndToEnd, FileSourcesAreRecordedBitExactOnTheirOwnTracks) {
  Session s("e2e_bit_exact");
  s.start_mixer({"--latency-ms", "100"});
  const int frames = kRate * 3 / 2;
  const auto src16 = make_source(frames, 1, 16, 1);
  const auto src24 = make_source(frames, 2, 24, 2);
  const std::string f16 = s.dir() + "/mono16.wav", f24 = s.dir() + "/stereo24.wav";
  ASSERT_TRUE(write_wav(f16, kRate, 1, SF_FORMAT_PCM_16, src16));
  ASSERT_TRUE(write_wav(f24, kRate, 2, SF_FORMAT_PCM_24, src24));

  const json started = s.record_start("exact");
  ASSERT_EQ(started.value("take_name", ""), "exact");
  s.start_capture("n16", "file:" + f16);
  s.start_capture("n24", "file:" + f24);
  ASSERT_TRUE(s.wait_node_state("n16", "streaming")) << s.logs();
  ASSERT_TRUE(s.wait_node_state("n24", "streaming")) << s.logs();
  s.wait_session(2.5);  // the files play once (1.5 s), then silence
  const json stopped = s.record_stop();
  ASSERT_EQ(stopped.value("take_name", ""), "exact");

  const std::string take_dir = s.take_dir() + "/exact";
  const json take = read_json(take_dir + "/take.json");
  ASSERT_FALSE(take.is_discarded());
  EXPECT_EQ(take.value("sample_rate", 0), kRate);
  EXPECT_EQ(take.value("state", ""), "complete");
  const std::int64_t start = json_int(take, "start_sample");

  struct Case {
    std::string node;
    int channel;
    const std::vector<std::int32_t>* src;
    int channels;
  };
  for (const Case& c : {Case{"n16", 1, &src16, 1}, Case{"n24", 1, &src24, 2}, Case{"n24", 2, &src24, 2}}) {
    SCOPED_TRACE(c.node + "/" + std::to_string(c.channel));
    const json* t = find_track(take, c.node, c.channel);
    ASSERT_NE(t, nullptr) << take.dump(2);
    EXPECT_EQ(json_int(*t, "lost_samples"), 0);
    const std::string file = take_dir + "/" + c.node + "-" + std::to_string(c.channel) + ".wav";
    ASSERT_EQ(t->value("file", ""), std::filesystem::path(file).filename().string());
    const Audio track = read_audio(file);
    ASSERT_EQ(track.rate, kRate);
    ASSERT_EQ(track.channels, 1);
    EXPECT_EQ(track.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
    const std::int64_t offset = json_int(*t, "first_sample") - start;
    ASSERT_GT(offset, 0) << "the node joined after the take started";
    ASSERT_GE(track.frames(), offset + frames);
    for (std::int64_t i = 0; i < offset; ++i) ASSERT_EQ(track.samples[static_cast<std::size_t>(i)], 0) << i;
    std::int64_t mismatches = 0;
    for (int i = 0; i < frames; ++i) {
      const std::int32_t want = (*c.src)[static_cast<std::size_t>(i) * c.channels + (c.channel - 1)];
      const std::int32_t got = track.samples[static_cast<std::size_t>(offset + i)];
      if (want != got && mismatches++ < 5)
        ADD_FAILURE() << "frame " << i << ": want " << want << " got " << got;
    }
    EXPECT_EQ(mismatches, 0);
    for (std::int64_t i = offset + frames; i < track.frames(); ++i) {
      ASSERT_EQ(track.samples[static_cast<std::size_t>(i)], 0) << "after the file ended, frame " << i;
    }
  }
  // Every file of the take has the same length.
  const Audio mix = read_audio(take_dir + "/mix.wav");
  EXPECT_EQ(mix.channels, 2);
  EXPECT_EQ(mix.frames(), read_audio(take_dir + "/n16-1.wav").frames());
  EXPECT_EQ(mix.frames(), json_int(take, "frames"));
}

double to_unit(std::int32_t v) {
  return static_cast<double>(v) / 2147483648.0;
}

TEST(EndToEnd, MixIsTheSumOfTracksWithGainAndPanAndMutedInputsAreLeftOut) {
  Session s("e2e_mix");
  s.start_mixer({"--latency-ms", "100"});
  s.start_capture("a", "tone:440", {"--channels", "2"});
  s.start_capture("b", "noise");
  s.start_capture("c", "tone:1000");
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();

  struct Setting {
    std::string target;
    double gain_db, pan;
  };
  const std::vector<Setting> settings = {{"a/1", -6.0, -1.0}, {"a/2", 0.0, 0.5}, {"b/1", -3.0, -0.3}};
  for (const auto& st : settings) {
    ASSERT_EQ(s.tlctl({"gain", st.target, std::to_string(st.gain_db)}).exit_code, 0);
    ASSERT_EQ(s.tlctl({"pan", st.target, std::to_string(st.pan)}).exit_code, 0);
  }
  ASSERT_EQ(s.tlctl({"mute", "c/1"}).exit_code, 0);
  s.wait_session(0.3);  // changes ramp within one block; leave margin
  s.record_start("mixcheck");
  s.wait_session(2.0);
  s.record_stop();

  const std::string dir = s.take_dir() + "/mixcheck";
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(mix.channels, 2);
  std::vector<Audio> tracks;
  for (const auto& st : settings) {
    const auto slash = st.target.find('/');
    tracks.push_back(
        read_audio(dir + "/" + st.target.substr(0, slash) + "-" + st.target.substr(slash + 1) + ".wav"));
    ASSERT_EQ(tracks.back().frames(), mix.frames());
  }
  const Audio muted = read_audio(dir + "/c-1.wav");
  ASSERT_EQ(muted.frames(), mix.frames());

  const json take = read_json(dir + "/take.json");
  for (const auto& t : take["tracks"]) EXPECT_EQ(json_int(t, "concealed_samples"), 0) << t.dump();
  // The live mix played each node's audio where its packets' stamps put it; the
  // conform may have moved a track by a sample to where the node's converged clock
  // estimate puts it, and take.json says so.
  std::vector<std::int64_t> moved;
  for (const auto& st : settings) {
    const auto slash = st.target.find('/');
    const json* t = find_track(take, st.target.substr(0, slash), std::stoi(st.target.substr(slash + 1)));
    ASSERT_NE(t, nullptr) << take.dump(2);
    EXPECT_EQ(t->value("conform", ""), "copy") << t->dump();
    moved.push_back(std::llround(t->value("moved_samples", 99.0)));
    ASSERT_LE(std::llabs(moved.back()), 1) << t->dump();
    // The take holds each track once: a copy that moved nothing is raw/'s file under a
    // second name; one moved by whole samples keeps the samples the move pushed out of
    // the take in take.json (raw_edge), and no raw/ file.
    const std::string file = dir + "/" + t->value("file", "");
    EXPECT_EQ(t->value("raw_linked", false), moved.back() == 0) << t->dump();
    if (moved.back() == 0) {
      EXPECT_TRUE(std::filesystem::equivalent(file, dir + "/" + t->value("raw_file", ""))) << file;
    } else {
      EXPECT_FALSE(t->contains("raw_file")) << t->dump();
      EXPECT_EQ(t->value("raw_edge", json::array()).size(),
                static_cast<std::size_t>(std::llabs(moved.back())));
      EXPECT_FALSE(std::filesystem::exists(dir + "/raw/" + t->value("file", ""))) << t->dump();
    }
  }

  // mix.wav fades in and out over its first and last 2 ms (the take's cut points).
  const std::int64_t fade = mix.rate / 500;
  const auto edge = [&](std::int64_t f) {
    const auto i = static_cast<std::size_t>(2 * f);
    return std::max(std::fabs(to_unit(mix.samples[i])), std::fabs(to_unit(mix.samples[i + 1])));
  };
  EXPECT_LT(edge(0), 1e-3) << "mix.wav starts from silence";
  EXPECT_LT(edge(mix.frames() - 1), 1e-3) << "and ends in it";
  double max_err = 0.0, energy = 0.0, muted_energy = 0.0;
  for (std::int64_t f = fade; f + fade < mix.frames(); ++f) {
    double want_l = 0.0, want_r = 0.0;
    for (std::size_t i = 0; i < settings.size(); ++i) {
      const double g = std::pow(10.0, settings[i].gain_db / 20.0);
      const double theta = (settings[i].pan + 1.0) * M_PI / 4.0;
      const double x = to_unit(tracks[i].samples[static_cast<std::size_t>(f + moved[i])]);
      want_l += x * g * std::cos(theta);
      want_r += x * g * std::sin(theta);
    }
    const double got_l = to_unit(mix.samples[static_cast<std::size_t>(2 * f)]);
    const double got_r = to_unit(mix.samples[static_cast<std::size_t>(2 * f + 1)]);
    max_err = std::max({max_err, std::fabs(got_l - want_l), std::fabs(got_r - want_r)});
    energy += got_l * got_l;
    const double m = to_unit(muted.samples[static_cast<std::size_t>(f)]);
    muted_energy += m * m;
  }
  EXPECT_GT(energy, 1.0) << "the mix is not silent";
  EXPECT_GT(muted_energy, 1.0) << "the muted input was still recorded on its own track";
  // 24-bit quantisation of the mix plus float rounding: a few LSB.
  EXPECT_LT(max_err, 4.0 / 8388608.0) << "mix differs from the gain/pan sum of its tracks\n" << take.dump(2);
}

TEST(EndToEnd, AHotInputStaysUnderTheMixAndCueCeilingsAndTheRawSumIsClampedNotWrapped) {
  Session s("e2e_clip");
  s.start_mixer({"--latency-ms", "100"});
  const std::string cue_file = s.dir() + "/loud-cue.wav";
  s.start_capture("loud", "tone:100", {"--level-db", "-1", "--cue", "file:" + cue_file});
  ASSERT_TRUE(s.wait_node_state("loud", "streaming")) << s.logs();
  ASSERT_EQ(s.tlctl({"gain", "loud/1", "24"}).exit_code, 0);
  s.wait_session(0.2);

  // By default the mix has its safety limiter (-1 dBTP) and the cue its hearing
  // protection (-6 dBTP): a +24 dB hot tone reaches neither file over its ceiling.
  s.record_start("safe");
  s.wait_session(1.5);
  s.record_stop();
  const std::string safe = s.take_dir() + "/safe";
  const json safe_take = read_json(safe + "/take.json");
  EXPECT_EQ(json_int(safe_take["mix"], "clipped_samples"), 0) << safe_take.dump(2);
  const double mix_tp = true_peak_dbtp(read_audio(safe + "/mix.wav"));
  EXPECT_GT(true_peak_dbtp(read_audio(safe + "/loud-1.wav")), -1.5) << "the track is never limited";
  s.capture("loud").stop();  // closes its cue file
  const double cue_tp = true_peak_dbtp(read_audio(cue_file));
  std::printf(
      "[ figure ] +24 dB hot tone: mix.wav true peak %.2f dBTP (ceiling -1), cue mix %.2f dBTP (ceiling "
      "-6)\n",
      mix_tp, cue_tp);
  EXPECT_LE(mix_tp, -1.0);
  EXPECT_GT(mix_tp, -1.5) << "the limiter holds the ceiling, not far under it";
  EXPECT_LE(cue_tp, -6.0);
  EXPECT_GT(cue_tp, -6.5);

  // The raw sum, limiter off: over full scale, clamped and counted, never wrapped.
  s.start_capture("loud2", "tone:100", {"--level-db", "-1"});
  ASSERT_TRUE(s.wait_node_state("loud2", "streaming")) << s.logs();
  ASSERT_EQ(s.tlctl({"gain", "loud2/1", "12"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"master", "limiter", "off"}).exit_code, 0);
  s.wait_session(0.2);
  s.record_start("clip");
  s.wait_session(1.0);
  s.record_stop();
  const std::string dir = s.take_dir() + "/clip";
  const json take = read_json(dir + "/take.json");
  EXPECT_GT(json_int(take["mix"], "clipped_samples"), 0) << take.dump(2);
  const Audio mix = read_audio(dir + "/mix.wav");
  const Audio track = read_audio(dir + "/loud2-1.wav");
  ASSERT_EQ(mix.frames(), track.frames());
  std::int64_t wrapped = 0, at_full_scale = 0;
  for (std::int64_t f = 0; f < mix.frames(); ++f) {
    const double x = to_unit(track.samples[static_cast<std::size_t>(f)]);
    const double y = to_unit(mix.samples[static_cast<std::size_t>(2 * f)]);
    if (std::fabs(x) > 0.05 && (x > 0) != (y > 0)) ++wrapped;
    if (std::fabs(y) > 0.9999) ++at_full_scale;
  }
  EXPECT_EQ(wrapped, 0);
  EXPECT_GT(at_full_scale, 1000);
  const json status = s.tlctl_json({"status"});
  EXPECT_GT(json_int(status, "clipped_samples"), 0);
}

}  // namespace
}  // namespace tl::test
