#include <gtest/gtest.h>

#include <sstream>

#include "tl/ctl/commands.h"
#include "tl/ctl/strip_format.h"

namespace tl::ctl {
namespace {

float value_of(const tl::proto::SetStrip& s, const std::string& key) {
  for (const auto& p : s.params()) {
    if (p.key() == key) return p.value();
  }
  ADD_FAILURE() << "no key " << key;
  return 0.0f;
}

TEST(StripArgs, EqBandWithKiloHertz) {
  auto r = parse_strip_args({"eq", "2", "freq=2.5k", "gain=-3", "q=1.2"}, StripKind::Channel);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->section(), "eq");
  EXPECT_EQ(r->band(), 2u);
  EXPECT_FLOAT_EQ(value_of(*r, "freq"), 2500.0f);
  EXPECT_FLOAT_EQ(value_of(*r, "gain"), -3.0f);
  EXPECT_FLOAT_EQ(value_of(*r, "q"), 1.2f);
}

TEST(StripArgs, FiltersTakeABareFrequencyAndSlope) {
  auto hpf = parse_strip_args({"hpf", "80", "slope=24"}, StripKind::Channel);
  ASSERT_TRUE(hpf) << hpf.error();
  EXPECT_FLOAT_EQ(value_of(*hpf, "freq"), 80.0f);
  EXPECT_FLOAT_EQ(value_of(*hpf, "slope"), 24.0f);
  auto lpf = parse_strip_args({"lpf", "12k"}, StripKind::Channel);
  ASSERT_TRUE(lpf) << lpf.error();
  EXPECT_FLOAT_EQ(value_of(*lpf, "freq"), 12000.0f);
  auto off = parse_strip_args({"hpf", "off"}, StripKind::Channel);
  ASSERT_TRUE(off) << off.error();
  EXPECT_FLOAT_EQ(value_of(*off, "on"), 0.0f);
}

TEST(StripArgs, CompressorKeysDetectAndSidechain) {
  auto r = parse_strip_args({"comp", "threshold=-18", "ratio=4", "attack=10", "release=120", "makeup=3",
                             "knee=6", "detect=rms", "sc-hpf=100"},
                            StripKind::Channel);
  ASSERT_TRUE(r) << r.error();
  EXPECT_FLOAT_EQ(value_of(*r, "detect"), 1.0f);
  EXPECT_FLOAT_EQ(value_of(*r, "sc-hpf"), 100.0f);
  EXPECT_FLOAT_EQ(value_of(*r, "release"), 120.0f);
}

TEST(StripArgs, DelayInMillisecondsOrSamples) {
  auto ms = parse_strip_args({"delay", "1.5ms"}, StripKind::Channel);
  ASSERT_TRUE(ms) << ms.error();
  EXPECT_FLOAT_EQ(value_of(*ms, "ms"), 1.5f);
  auto samples = parse_strip_args({"delay", "72"}, StripKind::Channel);
  ASSERT_TRUE(samples) << samples.error();
  EXPECT_FLOAT_EQ(value_of(*samples, "samples"), 72.0f);
}

TEST(StripArgs, UnknownKeysAndOutOfRangeValuesAreClearErrors) {
  auto unknown = parse_strip_args({"comp", "treshold=-18"}, StripKind::Channel);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("unknown key 'treshold'"), std::string::npos) << unknown.error();
  auto range = parse_strip_args({"comp", "ratio=40"}, StripKind::Channel);
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().find("out of range"), std::string::npos) << range.error();
  EXPECT_FALSE(parse_strip_args({"eq", "5", "gain=1"}, StripKind::Channel));
  EXPECT_FALSE(parse_strip_args({"reverb", "on"}, StripKind::Channel));
  EXPECT_FALSE(parse_strip_args({"limiter", "on"}, StripKind::Channel))
      << "the limiter is on the master only";
  EXPECT_FALSE(parse_strip_args({"gate"}, StripKind::Channel)) << "nothing to change";
}

TEST(StripArgs, MasterLimiter) {
  auto r = parse_strip_args({"limiter", "on", "ceiling=-1"}, StripKind::Master);
  ASSERT_TRUE(r) << r.error();
  EXPECT_FLOAT_EQ(value_of(*r, "on"), 1.0f);
  EXPECT_FLOAT_EQ(value_of(*r, "ceiling"), -1.0f);
  EXPECT_FALSE(parse_strip_args({"hpf", "80"}, StripKind::Master)) << "no filters on the master";
}

TEST(StripArgs, CommandLineWithNegativeBareValue) {
  std::ostringstream out, err;
  auto parsed = parse_command_line({"strip", "room-a/1", "trim", "-3", "--json"}, out, err);
  ASSERT_TRUE(parsed.invocation) << err.str();
  EXPECT_EQ(parsed.invocation->command, Command::Strip);
  EXPECT_TRUE(parsed.invocation->json);
  const auto env = build_request(*parsed.invocation);
  ASSERT_TRUE(env.has_set_strip());
  EXPECT_EQ(env.set_strip().target(), "room-a/1");
  EXPECT_EQ(env.set_strip().section(), "trim");
  EXPECT_FLOAT_EQ(value_of(env.set_strip(), "db"), -3.0f);
}

