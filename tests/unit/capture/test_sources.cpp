#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

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

TEST(ClickSource, ClicksSitOnSessionMultiplesOfThePeriod) {
  const std::int64_t period = 4800;
  BlockQueue queue(64, 2, 48);
  MediaStamper stamper(kRate);
  ClickSource click(period);
  TimerDriver driver(queue, stamper, click, kRate);
  // An offset that puts the first frame at a session position that is not a multiple.
  const std::int64_t capture0 = 1'000'000'000;
  stamper.restart(frames_to_ns(123'457, kRate) - capture0 + 1);
  std::int64_t clicks = 0;
  MediaTime first_ts = -1;
  for (int b = 0; b < 1000; ++b) {
    driver.produce(capture0 + frames_to_ns(48LL * b, kRate));
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    ASSERT_TRUE(queue.front(info, planar));
    if (first_ts < 0) first_ts = info->media_ts;
    EXPECT_EQ(info->media_ts, first_ts + 48LL * b);
    for (std::size_t c = 0; c < 2; ++c) {
      for (std::size_t i = 0; i < 48; ++i) {
        const float v = planar[c * 48 + i];
        const bool on_multiple = (info->media_ts + static_cast<std::int64_t>(i)) % period == 0;
        ASSERT_EQ(v, on_multiple ? ClickSource::kAmplitude : 0.0f)
            << "ts " << info->media_ts + std::int64_t(i);
        if (v != 0 && c == 0) ++clicks;
      }
    }
    queue.pop();
  }
  EXPECT_EQ(first_ts, 123'457);
  EXPECT_EQ(clicks, 10);  // 48000 frames from 123457: multiples 124800 .. 168000
}

TEST(ClickSource, SilentUntilTheTimelineIsKnown) {
  ClickSource click(48);
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
  ClickSource click(480);
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
