// take.json: what the recorder writes is what every reader gets back, in the form
// users and scripts read; a missing or broken file is a clear error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "process.h"
#include "tl/mixer/take_manifest.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tl::mixer {
namespace {

class TakeManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_work_dir(std::string("take_manifest_") +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  void write_file(const std::string& text) const { std::ofstream(dir_ / "take.json") << text; }
  std::string read_file() const {
    std::ifstream in(dir_ / "take.json");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
};

//! A closed take with one of everything: a conformed track the live mix concealed, an
//! Opus node's track still missing audio, and the mix with its guesses.
TakeManifest closed_take() {
  TakeManifest m{.take = "song-1",
                 .state = TakeManifest::kIncomplete,
                 .sample_rate = 48000,
                 .start_sample = 480000,
                 .latency_frames = 960,
                 .recovered_after_mixer_stop = true,
                 .frames = 96000,
                 .seconds = 2.0,
                 .complete = false};
  TakeTrack a{.file = "room-a-1.wav",
              .node = "room-a",
              .channel = 1,
              .first_sample = 480001,
              .frames = 96000,
              .peak_dbfs = -6.25,
              .rms_dbfs = -18.5,
              .concealed_samples = 48,
              .recovered_samples = 240,
              .complete = true,
              .live_concealed =
                  TakeTrack::LiveConcealed{
                      .runs = {{.from = 480100, .frames = 48}}, .exact = false, .complete = false},
              .node_id = 1,
              .conform = TakeTrack::Conform{.raw_file = "raw/room-a-1.wav",
                                            .drift_ppm = 12.5,
                                            .measured_drift_ppm = 12.0,
                                            .reported_drift_ppm = -13.0,
                                            .drift_samples = 1.2,
                                            .resampled = true,
                                            .moved_samples = 1.0,
                                            .raw_first_sample = 480000,
                                            .clock_offset_ms = -0.25}};
  TakeTrack b{.file = "far-2.wav",
              .node = "far",
              .channel = 2,
              .frames = 96000,
              .lost_samples = 100,
              .clipped_samples = 3,
              .missing = {{.from = 480500, .frames = 60}, {.from = 490000, .frames = 40}},
              .missing_reason = "the node did not answer the backfill in time",
              .complete = false,
              .node_id = 2,
              .live_codec = "opus"};
  // An overdub: where its files lie on the transport timeline, and what it was moved back by.
  a.timeline_sample = -1895;
  a.compensation_samples = 1897;
  a.compensation_changed = true;
  a.raw_timeline_sample = -1894;
  m.tracks = {a, b};
  m.mix = TakeTrack{.file = "mix.wav",
                    .node = "mix",
                    .channel = 0,
                    .first_sample = 480000,
                    .frames = 96000,
                    .peak_dbfs = -1.0,
                    .rms_dbfs = -20.0,
                    .concealed_samples = 96,
                    .concealed = {{.from = 480096, .frames = 256}}};
  m.mix->timeline_sample = 2;
  return m;
}

TEST_F(TakeManifestTest, AClosedTakeReadsBackAsItWasWritten) {
  const TakeManifest m = closed_take();
  ASSERT_TRUE(m.write(dir_));
  const auto back = TakeManifest::read(dir_);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), m);
  EXPECT_FALSE(fs::exists(dir_ / "take.json.tmp"));
}

// A take being conformed keeps each pending track's map, and one whole-sample move kept
// as one file keeps what it pushed out: both read back exactly (the next mixer goes on
// from them; tl-render rebuilds raw/ from them).
TEST_F(TakeManifestTest, AConformingTakeAndATrackKeptOnceReadBackAsWritten) {
  TakeManifest m = closed_take();
  m.state = TakeManifest::kConforming;
  m.tracks[0].conform->pending = true;
  m.tracks[0].conform->map = {{.node_index = 0.0, .session_pos = 0.123456789012345},
                              {.node_index = 96000.0, .session_pos = 96001.98765432101}};
  m.tracks[1].conform = TakeTrack::Conform{.raw_edge = {-8388608, 8388607}, .moved_samples = -2.0};
  ASSERT_TRUE(m.write(dir_));
  const auto back = TakeManifest::read(dir_);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), m);
  EXPECT_EQ(back->tracks_conforming(), 1u);
  EXPECT_TRUE(back->closed()) << "its tracks are final: listed, not described from files";
}

