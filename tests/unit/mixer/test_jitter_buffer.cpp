#include <gtest/gtest.h>

#include <vector>

#include "tl/mixer/jitter_buffer.h"

namespace tl::mixer {
namespace {

std::vector<float> ramp(std::size_t n, float start, std::size_t channels = 1) {
  std::vector<float> v(n * channels);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return v;
}

TEST(JitterBuffer, PlacesAudioByMediaTimeRegardlessOfArrivalOrder) {
  JitterBuffer jb(1, 1024);
  const auto a = ramp(48, 0.0f), b = ramp(48, 48.0f);
  // b arrives before a: reordering is absorbed.
  EXPECT_EQ(jb.write(1048, 0, 1, b, 1000), JitterBuffer::WriteResult::Ok);
  EXPECT_EQ(jb.write(1000, 0, 1, a, 1000), JitterBuffer::WriteResult::Ok);
  std::vector<float> out(96);
  EXPECT_EQ(jb.read(0, 1000, out), 0u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<float>(i));
}

TEST(JitterBuffer, MissingFramesReadAsSilenceAndAreCounted) {
  JitterBuffer jb(1, 1024);
  const auto a = ramp(48, 1.0f);
  ASSERT_EQ(jb.write(2000, 0, 1, a, 2000), JitterBuffer::WriteResult::Ok);
  std::vector<float> out(96);
  EXPECT_EQ(jb.read(0, 2000, out), 48u);
  EXPECT_EQ(out[47], 48.0f);
  EXPECT_EQ(out[48], 0.0f);
}

TEST(JitterBuffer, LateAndTooEarlyPacketsAreRefused) {
  JitterBuffer jb(1, 1024);
  const auto a = ramp(48, 1.0f);
  EXPECT_EQ(jb.write(100, 0, 1, a, 1000), JitterBuffer::WriteResult::Late);
  EXPECT_EQ(jb.write(1000 + 1024, 0, 1, a, 1000), JitterBuffer::WriteResult::TooEarly);
}

TEST(JitterBuffer, StaleDataFromAnEarlierLapIsNotReplayed) {
  JitterBuffer jb(1, 1024);
  const auto a = ramp(48, 1.0f);
  ASSERT_EQ(jb.write(0, 0, 1, a, 0), JitterBuffer::WriteResult::Ok);
  std::vector<float> out(48);
  // Same ring index one lap later: never written for that position.
  EXPECT_EQ(jb.read(0, static_cast<MediaTime>(jb.capacity()), out), 48u);
  for (const float v : out) EXPECT_EQ(v, 0.0f);
}

TEST(JitterBuffer, AWriteALapAheadNeverTakesFramesNotYetRead) {
  JitterBuffer jb(1, 1024);
  const auto a = ramp(48, 1.0f);
  // Play-out at 1010, in the middle of a 64-frame cell: its frames are still to be read.
  ASSERT_EQ(jb.write(1000, 0, 1, a, 1010), JitterBuffer::WriteResult::Ok);
  // Up to the end of the ring ahead of that cell is fine; past it would reuse the cell.
  EXPECT_EQ(jb.write(960 + 1024 - 48, 0, 1, a, 1010), JitterBuffer::WriteResult::Ok);
  EXPECT_EQ(jb.write(960 + 1024 - 47, 0, 1, a, 1010), JitterBuffer::WriteResult::TooEarly);
  std::vector<float> out(38);
  EXPECT_EQ(jb.read(0, 1010, out), 0u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<float>(11 + i)) << i;
}

TEST(JitterBuffer, PacketsAcrossCellsAndRingWrapReadBackExactly) {
  // Packets of 37 frames (never aligned to a cell) over three laps of a small ring,
  // every other one missing: each frame reads back as written or as missing.
  JitterBuffer jb(2, 128);
  std::vector<float> out(37);
  std::vector<std::uint8_t> marks(37);
  for (MediaTime p = 0; p < 3 * 128; p += 37) {
    const bool sent = (p / 37) % 2 == 0;
    if (sent) {
      ASSERT_EQ(jb.write(p, 0, 2, ramp(37, static_cast<float>(2 * p), 2), p), JitterBuffer::WriteResult::Ok);
    }
    for (std::uint32_t c = 0; c < 2; ++c) {
      EXPECT_EQ(jb.read(c, p, out, marks), sent ? 0u : 37u) << p;
      for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i], sent ? static_cast<float>(2 * p + 2 * static_cast<MediaTime>(i) + c) : 0.0f) << p;
        EXPECT_EQ(marks[i], sent ? 0 : 1) << p;
      }
    }
  }
}

TEST(JitterBuffer, SplitChannelGroupsLandOnTheirChannels) {
  JitterBuffer jb(4, 1024);
  std::vector<float> low = {1, 2, 10, 20};   // 2 frames x channels 0,1
  std::vector<float> high = {3, 4, 30, 40};  // 2 frames x channels 2,3
  ASSERT_EQ(jb.write(500, 0, 2, low, 500), JitterBuffer::WriteResult::Ok);
  ASSERT_EQ(jb.write(500, 2, 2, high, 500), JitterBuffer::WriteResult::Ok);
  std::vector<float> out(2);
  for (std::uint32_t c = 0; c < 4; ++c) {
    EXPECT_EQ(jb.read(c, 500, out), 0u);
    EXPECT_EQ(out[0], static_cast<float>(c + 1));
    EXPECT_EQ(out[1], static_cast<float>((c + 1) * 10));
  }
}

TEST(JitterBuffer, PartlyLatePacketKeepsItsFuturePart) {
  JitterBuffer jb(1, 1024);
  const auto a = ramp(48, 0.0f);
  ASSERT_EQ(jb.write(976, 0, 1, a, 1000), JitterBuffer::WriteResult::Ok);
  std::vector<float> out(24);
  EXPECT_EQ(jb.read(0, 1000, out), 0u);
  EXPECT_EQ(out[0], 24.0f);
}

TEST(JitterBuffer, ACodecsGuessReadsBackMarkedAsOne) {
  JitterBuffer jb(1, 1024);
  std::vector<float> a(10, 0.5f), b(10, 0.25f);
  ASSERT_EQ(jb.write(100, 0, 1, a, 100), JitterBuffer::WriteResult::Ok);
  ASSERT_EQ(jb.write(110, 0, 1, b, 100, true), JitterBuffer::WriteResult::Ok);
  std::vector<float> out(30);
  std::vector<std::uint8_t> marks(30);
  EXPECT_EQ(jb.read(0, 100, out, marks), 10u);
  for (int i = 0; i < 30; ++i) {
    const auto k = static_cast<std::size_t>(i);
    EXPECT_EQ(marks[k], i < 10 ? 0 : i < 20 ? 2 : 1) << i;
    EXPECT_EQ(out[k], i < 10 ? 0.5f : i < 20 ? 0.25f : 0.0f) << i;
  }
  // The real audio arriving after all replaces the guess, mark and all.
  ASSERT_EQ(jb.write(110, 0, 1, a, 100), JitterBuffer::WriteResult::Ok);
  jb.read(0, 110, std::span(out).first(10), std::span(marks).first(10));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(marks[static_cast<std::size_t>(i)], 0) << i;
}

}  // namespace
}  // namespace tl::mixer
