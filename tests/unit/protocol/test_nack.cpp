#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tl/protocol/nack.h"

namespace tl::protocol {
namespace {

SessionKey key() {
  SessionKey k{};
  k.fill(3);
  return k;
}

TEST(Nack, RoundTripsThroughTheAuthenticatedPacket) {
  const std::vector<NackRange> ranges = {{-48, 48}, {96000, 4800}, {1LL << 40, 1}};
  std::array<std::uint8_t, kMaxPacketBytes> buf{};
  const std::size_t n = encode_nack(7, 99, ranges, key(), buf);
  ASSERT_GT(n, 0u);
  PacketHeader h;
  std::span<const std::uint8_t> payload;
  ASSERT_EQ(decode(std::span<const std::uint8_t>(buf.data(), n), key(), h, payload), DecodeError::Ok);
  EXPECT_EQ(h.type, PacketType::Nack);
  EXPECT_EQ(h.node_id, 7);
  std::array<NackRange, kMaxNackRanges> out{};
  ASSERT_EQ(parse_nack(payload, out), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].from, ranges[i].from);
    EXPECT_EQ(out[i].frames, ranges[i].frames);
  }
}

TEST(Nack, MalformedPayloadsAreRefused) {
  std::array<NackRange, kMaxNackRanges> out{};
  EXPECT_EQ(parse_nack({}, out), 0u);
  const std::uint8_t zero_count[2] = {0, 0};
  EXPECT_EQ(parse_nack(zero_count, out), 0u);
  std::vector<std::uint8_t> short_by_one(2 + kNackRangeBytes - 1, 0);
  short_by_one[1] = 1;
  EXPECT_EQ(parse_nack(short_by_one, out), 0u);
  std::vector<std::uint8_t> zero_frames(2 + kNackRangeBytes, 0);
  zero_frames[1] = 1;
  EXPECT_EQ(parse_nack(zero_frames, out), 0u);
  std::array<NackRange, 1> small{};
  std::vector<std::uint8_t> two(2 + 2 * kNackRangeBytes, 0);
  two[1] = 2;
  two[2 + 11] = 1;
  two[2 + kNackRangeBytes + 11] = 1;
  EXPECT_EQ(parse_nack(two, small), 0u) << "more ranges than the caller can take";
  EXPECT_EQ(parse_nack(two, out), 2u);
}

TEST(Nack, EncodeRefusesEmptyAndOversizedLists) {
  std::array<std::uint8_t, kMaxPacketBytes> buf{};
  EXPECT_EQ(encode_nack(1, 0, {}, key(), buf), 0u);
  std::vector<NackRange> many(kMaxNackRanges + 1, NackRange{0, 48});
  EXPECT_EQ(encode_nack(1, 0, many, key(), buf), 0u);
  many.pop_back();
  EXPECT_GT(encode_nack(1, 0, many, key(), buf), 0u);
}

}  // namespace
}  // namespace tl::protocol
