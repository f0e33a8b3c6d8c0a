#include <gtest/gtest.h>

#include <tuple>

#include "tl/capture/options.h"

namespace tl::capture {
namespace {

RawOptions good() {
  RawOptions r;
  r.mixer = "127.0.0.1:7400";
  r.name = "room-a";
  r.source = "tone:440";
  return r;
}

TEST(CaptureOptions, DefaultsAreValid) {
  auto o = validate(good());
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->mixer.host, "127.0.0.1");
  EXPECT_EQ(o->mixer.port, 7400);
  EXPECT_EQ(o->channels, 1);
  EXPECT_FALSE(o->channels_given);
  EXPECT_EQ(o->rate, 48000u);
  EXPECT_EQ(o->frames_per_packet, 48);
  EXPECT_EQ(o->format, protocol::SampleFormat::Pcm24);
  EXPECT_FLOAT_EQ(o->level_db, -12.0f);
}

TEST(CaptureOptions, RejectsBadValuesWithTheOptionNamed) {
  auto expect_error = [](RawOptions r, const std::string& needle) {
    auto o = validate(r);
    ASSERT_FALSE(o) << "accepted: " << needle;
    EXPECT_NE(o.error().find(needle), std::string::npos) << o.error();
  };
  RawOptions r = good();
  r.mixer = "127.0.0.1";
  expect_error(r, "--mixer");
  r = good();
  r.audio_to = "127.0.0.1";
  expect_error(r, "--audio-to");
  r = good();
  r.sim_clock_skew_ppm = -1001;
  expect_error(r, "--sim-clock-skew-ppm");
  r = good();
  r.sim_clock_offset_ms = 1e12;
  expect_error(r, "--sim-clock-offset-ms");
  r = good();
  r.mixer = "127.0.0.1:0";
  expect_error(r, "--mixer");
  r = good();
  r.name = "has space";
  expect_error(r, "--name");
  r = good();
  r.name = std::string(33, 'a');
  expect_error(r, "--name");
  r = good();
  r.name = "";
  expect_error(r, "--name");
  r = good();
  r.channels = 65;
  r.channels_given = true;
  expect_error(r, "--channels");
  r = good();
  r.channels = 0;
  r.channels_given = true;
  expect_error(r, "--channels");
  r = good();
  r.channels = -1;
  r.channels_given = true;
  expect_error(r, "--channels");
  r = good();
  r.rate = 22050;
  expect_error(r, "--rate");
  r = good();
  r.frames_per_packet = 100;
  expect_error(r, "--frames-per-packet");
  r = good();
  r.format = "pcm8";
  expect_error(r, "--format");
  r = good();
  r.source = "sine:440";
  expect_error(r, "--source");
  r = good();
  r.source = "tone:abc";
  expect_error(r, "tone");
  r = good();
  r.source = "tone:30000";
  expect_error(r, "tone");
  r = good();
  r.source = "click:0";
  expect_error(r, "click");
  r = good();
  r.source = "file:";
  expect_error(r, "file");
  r = good();
  r.loop = true;
  expect_error(r, "--loop");
  r = good();
  r.level_db = 3.0;
  expect_error(r, "--level-db");
  r = good();
  r.duration_s = -1.0;
  expect_error(r, "--duration");
  r = good();
  r.audio_api = "coreaudio";
  expect_error(r, "--audio-api");
}

TEST(CaptureOptions, CueOutputIsNoneADeviceOrAFile) {
  RawOptions r = good();
  EXPECT_EQ(validate(r)->cue, CaptureOptions::CueKind::None);
  r.cue = "device";
  EXPECT_EQ(validate(r)->cue, CaptureOptions::CueKind::Device);
  EXPECT_EQ(validate(r)->cue_target, "");
  r.cue = "device:USB Headphones";
  EXPECT_EQ(validate(r)->cue_target, "USB Headphones");
  r.cue = "file:/tmp/cue.wav";
  EXPECT_EQ(validate(r)->cue, CaptureOptions::CueKind::File);
  EXPECT_EQ(validate(r)->cue_target, "/tmp/cue.wav");
  for (const char* bad : {"file:", "speaker", "devices"}) {
    r.cue = bad;
    auto o = validate(r);
    ASSERT_FALSE(o) << bad;
    EXPECT_NE(o.error().find("--cue"), std::string::npos) << o.error();
  }
}

TEST(CaptureOptions, TheCueComesAsOpusForAnOpusNodeOrWhenAskedAndAsPcmOtherwise) {
  RawOptions r = good();
  EXPECT_EQ(validate(r)->cue_opus_bitrate, 0u) << "a PCM node: a PCM cue";
  r.format = "opus";
  EXPECT_EQ(validate(r)->cue_opus_bitrate, 192000u) << "an Opus node is on a thin link";
  r.cue_codec = "pcm";
  EXPECT_EQ(validate(r)->cue_opus_bitrate, 0u);
  r.format = "pcm24";
  r.cue_codec = "opus";
  r.cue_bitrate_kbps = 256;
  EXPECT_EQ(validate(r)->cue_opus_bitrate, 256000u);
  for (const auto& [bitrate, codec, option] :
       {std::tuple{15, "opus", "--cue-bitrate"}, std::tuple{128, "flac", "--cue-codec"}}) {
    r.cue_bitrate_kbps = bitrate;
    r.cue_codec = codec;
    auto o = validate(r);
    ASSERT_FALSE(o) << option;
    EXPECT_NE(o.error().find(option), std::string::npos) << o.error();
  }
}

TEST(CaptureOptions, ACueLoopPlaysItsOwnCueAndOnlyItIsCalibrated) {
  RawOptions r = good();
  r.source = "cue-loop:7.3";
  auto o = validate(r);
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->source.kind, SourceKind::CueLoop);
  EXPECT_DOUBLE_EQ(o->source.loop_ms, 7.3);
  EXPECT_EQ(o->round_trip_frames, -1) << "none given: the stored calibration";
  EXPECT_NE(o->calibration_file.find("room-a.json"), std::string::npos) << o->calibration_file;
  for (const char* bad : {"cue-loop", "cue-loop:0.5", "cue-loop:1001", "cue-loop:x"}) {
    r.source = bad;
    EXPECT_FALSE(validate(r)) << bad;
  }
  r.source = "cue-loop:7.3";
  r.cue = "file:/tmp/c.wav";
  ASSERT_FALSE(validate(r));
  EXPECT_NE(validate(r).error().find("leave --cue out"), std::string::npos);
  r.cue = "none";
  // --calibrate needs no mixer, and only a cable to measure.
  r.calibrate = true;
  r.mixer.clear();
  ASSERT_TRUE(validate(r)) << validate(r).error();
  r.source = "tone:440";
  ASSERT_FALSE(validate(r));
  EXPECT_NE(validate(r).error().find("--source device"), std::string::npos) << validate(r).error();
  // A device measures its own output into its input: a cue elsewhere is refused.
  r.source = "device:USB";
  ASSERT_TRUE(validate(r)) << validate(r).error();
  r.cue = "device:USB";
  EXPECT_TRUE(validate(r)) << validate(r).error();
  r.cue = "device:Other";
  ASSERT_FALSE(validate(r));
  EXPECT_NE(validate(r).error().find("own output"), std::string::npos) << validate(r).error();
  // --round-trip-ms in frames at the rate; out of range is refused.
  r = good();
  r.round_trip_ms = 7.3;
  EXPECT_EQ(validate(r)->round_trip_frames, 350);
  for (const double bad : {-0.5, 2000.5}) {
    r.round_trip_ms = bad;
    ASSERT_FALSE(validate(r)) << bad;
    EXPECT_NE(validate(r).error().find("--round-trip-ms"), std::string::npos);
  }
}

