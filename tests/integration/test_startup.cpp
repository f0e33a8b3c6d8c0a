// Start-up in any order, and what cannot work refused at once: a node started before
// its mixer waits for it (as under systemd, where nothing orders them); a record folder
// or a spool folder that cannot be written stops its program before it does anything.
#include <gtest/gtest.h>

#include <time.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace tl::test {
namespace {

//! Waits (bounded) for a process that should end by itself; its exit code, -1 if it did not.
int exit_code_of(Process& p) {
  if (!wait_until([&] { return !p.running(); }, 20s)) return -1;
  return p.stop();
}

TEST(Startup, ANodeStartedBeforeItsMixerWaitsForItAndJoins) {
  Session s("startup_order");
  s.reserve_port();
  Process& node = s.start_capture("early", "tone:440");
  // It says that it waits, and keeps running while nothing listens.
  ASSERT_TRUE(node.wait_for_output("not up yet", 20s)) << node.err();
  EXPECT_NE(node.err().find("waiting for it"), std::string::npos) << node.err();
  ASSERT_TRUE(node.running()) << node.err();

  s.start_mixer();
  ASSERT_TRUE(s.wait_node_state("early", "streaming", 30s)) << s.logs();
  EXPECT_TRUE(node.running());
  EXPECT_NE(node.err().find("registered as 'early'"), std::string::npos) << node.err();
  // What the record folder's disk holds at the channels connected now.
  const json status = s.tlctl_json({"status"});
  EXPECT_EQ(json_int(status, "record_channels"), 1) << status.dump();
  EXPECT_GT(json_num(status, "record_minutes_left"), 0.0) << status.dump();
  EXPECT_GT(json_int(status, "record_free_bytes"), 0) << status.dump();
}

TEST(Startup, ANodeGivesUpAfterItsWaitAndSaysWhy) {
  Session s("startup_give_up");
  s.reserve_port();
  Process& node = s.start_capture("patient", "tone:440", {"--wait-for-mixer", "1.5"});
  EXPECT_EQ(exit_code_of(node), 1) << node.err();
  EXPECT_NE(node.err().find("cannot reach mixer"), std::string::npos) << node.err();
  EXPECT_NE(node.err().find("--wait-for-mixer"), std::string::npos) << node.err();
}

TEST(Startup, ANodeThatCapturedWhileWaitingStopsCleanlyWhenItGivesUp) {
  Session s("startup_give_up_capturing");
  s.reserve_port();
  // The session's timeline a node kept in its spool (this boot, just written): with no
  // mixer up it captures at once, and giving up must stop that before it exits.
  const std::string spool = s.dir() + "/spool-kept";
  std::filesystem::create_directories(spool);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::string boot;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
  std::ofstream(spool + "/timeline") << "boot " << boot << "\nsession 12345\nref_node_ns 0\nref_offset_ns 0\n"
                                     << "slope 0\nwritten_ns " << now.tv_sec * 1'000'000'000LL + now.tv_nsec
                                     << "\n";
  Process& node = s.start_capture("kept", "tone:440", {"--wait-for-mixer", "1.5"});
  EXPECT_EQ(exit_code_of(node), 1) << node.err();
  EXPECT_NE(node.err().find("capturing into the spool until the mixer answers"), std::string::npos)
      << node.err();
  EXPECT_NE(node.err().find("--wait-for-mixer"), std::string::npos) << node.err();
  std::uintmax_t spooled = 0;
  for (const auto& f : std::filesystem::directory_iterator(spool)) {
    if (f.path().extension() == ".tlsp") spooled += f.file_size();
  }
  EXPECT_GT(spooled, 48000u * 3 / 2) << "half a second or more of audio kept while it waited";
}

TEST(Startup, AnUnusableRecordFolderIsRefusedWhenTheMixerStarts) {
  Session s("startup_record_dir");
  const std::string file = s.dir() + "/a-file";
  std::ofstream(file) << "not a folder\n";
  for (const std::string& dir : {file, file + "/takes"}) {
    const RunResult mixer =
        run({bin("tl-mixer"), "--listen", "127.0.0.1:0", "--record-dir", dir, "--token-file", s.token_file()},
            20s);
    EXPECT_EQ(mixer.exit_code, 1) << dir << ": " << mixer.err;
    EXPECT_NE(mixer.err.find("--record-dir"), std::string::npos) << mixer.err;
    EXPECT_NE(mixer.err.find("not a folder"), std::string::npos) << mixer.err;
    EXPECT_EQ(mixer.err.find("listening on"), std::string::npos) << "it must not start: " << mixer.err;
  }
}

TEST(Startup, AnUnusableSpoolFolderIsRefusedWhenTheNodeStarts) {
  Session s("startup_spool_dir");
  s.start_mixer();
  const std::string file = s.dir() + "/a-file";
  std::ofstream(file) << "not a folder\n";
  Process& node = s.start_capture("spooler", "tone:440", {"--spool-dir", file});
  EXPECT_EQ(exit_code_of(node), 1) << node.err();
  EXPECT_NE(node.err().find("spool"), std::string::npos) << node.err();
  EXPECT_EQ(node.err().find("streaming as node"), std::string::npos) << node.err();
}

}  // namespace
}  // namespace tl::test
