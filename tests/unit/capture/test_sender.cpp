// The sender against a fake mixer on 127.0.0.1: clock sync, streaming, rejoin.
#include <gtest/gtest.h>
#include <poll.h>

#include <asio.hpp>

#include "tl/capture/producer.h"
#include "tl/capture/sender.h"
#include "tl/common/clock.h"
#include "tl/protocol/nack.h"
#include "tl/protocol/sync.h"

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <thread>

namespace tl::capture {
namespace {

constexpr std::int64_t kOffset = 7'000'000'000;  // fake session clock = node clock + 7 s
constexpr std::uint32_t kRate = 48000;

protocol::SessionKey key_for(std::uint8_t seed) {
  protocol::SessionKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed + i);
  return k;
}

//! Answers sync requests and collects audio headers, like the mixer's receiver.
class FakeMixer {
 public:
  FakeMixer() : socket_(io_, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  void set_key(const protocol::SessionKey& key) { key_ = key; }

  //! Handles datagrams for up to timeout_ms; returns after the first batch.
  void pump(int timeout_ms) {
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return;
    std::array<std::uint8_t, 2048> buf{};
    asio::ip::udp::endpoint from;
    socket_.non_blocking(true);
    for (;;) {
      std::error_code ec;
      const std::size_t n = socket_.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) return;
      const std::int64_t arrival = monotonic_ns() + kOffset;
      protocol::PacketHeader h;
      std::span<const std::uint8_t> payload;
      if (protocol::decode({buf.data(), n}, key_, h, payload) != protocol::DecodeError::Ok) {
        ++bad;
        continue;
      }
      if (h.type == protocol::PacketType::SyncRequest) {
        ++sync_requests;
        const auto t1 = protocol::parse_sync_request(payload);
        ASSERT_TRUE(t1);
        std::array<std::uint8_t, protocol::kMaxPacketBytes> reply{};
        const std::size_t m = protocol::encode_sync_reply(h.node_id, h.seq, *t1, arrival,
                                                          monotonic_ns() + kOffset, key_, reply);
        socket_.send_to(asio::buffer(reply.data(), m), from, 0, ec);
      } else if (h.type == protocol::PacketType::Audio) {
        audio.push_back(h);
        payloads.emplace_back(payload.begin(), payload.end());
        arrival_session_ns.push_back(arrival);
      } else if (h.type == protocol::PacketType::Retransmit) {
        resent.push_back(h);
        resent_payloads.emplace_back(payload.begin(), payload.end());
      }
      node_ = from;
    }
  }

  //! Asks the node (where its audio came from) to resend a range, as the mixer does.
  void send_nack(std::uint16_t node_id, protocol::NackRange range) {
    std::array<std::uint8_t, protocol::kMaxPacketBytes> out{};
    const std::size_t n = protocol::encode_nack(node_id, 0, std::span(&range, 1), key_, out);
    std::error_code ec;
    socket_.send_to(asio::buffer(out.data(), n), node_, 0, ec);
  }

  std::vector<protocol::PacketHeader> audio;
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<protocol::PacketHeader> resent;
  std::vector<std::vector<std::uint8_t>> resent_payloads;
  std::vector<std::int64_t> arrival_session_ns;
  int sync_requests = 0;
  int bad = 0;

