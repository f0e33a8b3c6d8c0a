//! libFuzzer entry point for the UDP audio packet decoder (see README.md).
//!
//! Feeds each input to parse() and decode() with a fixed key and checks the
//! invariants of an accepted datagram; any violation aborts, which libFuzzer
//! reports as a crash with the input saved. Not built by CMake (g++ has no
//! libFuzzer); build by hand with clang.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "tl/protocol/audio_packet.h"
#include "tl/protocol/pcm.h"
#include "tl/protocol/sync.h"

namespace {

using namespace tl::protocol;

void check(bool ok) {
  if (!ok) std::abort();
}

bool carries_audio(PacketType t) {
  return t == PacketType::Audio || t == PacketType::Cue || t == PacketType::Retransmit;
}

void check_accepted(std::span<const std::uint8_t> d, const PacketHeader& h,
                    std::span<const std::uint8_t> payload) {
  check(d.size() >= kHeaderBytes + kTagBytes && d.size() <= kMaxPacketBytes);
  check(payload.data() == d.data() + kHeaderBytes);
  check(payload.size() == h.payload_bytes);
  check(kHeaderBytes + payload.size() + kTagBytes == d.size());
  if (carries_audio(h.type)) {
    check(h.format != SampleFormat::None);
    check(h.frame_count >= 1 && h.frame_count <= kMaxFrames);
    check(h.channel_count >= 1 && h.first_channel + h.channel_count <= 255);
    const std::size_t bps = bytes_per_sample(h.format);
    if (bps != 0) {
      check(payload.size() == std::size_t{h.frame_count} * h.channel_count * bps);
      std::vector<float> samples(std::size_t{h.frame_count} * h.channel_count);
      unpack_pcm(payload, h.format, samples);
    } else {
      check(!payload.empty());
    }
  }
  if (h.type == PacketType::SyncRequest) (void)parse_sync_request(payload);
  if (h.type == PacketType::SyncReply) (void)parse_sync_reply(payload);
}

SessionKey fuzz_key() {
  SessionKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Copy into an exact-size heap block so AddressSanitizer sees any overread.
  const std::vector<std::uint8_t> buf(data, data + size);
  const std::span<const std::uint8_t> d(buf);
  static const SessionKey key = fuzz_key();

  PacketHeader h;
  std::span<const std::uint8_t> payload;
  const DecodeError pe = parse(d, h, payload);
  check(static_cast<std::size_t>(pe) < static_cast<std::size_t>(DecodeError::kCount));
  if (pe == DecodeError::Ok) check_accepted(d, h, payload);

  PacketHeader h2;
  std::span<const std::uint8_t> payload2;
  const DecodeError de = decode(d, key, h2, payload2);
  if (pe != DecodeError::Ok) {
    check(de == pe);
  } else {
    check(de == DecodeError::Ok || de == DecodeError::BadTag);
    check((de == DecodeError::Ok) == verify_tag(d, key));
  }
  (void)peek_node_id(d);
  (void)to_string(pe);
  return 0;
}
