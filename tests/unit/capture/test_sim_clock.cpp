#include <gtest/gtest.h>

#include "tl/capture/sim_clock.h"
#include "tl/common/units.h"

namespace tl::capture {
namespace {

TEST(SimClock, IdentityIsExact) {
  const SimClock c;
  EXPECT_TRUE(c.identity());
  for (const std::int64_t t : {std::int64_t{0}, std::int64_t{123'456'789'012}, std::int64_t{-5}}) {
    EXPECT_EQ(c.node_ns(t), t);
    EXPECT_EQ(c.real_ns(t), t);
  }
  EXPECT_TRUE(SimClock(0, 0.0, 12345).identity());
}

TEST(SimClock, OffsetAndSkewFollowTheStatedFormula) {
  // node = origin + (real - origin) * (1 + 100e-6) + 250 ms
  const std::int64_t origin = 1'000 * kNanosPerSecond;
  const SimClock c(250'000'000, 100.0, origin);
  EXPECT_FALSE(c.identity());
  EXPECT_EQ(c.node_ns(origin), origin + 250'000'000);
  EXPECT_EQ(c.node_ns(origin + 10 * kNanosPerSecond),
            origin + 10 * kNanosPerSecond + 1'000'000 + 250'000'000);
  EXPECT_EQ(c.node_ns(origin - kNanosPerSecond), origin - kNanosPerSecond - 100'000 + 250'000'000);
  const SimClock slow(-1'300'000'000, -200.0, origin);
  EXPECT_EQ(slow.node_ns(origin + 100 * kNanosPerSecond),
            origin + 100 * kNanosPerSecond - 20'000'000 - 1'300'000'000);
}

TEST(SimClock, RealIsTheInverseOfNodeToWithinANanosecond) {
  const std::int64_t origin = 42 * kNanosPerSecond;
  for (const double skew : {-1000.0, -200.0, 0.5, 100.0, 1000.0}) {
    const SimClock c(-1'300'000'000, skew, origin);
    for (std::int64_t real = origin - kNanosPerSecond; real < origin + 3600 * kNanosPerSecond;
         real += 977 * 1'000'000'007LL) {
      EXPECT_NEAR(static_cast<double>(c.real_ns(c.node_ns(real))), static_cast<double>(real), 1.0) << skew;
    }
  }
}

TEST(SimClock, NodeDeadlinesAreSpacedByBlockOverOnePlusSkewInRealTime) {
  // What TimerDriver::run does: node deadlines exactly one block apart, slept until in real time.
  const SimClock c(5'000'000, 100.0, 0);
  const std::int64_t block = frames_to_ns(48, 48000);  // 1 ms
  const std::int64_t start = c.node_ns(7 * kNanosPerSecond);
  const std::int64_t r0 = c.real_ns(start);
  const std::int64_t r1000 = c.real_ns(start + 1000 * block);
  // 1000 blocks (1 s of the node's audio) take 1 / (1 + 100e-6) s of real time.
  EXPECT_NEAR(static_cast<double>(r1000 - r0), 1e9 / (1.0 + 100e-6), 1.0);
}

}  // namespace
}  // namespace tl::capture
