// The simulated interface of --source cue-loop:MS: its cable delays by a fraction of a
// sample, the node plays its cue at a delay it chooses and learns the round trip by
// calibration; late cue audio grows that delay.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <thread>
#include <vector>

#include "process.h"
#include "tl/capture/calibration.h"
#include "tl/capture/cue_loop.h"
#include "tl/capture/cue_output.h"

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

//! A cue chunk whose frames say where they are: left = position / 2^20, right = -left.
std::vector<float> marked_chunk(MediaTime position, std::size_t frames) {
  std::vector<float> c(2 * frames);
  for (std::size_t i = 0; i < frames; ++i) {
    c[2 * i] = static_cast<float>(position + static_cast<MediaTime>(i)) / 1048576.0f;
    c[2 * i + 1] = -c[2 * i];
  }
  return c;
}

TEST(DuplexCue, PlaysEachCueFrameWithTheInputTwinAtItsPositionPlusTheDelay) {
  // The device's callback: 64 frames a time, its input twins' media times running on; each
  // cue chunk arrives 100 frames after its mix position (on that timeline).
  DuplexCue cue("test", kRate, 48);
  std::vector<float> out(2 * 64);
  MediaTime media = 5000;
  MediaTime next = media - 100;  // the next cue chunk's position
  std::vector<std::pair<MediaTime, float>> played;
  for (int k = 0; k < 1200; ++k, media += 64) {
    cue.play(out.data(), 64, media);
    for (std::size_t i = 0; i < 64; ++i) played.emplace_back(media + static_cast<MediaTime>(i), out[i]);
    for (; next + 100 <= media + 64; next += 48) {
      cue.deliver(next, marked_chunk(next, 48), static_cast<double>(media + 64));
    }
  }
  const MediaTime delay = cue.play_delay();
  ASSERT_GT(delay, 100) << "chosen over the first second: the largest transit and a margin";
  EXPECT_LT(delay, 100 + 64 + 2 * 48 + kRate / 100 + 1);
  std::size_t checked = 0;
  for (const auto& [t, v] : played) {
    if (t < 5000 + static_cast<MediaTime>(2 * kRate) / 2 + delay) continue;  // once it plays
    ASSERT_EQ(v, static_cast<float>(t - delay) / 1048576.0f) << "media time " << t;
    ++checked;
  }
  EXPECT_GT(checked, 20000u);
  EXPECT_EQ(cue.underruns(), 0u);
  // Before a timeline runs it plays silence.
  cue.play(out.data(), 64, INT64_MIN);
  EXPECT_EQ(out[0], 0.0f);
}

TEST(DuplexCue, ACallbackThatPlaysWhileChunksArriveNeverPlaysHalfAFrame) {
  // The sender delivers on its thread while the device plays on another: every frame played
  // is a whole one (left = -right) or silence.
  // (Under ThreadSanitizer this also checks the slots' memory order.)
  DuplexCue cue("test", kRate, 48);
  std::atomic<MediaTime> media{0}, delivered{0};
  std::atomic<bool> done{false};
  std::thread sender([&] {
    for (MediaTime p = 0; p < 3 * static_cast<MediaTime>(kRate) && !done.load(); p += 48) {
      while (media.load() < p + 48 && !done.load()) std::this_thread::yield();
      cue.deliver(p, marked_chunk(p, 48), 0.0);
      delivered.store(p + 48);
    }
  });
  std::vector<float> out(2 * 64);
  std::size_t whole = 0, torn = 0;
  for (MediaTime m = 0; m < 3 * static_cast<MediaTime>(kRate) - 128; m += 64) {
    cue.play(out.data(), 64, m);
    media.store(m + 64);
    // The sender keeps up (as it does live), within bounds.
    for (int spin = 0; spin < 1000000 && delivered.load() + 48 <= m + 64; ++spin) std::this_thread::yield();
    for (std::size_t i = 0; i < 64; ++i) {
      if (out[i] == 0.0f && out[64 + i] == 0.0f) continue;
      (out[i] == -out[64 + i] ? whole : torn) += 1;
    }
  }
  done.store(true);
  sender.join();
  EXPECT_EQ(torn, 0u);
  EXPECT_GT(whole, static_cast<std::size_t>(kRate));
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
