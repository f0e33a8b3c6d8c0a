// Faults on loopback: wrong tokens, nodes that crash and rejoin, garbage on the
// control and audio ports. The mixer must refuse clearly, count, and keep recording.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

//! A raw socket to the mixer, closed on scope exit.
class RawSocket {
 public:
  RawSocket(int type, int port) : fd_(::socket(AF_INET, type, 0)) {
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<std::uint16_t>(port));
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~RawSocket() { ::close(fd_); }
  bool connect() { return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) == 0; }
  void send(const std::string& bytes) {
    if (::sendto(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr_),
                 sizeof addr_) < 0) {
      ADD_FAILURE() << "send failed: " << std::strerror(errno);
    }
  }
  //! True when the peer closed the connection within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
    return false;
  }

 private:
  int fd_;
  sockaddr_in addr_{};
};

TEST(Faults, WrongOrMissingTokenGetsAClearErrorAndNoAccess) {
  Session s("faults_token", "right-token");
  s.start_mixer();
  const std::string wrong = s.dir() + "/wrong";
  std::ofstream(wrong) << "wrong-token\n";

  RunResult r = run({bin("tlctl"), "--mixer", s.mixer_address(), "--token-file", wrong, "nodes"}, 20s);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("wrong token"), std::string::npos) << r.err;

  r = run({bin("tlctl"), "--mixer", s.mixer_address(), "nodes"}, 20s, {{"TRACKLINK_TOKEN", ""}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("token"), std::string::npos) << r.err;

  Process capture({bin("tl-capture"), "--mixer", s.mixer_address(), "--name", "intruder", "--source",
                   "tone:440", "--token-file", wrong},
                  s.dir() + "/intruder");
  ASSERT_TRUE(wait_until([&] { return !capture.running(); }, 20s)) << "a refused node must exit";
  EXPECT_NE(capture.stop(), 0);
  EXPECT_NE(capture.err().find("wrong token"), std::string::npos) << capture.err();
  EXPECT_EQ(capture.err().find("not up yet"), std::string::npos) << "a refusal is not waited out";
  const json nodes = s.tlctl_json({"nodes"});
  EXPECT_TRUE(!nodes.contains("nodes") || nodes["nodes"].empty()) << nodes.dump();
}

TEST(Faults, CrashedNodeShowsGoneRejoinsItsTracksAndOthersKeepRecording) {
  Session s("faults_rejoin");
  s.start_mixer({"--latency-ms", "60"});
  s.record_start("rejoin");
  s.start_capture("steady", "tone:300");
  Process& flaky = s.start_capture("flaky", "tone:500", {"--channels", "2"});
  ASSERT_TRUE(s.wait_node_state("steady", "streaming")) << s.logs();
  ASSERT_TRUE(s.wait_node_state("flaky", "streaming")) << s.logs();
  s.wait_session(1.0);

  flaky.kill_hard();
  ASSERT_TRUE(s.wait_node_state("flaky", "gone")) << s.logs();
  const json gone = s.node("flaky");
  EXPECT_GT(json_num(gone, "last_heard_s"), 0.0);
  s.wait_session(1.0);

  s.start_capture("flaky", "tone:500", {"--channels", "2"});
  ASSERT_TRUE(s.wait_node_state("flaky", "streaming")) << s.logs();
  const json back = s.node("flaky");
  EXPECT_EQ(json_int(back, "connects"), 2);
  EXPECT_EQ(json_int(back, "node_id"), json_int(gone, "node_id"));
  s.wait_session(1.0);
  s.record_stop();

  const std::string dir = s.take_dir() + "/rejoin";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in);
  EXPECT_EQ(take.value("state", ""), "incomplete") << "one state word: the outage is missing audio";
  EXPECT_FALSE(take.value("complete", true));
  int flaky_tracks = 0;
  for (const auto& t : take["tracks"]) {
    if (t["node"] == "steady") {
      EXPECT_EQ(json_int(t, "lost_samples"), 0) << "the other node lost nothing";
    }
    if (t["node"] == "flaky") {
      ++flaky_tracks;
      EXPECT_GT(json_int(t, "lost_samples"), 0) << "the outage is reported";
      EXPECT_NE(t.value("missing_reason", "").find("not running"), std::string::npos)
          << "a node that was down is not blamed on its spool: " << t.dump();
      std::printf("[ figure ] %s: %lld samples missing: %s\n", t.value("file", "").c_str(),
                  static_cast<long long>(json_int(t, "lost_samples")), t.value("missing_reason", "").c_str());
    }
  }
  EXPECT_EQ(flaky_tracks, 2) << "the rejoined node kept its two tracks: " << take.dump(2);
  const Audio track = read_audio(dir + "/flaky-1.wav");
  // Audio before the crash, a silent gap, audio after the rejoin.
  std::int64_t runs = 0;
  bool in_audio = false;
  std::int64_t silent = 0;
  for (const auto v : track.samples) {
    silent = (v == 0) ? silent + 1 : 0;
    if (v != 0 && !in_audio) {
      ++runs;
      in_audio = true;
    }
    if (silent > 4800) in_audio = false;
  }
  EXPECT_EQ(runs, 2) << "one stretch before the crash and one after the rejoin";
}

