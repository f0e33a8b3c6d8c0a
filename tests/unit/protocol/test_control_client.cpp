//! ControlClient against a scripted TCP server on 127.0.0.1 (raw POSIX sockets in
//! one std::thread). Every server wait is bounded; the thread is always joined.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tl/common/clock.h"
#include "tl/protocol/auth.h"
#include "tl/protocol/control_client.h"
#include "tl/protocol/framing.h"

namespace tl::protocol {
namespace {

using tl::proto::Envelope;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

constexpr int kServerWaitMs = 5000;  // upper bound for any wait on the server side
constexpr char kToken[] = "correct horse battery staple";

//! The server's end of one accepted connection.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}

  bool send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool send(const Envelope& e) { return send_raw(encode_frame(e)); }

  //! The next message from the client; nullopt on close, bad data or timeout.
  std::optional<Envelope> read(int timeout_ms = kServerWaitMs) {
    const std::int64_t deadline = monotonic_ns() + std::int64_t{timeout_ms} * 1'000'000;
    Envelope e;
    for (;;) {
      switch (decoder_.next(e)) {
        case FrameDecoder::Result::Message:
          return e;
        case FrameDecoder::Result::Error:
          return std::nullopt;
        case FrameDecoder::Result::NeedMore:
          break;
      }
      if (!wait_readable(deadline)) return std::nullopt;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      decoder_.feed(buf, static_cast<std::size_t>(n));
    }
  }

  //! Waits (bounded) until the client closes its end; true when it did.
  bool wait_for_close(int timeout_ms = kServerWaitMs) {
    const std::int64_t deadline = monotonic_ns() + std::int64_t{timeout_ms} * 1'000'000;
    for (;;) {
      if (!wait_readable(deadline)) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
    }
  }

 private:
  bool wait_readable(std::int64_t deadline) {
    for (;;) {
      const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
      if (left_ms <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left_ms));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  int fd_;
  FrameDecoder decoder_;
};

//! Listens on 127.0.0.1:<free port>, accepts one connection and runs script on it.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(Peer&)> script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(listen_fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, s = std::move(script)] {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, kServerWaitMs) <= 0) return;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      accepted_ = true;
      Peer peer(fd);
      s(peer);
      ::close(fd);
    });
  }
  ~ScriptedServer() { join(); }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::uint16_t port() const { return port_; }
  bool accepted() const { return accepted_; }

  //! Waits for the script to finish (each of its waits is bounded) and closes the listener.
  void join() {
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

 private:
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

//! What the server saw of the handshake (read by the test after join()).
struct AuthSeen {
  bool got_response = false;
  bool mac_ok = false;
  tl::proto::ClientKind kind = tl::proto::CLIENT_UNKNOWN;
  std::string client_name;
};

//! The server side of challenge / response / result. Returns true when accepted.
bool serve_auth(Peer& peer, AuthSeen& seen, const std::string& refusal = "wrong token") {
  const std::string nonce = make_nonce();
  Envelope challenge;
  challenge.mutable_challenge()->set_nonce(nonce);
  challenge.mutable_challenge()->set_server("test-server");
  if (!peer.send(challenge)) return false;
  const auto response = peer.read();
  if (!response || !response->has_auth_response()) return false;
  seen.got_response = true;
  seen.kind = response->auth_response().kind();
  seen.client_name = response->auth_response().client_name();
  seen.mac_ok = verify_mac(kToken, nonce, response->auth_response().mac());
  Envelope result;
  result.mutable_auth_result()->set_ok(seen.mac_ok);
  if (!seen.mac_ok) result.mutable_auth_result()->set_message(refusal);
  peer.send(result);
  return seen.mac_ok;
}

Status connect_to(ControlClient& c, const ScriptedServer& s, const std::string& token = kToken,
                  Millis timeout = Millis(2000)) {
  return c.connect("127.0.0.1", s.port(), token, tl::proto::CLIENT_CONTROL, "unit-test", timeout);
}

Envelope ping_request(std::int64_t t) {
  Envelope e;
  e.mutable_ping()->set_client_time_ns(t);
  return e;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- happy path ------------------------------------------------------------------

TEST(ControlClient, AuthenticatesAndCallsThenServerSeesTheClose) {
  AuthSeen seen;
  std::uint64_t request_id = 0;
  bool saw_close = false;
  ScriptedServer server([&](Peer& peer) {
    if (!serve_auth(peer, seen)) return;
    const auto req = peer.read();
    if (!req || !req->has_ping()) return;
    request_id = req->request_id();
    Envelope pong;
    pong.set_request_id(req->request_id());
    pong.mutable_pong()->set_client_time_ns(req->ping().client_time_ns());
    pong.mutable_pong()->set_session_time_ns(987654321);
    peer.send(pong);
    saw_close = peer.wait_for_close();
  });

  ControlClient client;
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.native_handle(), -1);
  const Status s = connect_to(client, server);
  ASSERT_TRUE(s) << s.error();
  EXPECT_TRUE(client.connected());
  EXPECT_GE(client.native_handle(), 0);

  auto reply = client.call(ping_request(4242), Millis(2000));
  ASSERT_TRUE(reply) << reply.error();
  ASSERT_TRUE(reply->has_pong());
  EXPECT_EQ(reply->pong().client_time_ns(), 4242);
  EXPECT_EQ(reply->pong().session_time_ns(), 987654321);
  EXPECT_EQ(reply->request_id(), request_id);
  EXPECT_NE(request_id, 0u) << "requests carry a non-zero id; 0 is for events";

  client.close();
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.native_handle(), -1);
  server.join();
  EXPECT_TRUE(seen.got_response);
  EXPECT_TRUE(seen.mac_ok) << "the client answered the challenge with the right MAC";
  EXPECT_EQ(seen.kind, tl::proto::CLIENT_CONTROL);
  EXPECT_EQ(seen.client_name, "unit-test");
  EXPECT_TRUE(saw_close) << "close() closes the socket";
}

