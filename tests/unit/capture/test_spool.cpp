#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "process.h"
#include "tl/capture/spool.h"

namespace tl::capture {
namespace {

constexpr std::uint32_t kChannels = 2;
constexpr std::size_t kFrameBytes = 3 * kChannels;

//! A block whose bytes encode its media time, so reads can be checked exactly.
std::vector<std::uint8_t> block(MediaTime ts, std::uint16_t frames) {
  std::vector<std::uint8_t> v(frames * kFrameBytes);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::uint8_t>((ts * 7 + static_cast<MediaTime>(i)) & 0xFF);
  return v;
}

SpoolConfig config(const std::string& dir) {
  return SpoolConfig{.dir = dir,
                     .channels = kChannels,
                     .sample_rate = 48000,
                     .format = protocol::SampleFormat::Pcm24,
                     .segment_seconds = 0.1};
}

TEST(Spool, ReadsBackExactlyAcrossSegmentsAndReportsGaps) {
  const std::string dir = test::make_work_dir("spool_read");
  auto spool = Spool::open(config(dir));
  ASSERT_TRUE(spool) << spool.error();
  for (MediaTime ts = 1000; ts < 1000 + 48 * 300; ts += 48) {
    if (ts == 1000 + 48 * 100) continue;  // a block never captured (queue overflow)
    ASSERT_TRUE((*spool)->append(ts, 48, 0, block(ts, 48)));
  }
  EXPECT_GT((*spool)->segments(), 2u) << "0.1 s segments";
  EXPECT_EQ((*spool)->first(), 1000);
  EXPECT_EQ((*spool)->end(), 1000 + 48 * 300);

  // A range straddling a segment boundary and the missing block.
  const MediaTime from = 1000 + 48 * 99 + 10;
  std::vector<std::uint8_t> out(200 * kFrameBytes), have(200);
  EXPECT_EQ((*spool)->read(from, 200, out, have), 200u - 48u);
  for (std::size_t i = 0; i < 200; ++i) {
    const MediaTime ts = from + static_cast<MediaTime>(i);
    const bool in_gap = ts >= 1000 + 48 * 100 && ts < 1000 + 48 * 101;
    ASSERT_EQ(have[i] != 0, !in_gap) << i;
    if (in_gap) continue;
    const MediaTime rec = 1000 + ((ts - 1000) / 48) * 48;
    const auto expect = block(rec, 48);
    const auto frame = static_cast<std::size_t>(ts - rec);
    for (std::size_t b = 0; b < kFrameBytes; ++b)
      ASSERT_EQ(out[i * kFrameBytes + b], expect[frame * kFrameBytes + b]);
  }
}

TEST(Spool, ReopenedSpoolKeepsWhatWasCapturedAndIgnoresATornRecord) {
  const std::string dir = test::make_work_dir("spool_reopen");
  {
    auto spool = Spool::open(config(dir));
    ASSERT_TRUE(spool);
    for (MediaTime ts = 0; ts < 48 * 50; ts += 48) ASSERT_TRUE((*spool)->append(ts, 48, 0, block(ts, 48)));
    (*spool)->flush();
  }
  // A crash in the middle of the last write: half a record at the end of the newest segment.
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(dir)) newest = std::max(newest, e.path().string());
  {
    std::ofstream torn(newest, std::ios::app | std::ios::binary);
    const char half[20] = {0, 0, 0, 0, 0, 0, 0x09, 0x60, 0, 48};
    torn.write(half, sizeof half);
  }
  auto again = Spool::open(config(dir));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ((*again)->first(), 0);
  EXPECT_EQ((*again)->end(), 48 * 50);
  std::vector<std::uint8_t> out(48 * kFrameBytes), have(48);
  EXPECT_EQ((*again)->read(48 * 49, 48, out, have), 48u);
  EXPECT_EQ(out, block(48 * 49, 48));
  // And it keeps appending after a restart.
  ASSERT_TRUE((*again)->append(48 * 60, 48, 0, block(48 * 60, 48)));
  EXPECT_EQ((*again)->end(), 48 * 61);
}

TEST(Spool, ASegmentCutOffBeforeItsHeaderIsDroppedOnReopen) {
  const std::string dir = test::make_work_dir("spool_empty_segment");
  {
    auto spool = Spool::open(config(dir));
    ASSERT_TRUE(spool);
    ASSERT_TRUE((*spool)->append(0, 48, 0, block(0, 48)));
    (*spool)->flush();
  }
  // A node killed right after it created a segment: the file exists, empty.
  { std::ofstream empty(dir + "/seg-999999.tlsp", std::ios::binary); }
  auto again = Spool::open(config(dir));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ((*again)->end(), 48);
  EXPECT_FALSE(std::filesystem::exists(dir + "/seg-999999.tlsp"));
  // A file that is not a segment at all is still refused, with its name.
  {
    std::ofstream junk(dir + "/seg-5.tlsp", std::ios::binary);
    junk << "this is not a tracklink spool segment header";
  }
  const auto refused = Spool::open(config(dir));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("seg-5.tlsp"), std::string::npos) << refused.error();
}

TEST(Spool, BoundsByTimeAndBytesDropOldestSegmentsFirst) {
  const std::string dir = test::make_work_dir("spool_bounds");
  auto cfg = config(dir);
  cfg.max_seconds = 0.5;
  auto spool = Spool::open(cfg);
  ASSERT_TRUE(spool);
  for (MediaTime ts = 0; ts < 48000 * 2; ts += 48) ASSERT_TRUE((*spool)->append(ts, 48, 0, block(ts, 48)));
  EXPECT_GT((*spool)->dropped_segments(), 0u);
  const double held = static_cast<double>((*spool)->end() - (*spool)->first()) / 48000.0;
  EXPECT_GE(held, 0.5);
  EXPECT_LT(held, 0.5 + 0.1 + 0.01) << "at most one segment beyond the bound";

  const std::string dir2 = test::make_work_dir("spool_bytes");
  auto cfg2 = config(dir2);
  cfg2.max_bytes = 200'000;
  auto small = Spool::open(cfg2);
  ASSERT_TRUE(small);
  for (MediaTime ts = 0; ts < 48000 * 2; ts += 48) ASSERT_TRUE((*small)->append(ts, 48, 0, block(ts, 48)));
  EXPECT_LE((*small)->bytes(), 200'000u);
  (*small)->flush();
  std::uint64_t on_disk = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir2))
    on_disk += std::filesystem::file_size(e.path());
  EXPECT_LE(on_disk, 200'000u + 48 * kFrameBytes + 12);
}

TEST(Spool, RefusesAnotherNodesShapeAndBadBlocks) {
  const std::string dir = test::make_work_dir("spool_shape");
  {
    auto spool = Spool::open(config(dir));
    ASSERT_TRUE(spool);
    ASSERT_TRUE((*spool)->append(0, 48, 0, block(0, 48)));
    EXPECT_FALSE((*spool)->append(48, 48, 0, block(48, 47))) << "size disagrees with frames";
  }
  auto cfg = config(dir);
  cfg.channels = 4;
  auto other = Spool::open(cfg);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("--spool-dir"), std::string::npos) << other.error();
  auto opus = config(test::make_work_dir("spool_opus"));
  opus.format = protocol::SampleFormat::Opus;
  EXPECT_FALSE(Spool::open(opus));
}

}  // namespace
}  // namespace tl::capture
