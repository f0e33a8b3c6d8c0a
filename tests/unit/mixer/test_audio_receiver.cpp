#include <gtest/gtest.h>
#include <opus.h>

#include <vector>

#include "tl/mixer/audio_receiver.h"
#include "tl/protocol/nack.h"
#include "tl/protocol/opus_payload.h"
#include "tl/protocol/pcm.h"

namespace tl::mixer {
namespace {

struct Rig {
  asio::io_context io;
  NodeRegistry registry{
      RegistryConfig{.sample_rate = 48000, .jitter_capacity_frames = 4096, .mix_queue_packets = 64}};
  SessionClock clock{48000};
  PacketRing to_recorder{packet_ring_bytes(64)};
  AudioReceiver receiver{io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0), registry, clock,
                         to_recorder};
  asio::ip::udp::endpoint sender{asio::ip::make_address("127.0.0.1"), 9};
  protocol::SessionKey key{};
  NodeSlot* node = nullptr;

  Rig() {
    key.fill(7);
    proto::RegisterNode r;
    r.set_name("room-a");
    r.set_channels(2);
    r.set_sample_rate(48000);
    r.set_frames_per_packet(48);
    node = registry.register_node(r, key).value();
  }

  std::vector<std::uint8_t> packet(std::uint8_t first, std::uint8_t count, const protocol::SessionKey& k,
                                   std::uint16_t node_id = 1, Seq seq = 0) {
    std::vector<std::uint8_t> payload(48u * count * 3u);
    protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                             .node_id = node_id,
                             .seq = seq,
                             .media_ts = 4800,
                             .frame_count = 48,
                             .channel_count = count,
                             .first_channel = first,
                             .format = protocol::SampleFormat::Pcm24};
    std::vector<std::uint8_t> out(protocol::kMaxPacketBytes);
    out.resize(protocol::encode(h, payload, k, out));
    return out;
  }
  void feed(const std::vector<std::uint8_t>& d) { receiver.handle(d, sender); }
  std::uint64_t rejected(protocol::DecodeError e) const {
    return receiver.counters().rejected[static_cast<std::size_t>(e)];
  }
};

TEST(AudioReceiver, GoodPacketReachesMixAndRecorderQueues) {
  Rig rig;
  rig.feed(rig.packet(0, 2, rig.key));
  EXPECT_EQ(rig.node->packets, 1u);
  EXPECT_EQ(rig.node->to_mix->size(), 1u);
  EXPECT_EQ(rig.to_recorder.size(), 1u);
  EXPECT_EQ(rig.receiver.counters().total_rejected(), 0u);
}

TEST(AudioReceiver, MalformedPacketsAreCountedByReasonAndGoNowhere) {
  Rig rig;
  auto good = rig.packet(0, 2, rig.key);
  rig.feed({});
  rig.feed(std::vector<std::uint8_t>(good.begin(), good.begin() + 20));
  auto bad_magic = good;
  bad_magic[0] ^= 0xFF;
  rig.feed(bad_magic);
  auto bad_version = good;
  bad_version[4] = 9;
  rig.feed(bad_version);
  auto truncated = good;
  truncated.pop_back();
  rig.feed(truncated);
  EXPECT_EQ(rig.rejected(protocol::DecodeError::TooShort), 2u);
  EXPECT_EQ(rig.rejected(protocol::DecodeError::BadMagic), 1u);
  EXPECT_EQ(rig.rejected(protocol::DecodeError::BadVersion), 1u);
  EXPECT_EQ(rig.rejected(protocol::DecodeError::BadLength), 1u);
  EXPECT_EQ(rig.node->to_mix->size(), 0u);
  EXPECT_EQ(rig.to_recorder.size(), 0u);
}

