#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "packet_builders.h"
#include "tl/protocol/audio_packet.h"
#include "tl/protocol/auth.h"

namespace tl::protocol {
namespace {

using testing::audio_header;
using testing::build_packet;
using testing::pattern_payload;
using testing::pcm_payload_size;
using testing::test_key;
using Bytes = std::vector<std::uint8_t>;

//! Recomputes a datagram's tag, so a test can change header bytes that encode()
//! would never write and still reach the check it means to exercise.
void retag(Bytes& d, const SessionKey& key) {
  init_crypto();
  ASSERT_GE(d.size(), kTagBytes);
  const std::size_t body = d.size() - kTagBytes;
  crypto_generichash(d.data() + body, kTagBytes, d.data(), body, key.data(), key.size());
}

DecodeError parse_only(const Bytes& d) {
  PacketHeader h;
  std::span<const std::uint8_t> payload;
  return parse(d, h, payload);
}

DecodeError decode_with(const Bytes& d, const SessionKey& key) {
  PacketHeader h;
  std::span<const std::uint8_t> payload;
  return decode(d, key, h, payload);
}

void expect_same_header(const PacketHeader& want, const PacketHeader& got) {
  EXPECT_EQ(want.type, got.type);
  EXPECT_EQ(want.flags, got.flags);
  EXPECT_EQ(want.node_id, got.node_id);
  EXPECT_EQ(want.stream_id, got.stream_id);
  EXPECT_EQ(want.seq, got.seq);
  EXPECT_EQ(want.media_ts, got.media_ts);
  EXPECT_EQ(want.frame_count, got.frame_count);
  EXPECT_EQ(want.channel_count, got.channel_count);
  EXPECT_EQ(want.first_channel, got.first_channel);
  EXPECT_EQ(want.format, got.format);
}

// ---- round trips -------------------------------------------------------------

struct Shape {
  SampleFormat format;
  std::uint16_t frames;
  std::uint8_t channels;
  std::size_t opus_bytes;  // payload size for Opus (PCM sizes follow the shape)
};

class RoundTrip : public ::testing::TestWithParam<Shape> {};

TEST_P(RoundTrip, EveryFieldSurvivesEncodeDecode) {
  const Shape s = GetParam();
  const SessionKey key = test_key(7);
  for (const PacketType type : {PacketType::Audio, PacketType::Cue, PacketType::Retransmit}) {
    PacketHeader h = audio_header(s.format, s.frames, s.channels, type);
    h.flags = kFlagDiscontinuity | kFlagSilence | kFlagRetransmit;
    h.node_id = 0xBEEF;
    h.stream_id = 0x0102;
    h.seq = 0xFFFFFFFEu;
    h.media_ts = -123456789012345;
    h.first_channel = 17;
    const std::size_t n = s.format == SampleFormat::Opus ? s.opus_bytes : pcm_payload_size(h);
    const Bytes payload = pattern_payload(n);
    const Bytes d = build_packet(h, payload, key);
    ASSERT_EQ(d.size(), kHeaderBytes + n + kTagBytes);

    PacketHeader got;
    std::span<const std::uint8_t> got_payload;
    ASSERT_EQ(decode(d, key, got, got_payload), DecodeError::Ok) << static_cast<int>(type);
    expect_same_header(h, got);
    EXPECT_EQ(got.payload_bytes, n);
    ASSERT_EQ(got_payload.size(), n);
    EXPECT_EQ(got_payload.data(), d.data() + kHeaderBytes) << "payload points into the datagram";
    EXPECT_EQ(Bytes(got_payload.begin(), got_payload.end()), payload);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, RoundTrip,
    ::testing::Values(Shape{SampleFormat::Pcm16, 48, 2, 0}, Shape{SampleFormat::Pcm24, 64, 7, 0},
                      Shape{SampleFormat::F32, 128, 2, 0}, Shape{SampleFormat::Opus, 960, 2, 123},
                      Shape{SampleFormat::Pcm16, 1, 1, 0}, Shape{SampleFormat::Opus, 1, 1, 1}),
    [](const ::testing::TestParamInfo<Shape>& p) {
      std::string name = "f";  // appended, not "f" + ...: GCC 12 -O3 warns on that (bug 105329)
      name += std::to_string(static_cast<int>(p.param.format)) + "_" + std::to_string(p.param.frames);
      return name + "x" + std::to_string(p.param.channels);
    });

TEST(AudioPacket, MediaTimestampExtremesAndNegativeValuesRoundTrip) {
  const SessionKey key = test_key();
  for (const MediaTime ts : {MediaTime{0}, MediaTime{-1}, MediaTime{1}, MediaTime{-48000},
                             std::numeric_limits<MediaTime>::min(), std::numeric_limits<MediaTime>::max()}) {
    PacketHeader h = audio_header(SampleFormat::Pcm16, 4, 1);
    h.media_ts = ts;
    const Bytes d = build_packet(h, pattern_payload(8), key);
    PacketHeader got;
    std::span<const std::uint8_t> p;
    ASSERT_EQ(decode(d, key, got, p), DecodeError::Ok);
    EXPECT_EQ(got.media_ts, ts);
  }
}

TEST(AudioPacket, SequenceNumbersAcrossTheWrapRoundTrip) {
  const SessionKey key = test_key();
  Seq seq = 0xFFFFFFFDu;
  for (int i = 0; i < 6; ++i, ++seq) {
    PacketHeader h = audio_header(SampleFormat::Pcm16, 4, 1);
    h.seq = seq;
    const Bytes d = build_packet(h, pattern_payload(8), key);
    PacketHeader got;
    std::span<const std::uint8_t> p;
    ASSERT_EQ(decode(d, key, got, p), DecodeError::Ok);
    EXPECT_EQ(got.seq, seq);
  }
  EXPECT_EQ(seq, 3u) << "the loop crossed 2^32";
}

TEST(AudioPacket, AllFlagBitsAndIdsRoundTrip) {
  const SessionKey key = test_key();
  PacketHeader h = audio_header(SampleFormat::Pcm24, 2, 1);
  h.flags = 0xFFFF;
  h.node_id = 0xFFFF;
  h.stream_id = 0xFFFF;
  h.first_channel = 254;
  const Bytes d = build_packet(h, pattern_payload(6), key);
  PacketHeader got;
  std::span<const std::uint8_t> p;
  ASSERT_EQ(decode(d, key, got, p), DecodeError::Ok);
  expect_same_header(h, got);
}

TEST(AudioPacket, TheLargestPayloadIsAcceptedForEveryFormat) {
  const SessionKey key = test_key();
  const std::array<Shape, 6> shapes{
      Shape{SampleFormat::Pcm16, 700, 1, 0}, Shape{SampleFormat::Pcm24, 200, 2, 0},   // 1400, 1200
      Shape{SampleFormat::F32, 350, 1, 0},   Shape{SampleFormat::Pcm16, 1024, 4, 0},  // 1400, 8192
      Shape{SampleFormat::F32, 1024, 2, 0},  Shape{SampleFormat::Opus, 960, 2, kMaxPayloadBytes}};
  for (const Shape& s : shapes) {
    PacketHeader h = audio_header(s.format, s.frames, s.channels);
    const std::size_t n = s.format == SampleFormat::Opus ? s.opus_bytes : pcm_payload_size(h);
    const Bytes d = build_packet(h, pattern_payload(n), key);
    ASSERT_EQ(d.size(), kHeaderBytes + n + kTagBytes);
    EXPECT_EQ(decode_with(d, key), DecodeError::Ok) << static_cast<int>(s.format);
  }
  // The largest above fill exactly kMaxPayloadBytes; so does Pcm16 with 512 frames x 8 channels.
  static_assert(kMaxPayloadBytes == 8192 && kSafePayloadBytes == 1400);
  PacketHeader h = audio_header(SampleFormat::Pcm16, 512, 8);
  ASSERT_EQ(pcm_payload_size(h), kMaxPayloadBytes);
  const Bytes d = build_packet(h, pattern_payload(kMaxPayloadBytes), key);
  ASSERT_EQ(d.size(), kMaxPacketBytes);
  EXPECT_EQ(decode_with(d, key), DecodeError::Ok);
}

TEST(AudioPacket, EncodeRefusesOversizedPayloadAndShortOutput) {
  const SessionKey key = test_key();
  const PacketHeader h = audio_header(SampleFormat::Opus, 960, 2);
  Bytes out(kMaxPacketBytes + 100, 0xAA);
  EXPECT_EQ(encode(h, pattern_payload(kMaxPayloadBytes + 1), key, out), 0u);

  const Bytes payload = pattern_payload(100);
  Bytes exact(kHeaderBytes + 100 + kTagBytes);
  EXPECT_EQ(encode(h, payload, key, exact), exact.size());
  Bytes short_by_one(kHeaderBytes + 100 + kTagBytes - 1, 0xAA);
  EXPECT_EQ(encode(h, payload, key, short_by_one), 0u);
  for (const std::uint8_t b : short_by_one) ASSERT_EQ(b, 0xAA) << "a refused encode writes nothing";
  EXPECT_EQ(encode(h, payload, key, std::span<std::uint8_t>{}), 0u);
}

TEST(AudioPacket, EncodeSetsPayloadBytesFromThePayloadNotTheHeader) {
  const SessionKey key = test_key();
  PacketHeader h = audio_header(SampleFormat::Pcm16, 4, 2);
  h.payload_bytes = 999;  // stale value the caller forgot to update
  const Bytes d = build_packet(h, pattern_payload(16), key);
  PacketHeader got;
  std::span<const std::uint8_t> p;
  ASSERT_EQ(decode(d, key, got, p), DecodeError::Ok);
  EXPECT_EQ(got.payload_bytes, 16);
}

// ---- wire layout -------------------------------------------------------------

TEST(AudioPacket, HeaderByteLayoutMatchesTheDocumentedOffsets) {
  const SessionKey key = test_key(0x40);
  PacketHeader h;
  h.type = PacketType::Cue;
  h.flags = 0x0105;
  h.node_id = 0x1234;
  h.stream_id = 0xABCD;
  h.seq = 0x89ABCDEFu;
  h.media_ts = 0x0102030405060708;
  h.frame_count = 0x0002;
  h.channel_count = 0x01;
  h.first_channel = 0x04;
  h.format = SampleFormat::Pcm16;
  const Bytes payload{0xDE, 0xAD, 0xBE, 0xEF};

  const Bytes expected_head{
      'T',  'L',  'K',  '1',                           // 0  magic
      0x01,                                            // 4  version
      0x02,                                            // 5  type (Cue)
      0x01, 0x05,                                      // 6  flags
      0x12, 0x34,                                      // 8  node id
      0xAB, 0xCD,                                      // 10 stream id
      0x89, 0xAB, 0xCD, 0xEF,                          // 12 seq
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // 16 media ts
      0x00, 0x02,                                      // 24 frame count
      0x01,                                            // 26 channel count
      0x04,                                            // 27 first channel
      0x01,                                            // 28 format (Pcm16)
      0x00,                                            // 29 reserved
      0x00, 0x04,                                      // 30 payload bytes
      0xDE, 0xAD, 0xBE, 0xEF,                          // 32 payload
  };
  ASSERT_EQ(expected_head.size(), kHeaderBytes + payload.size());

  const Bytes d = build_packet(h, payload, key);
  ASSERT_EQ(d.size(), expected_head.size() + kTagBytes);
  EXPECT_EQ(Bytes(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(expected_head.size())), expected_head);

  // Tag: keyed BLAKE2b-128 over header and payload, computed independently here.
  init_crypto();
  std::array<std::uint8_t, kTagBytes> tag{};
  crypto_generichash(tag.data(), tag.size(), expected_head.data(), expected_head.size(), key.data(),
                     key.size());
  EXPECT_EQ(Bytes(d.end() - kTagBytes, d.end()), Bytes(tag.begin(), tag.end()));
  EXPECT_EQ(kMagic, 0x544C4B31u);
}

TEST(AudioPacket, NegativeMediaTimestampIsTwosComplementBigEndian) {
  PacketHeader h = audio_header(SampleFormat::Pcm16, 1, 1);
  h.media_ts = -2;
  const Bytes d = build_packet(h, pattern_payload(2), test_key());
  const Bytes ts(d.begin() + 16, d.begin() + 24);
  EXPECT_EQ(ts, (Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}));
}

TEST(AudioPacket, PeekNodeIdReadsOffset8AndRefusesShortInput) {
  PacketHeader h = audio_header(SampleFormat::Pcm16, 1, 1);
  h.node_id = 0x0A0B;
  Bytes d = build_packet(h, pattern_payload(2), test_key());
  EXPECT_EQ(peek_node_id(d), 0x0A0B);
  d.resize(kHeaderBytes);
  EXPECT_EQ(peek_node_id(d), 0x0A0B) << "a bare header is enough";
  d.resize(kHeaderBytes - 1);
  EXPECT_EQ(peek_node_id(d), 0);
  EXPECT_EQ(peek_node_id({}), 0);
}

// ---- malformed input ---------------------------------------------------------

class Malformed : public ::testing::Test {
 protected:
  // A valid 48x2 PCM16 audio packet (192-byte payload).
  void SetUp() override { good_ = build_packet(header(), pattern_payload(192), key_); }
  static PacketHeader header() { return audio_header(SampleFormat::Pcm16, 48, 2); }

