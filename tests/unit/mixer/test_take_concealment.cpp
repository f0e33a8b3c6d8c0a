// What a take keeps of the live mix's guesses: merged ranges, a bounded record.
#include <gtest/gtest.h>

#include <filesystem>

#include "process.h"
#include "tl/mixer/take.h"
#include "tl/mixer/take_concealment.h"

namespace tl::mixer {
namespace {

TEST(MixConcealment, TouchingChunksMergeAndTheFramesAreCountedExactly) {
  MixConcealment m;
  m.note(0, 48, 10);
  m.note(48, 96, 48);   // touches: one range
  m.note(60, 100, 5);   // overlaps
  m.note(200, 248, 1);  // apart: a new range
  EXPECT_EQ(m.ranges(), (std::vector<FrameSpan>{{0, 100}, {200, 248}}));
  EXPECT_EQ(m.frames(), 64u);
}

TEST(MixConcealment, AChunkAcrossTheTakesStartOrStopCountsOnlyItsPartInside) {
  // CI saw take.json's mix.concealed ranges cover 22 frames fewer than its
  // concealed_samples: a chunk across the stop had counted its frames past the stop.
  const std::string dir = test::make_work_dir("take_mix_concealment");
  Take take;
  take.start = 1000;
  take.stop = 2000;
  auto mix = TrackWriter::open(dir + "/mix.wav", {.sample_rate = 48000, .channels = 2}, 8192);
  ASSERT_TRUE(mix) << mix.error();
  take.mix = std::move(*mix);
  MixChunk chunk;
  chunk.frames = 256;
  chunk.concealed = 256;  // every frame concealed
  chunk.position = 900;   // 100 frames before the start
  take.put_mix(chunk);
  chunk.position = 1900;  // 156 frames past the stop
  take.put_mix(chunk);
  std::int64_t in_ranges = 0;
  for (const auto& [from, to] : take.mix_concealed.ranges()) in_ranges += to - from;
  EXPECT_EQ(take.mix_concealed.ranges(), (std::vector<FrameSpan>{{0, 156}, {900, 1000}}));
  EXPECT_EQ(take.mix_concealed.frames(), 256u) << "156 inside at the start, 100 at the stop";
  EXPECT_GE(in_ranges, static_cast<std::int64_t>(take.mix_concealed.frames()));
  take.mix->finish(1000);
}

TEST(MixConcealment, PastItsCapTheLastRangeStretches) {
  MixConcealment m;
  for (std::size_t i = 0; i < MixConcealment::kMaxRanges; ++i) {
    const auto at = static_cast<std::int64_t>(100 * i);
    m.note(at, at + 10, 1);
  }
  const std::int64_t last = 100 * static_cast<std::int64_t>(MixConcealment::kMaxRanges);
  m.note(last, last + 10, 1);
  m.note(last + 100, last + 110, 1);
  ASSERT_EQ(m.ranges().size(), MixConcealment::kMaxRanges);
  EXPECT_EQ(m.ranges().back(), (FrameSpan{last - 100, last + 110})) << "every guess stays covered";
  EXPECT_EQ(m.frames(), MixConcealment::kMaxRanges + 2);
}

TEST(InputConcealment, RunsMergeAndOneReadThroughTheVarispeedMakesItInexact) {
  InputConcealment c;
  c.note(1000, 1048, true);
  c.note(1048, 1060, true);
  EXPECT_TRUE(c.exact());
  c.note(2000, 2010, false);
  EXPECT_EQ(c.runs(), (std::vector<FrameSpan>{{1000, 1060}, {2000, 2010}}));
  EXPECT_FALSE(c.exact());
  EXPECT_TRUE(c.complete());
}

TEST(InputConcealment, PastItsCapRunsAreDroppedAndTheRecordSaysSo) {
  InputConcealment c;
  for (std::size_t i = 0; i < InputConcealment::kMaxRanges; ++i) {
    const auto at = static_cast<std::int64_t>(100 * i);
    c.note(at, at + 10, true);
  }
  EXPECT_TRUE(c.complete());
  const std::int64_t last = 100 * static_cast<std::int64_t>(InputConcealment::kMaxRanges);
  c.note(last, last + 10, true);
  EXPECT_EQ(c.runs().size(), InputConcealment::kMaxRanges);
  EXPECT_EQ(c.runs().back(), (FrameSpan{last - 100, last - 90}));
  EXPECT_FALSE(c.complete());
  // A run that touches the last still extends it.
  c.note(last - 90, last - 80, true);
  EXPECT_EQ(c.runs().back(), (FrameSpan{last - 100, last - 80}));
}

}  // namespace
}  // namespace tl::mixer