TEST(Faults, AClosedTakeWhoseFilesTheDiskRefusesIsSavedOnceThereIsRoom) {
  Session s("faults_unsaved");
  s.start_mixer();
  s.start_capture("a", "tone:300");
  ASSERT_TRUE(s.wait_node_state("a", "streaming")) << s.logs();
  s.record_start("held");
  s.wait_session(1.0);
  const std::string dir = s.take_dir() + "/held";
  // take.json and automation.json go in by renaming a .tmp file: a folder in the way makes
  // those writes fail as a full disk would.
  ASSERT_TRUE(std::filesystem::create_directory(dir + "/take.json.tmp"));
  const json stopped = s.tlctl_json({"record", "stop"}, 60s);
  const std::string closed = stopped.value("state", "");
  EXPECT_TRUE(closed == "complete" || closed == "conforming") << stopped.dump();
  EXPECT_EQ(read_json(dir + "/take.json").value("state", ""), "recording") << "the disk did not take it";

  // The mixer says what the stop said, not what the old file says ("unfinished").
  const RunResult takes = s.tlctl({"takes"});
  ASSERT_EQ(takes.exit_code, 0) << takes.err;
  EXPECT_EQ(takes.out.find("unfinished"), std::string::npos) << takes.out;
  EXPECT_NE(takes.out.find("held"), std::string::npos) << takes.out;

  // Room again: it is written within a few seconds, without asking.
  std::filesystem::remove(dir + "/take.json.tmp");
  json take;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  do {
    std::this_thread::sleep_for(100ms);
    take = read_json(dir + "/take.json");
  } while ((take.value("state", "") == "recording" || take.value("state", "") == "conforming") &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(take.value("state", ""), "complete") << take.dump(2) << s.logs();
  EXPECT_TRUE(take.value("complete", false));
  EXPECT_TRUE(std::filesystem::exists(dir + "/automation.json"));
  EXPECT_NE(s.logs().find("take.json written now that the disk has room"), std::string::npos) << s.logs();
}

TEST(Faults, ControlPortSurvivesGarbageAndClientsThatVanishMidMessage) {
  Session s("faults_control");
  s.start_mixer();
  {
    RawSocket garbage(SOCK_STREAM, s.port());
    ASSERT_TRUE(garbage.connect());
    garbage.send(std::string(4, '\xff') + " this is not a frame");
    EXPECT_TRUE(garbage.closed_by_peer(10s)) << "an oversized frame ends that connection";
  }
  {
    RawSocket half(SOCK_STREAM, s.port());
    ASSERT_TRUE(half.connect());
    half.send(std::string("\x00\x00\x01\x00partial", 11));  // promises 256 bytes, sends 7, leaves
  }
  {
    RawSocket unauth(SOCK_STREAM, s.port());
    ASSERT_TRUE(unauth.connect());
    // A well-formed frame that is not an auth response: refused and closed.
    unauth.send(std::string("\x00\x00\x00\x02\x08\x07", 6));
    EXPECT_TRUE(unauth.closed_by_peer(10s));
  }
  const RunResult r = s.tlctl({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(s.mixer().running());
}

TEST(Faults, MalformedAndForeignAudioPacketsAreCountedAndDropped) {
  Session s("faults_udp");
  s.start_mixer();
  s.start_capture("real", "tone:440");
  ASSERT_TRUE(s.wait_node_state("real", "streaming")) << s.logs();
  const std::int64_t before = json_int(s.tlctl_json({"status"}), "bad_packets");
  RawSocket udp(SOCK_DGRAM, s.port());
  std::string header_like(64, '\0');
  std::memcpy(header_like.data(), "TLK1\x01\x01", 6);
  header_like[9] = 1;  // claims node 1, but its length fields disagree with the datagram
  const std::vector<std::string> bad = {std::string("x"), std::string(40, 'z'), std::string(2000, 'q'),
                                        std::string("TLK1\x09", 5) + std::string(60, '\0'), header_like};
  for (const auto& d : bad) udp.send(d);
  ASSERT_TRUE(
      wait_until([&] { return json_int(s.tlctl_json({"status"}), "bad_packets") >= before + 5; }, 20s, 200ms))
      << s.tlctl({"status"}).out;
  EXPECT_TRUE(s.mixer().running());
  EXPECT_EQ(state_name(s.node("real")), "streaming");
}

}  // namespace
}  // namespace tl::test