TEST(CaptureOptions, NamesAllowTheDocumentedCharacters) {
  EXPECT_TRUE(valid_node_name("Room_A.1-b"));
  EXPECT_TRUE(valid_node_name(std::string(32, 'x')));
  EXPECT_FALSE(valid_node_name("a/b"));
  EXPECT_FALSE(valid_node_name("é"));
}

TEST(CaptureOptions, ParsesEverySourceKind) {
  auto s = parse_source("device", 48000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, SourceKind::Device);
  EXPECT_EQ(s->device, "");
  s = parse_source("device:USB Audio", 48000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->device, "USB Audio");
  s = parse_source("tone:1000.5", 48000);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->tone_hz, 1000.5);
  s = parse_source("noise", 48000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, SourceKind::Noise);
  s = parse_source("file:/tmp/a:b.wav", 48000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->path, "/tmp/a:b.wav");
  EXPECT_EQ(s->text, "file:/tmp/a:b.wav");
}

TEST(CaptureOptions, ClickPeriodsInSecondsMillisecondsOrSamples) {
  auto s = parse_source("click:1s", 48000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->click_period, 48000);
  EXPECT_FALSE(s->pulse);
  s = parse_source("pulse:250ms", 48000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, SourceKind::Click);
  EXPECT_EQ(s->click_period, 12000);
  EXPECT_TRUE(s->pulse);
  const auto bare = parse_source("pulse", 48000);
  ASSERT_FALSE(bare);
  EXPECT_NE(bare.error().find("expected pulse:PERIOD"), std::string::npos) << bare.error();
  s = parse_source("click:500ms", 44100);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->click_period, 22050);
  s = parse_source("click:4800", 96000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->click_period, 4800);
  EXPECT_FALSE(parse_source("click:1x", 48000));
  EXPECT_FALSE(parse_source("click:-5", 48000));
}

