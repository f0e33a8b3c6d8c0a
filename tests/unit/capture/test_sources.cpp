#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <utility>

#include "alloc_counter.h"
#include "tl/capture/producer.h"
#include "tl/capture/sources.h"
#include "tl/common/units.h"
#include "tl/protocol/audio_packet.h"
#include "wav.h"

namespace tl::capture {
namespace {

constexpr std::uint32_t kRate = 48000;

//! Renders n blocks of a source, returning channel ch as one signal.
std::vector<float> render(GeneratedSource& src, std::size_t channels, std::size_t frames, int blocks,
                          std::size_t ch = 0, std::vector<BlockInfo>* infos = nullptr) {
  std::vector<float> planar(channels * frames);
  std::vector<float> out;
  for (int b = 0; b < blocks; ++b) {
    BlockInfo info;
    src.render(info, planar.data(), channels, frames);
    out.insert(out.end(), planar.begin() + static_cast<std::ptrdiff_t>(ch * frames),
               planar.begin() + static_cast<std::ptrdiff_t>((ch + 1) * frames));
    if (infos) infos->push_back(info);
  }
  return out;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tl_capture_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(ToneSource, FrequencyAndLevelMatchTheRequest) {
  ToneSource tone(1000.0, -12.0f, kRate);
  const auto x = render(tone, 2, 48, 1000);  // one second
  int rising = 0;
  float peak = 0;
  for (std::size_t i = 1; i < x.size(); ++i) {
    if (x[i - 1] < 0 && x[i] >= 0) ++rising;
    peak = std::max(peak, std::fabs(x[i]));
  }
  EXPECT_NEAR(rising, 1000, 1);
  EXPECT_NEAR(peak, db_to_gain(-12.0f), 1e-3);
  // Every channel carries the same tone.
  ToneSource again(1000.0, -12.0f, kRate);
  EXPECT_EQ(render(again, 2, 48, 1000, 1), x);
}

TEST(ToneSource, PhaseIsContinuousAcrossBlocks) {
  ToneSource tone(440.0, 0.0f, kRate);
  const auto x = render(tone, 1, 48, 100);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(x[i], std::sin(2.0 * 3.14159265358979 * 440.0 * static_cast<double>(i) / kRate), 2e-4) << i;
  }
}

TEST(NoiseSource, IsSeededBoundedAndNotConstant) {
  NoiseSource a(-6.0f, 42), b(-6.0f, 42), c(-6.0f, 43);
  const auto xa = render(a, 1, 48, 100);
  EXPECT_EQ(xa, render(b, 1, 48, 100));
  EXPECT_NE(xa, render(c, 1, 48, 100));
  double sum2 = 0;
  for (const float v : xa) {
    ASSERT_LE(std::fabs(v), db_to_gain(-6.0f));
    sum2 += double(v) * v;
  }
  // Uniform noise of peak g has RMS g / sqrt(3).
  EXPECT_NEAR(std::sqrt(sum2 / xa.size()), db_to_gain(-6.0f) / std::sqrt(3.0), 0.01);
}

//! Renders blocks at their node-clock capture times (virtual time: no timer, no sleeps)
//! and returns the stream sample index of every click.
std::vector<std::int64_t> click_frames(const SimClock& clock, std::int64_t period, std::int64_t node_start,
                                       int blocks, std::size_t frames) {
  BlockQueue queue(16, 2, frames);
  MediaStamper stamper(kRate);
  ClickSource click(period, kRate, clock);
  TimerDriver driver(queue, stamper, click, kRate, clock);
  stamper.restart(0);
  std::vector<std::int64_t> out;
  for (int b = 0; b < blocks; ++b) {
    driver.produce(node_start + frames_to_ns(static_cast<std::int64_t>(frames) * b, kRate));
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    EXPECT_TRUE(queue.front(info, planar));
    EXPECT_EQ(info->frame, static_cast<std::int64_t>(frames) * b);
    for (std::size_t i = 0; i < frames; ++i) {
      EXPECT_EQ(planar[i], planar[frames + i]) << "every channel clicks";
      if (planar[i] == ClickSource::kAmplitude)
        out.push_back(info->frame + static_cast<std::int64_t>(i));
      else
        EXPECT_EQ(planar[i], 0.0f);
    }
    queue.pop();
  }
  return out;
}

TEST(ClickSource, ClicksSitOnWholeSecondsOfTheRealClock) {
  // Identity clock: the stream starts 0.25 s + 3 ns after a whole second; clicks at the
  // first sample captured at or after each whole second.
  const std::int64_t start = 7 * kNanosPerSecond + 250'000'003;
  const auto f = click_frames(SimClock{}, kRate, start, 3000, 48);  // 3 s of stream
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], 35999);  // 0.75 s - 3 ns after the start: floor(35999.99986)
  EXPECT_EQ(f[1], 35999 + 48000);
  EXPECT_EQ(f[2], 35999 + 96000);
}

