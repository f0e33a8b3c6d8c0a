//! Seeded mutation testing of parse()/decode() and FrameDecoder: valid inputs are
//! mutated at random and fed to the decoders, which must never crash, never read
//! outside the input (run under AddressSanitizer), and only accept input that
//! satisfies the documented invariants. The seed is fixed, so a failure reproduces;
//! TL_FUZZ_SEED overrides it to explore further.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#if __has_include(<google/protobuf/stubs/logging.h>)
#include <google/protobuf/stubs/logging.h>
#define TL_HAVE_PROTOBUF_LOG_SILENCER 1
#endif

#include "packet_builders.h"
#include "tl/protocol/audio_packet.h"
#include "tl/protocol/framing.h"
#include "tl/protocol/pcm.h"
#include "tl/protocol/sync.h"

namespace tl::protocol {
namespace {

using testing::audio_header;
using testing::build_packet;
using testing::pattern_payload;
using testing::test_key;
using Bytes = std::vector<std::uint8_t>;

std::uint64_t fuzz_seed() {
  if (const char* s = std::getenv("TL_FUZZ_SEED")) return std::strtoull(s, nullptr, 0);
  return 0x7261636B6C696E6BULL;
}

//! One valid datagram of every type and format.
std::vector<Bytes> corpus(const SessionKey& key) {
  std::vector<Bytes> out;
  for (const PacketType t : {PacketType::Audio, PacketType::Cue, PacketType::Retransmit}) {
    for (const SampleFormat f : {SampleFormat::Pcm16, SampleFormat::Pcm24, SampleFormat::F32}) {
      for (const std::uint16_t frames : {1, 48, 128}) {
        const auto ch =
            static_cast<std::uint8_t>(std::min<std::size_t>(3, max_channels_per_packet(frames, f)));
        PacketHeader h = audio_header(f, frames, ch, t);
        out.push_back(build_packet(h, pattern_payload(testing::pcm_payload_size(h)), key));
      }
    }
    PacketHeader h = audio_header(SampleFormat::Opus, 960, 2, t);
    out.push_back(build_packet(h, pattern_payload(1), key));
    out.push_back(build_packet(h, pattern_payload(kMaxPayloadBytes), key));
  }
  Bytes buf(kMaxPacketBytes);
  buf.resize(encode_sync_request(5, 77, -123456789, key, buf));
  out.push_back(buf);
  buf.assign(kMaxPacketBytes, 0);
  buf.resize(encode_sync_reply(5, 78, 1, 2, 3, key, buf));
  out.push_back(buf);
  PacketHeader nack;
  nack.type = PacketType::Nack;
  out.push_back(build_packet(nack, pattern_payload(12), key));
  return out;
}

bool carries_audio(PacketType t) {
  return t == PacketType::Audio || t == PacketType::Cue || t == PacketType::Retransmit;
}

//! One random change to d.
void mutate(Bytes& d, std::mt19937_64& rng) {
  auto pick = [&rng](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  auto byte = [&rng] { return static_cast<std::uint8_t>(rng()); };
  switch (rng() % 9) {
    case 0:  // flip 1..4 bits anywhere
    case 1: {
      const std::size_t flips = 1 + pick(4);
      for (std::size_t i = 0; i < flips && !d.empty(); ++i) {
        d[pick(d.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
      }
      break;
    }
    case 2:  // flip a bit in the header
      if (d.size() >= kHeaderBytes) d[pick(kHeaderBytes)] ^= static_cast<std::uint8_t>(1u << pick(8));
      break;
    case 3:  // truncate
      d.resize(pick(d.size() + 1));
      break;
    case 4: {  // extend with random bytes
      const std::size_t extra = 1 + pick(rng() % 4 == 0 ? 2000 : 8);
      for (std::size_t i = 0; i < extra; ++i) d.push_back(byte());
      break;
    }
    case 5: {  // overwrite a run with random bytes
      if (d.empty()) break;
      const std::size_t at = pick(d.size());
      const std::size_t n = std::min(d.size() - at, 1 + pick(16));
      for (std::size_t i = 0; i < n; ++i) d[at + i] = byte();
      break;
    }
    case 6: {  // set a header byte to an interesting value
      if (d.size() < kHeaderBytes) break;
      static constexpr std::uint8_t kInteresting[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x7F, 0x80, 0xFE, 0xFF};
      d[pick(kHeaderBytes)] = kInteresting[pick(sizeof kInteresting)];
      break;
    }
    case 7: {  // rewrite payload_bytes to agree with the new length, then change the length
      if (d.size() < kHeaderBytes) break;
      d.resize(kHeaderBytes + kTagBytes + pick(kMaxPayloadBytes + 40));
      const std::size_t claimed = d.size() - kHeaderBytes - kTagBytes + (rng() % 3) - 1;
      d[30] = static_cast<std::uint8_t>(claimed >> 8);
      d[31] = static_cast<std::uint8_t>(claimed);
      break;
    }
    default: {  // entirely random datagram
      d.resize(pick(kMaxPacketBytes + 64));
      for (auto& b : d) b = byte();
      if (d.size() >= 6 && rng() % 2 == 0) {  // with a plausible start, to get deeper
        d[0] = 'T';
        d[1] = 'L';
        d[2] = 'K';
        d[3] = '1';
        d[4] = kVersion;
        d[5] = static_cast<std::uint8_t>(1 + pick(6));
      }
      break;
    }
  }
}

//! The invariants of an accepted datagram, checked against the raw bytes.
void check_accepted(const Bytes& d, const PacketHeader& h, std::span<const std::uint8_t> payload) {
  ASSERT_GE(d.size(), kHeaderBytes + kTagBytes);
  ASSERT_LE(d.size(), kMaxPacketBytes);
  ASSERT_EQ(payload.data(), d.data() + kHeaderBytes) << "payload starts after the header";
  ASSERT_EQ(payload.size(), h.payload_bytes);
  ASSERT_EQ(kHeaderBytes + payload.size() + kTagBytes, d.size()) << "payload within the datagram";
  ASSERT_LE(payload.size(), kMaxPayloadBytes);
  ASSERT_EQ(d[0], 'T');
  ASSERT_EQ(d[4], kVersion);
  const auto t = static_cast<std::uint8_t>(h.type);
  ASSERT_TRUE(t >= 1 && t <= 6) << int{t};
  ASSERT_LE(static_cast<std::uint8_t>(h.format), static_cast<std::uint8_t>(SampleFormat::Opus));
  if (carries_audio(h.type)) {
    ASSERT_NE(h.format, SampleFormat::None);
    ASSERT_GE(h.frame_count, 1);
    ASSERT_LE(h.frame_count, kMaxFrames);
    ASSERT_GE(h.channel_count, 1);
    ASSERT_LE(h.first_channel + h.channel_count, 255);
    const std::size_t bps = bytes_per_sample(h.format);
    if (bps != 0) {
      ASSERT_EQ(payload.size(), std::size_t{h.frame_count} * h.channel_count * bps);
      // The payload is safe to unpack at its declared shape.
      std::vector<float> samples(std::size_t{h.frame_count} * h.channel_count);
      unpack_pcm(payload, h.format, samples);
    } else {
      ASSERT_GE(payload.size(), 1u);
    }
  }
}

TEST(PacketFuzz, MutatedPacketsNeverCrashAndOnlyValidOnesPass) {
  const std::uint64_t seed = fuzz_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set TL_FUZZ_SEED to change)");
  std::mt19937_64 rng(seed);
  const SessionKey key = test_key(21);
  const std::vector<Bytes> seeds = corpus(key);
  ASSERT_GE(seeds.size(), 30u);

  constexpr int kIterations = 200'000;
  std::array<std::size_t, static_cast<std::size_t>(DecodeError::kCount)> seen{};
  std::size_t accepted_changed = 0;
  for (int i = 0; i < kIterations; ++i) {
    const Bytes& original = seeds[rng() % seeds.size()];
    Bytes d = original;
    const int rounds = 1 + static_cast<int>(rng() % 3);
    for (int r = 0; r < rounds; ++r) mutate(d, rng);
    d.shrink_to_fit();  // exact-size heap block: any overread is an ASan error

    PacketHeader h;
    std::span<const std::uint8_t> payload;
    const DecodeError pe = parse(d, h, payload);
    ASSERT_LT(static_cast<std::size_t>(pe), seen.size());
    if (pe == DecodeError::Ok) {
      check_accepted(d, h, payload);
      if (::testing::Test::HasFatalFailure()) {
        FAIL() << "iteration " << i;
      }
    }
    PacketHeader h2;
    std::span<const std::uint8_t> payload2;
    const DecodeError de = decode(d, key, h2, payload2);
    ++seen[static_cast<std::size_t>(de)];
    if (pe != DecodeError::Ok) {
      ASSERT_EQ(de, pe) << "decode() reports parse()'s error, iteration " << i;
    } else {
      ASSERT_TRUE(de == DecodeError::Ok || de == DecodeError::BadTag) << "iteration " << i;
      ASSERT_EQ(de == DecodeError::Ok, verify_tag(d, key));
    }
    if (de == DecodeError::Ok && d != original) ++accepted_changed;
    (void)peek_node_id(d);
  }
  EXPECT_EQ(accepted_changed, 0u) << "a changed datagram passed authentication";
  // The mutations reach every rejection reason (so the test exercises each check).
  for (std::size_t e = 0; e < seen.size(); ++e) {
    EXPECT_GT(seen[e], 0u) << "never produced " << to_string(static_cast<DecodeError>(e));
  }
}

tl::proto::Envelope sample_envelope(std::mt19937_64& rng) {
  tl::proto::Envelope e;
  e.set_request_id(rng() % 1000);
  switch (rng() % 4) {
    case 0:
      e.mutable_ping()->set_client_time_ns(static_cast<std::int64_t>(rng()));
      break;
    case 1:
      e.mutable_error()->set_message(std::string(rng() % 200, 'e'));
      break;
    case 2:
      e.mutable_challenge()->set_nonce(std::string(32, static_cast<char>(rng())));
      break;
    default:
      e.mutable_event()->set_fault("fault");
      break;
  }
  return e;
}

TEST(FramingFuzz, RandomAndMutatedStreamsNeverCrashAndErrorIsFinal) {
  const std::uint64_t seed = fuzz_seed() ^ 0x5A5A;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
#ifdef TL_HAVE_PROTOBUF_LOG_SILENCER
  // Mutated strings are invalid UTF-8, which protobuf logs on every refusal.
  const google::protobuf::LogSilencer quiet;
#endif
  std::size_t errors = 0, messages = 0;
  for (int stream = 0; stream < 20000; ++stream) {
    // Build a stream: valid frames, sometimes mutated, sometimes pure noise.
    std::string bytes;
    const int kind = static_cast<int>(rng() % 3);
    if (kind == 0) {
      bytes.resize(rng() % 512);
      for (auto& c : bytes) c = static_cast<char>(rng());
    } else {
      const int frames = 1 + static_cast<int>(rng() % 6);
      for (int f = 0; f < frames; ++f) bytes += encode_frame(sample_envelope(rng));
      if (kind == 2 && !bytes.empty()) {
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) {
          bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
        }
      }
    }
    FrameDecoder d;
    tl::proto::Envelope out;
    bool failed = false;
    std::size_t fed = 0;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      const std::size_t n = std::min(bytes.size() - pos, 1 + static_cast<std::size_t>(rng() % 64));
      d.feed(bytes.data() + pos, n);
      pos += n;
      fed += n;
      for (int guard = 0; guard < 1000; ++guard) {
        const std::size_t before = d.buffered();
        const auto r = d.next(out);
        ASSERT_LE(d.buffered(), fed);
        if (r == FrameDecoder::Result::Message) {
          ASSERT_FALSE(failed) << "a message after an Error";
          ASSERT_LT(d.buffered(), before) << "a message consumes bytes";
          ++messages;
          continue;
        }
        if (r == FrameDecoder::Result::Error) {
          failed = true;
          ASSERT_FALSE(d.error().empty());
        } else {
          ASSERT_FALSE(failed) << "NeedMore after an Error";
          ASSERT_EQ(d.buffered(), before) << "NeedMore consumes nothing";
        }
        break;
      }
    }
    if (failed) {
      ++errors;
      tl::proto::Envelope again;
      ASSERT_EQ(d.next(again), FrameDecoder::Result::Error) << "Error is final";
    }
    if (kind == 1) {
      ASSERT_FALSE(failed) << "an unmutated stream of valid frames decodes cleanly";
    }
  }
  EXPECT_GT(errors, 1000u);
  EXPECT_GT(messages, 10000u);
}

}  // namespace
}  // namespace tl::protocol