TEST_F(TakeManifestTest, ATakeBeingRecordedHasItsStateAndNoTracks) {
  const TakeManifest m{
      .take = "t", .state = TakeManifest::kRecording, .sample_rate = 44100, .start_sample = 7};
  ASSERT_TRUE(m.write(dir_));
  const json j = json::parse(read_file());
  EXPECT_EQ(j, json::parse(R"({"format": "tracklink-take/1", "take": "t", "state": "recording",
                               "sample_rate": 44100, "start_sample": 7, "latency_frames": 0,
                               "tracks": []})"));
  const auto back = TakeManifest::read(dir_);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), m);
  EXPECT_FALSE(back->closed());
}

TEST_F(TakeManifestTest, TheFileHoldsTheKeysUsersRead) {
  ASSERT_TRUE(closed_take().write(dir_));
  const std::string text = read_file();
  // Two-space indent, keys in order, one trailing newline: as tracklink has always written it.
  EXPECT_EQ(text.substr(0, 16), "{\n  \"complete\": ");
  EXPECT_EQ(text.back(), '\n');
  const json j = json::parse(text);
  EXPECT_EQ(j["format"], "tracklink-take/1");
  EXPECT_EQ(j["recovered_after_mixer_stop"], true);
  EXPECT_EQ(j["frames"], 96000);
  ASSERT_EQ(j["tracks"].size(), 2u);
  const json& a = j["tracks"][0];
  EXPECT_EQ(a["complete"], true);
  EXPECT_EQ(a["missing"], json::array());
  EXPECT_FALSE(a.contains("missing_reason"));
  EXPECT_EQ(a["live_concealed"], json::parse(R"([{"from": 480100, "frames": 48}])"));
  EXPECT_EQ(a["live_concealed_exact"], false);
  EXPECT_EQ(a["live_concealed_complete"], false);
  EXPECT_EQ(a["conform"], "resampled");
  EXPECT_EQ(a["raw_file"], "raw/room-a-1.wav");
  EXPECT_EQ(a["raw_first_sample"], 480000);
  EXPECT_EQ(a["drift_ppm"], 12.5);
  EXPECT_EQ(a["measured_drift_ppm"], 12.0);
  EXPECT_EQ(a["reported_drift_ppm"], -13.0);
  EXPECT_TRUE(a["moved_samples"].is_number_float());
  EXPECT_EQ(a["node_id"], 1);
  EXPECT_FALSE(a.contains("live_codec"));
  const json& b = j["tracks"][1];
  EXPECT_EQ(b["live_codec"], "opus");
  EXPECT_EQ(b["missing_reason"], "the node did not answer the backfill in time");
  EXPECT_FALSE(b.contains("live_concealed"));
  EXPECT_FALSE(b.contains("conform"));
  EXPECT_FALSE(b.contains("raw_first_sample"));
  const json& mix = j["mix"];
  EXPECT_EQ(mix["concealed"], json::parse(R"([{"from": 480096, "frames": 256}])"));
  for (const char* key : {"complete", "missing", "recovered_samples", "node_id"})
    EXPECT_FALSE(mix.contains(key)) << key;
}

TEST_F(TakeManifestTest, ANodeWithoutAClockReportHasNoReportedDrift) {
  TakeManifest m = closed_take();
  m.tracks[0].conform->reported_drift_ppm.reset();
  ASSERT_TRUE(m.write(dir_));
  const json a = json::parse(read_file())["tracks"][0];
  EXPECT_EQ(a["measured_drift_ppm"], 12.0);
  EXPECT_FALSE(a.contains("reported_drift_ppm"));
  const auto back = TakeManifest::read(dir_);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), m);
}

