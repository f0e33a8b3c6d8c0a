// tl-netem on real loopback sockets: the proxy runs in-process on its own
// thread; the test thread plays both the capture node and the echoing mixer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "netem/proxy.h"
#include "process.h"

namespace tl::netem {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

//! A non-blocking UDP socket bound to 127.0.0.1 on a free port.
class LoopbackSocket {
 public:
  LoopbackSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_in a = address(0);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
  }
  ~LoopbackSocket() { ::close(fd_); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;

  std::uint16_t port() const { return port_; }
  int fd() const { return fd_; }

  void send_to(std::uint16_t port, std::uint32_t number) {
    std::uint8_t data[64] = {};
    std::memcpy(data, &number, sizeof number);
    sockaddr_in a = address(port);
    ASSERT_EQ(::sendto(fd_, data, sizeof data, 0, reinterpret_cast<const sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(sizeof data));
  }
  //! One datagram if one is waiting: its number and the sender's port.
  std::optional<std::pair<std::uint32_t, std::uint16_t>> receive() {
    std::uint8_t data[128];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const auto n = ::recvfrom(fd_, data, sizeof data, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < static_cast<ssize_t>(sizeof(std::uint32_t))) return std::nullopt;
    std::uint32_t number = 0;
    std::memcpy(&number, data, sizeof number);
    return std::pair{number, ntohs(from.sin_port)};
  }

 private:
  static sockaddr_in address(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

//! The capture node (client) and the mixer (echoes everything back to its sender).
struct Ends {
  LoopbackSocket client;
  LoopbackSocket mixer;
  std::vector<std::uint32_t> at_mixer;
  std::vector<std::uint32_t> at_client;
  std::map<std::uint32_t, Clock::time_point> sent_at;
  std::vector<double> rtt_ms;

  //! Waits up to timeout for traffic, then handles everything that is waiting.
  void pump(std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{mixer.fd(), POLLIN, 0}, {client.fd(), POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(timeout.count())) <= 0) return;
    for (int i = 0; i < 10'000; ++i) {
      bool any = false;
      if (auto m = mixer.receive()) {
        at_mixer.push_back(m->first);
        mixer.send_to(m->second, m->first);
        any = true;
      }
      if (auto c = client.receive()) {
        at_client.push_back(c->first);
        if (auto it = sent_at.find(c->first); it != sent_at.end()) {
          rtt_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - it->second).count());
        }
        any = true;
      }
      if (!any) return;
    }
  }

  //! Sends packets 0..count-1 to the proxy 2 ms apart (a second's pause before packet
  //! pause_at, if given) and waits up to 3 s for every echo.
  void round_trips(std::uint16_t port, std::uint32_t count, std::uint32_t pause_at = UINT32_MAX) {
    for (std::uint32_t i = 0; i < count; ++i) {
      if (i == pause_at) {
        const auto until = Clock::now() + 1s;
        while (Clock::now() < until) pump(10ms);
      }
      sent_at[i] = Clock::now();
      client.send_to(port, i);
      pump(2ms);
    }
    const auto deadline = Clock::now() + 3s;
    while (at_client.size() < count && Clock::now() < deadline) pump(10ms);
  }
};

class RunningProxy {
 public:
  explicit RunningProxy(ProxyConfig config) : proxy_(std::move(config)) {
    proxy_.on_line = [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    };
  }
  Status start() {
    auto s = proxy_.start();
    if (s) thread_ = std::thread([this] { proxy_.run(); });
    return s;
  }
  ~RunningProxy() { finish(); }
  void finish() {
    if (thread_.joinable()) {
      proxy_.stop();
      thread_.join();
    }
  }
  Proxy& proxy() { return proxy_; }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  Proxy proxy_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

//! Polls until cond(report) holds or timeout passes, pumping the sockets meanwhile.
bool wait_for(RunningProxy& rp, Ends& ends, std::chrono::milliseconds timeout,
              const std::function<bool(const ProxyReport&)>& cond) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    ends.pump(5ms);
    auto r = rp.proxy().snapshot(1s);
    if (r && cond(*r)) return true;
  }
  return false;
}

