#include <gtest/gtest.h>

#include <thread>

#include "alloc_counter.h"
#include "tl/common/realtime.h"
#include "tl/common/spsc_ring.h"

namespace tl {
namespace {

TEST(SpscRing, RoundsCapacityAndReportsFull) {
  SpscRing<int> ring(5);
  EXPECT_EQ(ring.capacity(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  int v = -1;
  EXPECT_TRUE(ring.try_pop(v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ring.try_push(8));
  EXPECT_EQ(ring.size(), 8u);
}

TEST(SpscRing, TransfersInOrderAcrossThreads) {
  SpscRing<std::uint64_t> ring(64);
  constexpr std::uint64_t kCount = 200000;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kCount;) {
      if (ring.try_push(i)) ++i;
    }
  });
  std::uint64_t expected = 0;
  while (expected < kCount) {
    std::uint64_t v = 0;
    if (ring.try_pop(v)) {
      ASSERT_EQ(v, expected);
      ++expected;
    }
  }
  producer.join();
}

TEST(SpscRing, PushAndPopNeverAllocate) {
  SpscRing<std::array<float, 256>> ring(16);
  const auto before = test::realtime_allocations();
  {
    rt::RealtimeScope scope;
    std::array<float, 256> block{};
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(ring.try_push(block));
      ASSERT_TRUE(ring.try_pop(block));
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
}

TEST(RealtimeScope, AllocationCounterSeesAllocationsInsideScope) {
  // Proves the counter used by the real-time tests is live.
  const auto before = test::realtime_allocations();
  {
    rt::RealtimeScope scope;
    auto p = std::make_unique<int>(3);
    EXPECT_EQ(*p, 3);
  }
  EXPECT_EQ(test::realtime_allocations(), before + 1);
}

}  // namespace
}  // namespace tl
