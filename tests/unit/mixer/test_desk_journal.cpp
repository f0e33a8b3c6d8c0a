// The desk kept for a restart: saved when it changed, loaded by the next mixer, each
// node's strips handed out once when it registers and kept in the file until then.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "process.h"
#include "tl/mixer/desk_journal.h"

namespace tl::mixer {
namespace {

proto::Scene desk(std::initializer_list<const char*> targets, double master_gain) {
  proto::Scene s;
  for (const char* t : targets) {
    auto* st = s.add_strips();
    st->set_target(t);
    st->mutable_channel()->set_gain_db(-6.0);
  }
  s.mutable_master()->set_target("master");
  s.mutable_master()->mutable_channel()->set_gain_db(master_gain);
  return s;
}

TEST(DeskJournal, SavesWhenTheDeskChangedAndTheNextMixerLoadsIt) {
  const auto dir = test::make_work_dir("desk_journal_save");
  DeskJournal journal(dir);
  EXPECT_FALSE(journal.load()) << "nothing saved yet";
  int built = 0;
  const auto scene = [&] {
    ++built;
    return desk({"a/1", "b/1", "b/2"}, -3.0);
  };
  journal.save_if_changed(0, 1'000'000'000, scene);
  EXPECT_EQ(built, 0) << "no change, no save";
  journal.save_if_changed(1, 1'000'000'000, scene);
  EXPECT_EQ(built, 1);
  journal.save_if_changed(2, 1'100'000'000, scene);
  EXPECT_EQ(built, 1) << "at most every half second";
  journal.save_if_changed(2, 1'600'000'000, scene);
  EXPECT_EQ(built, 2);

  DeskJournal next(dir);
  const auto loaded = next.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->strips_size(), 3);
  EXPECT_DOUBLE_EQ(loaded->master().channel().gain_db(), -3.0);
}

TEST(DeskJournal, EachNodeGetsItsStripsOnceAndTheOthersAreKeptInTheFile) {
  const auto dir = test::make_work_dir("desk_journal_nodes");
  DeskJournal first(dir);
  first.save_if_changed(1, 1'000'000'000, [] { return desk({"a/1", "room-b/1", "room-b/2"}, 0.0); });

  DeskJournal next(dir);
  ASSERT_TRUE(next.load());
  EXPECT_EQ(next.for_node("room-b").strips_size(), 2);
  EXPECT_EQ(next.for_node("room-b").strips_size(), 0) << "handed out once";
  EXPECT_EQ(next.for_node("room").strips_size(), 0) << "by whole node name";
  // Saved again before node 'a' came back: its strip is still in the file.
  next.save_if_changed(1, 1'000'000'000, [] { return desk({"room-b/1", "room-b/2"}, 0.0); });
  DeskJournal third(dir);
  ASSERT_TRUE(third.load());
  EXPECT_EQ(third.for_node("a").strips_size(), 1);
}

// A performer's cue mix is part of the desk a restart brings back: kept in the file until
// its nodes are back and CueMixes::restore takes it out.
TEST(DeskJournal, CueMixesNotBroughtBackYetAreKeptInTheFile) {
  const auto dir = test::make_work_dir("desk_journal_cues");
  DeskJournal first(dir);
  first.save_if_changed(1, 1'000'000'000, [] {
    proto::Scene s = desk({"booth/1"}, 0.0);
    auto* cue = s.add_cues();
    cue->set_node("booth");
    cue->set_on(true);
    cue->set_limit_dbtp(-9.0f);
    auto* me = cue->add_levels();
    me->set_source("booth");
    me->set_level_db(6.0f);
    return s;
  });
  DeskJournal next(dir);
  ASSERT_TRUE(next.load());
  EXPECT_EQ(next.for_node("booth").strips_size(), 1) << "its strips handed out, its cue mix kept";
  ASSERT_EQ(next.pending_cues().size(), 1);
  EXPECT_EQ(next.pending_cues()[0].node(), "booth");
  EXPECT_FLOAT_EQ(next.pending_cues()[0].limit_dbtp(), -9.0f);
  ASSERT_EQ(next.pending_cues()[0].levels_size(), 1);
  EXPECT_FLOAT_EQ(next.pending_cues()[0].levels(0).level_db(), 6.0f);
  // Saved again before booth came back (the desk holds no cue mix now): still in the file.
  next.save_if_changed(1, 1'000'000'000, [] { return desk({}, 0.0); });
  DeskJournal third(dir);
  ASSERT_TRUE(third.load());
  EXPECT_EQ(third.pending_cues().size(), 1);
}

TEST(DeskJournal, AnUnreadableFileStartsAFlatDesk) {
  const auto dir = test::make_work_dir("desk_journal_bad");
  DeskJournal journal(dir);
  std::filesystem::create_directories(journal.path().parent_path());
  std::ofstream(journal.path()) << "{ not json";
  EXPECT_FALSE(journal.load());
}

}  // namespace
}  // namespace tl::mixer