TEST(ControlClient, EventsAndStaleRepliesDuringACallAreHandledInOrder) {
  AuthSeen seen;
  std::vector<std::uint64_t> ids;
  ScriptedServer server([&](Peer& peer) {
    if (!serve_auth(peer, seen)) return;
    for (int i = 0; i < 2; ++i) {
      const auto req = peer.read();
      if (!req) return;
      ids.push_back(req->request_id());
      Envelope event;
      event.mutable_event()->set_fault("fault " + std::to_string(i));
      peer.send(event);  // request_id 0: an event, queued for next_event()
      Envelope stale;
      stale.set_request_id(req->request_id() + 1000);  // a reply to some abandoned call
      stale.mutable_pong();
      peer.send(stale);
      Envelope reply;
      reply.set_request_id(req->request_id());
      if (i == 0) {
        reply.mutable_pong()->set_client_time_ns(1);
      } else {
        reply.mutable_error()->set_code(tl::proto::ErrorReply::NOT_FOUND);
        reply.mutable_error()->set_message("no such take: t99");
      }
      peer.send(reply);
    }
    peer.wait_for_close();
  });

  ControlClient client;
  ASSERT_TRUE(connect_to(client, server));
  auto first = client.call(ping_request(1), Millis(2000));
  ASSERT_TRUE(first) << first.error();
  EXPECT_TRUE(first->has_pong());
  EXPECT_FALSE(client.last_refusal().has_value()) << "answered with its reply";
  auto second = client.call(ping_request(2), Millis(2000));
  ASSERT_FALSE(second) << "an ErrorReply becomes an Error";
  EXPECT_EQ(second.error(), "no such take: t99");
  EXPECT_EQ(client.last_refusal(), tl::proto::ErrorReply::NOT_FOUND) << "and keeps its code";
  EXPECT_TRUE(client.connected()) << "an ErrorReply does not drop the connection";

  for (int i = 0; i < 2; ++i) {
    auto ev = client.next_event(Millis(500));
    ASSERT_TRUE(ev) << ev.error();
    EXPECT_EQ(ev->request_id(), 0u);
    EXPECT_EQ(ev->event().fault(), "fault " + std::to_string(i));
  }
  client.close();
  server.join();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_NE(ids[0], ids[1]) << "each call gets a fresh request id";
}

TEST(ControlClient, NextEventReadsFromTheSocketAndTimesOut) {
  AuthSeen seen;
  ScriptedServer server([&](Peer& peer) {
    if (!serve_auth(peer, seen)) return;
    Envelope event;
    event.mutable_event()->set_fault("disk almost full");
    peer.send(event);
    peer.wait_for_close();
  });
  ControlClient client;
  ASSERT_TRUE(connect_to(client, server));
  auto ev = client.next_event(Millis(2000));
  ASSERT_TRUE(ev) << ev.error();
  EXPECT_EQ(ev->event().fault(), "disk almost full");
  const auto t0 = Clock::now();
  auto none = client.next_event(Millis(200));
  const auto elapsed = Clock::now() - t0;
  EXPECT_FALSE(none);
  EXPECT_GE(elapsed, Millis(150));
  EXPECT_LT(elapsed, Millis(2000));
  client.close();
}

// ---- refusals and failures ---------------------------------------------------------