TEST(NetemProxy, LossyRoundTripMatchesOwnStats) {
  Ends ends;
  ProxyConfig config;
  config.forward_port = ends.mixer.port();
  config.upstream.loss_pct = 10.0;
  config.downstream.loss_pct = 10.0;
  config.seed = 1234;
  config.stats_interval_s = 0.0;
  RunningProxy rp(config);
  ASSERT_TRUE(rp.start().ok());
  const auto port = rp.proxy().listen_port();
  ASSERT_NE(port, 0);

  constexpr std::uint32_t kPackets = 1000;
  for (std::uint32_t i = 0; i < kPackets; ++i) {
    ends.client.send_to(port, i);
    ends.pump(0ms);
    if (i % 50 == 49) {  // keep the socket buffers far from full
      ASSERT_TRUE(wait_for(rp, ends, 3s, [&](const ProxyReport& r) { return r.upstream.in == i + 1; })) << i;
    }
  }
  const bool settled = wait_for(rp, ends, 5s, [&](const ProxyReport& r) {
    return r.upstream.in == kPackets && r.upstream.pending == 0 &&
           r.upstream.forwarded == ends.at_mixer.size() && r.downstream.in == ends.at_mixer.size() &&
           r.downstream.pending == 0 && r.downstream.forwarded == ends.at_client.size();
  });
  rp.finish();
  const ProxyReport r = rp.proxy().report();
  ASSERT_TRUE(settled) << "mixer got " << ends.at_mixer.size() << ", client got " << ends.at_client.size()
                       << "\n"
                       << format_line("up", r.upstream) << "\n"
                       << format_line("down", r.downstream);

  EXPECT_EQ(r.upstream.in, kPackets);
  EXPECT_EQ(r.upstream.forwarded, ends.at_mixer.size());
  EXPECT_EQ(r.upstream.forwarded + r.upstream.dropped_random, kPackets);
  EXPECT_EQ(r.downstream.in, ends.at_mixer.size());
  EXPECT_EQ(r.downstream.forwarded, ends.at_client.size());
  EXPECT_EQ(r.downstream.forwarded + r.downstream.dropped_random, r.downstream.in);
  EXPECT_EQ(r.upstream.send_errors + r.downstream.send_errors, 0u);
  EXPECT_EQ(r.clients, 1u);
  EXPECT_NEAR(static_cast<double>(r.upstream.dropped_random) / kPackets, 0.10, 0.04);

  // The mixer saw exactly the packets the seeded model keeps, in order.
  ImpairmentModel reference(config.upstream, config.seed);
  std::vector<std::uint32_t> expected;
  for (std::uint32_t i = 0; i < kPackets; ++i) {
    if (reference.offer(0, 64).copies == 1) expected.push_back(i);
  }
  EXPECT_EQ(ends.at_mixer, expected);
  // Every reply is an echo of something the mixer received, once.
  const std::set<std::uint32_t> at_mixer(ends.at_mixer.begin(), ends.at_mixer.end());
  const std::set<std::uint32_t> at_client(ends.at_client.begin(), ends.at_client.end());
  EXPECT_EQ(at_client.size(), ends.at_client.size());
  for (auto n : at_client) EXPECT_TRUE(at_mixer.count(n)) << n;

  const auto lines = rp.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("summary (stopped)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("in=1000 fwd=" + std::to_string(r.upstream.forwarded)), std::string::npos)
      << lines[1];
  std::printf("%s\n%s\n%s\n", lines[0].c_str(), lines[1].c_str(), lines[2].c_str());
}

TEST(NetemProxy, DelayAppliesBothWaysAndOneWaySkipsReplies) {
  for (bool one_way : {false, true}) {
    Ends ends;
    ProxyConfig config;
    config.forward_port = ends.mixer.port();
    config.upstream.delay_ms = 15.0;
    config.downstream.delay_ms = 15.0;
    config.one_way = one_way;
    config.stats_interval_s = 0.0;
    RunningProxy rp(config);
    ASSERT_TRUE(rp.start().ok());
    constexpr std::uint32_t kPackets = 20;
    ends.round_trips(rp.proxy().listen_port(), kPackets);
    rp.finish();
    ASSERT_EQ(ends.at_client.size(), kPackets);
    const double floor_ms = one_way ? 15.0 : 30.0;
    for (double rtt : ends.rtt_ms) {
      EXPECT_GE(rtt, floor_ms);
      EXPECT_LT(rtt, floor_ms + 200.0);  // generous: a loaded CI machine
    }
    const auto r = rp.proxy().report();
    EXPECT_NEAR(r.upstream.mean_delay_ms, 15.0, 0.1);
    EXPECT_NEAR(r.downstream.mean_delay_ms, one_way ? 0.0 : 15.0, 0.1);
  }
}

TEST(NetemProxy, ScheduledChangeStepsTheDelay) {
  Ends ends;
  ProxyConfig config;
  config.forward_port = ends.mixer.port();
  config.one_way = true;
  config.stats_interval_s = 0.0;
  config.changes.push_back(parse_link_change("0.3:delay-ms=40").value());
  std::vector<std::string> lines;
  RunningProxy rp(config);
  rp.proxy().on_line = [&](const std::string& line) { lines.push_back(line); };
  ASSERT_TRUE(rp.start().ok());
  // Packets before the change pass at once; after it (well after: a loaded machine),
  // each waits 40 ms.
  constexpr std::uint32_t kPackets = 20;
  ends.round_trips(rp.proxy().listen_port(), kPackets, kPackets / 2);
  rp.finish();
  ASSERT_EQ(ends.rtt_ms.size(), kPackets);
  for (std::size_t k = 0; k < kPackets; ++k) {
    const std::uint32_t i = ends.at_client[k];
    if (i < kPackets / 2) {
      EXPECT_LT(ends.rtt_ms[k], 40.0) << i;
    } else {
      EXPECT_GE(ends.rtt_ms[k], 40.0) << i;
    }
  }
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("change t=0.3s: delay-ms=40") != std::string::npos;
  }));
}

