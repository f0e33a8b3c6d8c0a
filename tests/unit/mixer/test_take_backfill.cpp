// The take's backfill: which ranges a node is asked for, how long the recorder waits,
// and what the operator is told about audio still missing.
#include <gtest/gtest.h>

#include "tl/mixer/take_backfill.h"

namespace tl::mixer {
namespace {

using Gap = TrackWriter::Gap;

TEST(BackfillRanges, EveryChannelsGapsAreMergedIntoOneAskPerStretch) {
  // Channel 1 lost [100, 200) and [500, 600); channel 2 lost [150, 300) and [600, 650):
  // the node resends whole frames, so it is asked for [100, 300) and [500, 650) once.
  const std::vector<Gap> gaps{{100, 200}, {500, 600}, {150, 300}, {600, 650}};
  const auto ranges = backfill_ranges(gaps, Backfill::kMaxRequestFrames);
  EXPECT_EQ(ranges, (std::vector<FrameSpan>{{100, 300}, {500, 650}}));
}

TEST(BackfillRanges, ALongStretchIsAskedForInPiecesOfAtMostTheLimit) {
  const auto ranges = backfill_ranges({{0, 250}, {300, 310}}, 100);
  EXPECT_EQ(ranges, (std::vector<FrameSpan>{{0, 100}, {100, 200}, {200, 250}, {300, 310}}));
  EXPECT_TRUE(backfill_ranges({}, 100).empty());
}

TEST(StandInRange, FromTheFirstStandInWrittenSinceTheLastAskAtMostTheLimit) {
  const std::vector<Gap> gaps{{0, 100, true}, {150, 160, false}, {200, 300, true}, {250, 400, true}};
  // Nothing asked yet: from the first stand-in to the last one's end.
  EXPECT_EQ(stand_in_range(gaps, 0, 1000), (FrameSpan{0, 400}));
  // Asked up to 220: the rest of the stand-in it cut, on to the end.
  EXPECT_EQ(stand_in_range(gaps, 220, 1000), (FrameSpan{220, 400}));
  EXPECT_EQ(stand_in_range(gaps, 0, 50), (FrameSpan{0, 50}));
  // A gap of silence (lost, not a stand-in) is for the take-end backfill.
  const auto none = stand_in_range(gaps, 400, 1000);
  EXPECT_GE(none.first, none.second);
  const auto silence = stand_in_range({{0, 100, false}}, 0, 1000);
  EXPECT_GE(silence.first, silence.second);
}

TEST(Backfill, TheWaitGrowsWithWhatIsMissingUpToItsLimit) {
  EXPECT_EQ(Backfill::wait_ns(0, 48000), 5'000'000'000);
  EXPECT_EQ(Backfill::wait_ns(48000 * 3, 48000), 11'000'000'000);
  EXPECT_EQ(Backfill::wait_ns(48000 * 60, 48000), 45'000'000'000);
}

TEST(Backfill, AnswersAndFailuresCloseTheRequestTheyName) {
  Backfill b;
  b.ask(1, 1000, 480);
  b.ask(1, 5000, 480);
  b.ask(2, 1000, 480);
  EXPECT_TRUE(b.waiting_for(1));
  EXPECT_FALSE(b.waiting_for(3));
  b.answered(1, 1000, 480, {});
  b.answered(1, 5000, 96, {});  // not a request: nothing closes
  EXPECT_TRUE(b.waiting_for(1));
  b.answered(1, 5000, 480, {});
  EXPECT_FALSE(b.waiting_for(1));
  EXPECT_FALSE(b.all_answered());
  b.failed(2, 1000, 480, "node 'far' is not connected");
  EXPECT_TRUE(b.all_answered());
  EXPECT_EQ(b.answered_count(), 3u);
}

TEST(Backfill, TheReasonForAudioStillMissingNamesItsCause) {
  Backfill b;
  EXPECT_EQ(b.missing_reason(1, false), "no backfill was possible");
  EXPECT_EQ(b.missing_reason(1, true), "the mixer was shutting down; not asked");

  b.ask(1, 0, 480);
  EXPECT_EQ(b.missing_reason(1, false), "the node did not answer the backfill in time");
  b.answered(1, 0, 480, {});
  EXPECT_EQ(b.missing_reason(1, false), "the node resent it, but it did not fit the take");

  // The node says which frames its spool dropped (--spool-max) and which it never had.
  b.ask(2, 0, 480);
  b.answered(2, 0, 480, {.not_in_spool = 300, .evicted = 300});
  EXPECT_EQ(b.missing_reason(2, false),
            "the node's spool no longer holds 300 of them (older than its --spool-max keeps)");
  b.ask(4, 0, 480);
  b.answered(4, 0, 480, {.not_in_spool = 200});
  EXPECT_EQ(b.missing_reason(4, false),
            "the node did not capture 200 of the missing samples (it was not running, or not streaming "
            "yet, then)");
  b.ask(4, 1000, 480);
  b.answered(4, 1000, 480, {.not_in_spool = 100, .evicted = 40});
  EXPECT_EQ(b.missing_reason(4, false),
            "the node did not capture 260 of the missing samples (it was not running, or not streaming "
            "yet, then); the node's spool no longer holds 40 of them (older than its --spool-max keeps)");
  b.ask(5, 0, 480);
  b.answered(5, 0, 480, {.not_in_spool = 480, .no_spool = true});
  EXPECT_EQ(b.missing_reason(5, false), "the node runs with --spool-dir none: it keeps nothing to resend");

  b.ask(3, 0, 480);
  b.failed(3, 0, 480, "node 'far' is not connected");
  EXPECT_EQ(b.missing_reason(3, false), "node 'far' is not connected");
}

}  // namespace
}  // namespace tl::mixer
