// automation.json: the mix as a take began and every change, written once and read
// back by tl-render as it was; a missing or broken file is a clear error.
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "process.h"
#include "tl/mixer/take_automation.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tl::mixer {
namespace {

class TakeAutomationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_work_dir(std::string("take_automation_") +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void write_file(const std::string& text) const { std::ofstream(dir_ / "automation.json") << text; }
  json read_file() const {
    std::ifstream in(dir_ / "automation.json");
    return json::parse(in);
  }

  fs::path dir_;
};

//! JSON text as the reader gives it back: compact, keys sorted.
const char* const kScene = R"({"master":{"target":"master"},"strips":[{"gain_db":-3.5,"target":"a/1"}]})";
const char* const kGain = R"({"gain_db":-6.0,"target":"a/1"})";
const char* const kBus = R"({"fader_db":-2.0,"target":"bus3"})";

TakeAutomation automation() {
  return TakeAutomation{.take = "song-1",
                        .sample_rate = 48000,
                        .start_sample = 48000,
                        .mix = {.block_frames = 48, .block_origin = 17, .lookahead_frames = 72},
                        .initial = kScene,
                        .changes = {{.position = 47990, .state = kGain}, {.position = 50000, .state = kBus}},
                        .transport = {{.position = 1000, .playing = false, .timeline = 0},
                                      {.position = 60000, .playing = true, .timeline = 96000},
                                      {.position = 70000, .playing = true, .timeline = 24000},
                                      {.position = 80000, .playing = false, .timeline = 34000}},
                        .backing = {{.name = "bed",
                                     .path = "/songs/bed.wav",
                                     .node_id = 3,
                                     .channels = 2,
                                     .at = 24000,
                                     .frames = 96000}},
                        .backing_changed = true};
}

TEST_F(TakeAutomationTest, ItReadsBackAsItWasWritten) {
  const TakeAutomation a = automation();
  ASSERT_TRUE(a.write(dir_));
  const auto back = TakeAutomation::read(dir_);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), a);
}

TEST(TakeTimeline, ASessionSampleIsOnTheTimelineOnlyWhilePlaying) {
  const TakeAutomation a = automation();
  EXPECT_EQ(a.timeline_at(500), std::nullopt) << "before any mark";
  EXPECT_EQ(a.timeline_at(59999), std::nullopt) << "stopped";
  EXPECT_EQ(a.timeline_at(60000), 96000);
  EXPECT_EQ(a.timeline_at(69999), 105999);
  EXPECT_EQ(a.timeline_at(70000), 24000) << "the locate";
  EXPECT_EQ(a.timeline_at(80000), std::nullopt);
  // A take from 48000 is placed by the first play after it: its first sample lies 12000
  // frames before timeline 96000. Taken while playing, by the timeline then.
  EXPECT_EQ(a.placement(48000), 84000);
  EXPECT_EQ(a.placement(75000), 29000);
  EXPECT_EQ(a.placement(90000), std::nullopt) << "the transport never played after it";
  EXPECT_EQ(TakeAutomation{}.placement(0), std::nullopt) << "no transport record";
}

TEST_F(TakeAutomationTest, EachChangeSaysItsMixFrameAndTarget) {
  ASSERT_TRUE(automation().write(dir_));
  const json j = read_file();
  EXPECT_EQ(j["mix"], json::parse(R"({"block_frames": 48, "block_origin": 17, "lookahead_frames": 72})"));
  EXPECT_EQ(j["initial"], json::parse(kScene));
  EXPECT_TRUE(j["about"].is_string());
  ASSERT_EQ(j["changes"].size(), 2u);
  // Made while the take was starting: it applies from its first frame.
  EXPECT_EQ(j["changes"][0]["offset"], 0);
  EXPECT_EQ(j["changes"][0]["position"], 47990);
  EXPECT_EQ(j["changes"][0]["target"], "a/1");
  EXPECT_EQ(j["changes"][1]["offset"], 2000);
  EXPECT_EQ(j["changes"][1]["target"], "bus3");
  EXPECT_EQ(j["changes"][1]["state"], json::parse(kBus));
}

TEST_F(TakeAutomationTest, AChangeWhoseStateIsNotJsonIsLeftOut) {
  TakeAutomation a = automation();
  a.changes.insert(a.changes.begin() + 1, {.position = 49000, .state = "{ not json"});
  ASSERT_TRUE(a.write(dir_));
  const auto back = TakeAutomation::read(dir_);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), automation());
}

TEST_F(TakeAutomationTest, AMissingOrBrokenFileIsAClearError) {
  const auto none = TakeAutomation::read(dir_);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("no automation.json in " + dir_.string()), std::string::npos) << none.error();

  write_file("{ not json");
  const auto bad = TakeAutomation::read(dir_);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("is not valid JSON"), std::string::npos) << bad.error();

  write_file(R"({"mix": {"block_frames": "48"}})");
  const auto block = TakeAutomation::read(dir_);
  ASSERT_FALSE(block);
  EXPECT_NE(block.error().find("mix.block_frames is not a whole number"), std::string::npos) << block.error();

  write_file(R"({"changes": [{"position": 1, "state": {}}, {"position": 2}]})");
  const auto stateless = TakeAutomation::read(dir_);
  ASSERT_FALSE(stateless);
  EXPECT_NE(stateless.error().find("changes[1].state is missing"), std::string::npos) << stateless.error();

  write_file(R"({"initial": [1]})");
  const auto scene = TakeAutomation::read(dir_);
  ASSERT_FALSE(scene);
  EXPECT_NE(scene.error().find("initial is not an object"), std::string::npos) << scene.error();
}

TEST_F(TakeAutomationTest, AFileWithoutChangesHasNone) {
  write_file(R"({"mix": {"block_frames": 48, "block_origin": 0, "lookahead_frames": 0}, "initial": {}})");
  const auto a = TakeAutomation::read(dir_);
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->initial, "{}");
  EXPECT_TRUE(a->changes.empty());
  EXPECT_EQ(a->mix.block_frames, 48u);
}

}  // namespace
}  // namespace tl::mixer
