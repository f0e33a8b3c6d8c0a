// tlctl take master's job on the mixer: what it refuses, where it writes, how its state
// reads from another thread while it runs, and a job that fails says why. (The whole
// job on a real take, against tl-master's own file: the Render integration test.)
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "process.h"
#include "tl/mixer/take_mastering.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

using Clock = std::chrono::steady_clock;

TEST(TakeMastering, RefusesAnUnknownPresetAndATargetOutOfRange) {
  TakeMastering jobs;
  const fs::path dir = test::make_work_dir("take_mastering_refusals");
  auto r = jobs.start({.take = "t", .dir = dir, .preset = "loud"});
  auto* refused = std::get_if<TakeMastering::Refusal>(&r);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->code, proto::ErrorReply::BAD_VALUE);
  EXPECT_NE(refused->message.find("no delivery preset 'loud' (streaming, apple, ebu-r128"), std::string::npos)
      << refused->message;
  for (const double target : {-60.0, 0.0, -4.9}) {
    r = jobs.start({.take = "t", .dir = dir, .target_lufs = target});
    refused = std::get_if<TakeMastering::Refusal>(&r);
    ASSERT_NE(refused, nullptr) << target;
    EXPECT_EQ(refused->code, proto::ErrorReply::BAD_VALUE) << target;
    EXPECT_NE(refused->message.find("-40 to -5 LUFS"), std::string::npos) << refused->message;
  }
  EXPECT_FALSE(fs::exists(dir / "master")) << "a refused job makes nothing";
  EXPECT_EQ(jobs.state("t").state(), "none");
}

TEST(TakeMastering, AnEarlierMasterIsNeverOverwritten) {
  const fs::path dir = test::make_work_dir("take_mastering_names");
  EXPECT_EQ(TakeMastering::output_for(dir, "cd"), dir / "master" / "cd.wav");
  fs::create_directories(dir / "master");
  std::ofstream(dir / "master" / "cd.wav") << "x";
  EXPECT_EQ(TakeMastering::output_for(dir, "cd"), dir / "master" / "cd-2.wav");
  std::ofstream(dir / "master" / "cd-2.wav.part") << "x";  // one being written
  EXPECT_EQ(TakeMastering::output_for(dir, "cd"), dir / "master" / "cd-3.wav");
  EXPECT_EQ(TakeMastering::output_for(dir, "vinyl"), dir / "master" / "vinyl.wav");
}

TEST(TakeMastering, AJobThatCannotMixItsTakeFailsWithTheReason) {
  TakeMastering jobs;
  const fs::path dir = test::make_work_dir("take_mastering_fails");  // no take.json
  auto r = jobs.start({.take = "t", .dir = dir, .preset = "cd"});
  auto* first = std::get_if<proto::MasterTakeState>(&r);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->state(), "running");
  EXPECT_EQ(first->preset(), "cd");
  EXPECT_EQ(first->output(), (dir / "master" / "cd.wav").string());
  // Polled from this thread while the job's thread writes it (TSan checks the two).
  proto::MasterTakeState s = jobs.state("t");
  for (const auto end = Clock::now() + std::chrono::seconds(30); s.state() == "running" && Clock::now() < end;
       s = jobs.state("t")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(s.state(), "failed");
  EXPECT_NE(s.message().find("cannot mix the take"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir / "master" / "cd.wav"));
  EXPECT_FALSE(fs::exists(dir / "master" / "cd.wav.mix.wav")) << "its step removed";
  EXPECT_EQ(jobs.state("another").state(), "none");
  // The next job may start once one has ended.
  r = jobs.start({.take = "t2", .dir = dir});
  ASSERT_NE(std::get_if<proto::MasterTakeState>(&r), nullptr);
  jobs.stop();
  const std::string after = jobs.state("t2").state();
  EXPECT_TRUE(after == "failed" || after == "stopped") << after;
}

}  // namespace
}  // namespace tl::mixer