TEST_F(TakeManifestTest, FieldsAFileDoesNotHoldKeepTheirDefaults) {
  write_file(R"({"state": "complete", "sample_rate": 48000, "frames": 480,
                 "tracks": [{"node": "x", "channel": 1, "file": "x-1.wav"}]})");
  const auto m = TakeManifest::read(dir_);
  ASSERT_TRUE(m) << m.error();
  EXPECT_TRUE(m->closed());
  EXPECT_EQ(m->frames, 480u);
  EXPECT_FALSE(m->mix);
  ASSERT_EQ(m->tracks.size(), 1u);
  const TakeTrack& t = m->tracks[0];
  EXPECT_EQ(t.first_sample, -1);
  EXPECT_EQ(t.peak_dbfs, -150.0);
  EXPECT_FALSE(t.conform);
  EXPECT_FALSE(t.live_concealed);
  EXPECT_EQ(t.node_id, 0);
}

TEST_F(TakeManifestTest, ATakeHasOneStateWord) {
  // Written before "incomplete" existed: "complete" beside "complete": false.
  write_file(R"({"state": "complete", "complete": false})");
  auto m = TakeManifest::read(dir_);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->state, TakeManifest::kIncomplete);
  EXPECT_TRUE(m->closed());
  write_file(R"({"state": "complete", "complete": true})");
  EXPECT_EQ(TakeManifest::read(dir_)->state, TakeManifest::kComplete);
  write_file(R"({"state": "unfinished"})");
  EXPECT_FALSE(TakeManifest::read(dir_)->closed());
  EXPECT_EQ(TakeManifest::closed_state(true), std::string("complete"));
  EXPECT_EQ(TakeManifest::closed_state(false), std::string("incomplete"));
}

TEST_F(TakeManifestTest, AMissingOrBrokenFileIsAClearError) {
  const auto none = TakeManifest::read(dir_);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("no take.json in " + dir_.string()), std::string::npos) << none.error();

  write_file("{ \"take\": ");
  const auto cut = TakeManifest::read(dir_);
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().find("is not valid JSON"), std::string::npos) << cut.error();

  write_file("[1, 2]");
  EXPECT_FALSE(TakeManifest::read(dir_));
}

TEST_F(TakeManifestTest, AFieldOfTheWrongTypeIsNamed) {
  const auto error_for = [&](const std::string& text) {
    write_file(text);
    const auto m = TakeManifest::read(dir_);
    return m ? std::string("read without error") : m.error();
  };
  EXPECT_NE(error_for(R"({"tracks": [{"channel": "one"}]})").find("tracks[0].channel is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": [{}, {"channel": -1}]})").find("tracks[1].channel is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"sample_rate": 48000.5})").find("sample_rate is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"take": 7})").find("take is not text"), std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": {}})").find("tracks is not a list"), std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": [3]})").find("tracks[0] is not an object"), std::string::npos);
  EXPECT_NE(error_for(R"({"mix": {"concealed": [{"from": "x"}]}})").find("mix.concealed[0].from is not"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": [{"raw_file": "raw/a-1.wav", "conform": "stretched"}]})")
                .find("tracks[0].conform is not \"copy\" or \"resampled\""),
            std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": [{"conform": "resampled", "raw_edge": [1]}]})")
                .find("tracks[0].raw_file is missing"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": [{"conform": "copy", "raw_edge": [8388608]}]})")
                .find("tracks[0].raw_edge item 0 is not a 24-bit sample"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"tracks": [{"raw_file": "raw/a.wav", "conform_pending": true}]})")
                .find("conform_map is missing"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"format": "tracklink-take/2"})").find("format is not tracklink-take/1"),
            std::string::npos);
  // The path says which take.
  EXPECT_NE(error_for(R"({"take": 7})").find((dir_ / "take.json").string()), std::string::npos);
}

}  // namespace
}  // namespace tl::mixer
