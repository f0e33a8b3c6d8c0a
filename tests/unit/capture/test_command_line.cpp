// tl-capture's command line: bad options exit 2 with a message, --list-devices exits 0.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <filesystem>

#include "process.h"
#include "wav.h"

namespace tl::test {
namespace {

using namespace std::chrono_literals;

class CaptureCommandLine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(bin("tl-capture"))) << "tl-capture is not built (ninja tl-capture)";
  }
  RunResult capture(std::vector<std::string> args) {
    args.insert(args.begin(), bin("tl-capture"));
    return run(args, 20s, {{"TRACKLINK_TOKEN", "unit-test"}});
  }
};

TEST_F(CaptureCommandLine, BadOptionsExitTwoNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"--name", "a", "--source", "tone:440"}, "--mixer"},
      {{"--mixer", "127.0.0.1:9", "--source", "tone:440"}, "--name"},
      {{"--mixer", "127.0.0.1", "--name", "a"}, "--mixer"},
      {{"--mixer", "127.0.0.1:9", "--name", "bad/name"}, "--name"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--channels", "0"}, "--channels"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--rate", "32000"}, "--rate"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--frames-per-packet", "32"}, "--frames-per-packet"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--format", "mp3"}, "--format"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--source", "tone"}, "tone"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--channels", "two"}, "--channels"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--no-such-option"}, "no-such-option"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--audio-to", "nowhere"}, "--audio-to"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--sim-clock-skew-ppm", "5000"}, "--sim-clock-skew-ppm"},
      {{"--mixer", "127.0.0.1:9", "--name", "a", "--wait-for-mixer", "-1"}, "--wait-for-mixer"},
  };
  for (const Case& c : cases) {
    const RunResult r = capture(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.needle << "\n" << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
  }
}

TEST_F(CaptureCommandLine, AFileThatDoesNotFitTheOptionsIsRefusedBeforeConnecting) {
  const std::string dir = make_work_dir("capture_cli_file");
  const std::string path = dir + "/stereo.wav";
  ASSERT_TRUE(write_wav(path, 44100, 2, SF_FORMAT_PCM_16, std::vector<std::int32_t>(200, 0)));
  // Port 9 (discard) on loopback: nothing listens; the file check must come first.
  RunResult r = capture({"--mixer", "127.0.0.1:9", "--name", "f", "--source", "file:" + path, "--rate",
                         "44100", "--channels", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("2 channel"), std::string::npos) << r.err;
  r = capture({"--mixer", "127.0.0.1:9", "--name", "f", "--source", "file:" + path});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("resampling is not implemented"), std::string::npos) << r.err;
}

TEST_F(CaptureCommandLine, UnreachableMixerExitsOneWithAHintAfterItsWait) {
  const RunResult r = capture(
      {"--mixer", "127.0.0.1:9", "--name", "lonely", "--source", "tone:440", "--wait-for-mixer", "0.5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("not up yet"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot reach mixer"), std::string::npos) << r.err;
}

TEST_F(CaptureCommandLine, ListDevicesNeedsNoMixerAndExitsZero) {
  const RunResult r = capture({"--list-devices"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CaptureCommandLine, HelpLabelsTheClockFlagsAsSimulation) {
  const RunResult r = capture({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--sim-clock-offset-ms", "--sim-clock-skew-ppm"}) {
    const auto at = r.out.find(flag);
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SIMULATION", at), std::string::npos) << flag;
  }
  EXPECT_NE(r.out.find("--audio-to"), std::string::npos);
}

}  // namespace
}  // namespace tl::test
