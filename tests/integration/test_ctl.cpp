// tlctl as an operator meets it: an unknown word is named, each kind of error has one exit
// code whichever side found it, and what it prints about a range is short.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

namespace tl::test {
namespace {

//! A TCP port on 127.0.0.1 with nothing behind it, or a listener that answers nobody.
class DeadEnd {
 public:
  //! listening false: bound, not listening (a connect is refused at once); true: listening
  //! with a full queue (the kernel drops the next SYN: a connect waits, as for a host down).
  explicit DeadEnd(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    if (!listening) return;
    EXPECT_EQ(::listen(fd_, 0), 0);
    for (int i = 0; i < 3; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      (void)::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // completes or waits
      fillers_.push_back(c);
    }
  }
  ~DeadEnd() {
    for (const int c : fillers_) ::close(c);
    ::close(fd_);
  }
  DeadEnd(const DeadEnd&) = delete;
  DeadEnd& operator=(const DeadEnd&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

RunResult tlctl_at(const std::string& address, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("tlctl"), "--mixer", address};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 30s, {{"TRACKLINK_TOKEN", "integration-token"}});
}

TEST(Ctl, AnUnknownCommandIsNamedWithTheOneMeant) {
  Session s("ctl_unknown");
  s.start_mixer();
  RunResult r = s.tlctl({"stauts"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("tlctl: unknown command 'stauts'; did you mean 'status'?\n", 0), 0u) << r.err;
  r = s.tlctl({"record", "strat"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("unknown command 'record strat'; did you mean 'record start'?"), std::string::npos)
      << r.err;
  r = s.tlctl({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("unknown command 'frobnicate' (commands: nodes,"), std::string::npos) << r.err;
  EXPECT_FALSE(s.tlctl_json({"status"}).value("recording", true)) << "nothing reached the mixer";
}

TEST(Ctl, AValueOutOfRangeExitsTwoWhicheverSideChecksIt) {
  Session s("ctl_ranges");
  // At 96 kHz the mixer's longest channel delay (4800 samples) is 50 ms: tlctl, which
  // knows only the 100 ms of 48 kHz, lets 80 ms through and the mixer refuses it.
  s.start_mixer({"--rate", "96000"});
  s.start_capture("room-a", "tone:440", {"--rate", "96000"});
  ASSERT_TRUE(s.wait_node_state("room-a", "streaming")) << s.logs();
  ASSERT_EQ(s.tlctl({"gain", "room-a/1", "-6"}).exit_code, 0);

  for (const std::vector<std::string>& bad : {std::vector<std::string>{"gain", "room-a/1", "500"},
                                              {"pan", "room-a/1", "5"},
                                              {"cue", "room-a", "me", "+30"},
                                              {"latency", "room-a", "max=5000"}}) {
    const RunResult r = s.tlctl(bad);
    EXPECT_EQ(r.exit_code, 2) << bad[0] << " " << bad.back() << ": " << r.err;
    EXPECT_NE(r.err.find("Run with --help"), std::string::npos) << r.err;
  }
  const RunResult mixer_checked = s.tlctl({"strip", "room-a/1", "delay", "ms=80"});
  EXPECT_EQ(mixer_checked.exit_code, 2) << mixer_checked.err;
  EXPECT_NE(mixer_checked.err.find("out of range (0 .. 50)"), std::string::npos)
      << "the mixer's own message: " << mixer_checked.err;
  EXPECT_EQ(s.tlctl({"strip", "room-a/1", "delay", "ms=20"}).exit_code, 0) << "within the mixer's range";

  const json node = s.node("room-a");
  ASSERT_TRUE(node.contains("channel_info")) << node.dump();
  EXPECT_FLOAT_EQ(static_cast<float>(json_num(node["channel_info"][0], "gain_db")), -6.0f)
      << "no refused value reached the mix";

  // A refusal that is not a usage error stays 1.
  const RunResult unknown = s.tlctl({"gain", "nobody/1", "3"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.err;
  EXPECT_EQ(unknown.err, "tlctl: no node named 'nobody' (see tlctl nodes)\n");
}

TEST(Ctl, NoMixerToReachExitsThree) {
  {
    const DeadEnd closed(false);
    const RunResult r = tlctl_at(closed.address(), {"status"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("cannot reach mixer at " + closed.address()), std::string::npos) << r.err;
  }
  const DeadEnd silent(true);
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = tlctl_at(silent.address(), {"--timeout-ms", "500", "gain", "room-a/1", "-6"});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no answer within 500 ms"), std::string::npos) << r.err;
  EXPECT_LT(took, 10s) << "--timeout-ms bounds the connect too";
}

TEST(Ctl, ARangeIsPrintedAsAPersonWritesIt) {
  const DeadEnd closed(false);
  const RunResult r = tlctl_at(closed.address(), {"--timeout-ms", "0", "status"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "--timeout-ms: 0 is outside 1..600000 ms\nRun with --help for more information.\n");
  const RunResult seconds = tlctl_at(closed.address(), {"watch", "--seconds", "0"});
  EXPECT_EQ(seconds.exit_code, 2) << seconds.err;
  EXPECT_LT(seconds.err.size(), 120u) << seconds.err;
}

}  // namespace
}  // namespace tl::test
