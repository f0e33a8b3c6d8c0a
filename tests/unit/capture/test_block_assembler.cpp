#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "alloc_counter.h"
#include "tl/capture/producer.h"

namespace tl::capture {
namespace {

TEST(BlockAssembler, RegroupsDriverBuffersIntoExactBlocksWithCaptureTimes) {
  const std::uint32_t rate = 48000;
  const std::size_t channels = 2, frames = 48, callback = 100;
  BlockQueue queue(64, channels, frames);
  MediaStamper stamper(rate);
  stamper.restart(0);
  BlockAssembler assembler(queue, stamper, rate);

  // 6 callbacks of 100 frames: sample value = 1000 * channel + running frame index.
  std::vector<float> in(channels * callback);
  const std::uint64_t rt_before = test::realtime_allocations();
  for (std::size_t k = 0; k < 6; ++k) {
    for (std::size_t c = 0; c < channels; ++c) {
      for (std::size_t i = 0; i < callback; ++i)
        in[c * callback + i] = static_cast<float>(1000 * c + k * callback + i);
    }
    const std::int64_t end_ns = frames_to_ns(static_cast<std::int64_t>((k + 1) * callback), rate);
    assembler.push(in.data(), callback, end_ns);
  }
  EXPECT_EQ(test::realtime_allocations(), rt_before) << "the device callback body must not allocate";

  // 600 frames -> 12 full blocks, 24 frames pending.
  for (std::size_t b = 0; b < 12; ++b) {
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    ASSERT_TRUE(queue.front(info, planar)) << b;
    const auto first = static_cast<std::int64_t>(b * frames);
    EXPECT_NEAR(static_cast<double>(info->capture_ns), static_cast<double>(frames_to_ns(first, rate)), 1.0)
        << b;
    EXPECT_EQ(info->media_ts, first);
    for (std::size_t c = 0; c < channels; ++c) {
      for (std::size_t i = 0; i < frames; ++i) {
        ASSERT_EQ(planar[c * frames + i], static_cast<float>(1000 * c + b * frames + i))
            << b << "/" << c << "/" << i;
      }
    }
    queue.pop();
  }
  const BlockInfo* info = nullptr;
  const float* planar = nullptr;
  EXPECT_FALSE(queue.front(info, planar));
}

TEST(BlockAssembler, DeviceBlockTimesDoNotJitterWithCallbackScheduling) {
  // 60 s of 48-frame callbacks whose times jitter by up to +-1 ms (virtual time): after the
  // loop settles, block capture times stay within a few microseconds of the device's
  // (here: nominal) sample clock; raw callback times would be off by up to 1 ms.
  const std::uint32_t rate = 48000;
  const std::size_t frames = 48;
  BlockQueue queue(8, 1, frames);
  MediaStamper stamper(rate);
  BlockAssembler assembler(queue, stamper, rate);
  std::vector<float> in(frames, 0.0f);
  std::uint64_t lcg = 12345;
  const std::int64_t t0 = 1'000'000'000;
  double worst_late_us = 0;
  const std::uint64_t rt_before = test::realtime_allocations();
  for (std::int64_t k = 0; k < 60'000; ++k) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    const auto jitter = static_cast<std::int64_t>((lcg >> 33) % 2'000'001) - 1'000'000;  // +-1 ms
    const std::int64_t ideal_end = t0 + frames_to_ns((k + 1) * static_cast<std::int64_t>(frames), rate);
    assembler.push(in.data(), frames, ideal_end + 1'000'000 + jitter);  // 1 ms mean latency
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    ASSERT_TRUE(queue.front(info, planar));
    if (k > 30'000) {  // the last 30 s
      const double err_us =
          static_cast<double>(info->capture_ns - (ideal_end - frames_to_ns(48, rate))) / 1e3;
      worst_late_us = std::max(worst_late_us, std::abs(err_us - 1000.0));
    }
    queue.pop();
  }
  EXPECT_EQ(test::realtime_allocations(), rt_before);
  EXPECT_LT(worst_late_us, 50.0) << "block times follow the sample clock, not the callback jitter";
  EXPECT_NEAR(assembler.dll().rate_error_ppm(), 0.0, 20.0);  // +-1 ms over a 60 s baseline
}

}  // namespace
}  // namespace tl::capture
