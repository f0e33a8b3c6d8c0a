#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tl/protocol/framing.h"

namespace tl::protocol {
namespace {

using tl::proto::Envelope;
using Result = FrameDecoder::Result;

Envelope ping(std::uint64_t id, std::int64_t t) {
  Envelope e;
  e.set_request_id(id);
  e.mutable_ping()->set_client_time_ns(t);
  return e;
}

Envelope big_message(std::size_t bytes) {
  Envelope e;
  e.set_request_id(77);
  e.mutable_error()->set_message(std::string(bytes, 'x'));
  return e;
}

std::string u32be(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

TEST(Framing, FrameIsBigEndianLengthThenSerializedEnvelope) {
  const Envelope e = ping(5, 123456);
  const std::string body = e.SerializeAsString();
  const std::string frame = encode_frame(e);
  ASSERT_EQ(frame.size(), 4 + body.size());
  EXPECT_EQ(frame.substr(0, 4), u32be(static_cast<std::uint32_t>(body.size())));
  EXPECT_EQ(frame.substr(4), body);

  const std::string large = encode_frame(big_message(70000));
  const std::uint32_t len = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(large[0])) << 24) |
                            (static_cast<std::uint32_t>(static_cast<std::uint8_t>(large[1])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<std::uint8_t>(large[2])) << 8) |
                            static_cast<std::uint32_t>(static_cast<std::uint8_t>(large[3]));
  EXPECT_EQ(len + 4, large.size());
  EXPECT_GT(len, 65535u) << "the prefix is 32 bits, not 16";
}

TEST(Framing, RoundTripInOneFeed) {
  FrameDecoder d;
  const std::string f = encode_frame(ping(9, -42));
  d.feed(f.data(), f.size());
  EXPECT_EQ(d.buffered(), f.size());
  Envelope out;
  ASSERT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(out.request_id(), 9u);
  ASSERT_TRUE(out.has_ping());
  EXPECT_EQ(out.ping().client_time_ns(), -42);
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_EQ(d.next(out), Result::NeedMore);
}

TEST(Framing, EmptyEnvelopeIsAValidZeroLengthFrame) {
  const std::string f = encode_frame(Envelope{});
  EXPECT_EQ(f, std::string(4, '\0'));
  FrameDecoder d;
  d.feed(f.data(), f.size());
  Envelope out = ping(1, 1);
  ASSERT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(out.request_id(), 0u) << "next() replaces out, it does not merge into it";
  EXPECT_FALSE(out.has_ping());
}

TEST(Framing, BytesFedOneAtATime) {
  const std::string f = encode_frame(big_message(300));
  FrameDecoder d;
  Envelope out;
  for (std::size_t i = 0; i + 1 < f.size(); ++i) {
    d.feed(&f[i], 1);
    ASSERT_EQ(d.next(out), Result::NeedMore) << "after " << i + 1 << " of " << f.size() << " bytes";
    ASSERT_EQ(d.buffered(), i + 1);
  }
  d.feed(&f[f.size() - 1], 1);
  ASSERT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(out.error().message(), std::string(300, 'x'));
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Framing, SeveralMessagesInOneFeedComeOutInOrder) {
  std::string stream;
  for (std::uint64_t i = 1; i <= 5; ++i) stream += encode_frame(ping(i, static_cast<std::int64_t>(i) * 10));
  FrameDecoder d;
  d.feed(stream.data(), stream.size());
  std::size_t left = stream.size();
  for (std::uint64_t i = 1; i <= 5; ++i) {
    Envelope out;
    ASSERT_EQ(d.next(out), Result::Message) << i;
    EXPECT_EQ(out.request_id(), i);
    EXPECT_EQ(out.ping().client_time_ns(), static_cast<std::int64_t>(i) * 10);
    left -= encode_frame(ping(i, static_cast<std::int64_t>(i) * 10)).size();
    EXPECT_EQ(d.buffered(), left) << "buffered() drops by exactly one frame";
  }
  Envelope out;
  EXPECT_EQ(d.next(out), Result::NeedMore);
}

TEST(Framing, FrameSplitAcrossFeedsAtEveryPoint) {
  const std::string a = encode_frame(ping(1, 111));
  const std::string b = encode_frame(ping(2, 222));
  const std::string stream = a + b;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    std::vector<std::uint64_t> ids;
    Envelope out;
    d.feed(stream.data(), cut);
    while (d.next(out) == Result::Message) ids.push_back(out.request_id());
    d.feed(stream.data() + cut, stream.size() - cut);
    while (d.next(out) == Result::Message) ids.push_back(out.request_id());
    ASSERT_EQ(ids, (std::vector<std::uint64_t>{1, 2})) << "cut at " << cut;
    ASSERT_EQ(d.buffered(), 0u);
  }
}