TEST(AudioReceiver, WrongKeyUnknownNodeAndChannelOutOfRangeAreRefused) {
  Rig rig;
  protocol::SessionKey wrong{};
  wrong.fill(8);
  rig.feed(rig.packet(0, 2, wrong));
  EXPECT_EQ(rig.rejected(protocol::DecodeError::BadTag), 1u);
  rig.feed(rig.packet(0, 2, rig.key, 42));
  EXPECT_EQ(rig.receiver.counters().unknown_node, 1u);
  rig.feed(rig.packet(1, 2, rig.key));  // channels 1..2 of a 2-channel node
  EXPECT_EQ(rig.receiver.counters().bad_channel, 1u);
  EXPECT_EQ(rig.node->bad, 2u);
  EXPECT_EQ(rig.node->to_mix->size(), 0u);
}

TEST(AudioReceiver, LossIsCountedFromSequenceGapsAcrossWrap) {
  Rig rig;
  rig.feed(rig.packet(0, 2, rig.key, 1, 0xFFFFFFFEu));
  rig.feed(rig.packet(0, 2, rig.key, 1, 0xFFFFFFFFu));
  rig.feed(rig.packet(0, 2, rig.key, 1, 2u));  // 0 and 1 lost
  const std::uint64_t expected =
      static_cast<std::uint32_t>(rig.node->highest_seq - rig.node->first_seq) + 1ull;
  EXPECT_EQ(expected - rig.node->seq_received, 2u);
}

}  // namespace
}  // namespace tl::mixer

namespace tl::mixer {
namespace {

TEST(AudioReceiverNack, ASequenceGapAsksTheSenderForTheMissingAudio) {
  Rig rig;
  asio::ip::udp::socket node(rig.io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto node_ep = node.local_endpoint();
  auto at = [&](Seq seq, MediaTime ts) {
    std::vector<std::uint8_t> payload(48u * 2u * 3u);
    protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                             .node_id = 1,
                             .seq = seq,
                             .media_ts = ts,
                             .frame_count = 48,
                             .channel_count = 2,
                             .format = protocol::SampleFormat::Pcm24};
    std::vector<std::uint8_t> out(protocol::kMaxPacketBytes);
    out.resize(protocol::encode(h, payload, rig.key, out));
    rig.receiver.handle(out, node_ep);
  };
  at(10, 4800);
  at(11, 4848);
  at(14, 4992);  // 12 and 13 (4896..4992) were lost
  EXPECT_EQ(rig.node->nacks_sent, 1u);
  at(12, 4896);  // a late arrival fills the gap: no new request
  EXPECT_EQ(rig.node->nacks_sent, 1u);

  std::array<std::uint8_t, protocol::kMaxPacketBytes> buf{};
  node.non_blocking(false);
  const std::size_t n = node.receive(asio::buffer(buf));
  protocol::PacketHeader h;
  std::span<const std::uint8_t> payload;
  ASSERT_EQ(protocol::decode(std::span<const std::uint8_t>(buf.data(), n), rig.key, h, payload),
            protocol::DecodeError::Ok);
  EXPECT_EQ(h.type, protocol::PacketType::Nack);
  std::array<protocol::NackRange, protocol::kMaxNackRanges> ranges{};
  ASSERT_EQ(protocol::parse_nack(payload, ranges), 1u);
  EXPECT_EQ(ranges[0].from, 4896);
  EXPECT_EQ(ranges[0].frames, 96u);
}

TEST(AudioReceiverNack, RetransmittedAudioIsQueuedButNotCountedAsTheLiveSequence) {
  Rig rig;
  std::vector<std::uint8_t> payload(48u * 2u * 3u);
  protocol::PacketHeader h{.type = protocol::PacketType::Retransmit,
                           .flags = protocol::kFlagRetransmit,
                           .node_id = 1,
                           .seq = 0,
                           .media_ts = 4800,
                           .frame_count = 48,
                           .channel_count = 2,
                           .format = protocol::SampleFormat::Pcm24};
  std::vector<std::uint8_t> out(protocol::kMaxPacketBytes);
  out.resize(protocol::encode(h, payload, rig.key, out));
  rig.feed(out);
  EXPECT_EQ(rig.node->retransmits, 1u);
  EXPECT_EQ(rig.node->packets, 0u);
  EXPECT_EQ(rig.to_recorder.size(), 1u) << "the recorder gets it";
}

//! An Opus frame of silence for one mono channel (what opus_encode makes of it).
std::vector<std::uint8_t> opus_packet(const protocol::SessionKey& key, std::uint16_t node_id, Seq seq,
                                      MediaTime at, std::uint16_t frames) {
  int err = 0;
  OpusEncoder* enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &err);
  std::vector<float> pcm(frames, 0.0f);
  std::vector<std::uint8_t> frame(400), payload(402);
  const int n = opus_encode_float(enc, pcm.data(), frames, frame.data(), 400);
  opus_encoder_destroy(enc);
  payload.resize(protocol::append_opus_frame(payload, 0, {frame.data(), static_cast<std::size_t>(n)}));
  protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                           .node_id = node_id,
                           .seq = seq,
                           .media_ts = at,
                           .frame_count = frames,
                           .channel_count = 1,
                           .first_channel = 0,
                           .format = protocol::SampleFormat::Opus};
  std::vector<std::uint8_t> out(protocol::kMaxPacketBytes);
  out.resize(protocol::encode(h, payload, key, out));
  return out;
}

