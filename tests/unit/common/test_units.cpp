#include <gtest/gtest.h>

#include "tl/common/units.h"

namespace tl {
namespace {

TEST(Units, SeqDiffIsWrapSafe) {
  EXPECT_EQ(seq_diff(5, 3), 2);
  EXPECT_EQ(seq_diff(3, 5), -2);
  EXPECT_EQ(seq_diff(0, 0xFFFFFFFFu), 1);
  EXPECT_EQ(seq_diff(0xFFFFFFFFu, 0), -1);
  EXPECT_TRUE(seq_before(0xFFFFFFF0u, 0x10u));
  EXPECT_FALSE(seq_before(0x10u, 0xFFFFFFF0u));
}

TEST(Units, FrameNanosecondConversionsAreExactAndDoNotOverflow) {
  EXPECT_EQ(ns_to_frames(1'000'000'000, 48000), 48000);
  EXPECT_EQ(ns_to_frames(1'000'000, 48000), 48);
  EXPECT_EQ(frames_to_ns(48, 48000), 1'000'000);
  // Ten years of nanoseconds would overflow a naive ns*rate product.
  const std::int64_t ten_years_ns = 10LL * 365 * 24 * 3600 * 1'000'000'000LL;
  EXPECT_EQ(ns_to_frames(ten_years_ns, 96000), 10LL * 365 * 24 * 3600 * 96000);
}

TEST(Units, DecibelConversion) {
  EXPECT_NEAR(db_to_gain(-6.0206f), 0.5f, 1e-4f);
  EXPECT_NEAR(gain_to_db(0.5), -6.0206, 1e-3);
  EXPECT_EQ(gain_to_db(0.0), -150.0);
}

}  // namespace
}  // namespace tl