  //! Expects parse() and decode() (with the right key) to give e.
  void expect_error(const Bytes& d, DecodeError e, const char* what) {
    EXPECT_EQ(parse_only(d), e) << what << ": parse";
    EXPECT_EQ(decode_with(d, key_), e) << what << ": decode";
  }

  //! A copy of the good packet with byte at off set to v and the tag recomputed.
  Bytes patched(std::size_t off, std::uint8_t v) {
    Bytes d = good_;
    d[off] = v;
    retag(d, key_);
    return d;
  }

  SessionKey key_ = test_key(9);
  Bytes good_;
};

TEST_F(Malformed, TheBaselinePacketIsValid) {
  expect_error(good_, DecodeError::Ok, "baseline");
}

TEST_F(Malformed, TooShortInputs) {
  expect_error(Bytes{}, DecodeError::TooShort, "empty");
  expect_error(Bytes{'T'}, DecodeError::TooShort, "one byte");
  expect_error(Bytes(good_.begin(), good_.begin() + kHeaderBytes), DecodeError::TooShort, "header only");
  expect_error(Bytes(good_.begin(), good_.begin() + kHeaderBytes + kTagBytes - 1), DecodeError::TooShort,
               "header + tag - 1");
  // Every prefix of the packet is rejected (TooShort or BadLength), none is Ok.
  for (std::size_t n = 0; n < good_.size(); ++n) {
    const Bytes prefix(good_.begin(), good_.begin() + static_cast<std::ptrdiff_t>(n));
    const DecodeError e = parse_only(prefix);
    EXPECT_EQ(e, n < kHeaderBytes + kTagBytes ? DecodeError::TooShort : DecodeError::BadLength) << n;
  }
}

TEST_F(Malformed, MinimalPacketShortByOneIsTooShort) {
  // A sync request without payload is the smallest valid datagram: header + tag.
  PacketHeader h;
  h.type = PacketType::Nack;
  Bytes d = build_packet(h, {}, key_);
  ASSERT_EQ(d.size(), kHeaderBytes + kTagBytes);
  expect_error(d, DecodeError::Ok, "minimal");
  d.pop_back();
  expect_error(d, DecodeError::TooShort, "minimal - 1");
}

TEST_F(Malformed, PacketShortByOneByteIsBadLength) {
  Bytes d = good_;
  d.pop_back();
  expect_error(d, DecodeError::BadLength, "short by one");
}

TEST_F(Malformed, OverMaximumSizeIsTooLong) {
  expect_error(Bytes(kMaxPacketBytes + 1, 0), DecodeError::TooLong, "max + 1 zeros");
  Bytes d = good_;
  d.resize(kMaxPacketBytes + 1, 0);
  expect_error(d, DecodeError::TooLong, "max + 1 with a valid header");
  expect_error(Bytes(65536, 0xFF), DecodeError::TooLong, "64 KiB");
}

TEST_F(Malformed, WrongMagic) {
  expect_error(patched(0, 'X'), DecodeError::BadMagic, "byte 0");
  expect_error(patched(3, '2'), DecodeError::BadMagic, "TLK2");
  Bytes zeros(good_.size(), 0);
  expect_error(zeros, DecodeError::BadMagic, "all zeros");
}

TEST_F(Malformed, WrongVersion) {
  expect_error(patched(4, 0), DecodeError::BadVersion, "version 0");
  expect_error(patched(4, 2), DecodeError::BadVersion, "version 2");
  expect_error(patched(4, 255), DecodeError::BadVersion, "version 255");
}

TEST_F(Malformed, UnknownType) {
  for (const int t : {0, 7, 8, 128, 255}) {
    // encode() writes whatever type it is given, so the tag is right and parse()
    // alone must refuse it.
    PacketHeader h = header();
    h.type = static_cast<PacketType>(t);
    const Bytes d = build_packet(h, pattern_payload(192), key_);
    expect_error(d, DecodeError::BadType, ("type " + std::to_string(t)).c_str());
  }
}

TEST_F(Malformed, UnknownSampleFormat) {
  for (const int f : {5, 6, 127, 255}) {
    PacketHeader h = header();
    h.format = static_cast<SampleFormat>(f);
    const Bytes d = build_packet(h, pattern_payload(192), key_);
    expect_error(d, DecodeError::BadFormat, ("format " + std::to_string(f)).c_str());
  }
  // Unknown formats are refused on non-audio packets too.
  PacketHeader h;
  h.type = PacketType::SyncRequest;
  h.format = static_cast<SampleFormat>(9);
  expect_error(build_packet(h, pattern_payload(8), key_), DecodeError::BadFormat, "sync format 9");
}

TEST_F(Malformed, AudioWithoutSampleFormat) {
  for (const PacketType t : {PacketType::Audio, PacketType::Cue, PacketType::Retransmit}) {
    PacketHeader h = header();
    h.type = t;
    h.format = SampleFormat::None;
    expect_error(build_packet(h, pattern_payload(192), key_), DecodeError::BadFormat, "None");
  }
}

TEST_F(Malformed, PayloadBytesDisagreeingWithDatagramSize) {
  // Field at offset 30 is 192; claim one more and one less.
  expect_error(patched(31, 193), DecodeError::BadLength, "claims one more");
  expect_error(patched(31, 191), DecodeError::BadLength, "claims one less");
  expect_error(patched(30, 0xFF), DecodeError::BadLength, "claims 65k");
  Bytes longer = good_;
  longer.push_back(0);
  expect_error(longer, DecodeError::BadLength, "datagram one byte longer");
}

TEST_F(Malformed, FrameCountOutOfRange) {
  for (const int frames : {0, kMaxFrames + 1, 0xFFFF}) {
    PacketHeader h = audio_header(SampleFormat::Opus, static_cast<std::uint16_t>(frames), 2);
    expect_error(build_packet(h, pattern_payload(40), key_), DecodeError::BadShape,
                 ("frames " + std::to_string(frames)).c_str());
  }
  PacketHeader h = audio_header(SampleFormat::Opus, kMaxFrames, 2);
  expect_error(build_packet(h, pattern_payload(40), key_), DecodeError::Ok, "frames = max");
}

TEST_F(Malformed, ChannelCountZero) {
  PacketHeader h = audio_header(SampleFormat::Opus, 48, 0);
  expect_error(build_packet(h, pattern_payload(40), key_), DecodeError::BadShape, "opus, 0 ch");
  h = audio_header(SampleFormat::Pcm16, 48, 0);
  expect_error(build_packet(h, {}, key_), DecodeError::BadShape, "pcm, 0 ch, empty payload");
}

TEST_F(Malformed, ChannelRangeBeyond255) {
  PacketHeader h = audio_header(SampleFormat::Opus, 48, 6);
  h.first_channel = 250;
  expect_error(build_packet(h, pattern_payload(40), key_), DecodeError::BadShape, "250 + 6");
  h.first_channel = 255;
  h.channel_count = 255;
  expect_error(build_packet(h, pattern_payload(40), key_), DecodeError::BadShape, "255 + 255");
  h.first_channel = 250;
  h.channel_count = 5;
  expect_error(build_packet(h, pattern_payload(40), key_), DecodeError::Ok, "250 + 5 = 255");
}

TEST_F(Malformed, PcmPayloadSizeMismatch) {
  for (const SampleFormat f : {SampleFormat::Pcm16, SampleFormat::Pcm24, SampleFormat::F32}) {
    const PacketHeader h = audio_header(f, 48, 2);
    const std::size_t want = pcm_payload_size(h);
    expect_error(build_packet(h, pattern_payload(want - 1), key_), DecodeError::BadShape, "one less");
    expect_error(build_packet(h, pattern_payload(want + 1), key_), DecodeError::BadShape, "one more");
    expect_error(build_packet(h, {}, key_), DecodeError::BadShape, "empty");
    expect_error(build_packet(h, pattern_payload(want), key_), DecodeError::Ok, "exact");
  }
  // Same bytes, different format: 192 bytes are 48x2 PCM16 but not 48x2 PCM24.
  expect_error(patched(28, static_cast<std::uint8_t>(SampleFormat::Pcm24)), DecodeError::BadShape,
               "format changed");
  // Wrong frame count for the bytes.
  expect_error(patched(25, 47), DecodeError::BadShape, "47 frames");
  expect_error(patched(26, 3), DecodeError::BadShape, "3 channels");
}

TEST_F(Malformed, OpusWithEmptyPayload) {
  const PacketHeader h = audio_header(SampleFormat::Opus, 960, 2);
  expect_error(build_packet(h, {}, key_), DecodeError::BadShape, "opus, no TOC byte");
  expect_error(build_packet(h, pattern_payload(1), key_), DecodeError::Ok, "opus, 1 byte");
}

TEST_F(Malformed, NonAudioPacketsIgnoreShapeFields) {
  for (const PacketType t : {PacketType::SyncRequest, PacketType::SyncReply, PacketType::Nack}) {
    PacketHeader h;
    h.type = t;
    h.frame_count = 0;
    h.channel_count = 0;
    expect_error(build_packet(h, pattern_payload(24), key_), DecodeError::Ok, "non-audio");
  }
}

TEST_F(Malformed, EveryTagBitFlipIsBadTag) {
  for (std::size_t byte = good_.size() - kTagBytes; byte < good_.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes d = good_;
      d[byte] ^= static_cast<std::uint8_t>(1u << bit);
      ASSERT_EQ(parse_only(d), DecodeError::Ok) << "parse() does not look at the tag";
      ASSERT_EQ(decode_with(d, key_), DecodeError::BadTag) << byte << ":" << bit;
      ASSERT_FALSE(verify_tag(d, key_));
    }
  }
  EXPECT_TRUE(verify_tag(good_, key_));
}

TEST_F(Malformed, WrongKeyIsBadTag) {
  SessionKey other = key_;
  other[31] ^= 1;
  EXPECT_EQ(decode_with(good_, other), DecodeError::BadTag);
  EXPECT_EQ(decode_with(good_, SessionKey{}), DecodeError::BadTag);
  EXPECT_EQ(decode_with(good_, make_session_key()), DecodeError::BadTag);
}

TEST_F(Malformed, TamperedPayloadOrHeaderIsBadTag) {
  for (const std::size_t off : {kHeaderBytes, kHeaderBytes + 100, good_.size() - kTagBytes - 1}) {
    Bytes d = good_;
    d[off] ^= 0x01;
    EXPECT_EQ(parse_only(d), DecodeError::Ok);
    EXPECT_EQ(decode_with(d, key_), DecodeError::BadTag) << "payload byte " << off;
  }
  // Header fields that still parse: flags, node id, stream id, seq, timestamp, reserved.
  for (const std::size_t off : {6u, 9u, 11u, 15u, 23u, 29u}) {
    Bytes d = good_;
    d[off] ^= 0x80;
    EXPECT_EQ(parse_only(d), DecodeError::Ok) << off;
    EXPECT_EQ(decode_with(d, key_), DecodeError::BadTag) << "header byte " << off;
  }
}

TEST_F(Malformed, VerifyTagRefusesInputShorterThanHeaderAndTag) {
  EXPECT_FALSE(verify_tag({}, key_));
  EXPECT_FALSE(verify_tag(Bytes(kHeaderBytes + kTagBytes - 1, 0), key_));
}

// ---- names and sizes ----------------------------------------------------------

TEST(AudioPacket, EveryDecodeErrorHasADistinctName) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(DecodeError::kCount); ++i) {
    const std::string_view s = to_string(static_cast<DecodeError>(i));
    EXPECT_FALSE(s.empty()) << i;
    EXPECT_NE(s, "?") << "DecodeError " << i << " has no name";
    names.emplace(s);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(DecodeError::kCount));
  EXPECT_EQ(to_string(DecodeError::Ok), "ok");
}