TEST(AudioReceiverOpus, AnOpusNodesPacketsReachTheQueuesDecodedAndFlaggedLossy) {
  Rig rig;
  proto::RegisterNode r;
  r.set_name("far");
  r.set_channels(1);
  r.set_sample_rate(48000);
  r.set_frames_per_packet(480);
  r.set_format(proto::FORMAT_OPUS);
  NodeSlot* far = rig.registry.register_node(r, rig.key).value();
  ASSERT_NE(far->opus, nullptr);
  // Far ahead of the play-out: nothing is due, so a gap waits.
  const MediaTime at = rig.clock.now_samples() + 48000;
  rig.feed(opus_packet(rig.key, far->id, 0, at, 480));
  rig.feed(opus_packet(rig.key, far->id, 2, at + 960, 480));  // seq 1 is missing
  EXPECT_EQ(far->nacks_sent, 0u) << "an Opus node is not asked to resend: its recording comes from its spool";
  // 480 frames of F32 (1,920 bytes): as many datagrams as the largest payload needs, each
  // flagged lossy.
  const std::size_t datagrams = (480 * 4 + protocol::kMaxPayloadBytes - 1) / protocol::kMaxPayloadBytes;
  ASSERT_EQ(far->to_mix->size(), datagrams);
  ASSERT_EQ(rig.to_recorder.size(), datagrams);
  MediaTime next = at;
  while (const PacketSlot* p = rig.to_recorder.front()) {
    protocol::PacketHeader h;
    std::span<const std::uint8_t> payload;
    ASSERT_EQ(protocol::parse(p->datagram(), h, payload), protocol::DecodeError::Ok);
    EXPECT_EQ(h.format, protocol::SampleFormat::F32);
    EXPECT_NE(h.flags & protocol::kFlagLossy, 0);
    EXPECT_EQ(h.media_ts, next);
    next += h.frame_count;
    rig.to_recorder.pop();
  }
  EXPECT_EQ(next, at + 480);
  EXPECT_EQ(far->opus->counters().held_packets, 1u);
  EXPECT_EQ(rig.receiver.counters().total_rejected(), 0u);
  // A malformed Opus payload, and Opus from a node registered for PCM, are refused.
  auto broken = opus_packet(rig.key, far->id, 3, at + 1440, 480);
  broken[protocol::kHeaderBytes] = 0x7F;  // a frame length past the payload
  protocol::PacketHeader h;
  std::span<const std::uint8_t> payload;
  ASSERT_EQ(protocol::parse(broken, h, payload), protocol::DecodeError::Ok);
  std::vector<std::uint8_t> resigned(protocol::kMaxPacketBytes);
  resigned.resize(protocol::encode(h, payload, rig.key, resigned));
  rig.feed(resigned);
  EXPECT_EQ(rig.receiver.counters().bad_opus, 1u);
  rig.feed(opus_packet(rig.key, rig.node->id, 0, at, 480));
  EXPECT_EQ(rig.rejected(protocol::DecodeError::BadFormat), 1u);
  EXPECT_EQ(rig.node->to_mix->size(), 0u);
}

}  // namespace
}  // namespace tl::mixer