 private:
  asio::io_context io_;
  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint node_;
  protocol::SessionKey key_{};
};

//! Produces blocks (this thread is the only producer) and pumps the fake mixer until done() or timeout.
template <typename Done>
bool run_until(FakeMixer& mixer, TimerDriver& driver, std::int64_t& next_block, Done done) {
  const std::int64_t give_up = monotonic_ns() + 10'000'000'000;
  while (monotonic_ns() < give_up) {
    if (done()) return true;
    const std::int64_t now = monotonic_ns();
    while (next_block + frames_to_ns(48, kRate) <= now) {  // keep real time, like the timer thread
      driver.produce(next_block);
      next_block += frames_to_ns(48, kRate);
    }
    mixer.pump(1);
  }
  return done();
}

TEST(Sender, SyncsThenStreamsContinuousTimestampsAndRejoinsWithADiscontinuity) {
  FakeMixer mixer;
  mixer.set_key(key_for(1));
  BlockQueue queue(256, 2, 48);
  MediaStamper stamper(kRate);
  ToneSource tone(440, -12, kRate);
  TimerDriver driver(queue, stamper, tone, kRate);
  Sender sender(queue, stamper, Sender::Config{.rate = kRate, .frames = 48, .channels = 2});
  sender.start();
  Registration reg{.node_id = 5, .key = key_for(1), .host = "127.0.0.1", .audio_port = mixer.port()};
  sender.connect(reg);
  std::int64_t next_block = monotonic_ns();

  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return mixer.audio.size() >= 200; }));
  EXPECT_GE(mixer.sync_requests, 4) << "a first estimate from a few exchanges 100 ms apart";
  EXPECT_EQ(mixer.bad, 0);
  const Sender::Stats s = sender.stats();
  EXPECT_NE(s.state, Sender::SyncState::Idle);
  EXPECT_GE(s.exchanges, 4u);
  EXPECT_NEAR(static_cast<double>(s.offset_ns), static_cast<double>(kOffset), 5e6);
  const auto& first = mixer.audio.front();
  EXPECT_NE(first.flags & protocol::kFlagDiscontinuity, 0);
  // The first frame's session position is where it was captured, not where it arrived.
  const MediaTime arrival_frames = ns_to_frames(mixer.arrival_session_ns.front(), kRate);
  EXPECT_LE(first.media_ts, arrival_frames);
  EXPECT_GT(first.media_ts, arrival_frames - kRate / 2);
  for (std::size_t i = 1; i < mixer.audio.size(); ++i) {
    ASSERT_EQ(seq_diff(mixer.audio[i].seq, mixer.audio[i - 1].seq), 1) << i;
    ASSERT_EQ(mixer.audio[i].media_ts, first.media_ts + 48 * static_cast<std::int64_t>(i)) << i;
    ASSERT_EQ(mixer.audio[i].flags & protocol::kFlagDiscontinuity, 0) << i;
    ASSERT_EQ(mixer.audio[i].node_id, 5);
  }

  // The control connection drops: nothing is sent, produced frames are counted as dropped.
  sender.disconnect();
  const std::size_t before_outage = mixer.audio.size();
  const Seq last_seq = mixer.audio.back().seq;
  const std::uint64_t dropped_before = sender.stats().frames_dropped;
  ASSERT_TRUE(run_until(mixer, driver, next_block,
                        [&] { return sender.stats().frames_dropped >= dropped_before + 480; }));
  mixer.pump(5);
  const std::size_t after_outage = mixer.audio.size();
  EXPECT_LE(after_outage - before_outage, 2u) << "at most what was in flight";

  // Rejoin with a new key: a new timeline, flagged, and the sequence carries on.
  mixer.set_key(key_for(2));
  reg.key = key_for(2);
  sender.connect(reg);
  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return mixer.audio.size() >= after_outage + 50; }));
  const auto& resumed = mixer.audio[after_outage];
  EXPECT_NE(resumed.flags & protocol::kFlagDiscontinuity, 0);
  EXPECT_GT(seq_diff(resumed.seq, last_seq), 0);
  EXPECT_GT(resumed.media_ts, mixer.audio[before_outage - 1].media_ts + 480);
  for (std::size_t i = after_outage + 1; i < mixer.audio.size(); ++i) {
    ASSERT_EQ(mixer.audio[i].media_ts, resumed.media_ts + 48 * static_cast<std::int64_t>(i - after_outage))
        << i;
  }
  sender.stop();
}

TEST(Sender, StopsAfterTheRequestedAmountOfAudio) {
  FakeMixer mixer;
  mixer.set_key(key_for(3));
  BlockQueue queue(256, 1, 48);
  MediaStamper stamper(kRate);
  NoiseSource noise(-20, 1);
  TimerDriver driver(queue, stamper, noise, kRate);
  Sender sender(queue, stamper,
                Sender::Config{.rate = kRate, .frames = 48, .channels = 1, .stop_after_frames = 4800});
  sender.start();
  sender.connect({.node_id = 2, .key = key_for(3), .host = "127.0.0.1", .audio_port = mixer.port()});
  std::int64_t next_block = monotonic_ns();
  ASSERT_TRUE(
      run_until(mixer, driver, next_block, [&] { return sender.finished() && mixer.audio.size() >= 100; }));
  for (int i = 0; i < 20; ++i) mixer.pump(1);
  EXPECT_EQ(mixer.audio.size(), 100u);
  EXPECT_EQ(sender.stats().frames_sent, 4800u);
  sender.stop();
}