TEST(AudioPacket, BytesPerSample) {
  EXPECT_EQ(bytes_per_sample(SampleFormat::Pcm16), 2u);
  EXPECT_EQ(bytes_per_sample(SampleFormat::Pcm24), 3u);
  EXPECT_EQ(bytes_per_sample(SampleFormat::F32), 4u);
  EXPECT_EQ(bytes_per_sample(SampleFormat::Opus), 0u);
  EXPECT_EQ(bytes_per_sample(SampleFormat::None), 0u);
}

TEST(AudioPacket, MaxChannelsPerPacketFitsAndIsUsable) {
  const SessionKey key = test_key();
  for (const std::size_t budget : {kSafePayloadBytes, std::size_t{4000}, kMaxPayloadBytes}) {
    for (const std::uint16_t frames : {48, 64, 128, 256}) {
      for (const SampleFormat f : {SampleFormat::Pcm16, SampleFormat::Pcm24, SampleFormat::F32}) {
        const std::size_t ch = max_channels_per_packet(frames, f, budget);
        SCOPED_TRACE(std::to_string(frames) + " frames, format " + std::to_string(static_cast<int>(f)) +
                     ", budget " + std::to_string(budget));
        ASSERT_GE(ch, 1u);
        ASSERT_LE(ch, 255u);
        const std::size_t bytes = frames * ch * bytes_per_sample(f);
        EXPECT_LE(bytes, budget);
        if (ch < 255) {
          EXPECT_GT(bytes + frames * bytes_per_sample(f), budget)
              << "one more channel would not fit, so the count is the largest";
        }
        // And a packet of that shape really encodes and decodes.
        const PacketHeader h = audio_header(f, frames, static_cast<std::uint8_t>(ch));
        const Bytes d = build_packet(h, pattern_payload(bytes), key);
        EXPECT_EQ(decode_with(d, key), DecodeError::Ok);
      }
    }
  }
  // No budget above the largest payload.
  EXPECT_EQ(max_channels_per_packet(128, SampleFormat::Pcm24, 1u << 20),
            max_channels_per_packet(128, SampleFormat::Pcm24, kMaxPayloadBytes));
  EXPECT_EQ(max_channels_per_packet(48, SampleFormat::Pcm16), 14u);  // 1400 / 96
  EXPECT_EQ(max_channels_per_packet(1, SampleFormat::Pcm16), 255u) << "capped at 255";
  EXPECT_EQ(max_channels_per_packet(48, SampleFormat::Opus), 0u);
  EXPECT_EQ(max_channels_per_packet(0, SampleFormat::Pcm16), 0u);
}

