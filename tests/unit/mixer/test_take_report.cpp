// Takes as the control channel reports them: the record stop reply and tlctl takes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "process.h"
#include "tl/mixer/take_report.h"
#include "tl/mixer/track_writer.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

TakeManifest closed(const std::string& name) {
  TakeManifest m{.take = name,
                 .state = TakeManifest::kComplete,
                 .sample_rate = 48000,
                 .start_sample = 1000,
                 .frames = 48000,
                 .seconds = 1.0,
                 .complete = false};
  m.tracks.push_back({.file = "a-1.wav",
                      .node = "a",
                      .channel = 1,
                      .first_sample = 1000,
                      .frames = 48000,
                      .peak_dbfs = -3.0,
                      .concealed_samples = 7,
                      .clipped_samples = 2,
                      .recovered_samples = 96,
                      .complete = true});
  m.tracks.push_back({.file = "b-1.wav",
                      .node = "b",
                      .channel = 1,
                      .frames = 48000,
                      .lost_samples = 48,
                      .missing = {{.from = 2000, .frames = 48}},
                      .missing_reason = "the node did not answer the backfill in time"});
  m.mix = TakeTrack{.file = "mix.wav",
                    .node = "mix",
                    .first_sample = 1000,
                    .frames = 48000,
                    .concealed_samples = 5,
                    .clipped_samples = 1};
  return m;
}

void write_wav(const fs::path& path, std::uint32_t channels, std::int64_t frames) {
  auto w = TrackWriter::open(path.string(), {.sample_rate = 48000, .channels = channels}, 4096);
  ASSERT_TRUE(w) << w.error();
  (*w)->put(0, std::vector<float>(static_cast<std::size_t>(frames) * channels, 0.25f));
  (*w)->finish(frames);
}

TEST(TakeReport, TheStopReplyListsEveryTrackThenTheMix) {
  const auto r = stopped_take(closed("one"), "/takes/one");
  EXPECT_EQ(r.take_name(), "one");
  EXPECT_EQ(r.path(), "/takes/one");
  EXPECT_EQ(r.frames(), 48000u);
  EXPECT_EQ(r.seconds(), 1.0);
  ASSERT_EQ(r.tracks_size(), 3);
  EXPECT_EQ(r.tracks(0).concealed_samples(), 7u);
  EXPECT_EQ(r.tracks(0).clipped_samples(), 2u);
  EXPECT_EQ(r.tracks(0).recovered_samples(), 96u);
  ASSERT_EQ(r.tracks(1).missing_size(), 1);
  EXPECT_EQ(r.tracks(1).missing(0).from(), 2000);
  EXPECT_EQ(r.tracks(1).missing_reason(), "the node did not answer the backfill in time");
  EXPECT_EQ(r.tracks(2).node(), "mix");
  EXPECT_EQ(r.tracks(2).concealed_samples(), 5u);
  EXPECT_EQ(r.tracks(2).first_sample(), 1000);
}

TEST(TakeReport, TheListHasClosedTakesFromTakeJsonAndUnfinishedOnesFromTheirFiles) {
  const fs::path dir = test::make_work_dir("take_report_list");
  for (const char* t : {"one", "killed", "now", "broken", "empty"}) fs::create_directories(dir / t);
  ASSERT_TRUE(closed("one").write(dir / "one"));
  const TakeManifest recording{.take = "killed", .state = TakeManifest::kRecording, .sample_rate = 48000};
  ASSERT_TRUE(recording.write(dir / "killed"));
  write_wav(dir / "killed" / "mix.wav", 2, 24000);
  write_wav(dir / "killed" / "a-1.wav", 1, 12000);
  ASSERT_TRUE((TakeManifest{.take = "now", .state = TakeManifest::kRecording}.write(dir / "now")));
  std::ofstream(dir / "broken" / "take.json") << "{ \"take\": ";

  const auto list = list_takes(dir, "now");
  ASSERT_EQ(list.size(), 2u) << "the take being recorded and folders without a take.json are left out";
  const auto& killed = list[0];
  EXPECT_EQ(killed.take_name(), "killed");
  EXPECT_EQ(killed.state(), "unfinished");
  EXPECT_EQ(killed.frames(), 24000u);
  EXPECT_DOUBLE_EQ(killed.seconds(), 0.5);
  ASSERT_EQ(killed.tracks_size(), 2);
  EXPECT_EQ(killed.tracks(0).node(), "a");
  EXPECT_EQ(killed.tracks(0).frames(), 12000u);

  const auto& one = list[1];
  EXPECT_EQ(one.state(), "incomplete") << "one state word: a take with losses is not complete";
  EXPECT_FALSE(one.complete());
  EXPECT_EQ(one.path(), (dir / "one").string());
  ASSERT_EQ(one.tracks_size(), 2) << "the nodes' tracks, as tlctl takes counts them";
  EXPECT_EQ(one.tracks(0).peak_dbfs(), -3.0);
  EXPECT_EQ(one.tracks(1).lost_samples(), 48u);
  EXPECT_EQ(one.tracks(1).missing_reason(), "the node did not answer the backfill in time");
  ASSERT_EQ(one.tracks(1).missing_size(), 1);
  EXPECT_EQ(one.tracks(1).missing(0).frames(), 48u);
}

}  // namespace
}  // namespace tl::mixer
