// Overdub placement (issue 18): a node with a simulated interface whose output is cabled
// to its input (--source cue-loop:MS) learns its round trip with --calibrate, hears a
// backing track of clicks in its cue mix, and records what it heard while the real
// tl-mixer's transport plays. Its track, placed at its take.json timeline_sample, holds
// the clicks where the backing has them, to the sample.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;
constexpr std::int64_t kFirstClick = 12000;
constexpr std::int64_t kClickEvery = 24000;

//! A mono 24-bit click track of `seconds`: one sample at half scale every half second
//! from kFirstClick on.
std::vector<std::int32_t> click_track(int seconds) {
  std::vector<std::int32_t> s(static_cast<std::size_t>(seconds * kRate), 0);
  for (std::int64_t at = kFirstClick; at < static_cast<std::int64_t>(s.size()); at += kClickEvery)
    s[static_cast<std::size_t>(at)] = 4194304 * 256;  // 0.5, left-justified 24-bit
  return s;
}

//! Where the track holds a click: each local peak of magnitude over `floor`, at most one
//! per 0.1 s, placed between samples by a parabola through its neighbours.
std::vector<double> click_positions(const Audio& a, double floor) {
  std::vector<double> out;
  const auto v = [&](std::int64_t f) {
    return std::fabs(static_cast<double>(a.samples[static_cast<std::size_t>(f)]) / 2147483648.0);
  };
  for (std::int64_t f = 1; f + 1 < a.frames();) {
    if (v(f) < floor || v(f) < v(f - 1) || v(f) < v(f + 1)) {
      ++f;
      continue;
    }
    std::int64_t best = f;
    for (std::int64_t g = f; g < std::min<std::int64_t>(f + kRate / 10, a.frames() - 1); ++g) {
      if (v(g) > v(best)) best = g;
    }
    const double l = v(best - 1), c = v(best), r = v(best + 1), den = l - 2.0 * c + r;
    out.push_back(static_cast<double>(best) + (den < 0.0 ? 0.5 * (l - r) / den : 0.0));
    f = best + kRate / 10;
  }
  return out;
}

TEST(Overdub, ACalibratedLoopbackNodeLandsItsTakeOnTheBackingToTheSample) {
  Session s("overdub");
  // Calibration first, with no mixer: the node learns the 7.3 ms (350.4 frames) it is
  // never told.
  const std::string calibration = s.dir() + "/singer-calibration.json";
  const RunResult cal = run({bin("tl-capture"), "--name", "singer", "--source", "cue-loop:7.3", "--calibrate",
                             "--calibration-file", calibration},
                            60s);
  ASSERT_EQ(cal.exit_code, 0) << cal.out << cal.err;
  const json kept = read_json(calibration);
  const std::int64_t round_trip = json_int(kept, "round_trip_frames", -1);
  std::printf("[ figure ] calibration: %s", cal.out.c_str());
  EXPECT_LE(std::abs(static_cast<double>(round_trip) - 7.3 * kRate / 1000.0), 1.0) << cal.out;

  s.start_mixer();
  const std::string clicks = s.dir() + "/clicks.wav";
  ASSERT_TRUE(write_wav(clicks, kRate, 1, SF_FORMAT_PCM_24, click_track(8)));
  ASSERT_EQ(s.tlctl({"backing", "add", clicks, "--name", "clicks"}).exit_code, 0);
  s.start_capture("singer", "cue-loop:7.3", {"--calibration-file", calibration});
  ASSERT_TRUE(s.wait_node_state("singer", "streaming")) << s.logs();
  // The cable would feed the node's own input back into its cue.
  ASSERT_EQ(s.tlctl({"cue", "singer", "me", "off"}).exit_code, 0) << s.logs();
  // The node reports how it places its audio once its cue has settled.
  ASSERT_TRUE(wait_until([&] { return s.node("singer").contains("round_trip_ms"); }, 20s)) << s.logs();
  ASSERT_TRUE(wait_until([&] { return s.node("singer").contains("cue_play_delay_ms"); }, 20s)) << s.logs();

  // Five takes in a row, each from another place (stop, locate, play, record again): each
  // lands on the backing's clicks.
  const std::vector<std::string> from = {"0", "1s", "0.26s", "2.5s", "0:03.1"};
  for (std::size_t n = 0; n < from.size(); ++n) {
    const std::string name = "dub" + std::to_string(n + 1);
    SCOPED_TRACE(name + " from " + from[n]);
    ASSERT_EQ(s.tlctl({"locate", from[n]}).exit_code, 0);
    s.record_start(name);
    const std::int64_t begin = json_int(s.tlctl_json({"play"}), "position", -1);
    ASSERT_TRUE(wait_until(
        [&] { return json_int(s.tlctl_json({"transport"}), "position", -1) > begin + 5 * kRate / 2; }, 30s))
        << s.logs();
    ASSERT_EQ(s.tlctl({"stop"}).exit_code, 0);
    s.record_stop();
    const json take = wait_take_closed(s.take_dir() + "/" + name);
    const json* track = find_track(take, "singer", 1);
    ASSERT_NE(track, nullptr) << take.dump();
    EXPECT_TRUE(track->value("complete", false)) << track->dump();
    ASSERT_TRUE(track->contains("timeline_sample")) << track->dump();
    ASSERT_TRUE(track->contains("compensation_samples")) << track->dump();
    const std::int64_t placed = json_int(*track, "timeline_sample");
    const std::int64_t compensation = json_int(*track, "compensation_samples");
    EXPECT_GT(compensation, round_trip) << "the cue's own delay, plus the round trip";

    const Audio dub = read_audio(s.take_dir() + "/" + name + "/" + track->value("file", ""));
    ASSERT_EQ(dub.rate, kRate);
    const std::vector<double> found = click_positions(dub, 0.1);
    EXPECT_GE(found.size(), 4u) << "the backing's clicks, heard through the cue and the cable";
    double worst = 0.0;
    for (const double f : found) {
      const double timeline = static_cast<double>(placed) + f;
      const double k = std::round((timeline - kFirstClick) / kClickEvery);
      worst = std::max(worst, std::fabs(timeline - (kFirstClick + k * kClickEvery)));
    }
    std::printf(
        "[ figure ] %s: %zu clicks of the overdub, placed at timeline %lld (compensation %lld frames): "
        "worst %.2f frames from the backing's\n",
        name.c_str(), found.size(), static_cast<long long>(placed), static_cast<long long>(compensation),
        worst);
    EXPECT_LE(worst, 1.0);
  }
}

}  // namespace
}  // namespace tl::test