TEST(ClickSource, WithASimulatedClockClicksLandOnTheSampleCapturedAtTheRealSecond) {
  // A node 100 ppm fast, 250 ms ahead: its stream runs at 48004.8 samples per real second,
  // so clicks of whole real seconds are 48004 or 48005 of its samples apart, and each lands
  // on the sample whose real capture time is the whole second (to within one sample).
  for (const double skew : {100.0, -200.0, 0.0}) {
    const SimClock clock(250'000'000, skew, 3 * kNanosPerSecond);
    const std::int64_t node_start = clock.node_ns(10 * kNanosPerSecond + 123'456);
    for (const std::size_t frames : {std::size_t{48}, std::size_t{128}}) {
      const auto f = click_frames(clock, kRate, node_start, static_cast<int>(20 * kRate / frames), frames);
      ASSERT_GE(f.size(), 19u) << skew;
      for (std::size_t k = 0; k < f.size(); ++k) {
        const std::int64_t real_second = (11 + static_cast<std::int64_t>(k)) * kNanosPerSecond;
        const std::int64_t real_capture = clock.real_ns(node_start + frames_to_ns(f[k], kRate));
        EXPECT_LE(real_capture, real_second + 1) << "skew " << skew << " click " << k;
        EXPECT_GT(real_capture + frames_to_ns(1, kRate) + 1, real_second)
            << "skew " << skew << " click " << k;
        if (k > 0) {
          const double expected = kRate * (1.0 + skew * 1e-6);
          EXPECT_NEAR(static_cast<double>(f[k] - f[k - 1]), expected, 1.0) << "skew " << skew;
        }
      }
    }
  }
}

TEST(ClickSource, EachClickLandsExactlyOnceWhateverTheBlockSize) {
  const SimClock clock(-1'300'000'000, -200.0, 0);
  const std::int64_t node_start = clock.node_ns(5 * kNanosPerSecond - 777);
  const auto a = click_frames(clock, kRate / 10, node_start, 4000, 48);   // 100 ms period
  const auto b = click_frames(clock, kRate / 10, node_start, 1500, 128);  // same 4 s
  ASSERT_EQ(a.size(), 41u);  // 4 s of a slow node last 4.0008 real s: 5.0 s .. 9.0 s
  ASSERT_EQ(b.size(), 41u);
  EXPECT_EQ(a, b);
}

//! The whole stream (channel 0) of a pulse source, rendered as click_frames() does.
std::vector<float> pulse_stream(const SimClock& clock, std::int64_t node_start, int blocks,
                                std::size_t frames) {
  BlockQueue queue(16, 2, frames);
  MediaStamper stamper(kRate);
  ClickSource pulse(kRate, kRate, clock, ClickSource::Shape::Pulse);
  TimerDriver driver(queue, stamper, pulse, kRate, clock);
  stamper.restart(0);
  std::vector<float> out;
  for (int b = 0; b < blocks; ++b) {
    driver.produce(node_start + frames_to_ns(static_cast<std::int64_t>(frames) * b, kRate));
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    EXPECT_TRUE(queue.front(info, planar));
    for (std::size_t i = 0; i < frames; ++i) EXPECT_EQ(planar[i], planar[frames + i]) << "every channel";
    out.insert(out.end(), planar, planar + frames);
    queue.pop();
  }
  return out;
}

TEST(ClickSource, PulsesAreCentredOnTheRealSecondBetweenSamples) {
  // Nodes fast, slow and exact, ahead and behind: each pulse's energy centroid is where
  // the real second falls in the node's stream, a fraction of a sample and all.
  for (const auto& [offset, skew] :
       {std::pair{250'000'000ll, 100.0}, std::pair{-1'300'000'000ll, -200.0}, std::pair{3'333'333ll, 0.0}}) {
    const SimClock clock(offset, skew, 3 * kNanosPerSecond);
    const std::int64_t node_start = clock.node_ns(10 * kNanosPerSecond + 123'456);
    const auto x = pulse_stream(clock, node_start, static_cast<int>(6 * kRate / 48), 48);
    EXPECT_EQ(x, pulse_stream(clock, node_start, static_cast<int>(6 * kRate / 128), 128))
        << "the same stream whatever the block size";
    double worst = 0.0, peak = 0.0;
    for (std::int64_t second = 11; second <= 15; ++second) {
      const double at =
          static_cast<double>(clock.node_ns(second * kNanosPerSecond) - node_start) * kRate / 1e9;
      const auto centre = static_cast<std::int64_t>(std::llround(at));
      double energy = 0.0, moment = 0.0;
      for (std::int64_t i = centre - 24; i <= centre + 24; ++i) {
        const double v = x[static_cast<std::size_t>(i)];
        energy += v * v;
        moment += static_cast<double>(i) * v * v;
        peak = std::max(peak, std::fabs(v));
      }
      worst = std::max(worst, std::fabs(moment / energy - at));
    }
    std::printf("[ figure ] pulse at %+.0f ppm: centroid within %.5f sample of the real second, peak %.4f\n",
                skew, worst, peak);
    EXPECT_LT(worst, 0.01) << "skew " << skew;
    EXPECT_GT(peak, 0.45) << "skew " << skew;
    // Quiet between pulses: nothing beyond the pulse's reach.
    const auto first = static_cast<std::size_t>(
        static_cast<double>(clock.node_ns(11 * kNanosPerSecond) - node_start) * kRate / 1e9);
    for (std::size_t i = first + 20; i < first + 48000 - 40; ++i) ASSERT_EQ(x[i], 0.0f) << "sample " << i;
  }
}

TEST(ClickSource, SilentUntilTheTimelineIsKnown) {
  ClickSource click(48, kRate);
  const auto x = render(click, 1, 48, 10);
  EXPECT_TRUE(std::all_of(x.begin(), x.end(), [](float v) { return v == 0.0f; }));
}

class FileSourceTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  std::string write(const std::string& name, int channels, int subtype,
                    const std::vector<std::int32_t>& samples, int rate = kRate) {
    const std::string p = temp_path(name);
    paths_.push_back(p);
    EXPECT_TRUE(test::write_wav(p, rate, channels, subtype, samples));
    return p;
  }
  std::vector<std::string> paths_;
};

TEST_F(FileSourceTest, PlaysOnceThenFlagsSilence) {
  std::vector<std::int32_t> samples(100);  // 100 frames mono, 16-bit values
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = static_cast<std::int32_t>((i + 1) * 100) << 16;
  auto file = FileSource::open(write("once.wav", 1, SF_FORMAT_PCM_16, samples), kRate, 0, false);
  ASSERT_TRUE(file) << file.error();
  EXPECT_EQ((*file)->channels(), 1);
  EXPECT_EQ((*file)->frames(), 100);
  std::vector<BlockInfo> infos;
  const auto x = render(**file, 1, 48, 4, 0, &infos);
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(x[i], int32_to_float(samples[i])) << i;
  for (std::size_t i = 100; i < x.size(); ++i) ASSERT_EQ(x[i], 0.0f) << i;
  EXPECT_EQ(infos[0].flags & protocol::kFlagSilence, 0);
  EXPECT_EQ(infos[2].flags & protocol::kFlagSilence, 0) << "frames 96-99 are still the file";
  EXPECT_NE(infos[3].flags & protocol::kFlagSilence, 0);
}

TEST_F(FileSourceTest, LoopRepeatsWithoutAGap) {
  std::vector<std::int32_t> samples(30);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<std::int32_t>(i + 1) << 16;
  auto file = FileSource::open(write("loop.wav", 1, SF_FORMAT_PCM_16, samples), kRate, 1, true);
  ASSERT_TRUE(file) << file.error();
  std::vector<BlockInfo> infos;
  const auto x = render(**file, 1, 48, 5, 0, &infos);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], int32_to_float(samples[i % 30])) << i;
  for (const auto& info : infos) EXPECT_EQ(info.flags & protocol::kFlagSilence, 0);
}

TEST_F(FileSourceTest, StartsWithItsFirstFrameOnceTheTimelineIsKnown) {
  std::vector<std::int32_t> samples(200);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<std::int32_t>(i + 1) << 16;
  auto file = FileSource::open(write("start.wav", 1, SF_FORMAT_PCM_16, samples), kRate, 0, false);
  ASSERT_TRUE(file) << file.error();
  BlockQueue queue(16, 1, 48);
  MediaStamper stamper(kRate);
  TimerDriver driver(queue, stamper, **file, kRate);
  for (int b = 0; b < 3; ++b) driver.produce(frames_to_ns(48LL * b, kRate));  // clock sync still running
  stamper.restart(0);
  driver.produce(frames_to_ns(48LL * 3, kRate));
  const BlockInfo* info = nullptr;
  const float* planar = nullptr;
  for (int b = 0; b < 3; ++b) {
    ASSERT_TRUE(queue.front(info, planar));
    EXPECT_EQ(info->epoch, 0u);
    queue.pop();
  }
  ASSERT_TRUE(queue.front(info, planar));
  EXPECT_NE(info->flags & protocol::kFlagDiscontinuity, 0);
  EXPECT_EQ(info->media_ts, 48 * 3);
  for (std::size_t i = 0; i < 48; ++i) ASSERT_EQ(planar[i], int32_to_float(samples[i])) << i;
}

TEST_F(FileSourceTest, RefusesAnotherRateOrChannelCount) {
  const std::vector<std::int32_t> samples(96, 0);
  const std::string p = write("shape.wav", 2, SF_FORMAT_PCM_24, samples, 44100);
  auto r = FileSource::open(p, kRate, 0, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("resampling is not implemented"), std::string::npos) << r.error();
  r = FileSource::open(p, 44100, 1, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("2 channel"), std::string::npos) << r.error();
  EXPECT_TRUE(FileSource::open(p, 44100, 2, false));
  r = FileSource::open(temp_path("does-not-exist.wav"), kRate, 0, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot open"), std::string::npos);
}

TEST(CaptureRealtime, BlockGenerationNeverAllocates) {
  const std::string path = temp_path("rt.wav");
  std::vector<std::int32_t> samples(2 * 500);
  std::mt19937 rng(1);
  for (auto& s : samples) s = static_cast<std::int32_t>(rng() & 0xFFFFFF00u);
  ASSERT_TRUE(test::write_wav(path, kRate, 2, SF_FORMAT_PCM_24, samples));
  auto file = FileSource::open(path, kRate, 2, false);
  std::filesystem::remove(path);
  ASSERT_TRUE(file);

  ToneSource tone(440, -12, kRate);
  ClickSource click(480, kRate);
  NoiseSource noise(-12, 7);
  GeneratedSource* sources[] = {&tone, &click, &noise, file->get()};
  const std::uint64_t total_before = test::total_allocations();
  for (GeneratedSource* src : sources) {
    BlockQueue queue(8, 2, 48);  // small: also exercises the overflow path
    MediaStamper stamper(kRate);
    TimerDriver driver(queue, stamper, *src, kRate);
    const std::uint64_t before = test::realtime_allocations();
    for (int b = 0; b < 20; ++b) {
      if (b == 3) stamper.restart(12345);
      driver.produce(frames_to_ns(48LL * b, kRate));
    }
    EXPECT_EQ(test::realtime_allocations(), before);
    EXPECT_EQ(queue.overflows(), 12u);
  }
  EXPECT_GT(test::total_allocations(), total_before) << "the counter sees allocations outside the scope";
}

}  // namespace
}  // namespace tl::capture
