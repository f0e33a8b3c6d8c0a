#include <gtest/gtest.h>

#include "tl/capture/clock_sync.h"

namespace tl::capture {
namespace {

//! A sample with the given true offset, one-way delays out/back and turnaround.
protocol::SyncSample make(std::int64_t t1, std::int64_t offset, std::int64_t out, std::int64_t back) {
  protocol::SyncSample s;
  s.t1 = t1;
  s.t2 = t1 + out + offset;
  s.t3 = s.t2 + 10'000;
  s.t4 = s.t3 - offset + back;
  return s;
}

TEST(ClockSync, NoEstimateUntilASample) {
  ClockSync sync;
  EXPECT_FALSE(sync.has_estimate());
  EXPECT_EQ(sync.offset_ns(), 0);
  EXPECT_TRUE(sync.add_sample(make(1000, 5'000'000, 100'000, 100'000)));
  EXPECT_TRUE(sync.has_estimate());
  EXPECT_EQ(sync.offset_ns(), 5'000'000);
  EXPECT_EQ(sync.rtt_ns(), 200'000);
}

TEST(ClockSync, TakesTheMinimumRoundTripSample) {
  ClockSync sync;
  // Asymmetric queueing delay biases offset; the least-delayed sample is nearest the truth.
  ASSERT_TRUE(sync.add_sample(make(0, 1'000'000, 900'000, 100'000)));     // rtt 1 ms, offset +400 us
  ASSERT_TRUE(sync.add_sample(make(10, 1'000'000, 60'000, 40'000)));      // rtt 100 us, offset +10 us
  ASSERT_TRUE(sync.add_sample(make(20, 1'000'000, 100'000, 2'000'000)));  // rtt 2.1 ms
  EXPECT_EQ(sync.rtt_ns(), 100'000);
  EXPECT_EQ(sync.offset_ns(), 1'010'000);
}

TEST(ClockSync, ForgetsSamplesOlderThanTheWindow) {
  ClockSync sync(8);
  ASSERT_TRUE(sync.add_sample(make(0, 0, 10, 10)));  // the best, but about to age out
  for (int i = 1; i <= 8; ++i) ASSERT_TRUE(sync.add_sample(make(i, 7'000, 1000 + i, 1000)));
  EXPECT_EQ(sync.rtt_ns(), 2001);
  EXPECT_EQ(sync.offset_ns(), 7'000);
}

TEST(ClockSync, IgnoresImpossibleSamplesAndResets) {
  ClockSync sync;
  protocol::SyncSample bad = make(100, 0, 10, 10);
  bad.t4 = bad.t1 - 1;
  EXPECT_FALSE(sync.add_sample(bad));
  EXPECT_FALSE(sync.has_estimate());
  ASSERT_TRUE(sync.add_sample(make(0, 3, 10, 10)));
  sync.reset();
  EXPECT_FALSE(sync.has_estimate());
}

}  // namespace
}  // namespace tl::capture
