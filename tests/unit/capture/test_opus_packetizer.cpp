#include "tl/capture/opus_packetizer.h"

#include <gtest/gtest.h>
#include <opus.h>

#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "tl/protocol/opus_payload.h"

namespace tl::capture {
namespace {

TEST(OpusPacketizer, ChannelsShareAuthenticatedPacketsAndDecodeToTheirOwnSignal) {
  // 20 channels at 96 kb/s and 5 ms: 10 fit a packet, so two packets a block.
  constexpr std::size_t kChannels = 20;
  constexpr std::uint16_t kFrames = 240;
  auto made =
      OpusPacketizer::create({.channels = kChannels, .rate = 48000, .frames = kFrames, .bitrate = 96000});
  ASSERT_TRUE(made) << made.error();
  OpusPacketizer& packetizer = *made;
  EXPECT_EQ(packetizer.channels_per_packet(), 10u);
  protocol::SessionKey key{};
  key[0] = 9;
  std::vector<OpusDecoder*> decoders;
  for (std::size_t c = 0; c < kChannels; ++c) decoders.push_back(opus_decoder_create(48000, 1, nullptr));

  // Channel c: a tone whose level says which channel it is; silence on odd ones.
  std::vector<float> planar(kChannels * kFrames);
  std::vector<double> energy(kChannels, 0.0);
  for (int block = 0; block < 50; ++block) {
    for (std::size_t c = 0; c < kChannels; ++c) {
      for (std::size_t i = 0; i < kFrames; ++i) {
        const double t = static_cast<double>(block * kFrames + static_cast<int>(i)) / 48000.0;
        planar[c * kFrames + i] =
            c % 2 == 0 ? static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 440 * t)) : 0.0f;
      }
    }
    BlockInfo info;
    info.media_ts = 1000 + block * kFrames;
    const auto packets = packetizer.packetize(info, planar.data(), 3, key);
    ASSERT_EQ(packets.size(), 2u);
    for (std::size_t k = 0; k < packets.size(); ++k) {
      protocol::PacketHeader h;
      std::span<const std::uint8_t> payload;
      ASSERT_EQ(protocol::decode(packets[k].view(), key, h, payload), protocol::DecodeError::Ok);
      EXPECT_EQ(h.format, protocol::SampleFormat::Opus);
      EXPECT_EQ(h.media_ts, info.media_ts);
      EXPECT_EQ(h.frame_count, kFrames);
      EXPECT_EQ(h.first_channel, 10 * k);
      EXPECT_EQ(h.channel_count, 10);
      std::array<std::span<const std::uint8_t>, 10> frames{};
      ASSERT_TRUE(protocol::split_opus_payload(payload, h.channel_count, frames));
      for (std::size_t c = 0; c < 10; ++c) {
        std::array<float, kFrames> out{};
        ASSERT_EQ(opus_decode_float(decoders[h.first_channel + c], frames[c].data(),
                                    static_cast<opus_int32>(frames[c].size()), out.data(), kFrames, 0),
                  kFrames);
        if (block >= 10) {
          for (const float v : out) energy[h.first_channel + c] += static_cast<double>(v) * v;
        }
      }
    }
  }
  for (std::size_t c = 0; c < kChannels; ++c) {
    const double rms = std::sqrt(energy[c] / (40.0 * kFrames));
    if (c % 2 == 0) {
      EXPECT_NEAR(rms, 0.3 / std::sqrt(2.0), 0.03) << c;
    } else {
      EXPECT_LT(rms, 0.001) << c;
    }
  }
  EXPECT_EQ(packetizer.encode_errors(), 0u);
  for (OpusDecoder* d : decoders) opus_decoder_destroy(d);
}

TEST(OpusPacketizer, RefusesWhatOpusCannotCode) {
  EXPECT_FALSE(OpusPacketizer::create({.channels = 1, .rate = 44100, .frames = 240}));
  EXPECT_FALSE(OpusPacketizer::create({.channels = 1, .rate = 48000, .frames = 48}));
  EXPECT_FALSE(OpusPacketizer::create({.channels = 1, .rate = 48000, .frames = 240, .bitrate = 1000}));
}

}  // namespace
}  // namespace tl::capture