TEST(AudioPacket, PayloadBudgetGrowsOnlyOnRoutesLargerThanEthernet) {
  // An internet-size route, or one not known: the safe size, whatever the mixer takes.
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 1500, false), kSafePayloadBytes);
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 0, false), kSafePayloadBytes);
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 1280, true), kSafePayloadBytes);
  // A jumbo-frame LAN: the MTU less IP, UDP, header and tag (IPv6's header is larger).
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 4000, false), 4000u - 28 - kHeaderBytes - kTagBytes);
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 4000, true), 4000u - 48 - kHeaderBytes - kTagBytes);
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 9000, false), kMaxPayloadBytes);
  // Loopback: as much as the mixer accepts; a mixer that does not say takes the safe size.
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 65536, false), kMaxPayloadBytes);
  EXPECT_EQ(payload_budget(0, 65536, false), kSafePayloadBytes);
  EXPECT_EQ(payload_budget(3000, 65536, false), 3000u);
  EXPECT_EQ(payload_budget(1u << 20, 65536, false), kMaxPayloadBytes)
      << "never above what a packet may carry";
  // A route a little larger than Ethernet: what fits it, never under the safe size.
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 1501, false), 1501u - 28 - kHeaderBytes - kTagBytes);
  EXPECT_EQ(payload_budget(kMaxPayloadBytes, 1501, true), 1501u - 48 - kHeaderBytes - kTagBytes);
}

}  // namespace
}  // namespace tl::protocol
