#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "tl/capture/packetizer.h"
#include "tl/capture/producer.h"
#include "tl/capture/sources.h"
#include "tl/protocol/pcm.h"
#include "wav.h"

namespace tl::capture {
namespace {

using protocol::PacketHeader;
using protocol::SampleFormat;

protocol::SessionKey test_key() {
  protocol::SessionKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return k;
}

struct Decoded {
  PacketHeader h;
  std::vector<float> samples;  // interleaved as on the wire
};

Decoded decode(const Packet& p, const protocol::SessionKey& key) {
  Decoded d;
  std::span<const std::uint8_t> payload;
  const auto err = protocol::decode(p.view(), key, d.h, payload);
  EXPECT_EQ(err, protocol::DecodeError::Ok) << protocol::to_string(err);
  d.samples.resize(std::size_t{d.h.frame_count} * d.h.channel_count);
  protocol::unpack_pcm(payload, d.h.format, d.samples);
  return d;
}

TEST(Packetizer, SplitsChannelsAcrossPacketsWithOneTimestamp) {
  const std::size_t channels = 20;
  const auto key = test_key();
  Packetizer pk(channels, 48, SampleFormat::Pcm24);
  EXPECT_EQ(pk.channels_per_packet(), protocol::max_channels_per_packet(48, SampleFormat::Pcm24));
  ASSERT_EQ(pk.packets_per_block(), 3u);  // 9 + 9 + 2
  std::vector<float> planar(channels * 48);
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < 48; ++i) planar[c * 48 + i] = static_cast<float>(c * 100 + i) / 8388608.0f;
  }
  BlockInfo info;
  info.media_ts = 987654321;
  info.flags = protocol::kFlagDiscontinuity;
  const auto packets = pk.packetize(info, planar.data(), 3, key);
  ASSERT_EQ(packets.size(), 3u);
  std::size_t next_channel = 0;
  for (std::size_t p = 0; p < packets.size(); ++p) {
    const Decoded d = decode(packets[p], key);
    EXPECT_EQ(d.h.type, protocol::PacketType::Audio);
    EXPECT_EQ(d.h.node_id, 3);
    EXPECT_EQ(d.h.stream_id, 0);
    EXPECT_EQ(d.h.seq, p);
    EXPECT_EQ(d.h.media_ts, 987654321);
    EXPECT_EQ(d.h.frame_count, 48);
    EXPECT_EQ(d.h.flags, protocol::kFlagDiscontinuity);
    EXPECT_EQ(d.h.first_channel, next_channel);
    EXPECT_LE(d.h.payload_bytes, protocol::kMaxPayloadBytes);
    for (std::size_t i = 0; i < 48; ++i) {
      for (std::size_t c = 0; c < d.h.channel_count; ++c) {
        ASSERT_EQ(d.samples[i * d.h.channel_count + c], planar[(next_channel + c) * 48 + i]);
      }
    }
    next_channel += d.h.channel_count;
  }
  EXPECT_EQ(next_channel, channels);
}