TEST(NetemProxy, DuplicatesJitterAndReorderingReachTheMixer) {
  Ends ends;
  ProxyConfig config;
  config.forward_port = ends.mixer.port();
  config.upstream = {
      .delay_ms = 2.0, .jitter_ms = 1.0, .reorder_pct = 10.0, .reorder_gap_ms = 5.0, .duplicate_pct = 10.0};
  config.one_way = true;
  config.seed = 99;
  config.stats_interval_s = 0.0;
  RunningProxy rp(config);
  ASSERT_TRUE(rp.start().ok());
  constexpr std::uint32_t kPackets = 300;
  for (std::uint32_t i = 0; i < kPackets; ++i) {
    ends.client.send_to(rp.proxy().listen_port(), i);
    ends.pump(1ms);
  }
  const bool settled = wait_for(rp, ends, 5s, [&](const ProxyReport& r) {
    return r.upstream.in == kPackets && r.upstream.pending == 0 &&
           r.upstream.forwarded == ends.at_mixer.size() && r.downstream.in == ends.at_mixer.size() &&
           r.downstream.forwarded == ends.at_client.size() && r.downstream.pending == 0;
  });
  rp.finish();
  const auto r = rp.proxy().report();
  ASSERT_TRUE(settled) << format_line("up", r.upstream);
  EXPECT_EQ(r.upstream.forwarded, kPackets + r.upstream.duplicated);
  EXPECT_GT(r.upstream.duplicated, 10u);
  EXPECT_GT(r.upstream.reordered, 10u);
  // Replies pass untouched (one-way): every datagram the mixer got comes back.
  EXPECT_EQ(ends.at_client.size(), ends.at_mixer.size());
  std::size_t out_of_order = 0;
  for (std::size_t i = 1; i < ends.at_mixer.size(); ++i)
    out_of_order += ends.at_mixer[i] < ends.at_mixer[i - 1];
  EXPECT_GT(out_of_order, 0u);
  std::printf("%s\n  mixer saw %zu datagrams, %zu steps backwards\n", format_line("up", r.upstream).c_str(),
              ends.at_mixer.size(), out_of_order);
}

