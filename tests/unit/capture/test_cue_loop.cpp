// The simulated interface of --source cue-loop:MS: its cable delays by a fraction of a
// sample, the node plays its cue at a delay it chooses and learns the round trip by
// calibration; late cue audio grows that delay.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <vector>

#include "process.h"
#include "tl/capture/calibration.h"
#include "tl/capture/cue_loop.h"

namespace tl::capture {
namespace {

constexpr std::uint32_t kRate = 48000;

TEST(FractionalDelay, DelaysASineByAFractionOfASample) {
  const FractionalDelay cable(350.4);
  EXPECT_EQ(cable.whole(), 350);
  const double w = 2.0 * M_PI * 1000.0 / kRate;
  const auto sine = [&](MediaTime t) { return static_cast<float>(std::sin(w * static_cast<double>(t))); };
  double worst = 0.0;
  for (MediaTime m = 1000; m < 1200; ++m)
    worst = std::max(worst, std::fabs(cable.at(m, sine) - std::sin(w * (static_cast<double>(m) - 350.4))));
  EXPECT_LT(worst, 2e-3) << "a 1 kHz sine, 350.4 frames later";
}

TEST(RoundTrip, CalibrationFindsTheCableToASampleAtAnyFraction) {
  for (const double ms : {1.0, 2.51, 7.3, 7.3125, 20.02, 333.3, 1000.0}) {
    auto frames = calibrate_cue_loop(ms, kRate);
    ASSERT_TRUE(frames) << frames.error();
    EXPECT_LE(std::fabs(std::round(*frames) - ms * kRate / 1000.0), 1.0) << ms << " ms: " << *frames;
  }
}

TEST(RoundTrip, AClickNotHeardOrHeardAtOddTimesIsAnError) {
  std::vector<float> in(3 * kRate, 0.0f);
  const std::vector<MediaTime> clicks = {1000, 70000};
  auto silent = measure_round_trip(in, clicks, kRate);
  ASSERT_FALSE(silent);
  EXPECT_NE(silent.error().find("not heard"), std::string::npos) << silent.error();
  in[1100] = 0.5f;
  in[70300] = 0.5f;
  auto odd = measure_round_trip(in, clicks, kRate);
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().find("not one round trip"), std::string::npos) << odd.error();
}

//! A cue chunk of `frames` frames at mix position p: left holds p's own index, right its negative.
std::vector<float> chunk(MediaTime p, std::size_t frames) {
  std::vector<float> out(2 * frames);
  for (std::size_t i = 0; i < frames; ++i) {
    out[2 * i] = static_cast<float>(p + static_cast<MediaTime>(i)) * 1e-6f;
    out[2 * i + 1] = -out[2 * i];
  }
  return out;
}

//! The node's send loop: captures the input block that ends at media time p + transit,
//! then the cue chunk for mix position p arrives.
void arrive(CueLoop& loop, MediaTime p, MediaTime transit, std::size_t frames = 48) {
  BlockInfo info{.media_ts = p + transit - static_cast<MediaTime>(frames), .epoch = 1};
  std::vector<float> planar(frames);
  loop.render(info, planar.data(), 1, frames);
  loop.deliver(p, chunk(p, frames), static_cast<double>(p + transit));
}

TEST(CueLoop, CapturesTheCueItPlayedAfterItsDelayAndTheCable) {
  // A whole-sample cable (480 frames, 10 ms) so that the input is the cue exactly.
  CueLoop loop(10.0, kRate, 48);
  EXPECT_EQ(loop.play_delay(), -1) << "chosen once a second of cue has come in";
  // Cue chunks arrive 300 frames after their mix position, on the node's media timeline.
  MediaTime p = 0;
  for (; p < static_cast<MediaTime>(kRate); p += 48) arrive(loop, p, 300);
  const MediaTime delay = loop.play_delay();
  EXPECT_EQ(delay, 300 + 480) << "the largest transit, then a margin of 10 ms (more than 2 blocks)";
  for (int i = 0; i < 100; ++i, p += 48) arrive(loop, p, 300);
  // The input at media time m holds cue frame m - delay - 480.
  const MediaTime at = p - 2000;
  BlockInfo info{.media_ts = at + delay + 480, .epoch = 1};
  std::vector<float> planar(3 * 48);
  loop.render(info, planar.data(), 3, 48);
  for (std::size_t i = 0; i < 48; ++i) {
    EXPECT_NEAR(planar[i], static_cast<float>(at + static_cast<MediaTime>(i)) * 1e-6f, 1e-6f) << i;
    EXPECT_NEAR(planar[48 + i], -planar[i], 1e-7f) << "input 2: the right side";
    EXPECT_EQ(planar[96 + i], planar[i]) << "input 3: the left again";
  }
  EXPECT_EQ(loop.underruns(), 0u);
  EXPECT_EQ(loop.delay_changes(), 0u);
  EXPECT_NEAR(loop.latency_ms(), static_cast<double>(delay) * 1000.0 / kRate, 1e-9)
      << "the latency a performer hears is the play delay";
}

TEST(CueLoop, ALoneLateBurstIsCountedAndLatenessThatComesBackGrowsTheDelay) {
  CueLoop loop(10.0, kRate, 48);
  MediaTime p = 0;
  for (; p < static_cast<MediaTime>(kRate); p += 48) arrive(loop, p, 100);
  const MediaTime delay = loop.play_delay();
  ASSERT_EQ(delay, 100 + 480);
  // A stall: two chunks late by 40 and 70 frames, one burst. The delay holds.
  arrive(loop, p, delay + 40);
  p += 48;
  arrive(loop, p, delay + 70);
  p += 48;
  EXPECT_EQ(loop.underruns(), 40u + 48u) << "the late frames (at most a chunk's) played as silence";
  EXPECT_EQ(loop.delay_changes(), 0u);
  EXPECT_EQ(loop.play_delay(), delay);
  // Two seconds on, lateness again (20 frames): the delay grows to take the latest seen.
  const MediaTime resume = p + 2 * static_cast<MediaTime>(kRate);
  for (; p < resume; p += 48) arrive(loop, p, 100);
  arrive(loop, p, delay + 20);
  p += 48;
  EXPECT_EQ(loop.underruns(), 40u + 48u + 20u);
  EXPECT_EQ(loop.delay_changes(), 1u);
  EXPECT_EQ(loop.play_delay(), delay + 70 + 480) << "the latest transit, then the margin";
  // A lone burst long after that moves nothing.
  const MediaTime later = p + 11 * static_cast<MediaTime>(kRate);
  for (; p < later; p += 48) arrive(loop, p, 100);
  arrive(loop, p, delay + 70 + 480 + 10);
  EXPECT_EQ(loop.delay_changes(), 1u);
}

TEST(Calibration, IsKeptAndReadBackAndABadFileIsAClearError) {
  const std::string dir = test::make_work_dir("calibration_file");
  const std::string path = dir + "/node/singer.json";
  ASSERT_TRUE(write_calibration(path, Calibration{.node = "singer",
                                                  .sample_rate = 48000,
                                                  .round_trip_frames = 350,
                                                  .measured = "cue-loop:7.3",
                                                  .at = "2026-12-07T12:00:00Z"}));
  auto back = read_calibration(path);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->round_trip_frames, 350);
  EXPECT_EQ(back->sample_rate, 48000u);
  EXPECT_EQ(back->measured, "cue-loop:7.3");
  EXPECT_FALSE(read_calibration(dir + "/none.json"));
  std::ofstream(dir + "/bad.json") << R"({"sample_rate": 48000, "round_trip_frames": "many"})";
  auto bad = read_calibration(dir + "/bad.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("round_trip_frames"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace tl::capture