TEST(ControlClient, WrongTokenReturnsTheServersRefusal) {
  AuthSeen seen;
  ScriptedServer server(
      [&](Peer& peer) { serve_auth(peer, seen, "token does not match this session (check --token)"); });
  ControlClient client;
  const auto t0 = Clock::now();
  const Status s = connect_to(client, server, "not-the-token");
  EXPECT_LT(Clock::now() - t0, Millis(2000));
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "token does not match this session (check --token)")) << s.error();
  EXPECT_TRUE(contains(s.error(), "refused")) << s.error();
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.native_handle(), -1);
  server.join();
  EXPECT_TRUE(seen.got_response);
  EXPECT_FALSE(seen.mac_ok);
}

TEST(ControlClient, ClientCanReconnectAfterARefusal) {
  AuthSeen seen_a, seen_b;
  ScriptedServer refusing([&](Peer& peer) { serve_auth(peer, seen_a); });
  ScriptedServer accepting([&](Peer& peer) {
    if (serve_auth(peer, seen_b)) peer.wait_for_close();
  });
  ControlClient client;
  ASSERT_FALSE(connect_to(client, refusing, "bad"));
  const Status s = connect_to(client, accepting);
  ASSERT_TRUE(s) << s.error();
  EXPECT_TRUE(client.connected());
  client.close();
  refusing.join();
  accepting.join();
  EXPECT_TRUE(seen_b.mac_ok);
}

TEST(ControlClient, ServerClosingMidChallengeIsAnErrorNotAHang) {
  ScriptedServer server([&](Peer& peer) {
    Envelope challenge;
    challenge.mutable_challenge()->set_nonce(make_nonce());
    const std::string frame = encode_frame(challenge);
    peer.send_raw(std::string_view(frame).substr(0, frame.size() / 2));
  });  // closes with half a frame sent
  ControlClient client;
  const auto t0 = Clock::now();
  const Status s = connect_to(client, server, kToken, Millis(3000));
  EXPECT_LT(Clock::now() - t0, Millis(2500)) << "the close is noticed, not the timeout";
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "closed")) << s.error();
  EXPECT_FALSE(client.connected());
}

TEST(ControlClient, ServerClosingMidReplyFailsTheCall) {
  AuthSeen seen;
  ScriptedServer server([&](Peer& peer) {
    if (!serve_auth(peer, seen)) return;
    const auto req = peer.read();
    if (!req) return;
    Envelope reply;
    reply.set_request_id(req->request_id());
    reply.mutable_error()->set_message(std::string(500, 'e'));
    const std::string frame = encode_frame(reply);
    peer.send_raw(std::string_view(frame).substr(0, 100));
  });
  ControlClient client;
  ASSERT_TRUE(connect_to(client, server));
  const auto t0 = Clock::now();
  auto reply = client.call(ping_request(1), Millis(3000));
  EXPECT_LT(Clock::now() - t0, Millis(2500));
  ASSERT_FALSE(reply);
  EXPECT_TRUE(contains(reply.error(), "closed")) << reply.error();
  EXPECT_FALSE(client.connected());
  auto again = client.call(ping_request(2), Millis(200));
  ASSERT_FALSE(again);
  EXPECT_TRUE(contains(again.error(), "not connected")) << again.error();
}

TEST(ControlClient, CallTimesOutWhenTheServerNeverAnswers) {
  AuthSeen seen;
  bool got_request = false;
  ScriptedServer server([&](Peer& peer) {
    if (!serve_auth(peer, seen)) return;
    got_request = peer.read().has_value();
    peer.wait_for_close();  // never answers; ends when the client gives up and closes
  });
  ControlClient client;
  ASSERT_TRUE(connect_to(client, server));
  const auto t0 = Clock::now();
  auto reply = client.call(ping_request(1), Millis(200));
  const auto elapsed = Clock::now() - t0;
  ASSERT_FALSE(reply);
  EXPECT_TRUE(contains(reply.error(), "timed out")) << reply.error();
  EXPECT_FALSE(client.last_refusal().has_value()) << "silence is no refusal";
  EXPECT_GE(elapsed, Millis(150)) << "waited for (about) the timeout";
  EXPECT_LT(elapsed, Millis(1000)) << "returned soon after the 200 ms timeout";
  client.close();
  server.join();
  EXPECT_TRUE(got_request);
}

TEST(ControlClient, LateReplyToATimedOutCallIsNotTakenForTheNextOne) {
  AuthSeen seen;
  ScriptedServer server([&](Peer& peer) {
    if (!serve_auth(peer, seen)) return;
    const auto first = peer.read();   // left unanswered until the client gives up...
    const auto second = peer.read();  // ...which we know because it sends the next call
    if (!first || !second) return;
    Envelope late;
    late.set_request_id(first->request_id());
    late.mutable_pong()->set_client_time_ns(first->ping().client_time_ns());
    peer.send(late);
    Envelope reply;
    reply.set_request_id(second->request_id());
    reply.mutable_pong()->set_client_time_ns(second->ping().client_time_ns());
    peer.send(reply);
    peer.wait_for_close();
  });
  ControlClient client;
  ASSERT_TRUE(connect_to(client, server));
  auto first = client.call(ping_request(111), Millis(200));
  ASSERT_FALSE(first);
  EXPECT_TRUE(client.connected()) << "a timeout does not drop the connection";
  auto second = client.call(ping_request(222), Millis(2000));
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(second->pong().client_time_ns(), 222) << "the stale reply to call 1 was skipped";
  client.close();
}