TEST(NetemProxy, RefusesNonLoopbackForward) {
  ProxyConfig config;
  config.forward_host = "192.0.2.1";
  config.forward_port = 9;
  Proxy proxy(config);
  const auto s = proxy.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("loopback"), std::string::npos);
}

TEST(NetemBinary, BadOptionsExitTwo) {
  const auto netem = tl::test::bin("tl-netem");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--forward", "10.1.2.3:7400"},
           {"--listen", "0.0.0.0:7500", "--forward", "127.0.0.1:7400"},
           {"--forward", "127.0.0.1:7400", "--loss", "120"},
           {"--forward", "127.0.0.1:7400", "--burst-loss", "5"},
           {"--forward", "127.0.0.1:0"},
           {"--listen", "127.0.0.1", "--forward", "127.0.0.1:7400"},
           {"--forward", "127.0.0.1:7400", "--bogus"},
           {"--forward", "127.0.0.1:7400", "--change", "5:rate-kbps=10"},
           {"--forward", "127.0.0.1:7400", "--change", "5:jitter-ms=-3"},
       }) {
    std::vector<std::string> argv{netem};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto result = tl::test::run(argv, 10s);
    EXPECT_EQ(result.exit_code, 2) << args.back() << "\n" << result.err;
    EXPECT_FALSE(result.err.empty());
  }
}

TEST(NetemBinary, DurationEndsWithSummary) {
  LoopbackSocket mixer;
  const auto result = tl::test::run({tl::test::bin("tl-netem"), "--listen", "127.0.0.1:0", "--forward",
                                     "127.0.0.1:" + std::to_string(mixer.port()), "--loss", "5", "--seed",
                                     "3", "--duration", "0.3", "--stats-interval", "0.1"},
                                    10s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("seed 3"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("stats t="), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("summary (duration ended)"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace tl::netem

namespace tl::netem {
namespace {

TEST(NetemProxy, QuietClientsAreForgottenAndComeBack) {
  Ends ends;
  ProxyConfig config;
  config.forward_port = ends.mixer.port();
  config.client_idle_s = 0.2;
  config.stats_interval_s = 0.0;
  RunningProxy rp(config);
  ASSERT_TRUE(rp.start().ok());
  ends.client.send_to(rp.proxy().listen_port(), 1);
  ASSERT_TRUE(wait_for(rp, ends, 3s, [&](const ProxyReport& r) {
    return r.expired_clients == 1 && r.clients == 0 && ends.at_client.size() == 1;
  }));
  ends.client.send_to(rp.proxy().listen_port(), 2);
  ASSERT_TRUE(wait_for(rp, ends, 3s, [&](const ProxyReport& r) {
    return r.clients + r.expired_clients >= 2 && ends.at_client.size() == 2;
  }));
  rp.finish();
  EXPECT_EQ(ends.at_client, (std::vector<std::uint32_t>{1, 2}));
}

TEST(NetemProxy, UnreachableTargetDoesNotStopTheProxy) {
  std::uint16_t closed_port = 0;
  {
    LoopbackSocket gone;  // bound then closed: nothing listens there
    closed_port = gone.port();
  }
  Ends ends;
  ProxyConfig config;
  config.forward_port = closed_port;
  config.stats_interval_s = 0.0;
  RunningProxy rp(config);
  ASSERT_TRUE(rp.start().ok());
  for (std::uint32_t i = 0; i < 20; ++i) ends.client.send_to(rp.proxy().listen_port(), i);
  EXPECT_TRUE(wait_for(rp, ends, 3s,
                       [](const ProxyReport& r) { return r.upstream.in == 20 && r.upstream.pending == 0; }));
  auto r = rp.proxy().snapshot(1s);
  ASSERT_TRUE(r.has_value());  // still serving
  EXPECT_EQ(r->upstream.forwarded + r->upstream.send_errors, 20u);
}

}  // namespace
}  // namespace tl::netem
