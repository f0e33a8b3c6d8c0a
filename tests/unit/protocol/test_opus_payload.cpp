#include "tl/protocol/opus_payload.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace tl::protocol {
namespace {

TEST(OpusPayload, ChannelsFramesRoundTrip) {
  std::vector<std::uint8_t> out(kMaxPayloadBytes);
  const std::vector<std::uint8_t> a(37, 0xA1), b(1, 0xB2), c(300, 0xC3);
  std::size_t at = append_opus_frame(out, 0, a);
  at = append_opus_frame(out, at, b);
  at = append_opus_frame(out, at, c);
  ASSERT_EQ(at, 2 + 37 + 2 + 1 + 2 + 300u);
  std::array<std::span<const std::uint8_t>, 3> frames{};
  ASSERT_TRUE(split_opus_payload({out.data(), at}, 3, frames));
  EXPECT_EQ(std::vector<std::uint8_t>(frames[0].begin(), frames[0].end()), a);
  EXPECT_EQ(std::vector<std::uint8_t>(frames[1].begin(), frames[1].end()), b);
  EXPECT_EQ(std::vector<std::uint8_t>(frames[2].begin(), frames[2].end()), c);
}

TEST(OpusPayload, MalformedPayloadsAreRefused) {
  std::vector<std::uint8_t> out(64);
  const std::vector<std::uint8_t> a(10, 1);
  const std::size_t n = append_opus_frame(out, 0, a);
  std::array<std::span<const std::uint8_t>, 2> frames{};
  EXPECT_FALSE(split_opus_payload({out.data(), n - 1}, 1, frames)) << "truncated";
  EXPECT_FALSE(split_opus_payload({out.data(), n + 1}, 1, frames)) << "trailing bytes";
  EXPECT_FALSE(split_opus_payload({out.data(), n}, 2, frames)) << "fewer frames than channels";
  EXPECT_FALSE(split_opus_payload({out.data(), 1}, 1, frames)) << "half a length";
  std::array<std::uint8_t, 2> empty{0, 0};
  EXPECT_FALSE(split_opus_payload(empty, 1, frames)) << "an empty frame";
  std::array<std::uint8_t, 4> huge{0xFF, 0xFF, 0, 0};
  EXPECT_FALSE(split_opus_payload(huge, 1, frames)) << "a length past the payload";
  EXPECT_FALSE(split_opus_payload({out.data(), n}, 3, std::span(frames).first(1)))
      << "no room for the channels";
}

TEST(OpusPayload, AppendRefusesWhatDoesNotFit) {
  std::vector<std::uint8_t> out(20);
  EXPECT_EQ(append_opus_frame(out, 0, std::vector<std::uint8_t>(19, 1)), 0u);
  EXPECT_EQ(append_opus_frame(out, 0, std::vector<std::uint8_t>{}), 0u);
  EXPECT_EQ(append_opus_frame(out, 21, std::vector<std::uint8_t>(1, 1)), 0u);
  std::vector<std::uint8_t> big(kMaxPayloadBytes * 2);
  EXPECT_EQ(append_opus_frame(big, 0, std::vector<std::uint8_t>(kOpusMaxFrameBytes + 1, 1)), 0u);
  EXPECT_EQ(append_opus_frame(out, 0, std::vector<std::uint8_t>(18, 1)), 20u);
}

TEST(OpusPayload, SizesAndFormats) {
  for (std::uint32_t f : {120u, 240u, 480u, 960u}) EXPECT_TRUE(opus_frame_size_ok(48000, f)) << f;
  for (std::uint32_t f : {48u, 256u, 1920u}) EXPECT_FALSE(opus_frame_size_ok(48000, f)) << f;
  EXPECT_FALSE(opus_frame_size_ok(44100, 240));
  EXPECT_EQ(spool_format(SampleFormat::Opus), SampleFormat::Pcm24);
  EXPECT_EQ(spool_format(SampleFormat::Pcm16), SampleFormat::Pcm16);
  // 96 kb/s in 5 ms is 60 bytes on average: room for twice that, and several channels a packet.
  const std::size_t cap = opus_frame_cap(48000, 240, 96000);
  EXPECT_EQ(cap, 136u);
  EXPECT_EQ(opus_channels_per_packet(cap), kSafePayloadBytes / 138) << "Opus is for internet paths";
  EXPECT_EQ(opus_frame_cap(48000, 960, 510000), kOpusMaxFrameBytes);
  EXPECT_EQ(opus_channels_per_packet(kOpusMaxFrameBytes), 1u);
}

}  // namespace
}  // namespace tl::protocol
