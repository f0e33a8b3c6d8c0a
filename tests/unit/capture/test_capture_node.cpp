// run_capture_node against a fake mixer on 127.0.0.1: registration, refusal, rejoin.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <asio.hpp>
#include <future>
#include <thread>

#include "tl/capture/capture_node.h"
#include "tl/common/clock.h"
#include "tl/protocol/auth.h"
#include "tl/protocol/framing.h"
#include "tl/protocol/sync.h"

namespace tl::capture {
namespace {

constexpr char kToken[] = "unit-token";

//! One control connection at a time, speaking just enough of the mixer's side.
class FakeControl {
 public:
  FakeControl()
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        udp_(io_, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    udp_.non_blocking(true);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  //! Accepts, authenticates and answers RegisterNode; reject != "" answers an ErrorReply.
  bool accept_and_register(const std::string& reject, tl::proto::RegisterNode* seen) {
    pollfd pfd{acceptor_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, 10'000) <= 0) return false;  // the node never connected
    socket_ = std::make_unique<asio::ip::tcp::socket>(io_);
    acceptor_.accept(*socket_);
    decoder_ = protocol::FrameDecoder{};
    tl::proto::Envelope challenge;
    const std::string nonce = protocol::make_nonce();
    challenge.mutable_challenge()->set_nonce(nonce);
    write(challenge);
    tl::proto::Envelope env;
    if (!read(env) || !env.has_auth_response()) return false;
    if (!protocol::verify_mac(kToken, nonce, env.auth_response().mac())) return false;
    tl::proto::Envelope ok;
    ok.mutable_auth_result()->set_ok(true);
    write(ok);
    if (!read(env) || !env.has_register_node()) return false;
    if (seen) *seen = env.register_node();
    tl::proto::Envelope reply;
    reply.set_request_id(env.request_id());
    if (!reject.empty()) {
      reply.mutable_error()->set_message(reject);
    } else {
      key_ = protocol::make_session_key();
      auto* rr = reply.mutable_register_reply();
      rr->set_node_id(4);
      rr->set_session_key(std::string(key_.begin(), key_.end()));
      rr->set_sample_rate(48000);
      rr->set_audio_port(udp_.local_endpoint().port());
    }
    write(reply);
    return true;
  }

  void close_control() {
    std::error_code ec;
    socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_->close(ec);
  }

  //! Answers sync, collects audio, until done() or 10 s.
  template <typename Done>
  bool pump_udp(Done done) {
    const std::int64_t give_up = monotonic_ns() + 10'000'000'000;
    while (monotonic_ns() < give_up && !done()) {
      pollfd pfd{udp_.native_handle(), POLLIN, 0};
      if (::poll(&pfd, 1, 5) <= 0) continue;
      std::array<std::uint8_t, 2048> buf{};
      asio::ip::udp::endpoint from;
      std::error_code ec;
      const std::size_t n = udp_.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) continue;
      protocol::PacketHeader h;
      std::span<const std::uint8_t> payload;
      if (protocol::decode({buf.data(), n}, key_, h, payload) != protocol::DecodeError::Ok) continue;
      if (h.type == protocol::PacketType::SyncRequest) {
        std::array<std::uint8_t, 128> reply{};
        const std::int64_t now = monotonic_ns();
        const std::size_t m = protocol::encode_sync_reply(
            h.node_id, h.seq, *protocol::parse_sync_request(payload), now, now, key_, reply);
        udp_.send_to(asio::buffer(reply.data(), m), from, 0, ec);
      } else if (h.type == protocol::PacketType::Audio) {
        audio.push_back(h);
      }
    }
    return done();
  }

  std::vector<protocol::PacketHeader> audio;

 private:
  void write(const tl::proto::Envelope& env) {
    asio::write(*socket_, asio::buffer(protocol::encode_frame(env)));
  }
  bool read(tl::proto::Envelope& env) {
    for (;;) {
      switch (decoder_.next(env)) {
        case protocol::FrameDecoder::Result::Message:
          return true;
        case protocol::FrameDecoder::Result::Error:
          return false;
        case protocol::FrameDecoder::Result::NeedMore:
          break;
      }
      char buf[4096];
      std::error_code ec;
      const std::size_t n = socket_->read_some(asio::buffer(buf), ec);
      if (ec) return false;
      decoder_.feed(buf, n);
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::udp::socket udp_;
  std::unique_ptr<asio::ip::tcp::socket> socket_;
  protocol::FrameDecoder decoder_;
  protocol::SessionKey key_{};
};

CaptureOptions options_for(std::uint16_t port) {
  RawOptions raw;
  raw.mixer = "127.0.0.1:" + std::to_string(port);
  raw.name = "unit-node";
  raw.source = "tone:440";
  raw.channels = 3;
  raw.channels_given = true;
  // A spool of this test process's own (tests run in parallel).
  raw.spool_dir = testing::TempDir() + "tl_unit_node_spool_" + std::to_string(::getpid());
  auto o = validate(raw);
  EXPECT_TRUE(o) << o.error();
  return *o;
}

TEST(CaptureNode, ExitsOneWhenTheMixerRefusesRegistration) {
  protocol::init_crypto();
  FakeControl mixer;
  std::atomic<bool> stop{false};
  auto node = std::async(std::launch::async,
                         [&] { return run_capture_node(options_for(mixer.port()), kToken, stop); });
  ASSERT_TRUE(mixer.accept_and_register("node runs at 44100 Hz but the session runs at 48000 Hz", nullptr));
  ASSERT_EQ(node.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(node.get(), 1);
}

TEST(CaptureNode, RegistersStreamsAndRejoinsAfterTheControlConnectionDrops) {
  protocol::init_crypto();
  FakeControl mixer;
  std::atomic<bool> stop{false};
  auto node = std::async(std::launch::async,
                         [&] { return run_capture_node(options_for(mixer.port()), kToken, stop); });
  tl::proto::RegisterNode reg;
  ASSERT_TRUE(mixer.accept_and_register("", &reg));
  EXPECT_EQ(reg.name(), "unit-node");
  EXPECT_EQ(reg.channels(), 3u);
  EXPECT_EQ(reg.sample_rate(), 48000u);
  EXPECT_EQ(reg.frames_per_packet(), 48u);
  EXPECT_EQ(reg.format(), tl::proto::FORMAT_PCM24);
  EXPECT_EQ(reg.source(), "tone:440");
  EXPECT_EQ(reg.pid(), static_cast<std::uint64_t>(::getpid()));

  ASSERT_TRUE(mixer.pump_udp([&] { return mixer.audio.size() >= 100; }));
  EXPECT_NE(mixer.audio.front().flags & protocol::kFlagDiscontinuity, 0);
  EXPECT_EQ(mixer.audio.front().node_id, 4);
  EXPECT_EQ(mixer.audio.front().channel_count, 3);

  mixer.close_control();
  // The node comes back within about a second, with a new key and a new timeline.
  ASSERT_TRUE(mixer.accept_and_register("", nullptr));
  const std::size_t before = mixer.audio.size();
  ASSERT_TRUE(mixer.pump_udp([&] {
    for (std::size_t i = before; i < mixer.audio.size(); ++i) {
      if (mixer.audio[i].flags & protocol::kFlagDiscontinuity) return true;
    }
    return false;
  }));
  stop = true;
  ASSERT_EQ(node.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(node.get(), 0);
}

}  // namespace
}  // namespace tl::capture