TEST(Packetizer, ALargerBudgetPacksABlockIntoFewerDatagramsWithTheSameSamples) {
  // 8 channels x 128 frames of PCM24 (3,072 bytes): three datagrams on an internet-size
  // path, one where the route and the mixer take 8 kB.
  const std::size_t channels = 8;
  const auto key = test_key();
  Packetizer pk(channels, 128, SampleFormat::Pcm24);
  std::vector<float> planar(channels * 128);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> sample(-8388608, 8388607);
  for (float& v : planar) v = static_cast<float>(sample(rng)) / 8388608.0f;
  auto samples_of = [&](std::span<const Packet> packets) {
    std::vector<float> out(planar.size(), 9.0f);
    for (const Packet& p : packets) {
      const Decoded d = decode(p, key);
      EXPECT_LE(d.h.payload_bytes, pk.payload_budget());
      for (std::size_t i = 0; i < 128; ++i) {
        for (std::size_t c = 0; c < d.h.channel_count; ++c) {
          out[(d.h.first_channel + c) * 128 + i] = d.samples[i * d.h.channel_count + c];
        }
      }
    }
    return out;
  };
  BlockInfo info;
  info.media_ts = 4800;
  ASSERT_EQ(pk.packets_per_block(), 3u);
  EXPECT_EQ(samples_of(pk.packetize(info, planar.data(), 1, key)), planar);
  pk.set_payload_budget(protocol::kMaxPayloadBytes);
  ASSERT_EQ(pk.packets_per_block(), 1u);
  EXPECT_EQ(pk.channels_per_packet(), channels);
  const auto one = pk.packetize(info, planar.data(), 1, key);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].size, protocol::kHeaderBytes + 3072 + protocol::kTagBytes);
  EXPECT_EQ(samples_of(one), planar);
  // Resends from the spool follow the same budget.
  std::vector<std::uint8_t> wire(128 * channels * 3, 0x11);
  EXPECT_EQ(pk.packetize_wire(4800, 128, 0, wire, 1, key).size(), 1u);
  // A budget under the safe size is raised to it; back to three datagrams.
  pk.set_payload_budget(10);
  EXPECT_EQ(pk.payload_budget(), protocol::kSafePayloadBytes);
  EXPECT_EQ(pk.packetize(info, planar.data(), 1, key).size(), 3u);
  EXPECT_EQ(pk.packetize_wire(4800, 128, 0, wire, 1, key).size(), 3u);
}

TEST(Packetizer, SequenceIncrementsPerPacketAndWraps) {
  const auto key = test_key();
  Packetizer pk(2, 256, SampleFormat::Pcm24);  // 256 frames x 3 bytes: one channel per packet
  ASSERT_EQ(pk.packets_per_block(), 2u);
  pk.set_next_seq(0xFFFFFFFEu);
  std::vector<float> planar(2 * 256, 0.25f);
  BlockInfo info;
  std::vector<Seq> seqs;
  for (int b = 0; b < 3; ++b) {
    for (const Packet& p : pk.packetize(info, planar.data(), 1, key)) seqs.push_back(decode(p, key).h.seq);
  }
  ASSERT_EQ(seqs.size(), 6u);
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seq_diff(seqs[i], seqs[i - 1]), 1);
  EXPECT_EQ(seqs[2], 0u);
}