TEST(StripArgs, CommandLineMasterAndMeters) {
  std::ostringstream out, err;
  auto master = parse_command_line({"master", "limiter", "on", "ceiling=-1"}, out, err);
  ASSERT_TRUE(master.invocation) << err.str();
  EXPECT_EQ(build_request(*master.invocation).set_strip().target(), "master");
  auto meters = parse_command_line({"meters", "--count", "3"}, out, err);
  ASSERT_TRUE(meters.invocation) << err.str();
  EXPECT_EQ(meters.invocation->command, Command::Meters);
  EXPECT_EQ(meters.invocation->count, 3u);
  auto bad = parse_command_line({"strip", "room-a/1", "comp", "ratio=0.5"}, out, err);
  EXPECT_FALSE(bad.invocation);
  EXPECT_EQ(bad.exit_code, kExitUsage);
}

TEST(StripFormat, ShowPrintsEveryParameter) {
  tl::proto::StripState s;
  s.set_target("room-a/1");
  s.mutable_hpf()->set_on(true);
  s.mutable_hpf()->set_freq_hz(80);
  s.mutable_hpf()->set_slope_db(24);
  s.mutable_comp()->set_threshold_db(-18);
  const std::string text = format_strip_state(s);
  for (const char* word : {"trim", "phase", "delay", "hpf", "lpf", "eq", "gate", "comp", "threshold", "ratio",
                           "attack", "release", "makeup", "knee", "detect", "sc-hpf", "range", "hold"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word << " missing in\n" << text;
  }
  EXPECT_NE(text.find("on  80 Hz 24 dB/oct"), std::string::npos) << text;
}

TEST(StripArgs, RoutesAndSends) {
  auto route = parse_strip_args({"route", "to=bus3"}, StripKind::Channel);
  ASSERT_TRUE(route) << route.error();
  EXPECT_FLOAT_EQ(value_of(*route, "to"), 3.0f);
  auto bare = parse_strip_args({"route", "master"}, StripKind::Channel);
  ASSERT_TRUE(bare) << bare.error();
  EXPECT_FLOAT_EQ(value_of(*bare, "to"), 0.0f);
  EXPECT_FALSE(parse_strip_args({"route", "bus9"}, StripKind::Channel)) << "8 group buses";
  EXPECT_FALSE(parse_strip_args({"route", "to=drums"}, StripKind::Channel));
  auto send = parse_strip_args({"send", "2", "level=-10", "pre=on"}, StripKind::Channel);
  ASSERT_TRUE(send) << send.error();
  EXPECT_EQ(send->band(), 2u);
  EXPECT_FLOAT_EQ(value_of(*send, "level"), -10.0f);
  EXPECT_FLOAT_EQ(value_of(*send, "pre"), 1.0f);
  auto unnumbered = parse_strip_args({"send", "level=-10"}, StripKind::Channel);
  ASSERT_FALSE(unnumbered);
  EXPECT_NE(unnumbered.error().find("send 1"), std::string::npos) << unnumbered.error();
  EXPECT_FALSE(parse_strip_args({"send", "3", "level=0"}, StripKind::Channel)) << "two effect sends";
}

TEST(StripArgs, BusSections) {
  auto verb = parse_strip_args({"reverb", "decay=2.5", "predelay=20ms", "damping=6k"}, StripKind::Bus);
  ASSERT_TRUE(verb) << verb.error();
  EXPECT_FLOAT_EQ(value_of(*verb, "damping"), 6000.0f);
  auto echo = parse_strip_args({"delay", "bpm=96", "division=1/8d", "pingpong=on"}, StripKind::Bus);
  ASSERT_TRUE(echo) << echo.error();
  EXPECT_FLOAT_EQ(value_of(*echo, "division"), 6.0f);
  EXPECT_FLOAT_EQ(value_of(*echo, "pingpong"), 1.0f);
  EXPECT_FALSE(parse_strip_args({"delay", "division=3/7"}, StripKind::Bus));
  EXPECT_FALSE(parse_strip_args({"delay", "samples=10"}, StripKind::Bus))
      << "a bus's delay is the tempo delay";
  EXPECT_FALSE(parse_strip_args({"trim", "3"}, StripKind::Bus)) << "no trim on a bus";
  EXPECT_TRUE(parse_strip_args({"comp", "threshold=-20"}, StripKind::Bus));
  EXPECT_FALSE(parse_strip_args({"fader", "db=20"}, StripKind::Bus)) << "+10 dB at most";

  std::ostringstream out, err;
  auto parsed = parse_command_line({"bus", "bus2", "fader", "-6"}, out, err);
  ASSERT_TRUE(parsed.invocation) << err.str();
  EXPECT_EQ(parsed.invocation->command, Command::Bus);
  const auto env = build_request(*parsed.invocation);
  ASSERT_TRUE(env.has_set_strip());
  EXPECT_EQ(env.set_strip().target(), "bus2");
  EXPECT_EQ(env.set_strip().section(), "fader");
  EXPECT_FLOAT_EQ(env.set_strip().params(0).value(), -6.0f);
  std::ostringstream out2, err2;
  EXPECT_FALSE(parse_command_line({"bus", "drums", "fader", "-6"}, out2, err2).invocation)
      << "not a bus name";
  EXPECT_NE(err2.str().find("bus1-bus8"), std::string::npos) << err2.str();
}

}  // namespace
}  // namespace tl::ctl