// A node too busy to send in time: the blocks captured while its sender could not run
// leave late, and the node says how late and which block (the mixer shows it beside a
// concealment, so the operator knows the time was lost at the node).
TEST(Sender, SaysHowLongItHeldABlockAfterCapturingIt) {
  FakeMixer mixer;
  mixer.set_key(key_for(5));
  BlockQueue queue(256, 1, 48);
  MediaStamper stamper(kRate);
  NoiseSource noise(-20, 1);
  TimerDriver driver(queue, stamper, noise, kRate);
  Sender sender(queue, stamper, Sender::Config{.rate = kRate, .frames = 48, .channels = 1});
  sender.start();
  sender.connect({.node_id = 4, .key = key_for(5), .host = "127.0.0.1", .audio_port = mixer.port()});
  std::int64_t next_block = monotonic_ns();
  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return mixer.audio.size() >= 50; }));
  // 200 ms in which the node's blocks are captured but nothing runs to send them: they
  // are queued together afterwards, the first of them 200 ms after its capture.
  const std::size_t sent_before = mixer.audio.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return mixer.audio.size() >= sent_before + 100; }));
  const Sender::Stats st = sender.stats();
  EXPECT_GE(st.held_max_ns, 195'000'000);
  EXPECT_LT(st.held_max_ns, 5'000'000'000);
  // The block it names is the first one captured in the stall: after the last one the
  // fake mixer had when the stall began (a few more may have been on their way then).
  const MediaTime last_before = mixer.audio[sent_before - 1].media_ts;
  EXPECT_GT(st.held_max_at, last_before);
  EXPECT_LE(st.held_max_at, last_before + 5 * 48);
  // The stall is the latest spell of long holds, one spell for all its blocks.
  ASSERT_GE(st.long_hold_count, 1u);
  const Sender::Stats::Hold& spell = st.long_holds[st.long_hold_count - 1];
  EXPECT_EQ(spell.at, st.held_max_at);
  EXPECT_EQ(spell.held_ns, st.held_max_ns);
  sender.stop();
}

TEST(Sender, AudioToSendsAudioAndSyncThereAndAcceptsItsReplies) {
  FakeMixer proxy;  // stands in for tl-netem: replies come from the address the node sends to
  proxy.set_key(key_for(4));
  BlockQueue queue(256, 1, 48);
  MediaStamper stamper(kRate);
  ToneSource tone(440, -12, kRate);
  TimerDriver driver(queue, stamper, tone, kRate);
  Sender sender(queue, stamper,
                Sender::Config{.rate = kRate,
                               .frames = 48,
                               .channels = 1,
                               .audio_to_host = "127.0.0.1",
                               .audio_to_port = proxy.port()});
  sender.start();
  // The advertised audio port is wrong on purpose: nothing may go there.
  sender.connect({.node_id = 3, .key = key_for(4), .host = "127.0.0.1", .audio_port = 9});
  std::int64_t next_block = monotonic_ns();
  ASSERT_TRUE(run_until(proxy, driver, next_block, [&] { return proxy.audio.size() >= 50; }));
  EXPECT_GE(proxy.sync_requests, 4);
  EXPECT_GE(sender.stats().exchanges, 4u);
  sender.stop();
}