TEST(Packetizer, TimestampsAreContinuousFromOneOrigin) {
  const std::uint32_t rate = 48000;
  BlockQueue queue(1024, 1, 64);
  MediaStamper stamper(rate);
  ToneSource tone(440, -12, rate);
  TimerDriver driver(queue, stamper, tone, rate);
  const auto key = test_key();
  Packetizer pk(1, 64, SampleFormat::Pcm16);

  driver.produce(0);  // before sync: not stamped
  const std::int64_t offset = 5'000'000'123;
  stamper.restart(offset);
  const std::int64_t capture0 = 10'000'000;
  // Jittery capture times must not move the timestamps once the origin is set.
  for (int b = 0; b < 100; ++b) driver.produce(capture0 + frames_to_ns(64LL * b, rate) + (b % 7) * 300'000);
  stamper.restart(offset + 1'000'000'000);  // a rejoin: new origin, flagged
  driver.produce(capture0 + frames_to_ns(64LL * 100, rate));

  const BlockInfo* info = nullptr;
  const float* planar = nullptr;
  ASSERT_TRUE(queue.front(info, planar));
  EXPECT_EQ(info->epoch, 0u);
  queue.pop();
  const MediaTime s0 = ns_to_frames(capture0 + offset, rate);
  for (int b = 0; b < 100; ++b) {
    ASSERT_TRUE(queue.front(info, planar));
    const auto packets = pk.packetize(*info, planar, 9, key);
    ASSERT_EQ(packets.size(), 1u);
    const Decoded d = decode(packets[0], key);
    EXPECT_EQ(d.h.media_ts, s0 + 64 * b);
    EXPECT_EQ(d.h.flags, b == 0 ? protocol::kFlagDiscontinuity : 0);
    queue.pop();
  }
  ASSERT_TRUE(queue.front(info, planar));
  EXPECT_EQ(info->media_ts,
            ns_to_frames(capture0 + frames_to_ns(64LL * 100, rate) + offset + 1'000'000'000, rate));
  EXPECT_NE(info->flags & protocol::kFlagDiscontinuity, 0);
}

//! file -> source -> queue -> packets -> decode -> unpack must give the file's exact values.
void expect_file_round_trip_bit_exact(int subtype, int bits, int channels, std::uint16_t frames) {
  const std::uint32_t rate = 48000;
  const std::int64_t file_frames = 1000;
  std::vector<std::int32_t> samples(static_cast<std::size_t>(file_frames * channels));
  std::mt19937 rng(static_cast<unsigned>(bits * 100 + channels));
  const std::uint32_t mask = bits == 16 ? 0xFFFF0000u : 0xFFFFFF00u;
  for (auto& s : samples) s = static_cast<std::int32_t>(rng() & mask);
  samples[0] = std::numeric_limits<std::int32_t>::min();       // negative full scale
  samples[1] = static_cast<std::int32_t>(0x7FFFFFFFu & mask);  // positive full scale
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("tl_capture_exact_" + std::to_string(::getpid()) + "_" + std::to_string(bits) + ".wav"))
          .string();
  ASSERT_TRUE(test::write_wav(path, static_cast<int>(rate), channels, subtype, samples));
  const test::Audio written = test::read_audio(path);
  ASSERT_EQ(written.samples, samples) << "test file itself is exact";
  auto file = FileSource::open(path, rate, 0, false);
  std::filesystem::remove(path);
  ASSERT_TRUE(file) << file.error();
  ASSERT_EQ((*file)->channels(), channels);

  BlockQueue queue(64, static_cast<std::size_t>(channels), frames);
  MediaStamper stamper(rate);
  stamper.restart(0);
  TimerDriver driver(queue, stamper, **file, rate);
  const auto key = test_key();
  Packetizer pk(static_cast<std::size_t>(channels), frames, SampleFormat::Pcm24);
  EXPECT_GT(pk.packets_per_block(), 1u) << "the test must exercise channel splitting";

  std::vector<std::int32_t> received(samples.size() + static_cast<std::size_t>(frames * channels), 0);
  const int blocks = static_cast<int>((file_frames + frames - 1) / frames);
  MediaTime ts0 = -1;
  for (int b = 0; b < blocks; ++b) {
    driver.produce(frames_to_ns(std::int64_t{frames} * b, rate));
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    ASSERT_TRUE(queue.front(info, planar));
    for (const Packet& p : pk.packetize(*info, planar, 1, key)) {
      const Decoded d = decode(p, key);
      if (ts0 < 0) ts0 = d.h.media_ts;
      const std::int64_t frame0 = d.h.media_ts - ts0;
      for (std::size_t i = 0; i < d.h.frame_count; ++i) {
        for (std::size_t c = 0; c < d.h.channel_count; ++c) {
          const float v = d.samples[i * d.h.channel_count + c];
          // Back to left-justified 32-bit: exact when the float is an exact 24-bit value.
          const auto v24 = static_cast<std::int32_t>(v * 8388608.0f);
          ASSERT_EQ(static_cast<float>(v24), v * 8388608.0f) << "not an integer 24-bit value";
          received[static_cast<std::size_t>((frame0 + static_cast<std::int64_t>(i)) * channels) +
                   d.h.first_channel + c] = static_cast<std::int32_t>(static_cast<std::uint32_t>(v24) << 8);
        }
      }
    }
    queue.pop();
  }
  received.resize(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    ASSERT_EQ(received[i], samples[i])
        << "sample " << i << " (frame " << i / static_cast<std::size_t>(channels) << ", channel "
        << i % static_cast<std::size_t>(channels) << ")";
  }
}

TEST(FileToPackets, SixteenBitFileArrivesBitExactAcrossSplitChannels) {
  expect_file_round_trip_bit_exact(SF_FORMAT_PCM_16, 16, 12, 48);  // 9 + 3 channels per block
}

TEST(FileToPackets, TwentyFourBitFileArrivesBitExactAcrossSplitChannels) {
  expect_file_round_trip_bit_exact(SF_FORMAT_PCM_24, 24, 12, 48);
  expect_file_round_trip_bit_exact(SF_FORMAT_PCM_24, 24, 3, 256);  // one channel per packet
}

}  // namespace
}  // namespace tl::capture