TEST(CaptureOptions, AudioToAndSimulatedClockAreCarriedThrough) {
  RawOptions r = good();
  auto plain = validate(r);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->audio_to_given);
  EXPECT_EQ(plain->sim_clock_offset_ms, 0.0);
  EXPECT_EQ(plain->sim_clock_skew_ppm, 0.0);
  r.audio_to = "127.0.0.1:7500";
  r.sim_clock_offset_ms = -1300;
  r.sim_clock_skew_ppm = -200;
  auto o = validate(r);
  ASSERT_TRUE(o) << o.error();
  EXPECT_TRUE(o->audio_to_given);
  EXPECT_EQ(o->audio_to.host, "127.0.0.1");
  EXPECT_EQ(o->audio_to.port, 7500);
  EXPECT_EQ(o->sim_clock_offset_ms, -1300);
  EXPECT_EQ(o->sim_clock_skew_ppm, -200);
}

TEST(CaptureOptions, SpoolBoundIsADurationOrASize) {
  EXPECT_EQ(parse_spool_max("90s").value(), (std::pair<std::uint64_t, double>{0, 90.0}));
  EXPECT_EQ(parse_spool_max("30m").value(), (std::pair<std::uint64_t, double>{0, 1800.0}));
  EXPECT_EQ(parse_spool_max("2h").value(), (std::pair<std::uint64_t, double>{0, 7200.0}));
  EXPECT_EQ(parse_spool_max("45").value(), (std::pair<std::uint64_t, double>{0, 45.0}));
  EXPECT_EQ(parse_spool_max("500M").value(), (std::pair<std::uint64_t, double>{500ull << 20, 0.0}));
  EXPECT_EQ(parse_spool_max("4G").value(), (std::pair<std::uint64_t, double>{4ull << 30, 0.0}));
  for (const char* bad : {"", "0", "-5m", "10x", "lots", "100K"}) {
    const auto r = parse_spool_max(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().find("bad"), std::string::npos) << r.error();
    }
  }
}

TEST(CaptureOptions, SpoolDefaultsUnderTheStateFolderAndNoneSwitchesItOff) {
  RawOptions raw;
  raw.mixer = "127.0.0.1:7400";
  raw.name = "booth";
  auto o = validate(raw);
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->spool_dir, default_spool_dir("booth"));
  EXPECT_NE(o->spool_dir.find("tracklink"), std::string::npos);
  EXPECT_EQ(o->spool_max_seconds, 3600.0);
  raw.spool_dir = "none";
  EXPECT_TRUE(validate(raw).value().spool_dir.empty());
  raw.spool_dir = "/srv/spool";
  raw.spool_max = "soon";
  const auto bad = validate(raw);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("--spool-max"), std::string::npos);
}

TEST(CaptureOptions, OpusTakesItsOwnFrameSizesAndABitrate) {
  RawOptions r = good();
  r.format = "opus";
  auto o = validate(r);
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->format, protocol::SampleFormat::Opus);
  EXPECT_EQ(o->frames_per_packet, 240) << "5 ms: Opus has no 1 ms frame";
  EXPECT_EQ(o->bitrate, 96000u);
  r.frames_per_packet = 960;
  r.bitrate_kbps = 32;
  o = validate(r);
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->frames_per_packet, 960);
  EXPECT_EQ(o->bitrate, 32000u);
  auto error_of = [](RawOptions raw) {
    auto v = validate(raw);
    return v ? std::string() : v.error();
  };
  r.frames_per_packet = 48;
  EXPECT_NE(error_of(r).find("120, 240, 480 or 960"), std::string::npos) << error_of(r);
  r = good();
  r.format = "opus";
  r.rate = 44100;
  EXPECT_NE(error_of(r).find("--rate 48000"), std::string::npos) << error_of(r);
  r = good();
  r.format = "opus";
  r.bitrate_kbps = 3;
  EXPECT_NE(error_of(r).find("--bitrate"), std::string::npos) << error_of(r);
  r = good();
  r.frames_per_packet = 240;  // an Opus size is not a PCM one
  EXPECT_NE(error_of(r).find("--frames-per-packet"), std::string::npos) << error_of(r);
}

}  // namespace
}  // namespace tl::capture
