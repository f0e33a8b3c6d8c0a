#pragma once
//! Small helpers shared by the protocol unit tests: keys, payloads and packets.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tl/protocol/audio_packet.h"

namespace tl::protocol::testing {

//! A fixed, recognisable session key (byte i = seed + i).
inline SessionKey test_key(std::uint8_t seed = 1) {
  SessionKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed + i);
  return k;
}

//! A payload whose bytes are a simple pattern, so misplaced bytes show.
inline std::vector<std::uint8_t> pattern_payload(std::size_t n, std::uint8_t start = 0x10) {
  std::vector<std::uint8_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(start + i * 7);
  return p;
}

//! Encodes header + payload into a datagram of exactly the encoded size.
inline std::vector<std::uint8_t> build_packet(const PacketHeader& h, const std::vector<std::uint8_t>& payload,
                                              const SessionKey& key) {
  std::vector<std::uint8_t> out(kMaxPacketBytes + 64);
  const std::size_t n = encode(h, payload, key, out);
  out.resize(n);
  return out;
}

//! A valid audio header for frames x channels of format (payload_bytes left for encode()).
inline PacketHeader audio_header(SampleFormat format, std::uint16_t frames, std::uint8_t channels,
                                 PacketType type = PacketType::Audio) {
  PacketHeader h;
  h.type = type;
  h.flags = kFlagDiscontinuity;
  h.node_id = 3;
  h.stream_id = 1;
  h.seq = 1000;
  h.media_ts = 48000;
  h.frame_count = frames;
  h.channel_count = channels;
  h.first_channel = 0;
  h.format = format;
  return h;
}

//! The PCM payload size for a header's shape.
inline std::size_t pcm_payload_size(const PacketHeader& h) {
  return static_cast<std::size_t>(h.frame_count) * h.channel_count * bytes_per_sample(h.format);
}

}  // namespace tl::protocol::testing
