#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tl::capture