TEST(ControlClient, ConnectTimesOutWithoutAChallengeAndLeavesNothingOpen) {
  ScriptedServer server([&](Peer& peer) { peer.wait_for_close(); });  // accepts, says nothing
  ControlClient client;
  const auto t0 = Clock::now();
  const Status s = connect_to(client, server, kToken, Millis(200));
  const auto elapsed = Clock::now() - t0;
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "no challenge")) << s.error();
  EXPECT_GE(elapsed, Millis(150));
  EXPECT_LT(elapsed, Millis(1000));
  EXPECT_FALSE(client.connected()) << "a failed connect() leaves the client closed";
  EXPECT_EQ(client.native_handle(), -1);
  server.join();  // returns because the client closed its socket
}

TEST(ControlClient, ConnectTimesOutWithoutAnAuthResult) {
  bool got_response = false;
  ScriptedServer server([&](Peer& peer) {
    Envelope challenge;
    challenge.mutable_challenge()->set_nonce(make_nonce());
    peer.send(challenge);
    got_response = peer.read().has_value();
    peer.wait_for_close();  // never decides
  });
  ControlClient client;
  const auto t0 = Clock::now();
  const Status s = connect_to(client, server, kToken, Millis(200));
  EXPECT_LT(Clock::now() - t0, Millis(1000));
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "no authentication result")) << s.error();
  EXPECT_FALSE(client.connected());
  server.join();
  EXPECT_TRUE(got_response);
}

TEST(ControlClient, ServerSpeakingOutOfTurnIsRefused) {
  ScriptedServer server([&](Peer& peer) {
    Envelope wrong;
    wrong.mutable_pong();
    peer.send(wrong);
    peer.wait_for_close();
  });
  ControlClient client;
  const Status s = connect_to(client, server);
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "expected a challenge")) << s.error();
  EXPECT_FALSE(client.connected());
}

TEST(ControlClient, GarbageFromTheServerIsBadData) {
  ScriptedServer server([&](Peer& peer) {
    peer.send_raw(std::string("\x00\x00\x00\x02\x0f\x01", 6));  // wire type 7: not protobuf
    peer.wait_for_close();
  });
  ControlClient client;
  const Status s = connect_to(client, server);
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "bad data")) << s.error();
  EXPECT_FALSE(client.connected());
}

TEST(ControlClient, ClosedPortCannotReachMixer) {
  // A socket bound but not listening: connecting to its port is refused at once,
  // and nobody else can take the port while we hold it.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);

  ControlClient client;
  const Status s =
      client.connect("127.0.0.1", port, kToken, tl::proto::CLIENT_CONTROL, "unit-test", Millis(500));
  ::close(fd);
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "cannot reach mixer")) << s.error();
  EXPECT_TRUE(contains(s.error(), std::to_string(port))) << s.error();
  EXPECT_FALSE(client.connected());
}

TEST(ControlClient, ConnectNobodyAnswersEndsAtTheTimeout) {
  // A listener whose queue is full: the kernel drops the next SYN, so a connect waits as it
  // would for a host that is down, on loopback.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(c, 0);
    (void)::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // completes or waits
    fillers.push_back(c);
  }

  ControlClient client;
  const auto t0 = Clock::now();
  const Status s = client.connect("127.0.0.1", ntohs(addr.sin_port), kToken, tl::proto::CLIENT_CONTROL,
                                  "unit-test", Millis(300));
  const auto elapsed = Clock::now() - t0;
  for (const int c : fillers) ::close(c);
  ::close(fd);
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "cannot reach mixer")) << s.error();
  EXPECT_TRUE(contains(s.error(), "no answer within 300 ms")) << s.error();
  EXPECT_GE(elapsed, Millis(250)) << "waited for (about) the timeout";
  EXPECT_LT(elapsed, Millis(2000)) << "not the kernel's minutes of SYN retries";
  EXPECT_FALSE(client.connected());
}

TEST(ControlClient, SendAndCallWithoutAConnectionFail) {
  ControlClient client;
  const Status s = client.send(ping_request(1));
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.error(), "not connected")) << s.error();
  auto r = client.call(ping_request(1), Millis(100));
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error(), "not connected")) << r.error();
  client.close();  // closing twice is harmless
  client.close();
}

}  // namespace
}  // namespace tl::protocol