TEST(Framing, HeaderSplitAcrossFeedsAndSpanOverload) {
  const std::string f = encode_frame(ping(3, 333));
  const std::vector<std::uint8_t> bytes(f.begin(), f.end());
  FrameDecoder d;
  Envelope out;
  d.feed(std::span(bytes).first(2));
  EXPECT_EQ(d.next(out), Result::NeedMore);
  d.feed(std::span(bytes).subspan(2, 3));
  EXPECT_EQ(d.next(out), Result::NeedMore);
  d.feed(std::span(bytes).subspan(5));
  ASSERT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(out.ping().client_time_ns(), 333);
}

TEST(Framing, PartialFrameStaysBufferedAfterAMessage) {
  const std::string a = encode_frame(ping(1, 1));
  const std::string b = encode_frame(ping(2, 2));
  FrameDecoder d;
  const std::string first = a + b.substr(0, 3);
  d.feed(first.data(), first.size());
  Envelope out;
  ASSERT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(d.buffered(), 3u);
  EXPECT_EQ(d.next(out), Result::NeedMore);
  d.feed(b.data() + 3, b.size() - 3);
  ASSERT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(out.request_id(), 2u);
}

TEST(Framing, ManyMessagesThroughOneDecoderKeepBufferBounded) {
  // Exercises the decoder's compaction: far more than 64 KiB passes through while a
  // partial frame is always pending.
  const std::string f = encode_frame(big_message(1000));
  FrameDecoder d;
  Envelope out;
  std::size_t got = 0;
  for (int i = 0; i < 300; ++i) {
    // Feed one and a half frames each round.
    const std::string chunk = (i % 2 == 0) ? f + f.substr(0, f.size() / 2) : f.substr(f.size() / 2) + f;
    d.feed(chunk.data(), chunk.size());
    while (d.next(out) == Result::Message) {
      ASSERT_EQ(out.error().message().size(), 1000u);
      ++got;
    }
    ASSERT_LT(d.buffered(), f.size());
  }
  EXPECT_EQ(got, 450u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Framing, OversizeLengthPrefixIsAFinalError) {
  FrameDecoder d;
  const std::string prefix = u32be(static_cast<std::uint32_t>(kMaxFrameBytes + 1));
  d.feed(prefix.data(), prefix.size());
  Envelope out;
  ASSERT_EQ(d.next(out), Result::Error) << "refused before the body arrives";
  EXPECT_FALSE(d.error().empty());
  EXPECT_NE(d.error().find(std::to_string(kMaxFrameBytes + 1)), std::string::npos) << d.error();

  // It stays an error even when a valid frame follows.
  const std::string good = encode_frame(ping(1, 1));
  d.feed(good.data(), good.size());
  EXPECT_EQ(d.next(out), Result::Error);
  EXPECT_EQ(d.next(out), Result::Error);
}

TEST(Framing, LengthPrefixAtTheLimitIsNotAnError) {
  FrameDecoder d;
  const std::string prefix = u32be(static_cast<std::uint32_t>(kMaxFrameBytes));
  d.feed(prefix.data(), prefix.size());
  Envelope out;
  EXPECT_EQ(d.next(out), Result::NeedMore);
  const std::string huge = u32be(0xFFFFFFFFu);
  FrameDecoder d2;
  d2.feed(huge.data(), huge.size());
  EXPECT_EQ(d2.next(out), Result::Error);
}

TEST(Framing, GarbageThatIsNotAProtobufIsAFinalError) {
  // Field number 0 is never valid; 0xFF... is an over-long varint.
  for (const std::string& body :
       {std::string(1, '\0'), std::string(12, '\xFF'), std::string("\x0f\x01", 2)}) {
    FrameDecoder d;
    const std::string frame = u32be(static_cast<std::uint32_t>(body.size())) + body;
    d.feed(frame.data(), frame.size());
    Envelope out;
    ASSERT_EQ(d.next(out), Result::Error);
    EXPECT_FALSE(d.error().empty());
    const std::string good = encode_frame(ping(1, 1));
    d.feed(good.data(), good.size());
    EXPECT_EQ(d.next(out), Result::Error) << "an out-of-step stream is not resumed";
  }
}

TEST(Framing, TruncatedEmbeddedMessageIsAnError) {
  // A valid frame whose body is cut short but whose prefix claims the cut size.
  const std::string body = big_message(50).SerializeAsString();
  const std::string cut = body.substr(0, body.size() - 10);
  const std::string frame = u32be(static_cast<std::uint32_t>(cut.size())) + cut;
  FrameDecoder d;
  d.feed(frame.data(), frame.size());
  Envelope out;
  EXPECT_EQ(d.next(out), Result::Error);
}

TEST(Framing, MessagesBeforeAnErrorAreStillDelivered) {
  std::string stream = encode_frame(ping(1, 1)) + encode_frame(ping(2, 2));
  stream += u32be(1) + std::string(1, '\0');
  FrameDecoder d;
  d.feed(stream.data(), stream.size());
  Envelope out;
  EXPECT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(d.next(out), Result::Message);
  EXPECT_EQ(d.next(out), Result::Error);
}

}  // namespace
}  // namespace tl::protocol