TEST(Sender, SimulatedClockIsWhatTheEstimatorMeasures) {
  FakeMixer mixer;
  mixer.set_key(key_for(5));
  BlockQueue queue(256, 1, 48);
  MediaStamper stamper(kRate);
  ToneSource tone(440, -12, kRate);
  const SimClock clock(-1'300'000'000, 300.0, monotonic_ns());
  TimerDriver driver(queue, stamper, tone, kRate, clock);
  Sender sender(queue, stamper, Sender::Config{.rate = kRate, .frames = 48, .channels = 1}, clock);
  sender.start();
  sender.connect({.node_id = 4, .key = key_for(5), .host = "127.0.0.1", .audio_port = mixer.port()});
  std::int64_t next_block = clock.now();
  const auto locked = [&] { return sender.stats().state == Sender::SyncState::Locked; };
  ASSERT_TRUE(run_until(mixer, driver, next_block, locked));
  // Keep going so the skew has a few seconds of baseline: the error of a fitted slope falls
  // with its baseline, and a busy sanitizer run once gave 279 ppm after 1.5 s more.
  const std::int64_t until = monotonic_ns() + 3'500'000'000;
  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return monotonic_ns() >= until; }));
  const Sender::Stats s = sender.stats();
  EXPECT_NEAR(s.drift_ppm, 300.0, 20.0);
  // session = real + kOffset; node = real + 300 ppm of elapsed - 1.3 s: offset ~ kOffset + 1.3 s.
  EXPECT_NEAR(static_cast<double>(s.offset_ns), static_cast<double>(kOffset + 1'300'000'000), 2e6);
  sender.stop();
}

TEST(Sender, SpoolsWhatItSendsAndAnswersANackWithTheSameAudio) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tl_sender_spool_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  FakeMixer mixer;
  mixer.set_key(key_for(6));
  // Enough channels at 48 frames of PCM24 that a block is split over two packets.
  const std::size_t channels = 12;
  BlockQueue queue(256, channels, 48);
  MediaStamper stamper(kRate);
  NoiseSource noise(-6, 3);
  TimerDriver driver(queue, stamper, noise, kRate);
  Sender sender(queue, stamper, Sender::Config{.rate = kRate, .frames = 48, .channels = channels});
  auto spool = Spool::open(SpoolConfig{.dir = dir, .channels = channels, .sample_rate = kRate});
  ASSERT_TRUE(spool) << spool.error();
  sender.attach_spool(std::move(spool.value()));
  sender.start();
  sender.connect({.node_id = 7, .key = key_for(6), .host = "127.0.0.1", .audio_port = mixer.port()});
  std::int64_t next_block = monotonic_ns();
  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return mixer.audio.size() >= 100; }));
  ASSERT_GT(mixer.audio[0].channel_count, 0);
  ASSERT_LT(mixer.audio[0].channel_count, channels) << "the block is split across packets";

  // "Lost": the blocks of packets 20 and 21 (same media time when split) and the next block.
  const MediaTime from = mixer.audio[20].media_ts;
  mixer.send_nack(7, {.from = from, .frames = 96});
  ASSERT_TRUE(run_until(mixer, driver, next_block, [&] { return mixer.resent.size() >= 4; }));
  EXPECT_EQ(sender.spool_stats().nacks, 1u);
  EXPECT_EQ(sender.spool_stats().nack_frames_missing, 0u);
  for (std::size_t r = 0; r < mixer.resent.size(); ++r) {
    const protocol::PacketHeader& h = mixer.resent[r];
    EXPECT_NE(h.flags & protocol::kFlagRetransmit, 0);
    EXPECT_EQ(h.flags & protocol::kFlagDiscontinuity, 0);
    // The resent packet carries exactly what the live packet of that media time and channels carried.
    bool matched = false;
    for (std::size_t a = 0; a < mixer.audio.size(); ++a) {
      const protocol::PacketHeader& live = mixer.audio[a];
      if (live.media_ts == h.media_ts && live.first_channel == h.first_channel) {
        EXPECT_EQ(live.channel_count, h.channel_count);
        EXPECT_EQ(mixer.payloads[a], mixer.resent_payloads[r]) << "resent audio differs at " << h.media_ts;
        matched = true;
      }
    }
    EXPECT_TRUE(matched) << h.media_ts;
    EXPECT_GE(h.media_ts, from);
    EXPECT_LT(h.media_ts, from + 96);
  }
  // Out of the spool, a range never captured reads as not there.
  std::vector<std::uint8_t> wire(48 * channels * 3), have(48);
  EXPECT_EQ(sender.read_spool(from - 10 * kRate, 48, wire, have), 0u);
  EXPECT_EQ(sender.read_spool(from, 48, wire, have), 48u);
  sender.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tl::capture
