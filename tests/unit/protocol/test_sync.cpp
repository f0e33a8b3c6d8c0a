#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "packet_builders.h"
#include "tl/protocol/sync.h"

namespace tl::protocol {
namespace {

using testing::test_key;
using Bytes = std::vector<std::uint8_t>;

TEST(Sync, RequestEncodesDecodesAndParses) {
  const SessionKey key = test_key(3);
  Bytes out(kMaxPacketBytes);
  const std::int64_t t1 = -1'234'567'890'123;
  const std::size_t n = encode_sync_request(42, 0xFFFFFFFFu, t1, key, out);
  ASSERT_EQ(n, kHeaderBytes + kSyncRequestPayload + kTagBytes);
  out.resize(n);

  PacketHeader h;
  std::span<const std::uint8_t> payload;
  ASSERT_EQ(parse(out, h, payload), DecodeError::Ok);
  EXPECT_TRUE(verify_tag(out, key));
  ASSERT_EQ(decode(out, key, h, payload), DecodeError::Ok);
  EXPECT_EQ(h.type, PacketType::SyncRequest);
  EXPECT_EQ(h.format, SampleFormat::None);
  EXPECT_EQ(h.node_id, 42);
  EXPECT_EQ(h.seq, 0xFFFFFFFFu);
  EXPECT_EQ(h.frame_count, 0);
  EXPECT_EQ(h.channel_count, 0);
  EXPECT_EQ(h.payload_bytes, kSyncRequestPayload);
  const auto got = parse_sync_request(payload);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, t1);
  EXPECT_FALSE(parse_sync_reply(payload).has_value()) << "a request is not a reply";
  // Big-endian on the wire.
  Bytes ts(out.begin() + kHeaderBytes, out.begin() + kHeaderBytes + 8);
  Bytes want(8);
  for (int i = 0; i < 8; ++i)
    want[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(t1) >> (56 - 8 * i));
  EXPECT_EQ(ts, want);
}

TEST(Sync, ReplyEncodesDecodesAndParses) {
  const SessionKey key = test_key(4);
  Bytes out(kMaxPacketBytes);
  const std::int64_t t1 = 1'000'000'000, t2 = std::numeric_limits<std::int64_t>::max(),
                     t3 = std::numeric_limits<std::int64_t>::min();
  const std::size_t n = encode_sync_reply(7, 12, t1, t2, t3, key, out);
  ASSERT_EQ(n, kHeaderBytes + kSyncReplyPayload + kTagBytes);
  out.resize(n);

  PacketHeader h;
  std::span<const std::uint8_t> payload;
  ASSERT_EQ(decode(out, key, h, payload), DecodeError::Ok);
  EXPECT_EQ(h.type, PacketType::SyncReply);
  EXPECT_EQ(h.node_id, 7);
  EXPECT_EQ(h.seq, 12u);
  const auto s = parse_sync_reply(payload);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->t1, t1);
  EXPECT_EQ(s->t2, t2);
  EXPECT_EQ(s->t3, t3);
  EXPECT_EQ(s->t4, 0) << "t4 is the receiver's to fill";
  EXPECT_FALSE(parse_sync_request(payload).has_value());

  SessionKey wrong = key;
  wrong[0] ^= 0x80;
  EXPECT_EQ(decode(out, wrong, h, payload), DecodeError::BadTag);
}

TEST(Sync, EncodeRefusesShortOutput) {
  const SessionKey key = test_key();
  Bytes small(kHeaderBytes + kSyncRequestPayload + kTagBytes - 1);
  EXPECT_EQ(encode_sync_request(1, 1, 1, key, small), 0u);
  Bytes small_reply(kHeaderBytes + kSyncReplyPayload + kTagBytes - 1);
  EXPECT_EQ(encode_sync_reply(1, 1, 1, 2, 3, key, small_reply), 0u);
  Bytes exact(kHeaderBytes + kSyncReplyPayload + kTagBytes);
  EXPECT_EQ(encode_sync_reply(1, 1, 1, 2, 3, key, exact), exact.size());
}

TEST(Sync, WrongPayloadSizesAreRefused) {
  for (const std::size_t n : {0u, 1u, 7u, 9u, 16u, 23u, 25u, 32u}) {
    const Bytes p(n, 0x11);
    if (n != kSyncRequestPayload) {
      EXPECT_FALSE(parse_sync_request(p).has_value()) << n;
    }
    if (n != kSyncReplyPayload) {
      EXPECT_FALSE(parse_sync_reply(p).has_value()) << n;
    }
  }
  EXPECT_EQ(parse_sync_request(Bytes(8, 0)), 0);
  EXPECT_EQ(parse_sync_request(Bytes{0, 0, 0, 0, 0, 0, 1, 0}), 256);
  EXPECT_EQ(parse_sync_request(Bytes(8, 0xFF)), -1);
}

TEST(Sync, OffsetAndRoundTripOnKnownNumbers) {
  // Node clock is 1000 ns behind the session; 200 ns each way; mixer holds 50 ns.
  SyncSample s;
  s.t1 = 10'000;                   // node sends
  s.t2 = 10'000 + 1000 + 200;      // session receipt
  s.t3 = s.t2 + 50;                // session send
  s.t4 = 10'000 + 200 + 50 + 200;  // node receipt
  EXPECT_EQ(s.offset_ns(), 1000);
  EXPECT_EQ(s.rtt_ns(), 400);

  // Asymmetric path: 100 out, 300 back -> offset is off by half the asymmetry.
  SyncSample a{.t1 = 0, .t2 = 5100, .t3 = 5100, .t4 = 400};
  EXPECT_EQ(a.offset_ns(), 4900);
  EXPECT_EQ(a.rtt_ns(), 400);

  // Node ahead of the session (negative offset), large absolute values.
  const std::int64_t base = 1'700'000'000'000'000'000;
  SyncSample b{
      .t1 = base, .t2 = base - 3'000'000 + 10'000, .t3 = base - 3'000'000 + 12'000, .t4 = base + 22'000};
  EXPECT_EQ(b.offset_ns(), -3'000'000);
  EXPECT_EQ(b.rtt_ns(), 20'000);
}

TEST(Sync, OffsetAppliedToNodeTimeGivesSessionTime) {
  SyncSample s{.t1 = 500, .t2 = 90'600, .t3 = 90'700, .t4 = 800};
  // Symmetric 100 ns paths: session = node + 90'000.
  EXPECT_EQ(s.offset_ns(), 90'000);
  EXPECT_EQ(s.rtt_ns(), 200);
  EXPECT_EQ(s.t1 + s.offset_ns() + s.rtt_ns() / 2, s.t2);
}

}  // namespace
}  // namespace tl::protocol
