#pragma once
//! The UDP audio packet: a fixed, versioned binary header in network byte order.
//!
//! Layout (32-byte header, payload, 16-byte authentication tag):
//!
//!   off size field
//!     0  4   magic "TLK1"
//!     4  1   version (1)
//!     5  1   type (PacketType)
//!     6  2   flags (PacketFlags)
//!     8  2   node id (assigned by the mixer at registration, >= 1)
//!    10  2   stream id
//!    12  4   sequence number (per node and stream, wraps)
//!    16  8   media timestamp: session-clock sample of the first frame (int64)
//!    24  2   frame count
//!    26  1   channel count in this packet
//!    27  1   first channel (0-based) of this packet within the node's inputs
//!    28  1   sample format (SampleFormat)
//!    29  1   reserved, 0
//!    30  2   payload bytes
//!    32  n   payload: PCM frames interleaved [frame][channel], big-endian integers
//!            (PCM16, PCM24) or IEEE floats (F32); sync/nack payloads per type
//!   32+n 16  tag: keyed BLAKE2b-128 over header and payload, key = session key
//!
//! A packet never exceeds kMaxPayloadBytes of payload, and a node keeps to a smaller
//! budget its path allows (kSafePayloadBytes unless the route takes larger datagrams,
//! as loopback and jumbo-frame LANs do): a node with more channels than fit splits
//! them across packets with the same timestamp.
//!
//! decode() checks every length and index before use and never trusts the input.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tl/common/units.h"

namespace tl::protocol {

inline constexpr std::uint32_t kMagic = 0x544C4B31;  // "TLK1"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 32;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kKeyBytes = 32;
//! The largest payload a packet may carry (what a receiver accepts): room for a 9,000-byte
//! jumbo frame's datagram.
inline constexpr std::size_t kMaxPayloadBytes = 8192;
inline constexpr std::size_t kMaxPacketBytes = kHeaderBytes + kMaxPayloadBytes + kTagBytes;
//! A payload whose datagram crosses any internet path unfragmented (1,448 bytes + IP/UDP
//! headers, under a 1,500-byte MTU with room for a tunnel's or PPPoE's overhead).
inline constexpr std::size_t kSafePayloadBytes = 1400;
inline constexpr std::size_t kSafePacketBytes = kHeaderBytes + kSafePayloadBytes + kTagBytes;
inline constexpr std::uint16_t kMaxFrames = 1024;

using SessionKey = std::array<std::uint8_t, kKeyBytes>;

enum class PacketType : std::uint8_t {
  Audio = 1,
  Cue = 2,
  SyncRequest = 3,
  SyncReply = 4,
  Nack = 5,
  Retransmit = 6,
};

enum class SampleFormat : std::uint8_t {
  None = 0,  // non-audio packets
  Pcm16 = 1,
  Pcm24 = 2,
  F32 = 3,
  Opus = 4,
};

//! Flags travel with the audio and are OR-ed when mixed.
enum PacketFlags : std::uint16_t {
  kFlagNone = 0,
  kFlagDiscontinuity = 1u << 0,  // first packet after a (re)start of the stream
  kFlagSilence = 1u << 1,        // source produced silence deliberately (e.g. file ended)
  kFlagRetransmit = 1u << 2,     // resent from the node's spool
  // Set by the mixer on audio it decoded from Opus, never sent by a node:
  kFlagLossy = 1u << 3,      // decoded from a lossy codec: not the node's exact samples
  kFlagConcealed = 1u << 4,  // Opus's packet-loss concealment stood in for a lost packet
  kFlagFec = 1u << 5,        // rebuilt from the next packet's in-band forward error correction
};

//! The audio stands in for a lost packet (a codec's concealment or FEC), not what was sent.
inline bool is_guess(std::uint16_t flags) noexcept {
  return (flags & (kFlagConcealed | kFlagFec)) != 0;
}

struct PacketHeader {
  PacketType type = PacketType::Audio;
  std::uint16_t flags = 0;
  std::uint16_t node_id = 0;
  std::uint16_t stream_id = 0;
  Seq seq = 0;
  MediaTime media_ts = 0;
  std::uint16_t frame_count = 0;
  std::uint8_t channel_count = 0;
  std::uint8_t first_channel = 0;
  SampleFormat format = SampleFormat::None;
  std::uint16_t payload_bytes = 0;
};

//! Why a packet was rejected. Each value has a counter on the receiving side.
enum class DecodeError : std::uint8_t {
  Ok = 0,
  TooShort,
  TooLong,
  BadMagic,
  BadVersion,
  BadType,
  BadFormat,
  BadLength,  // payload_bytes disagrees with the datagram size
  BadShape,   // frame/channel counts disagree with the payload size or limits
  BadTag,     // authentication failed
  kCount,
};

std::string_view to_string(DecodeError e) noexcept;

//! Bytes per sample on the wire for PCM formats; 0 for others.
std::size_t bytes_per_sample(SampleFormat f) noexcept;

//! Largest channel count that fits one packet at this size within a payload budget
//! (>= 1 for every allowed shape under kSafePayloadBytes; at most 255).
std::size_t max_channels_per_packet(std::uint16_t frames, SampleFormat f,
                                    std::size_t payload_budget = kSafePayloadBytes) noexcept;

//! The payload budget for audio to a receiver that accepts receiver_max bytes (0: one
//! that does not say, i.e. kSafePayloadBytes) over a route whose MTU is route_mtu
//! (0: unknown), IPv6 or not. Only a route larger than an Ethernet frame (loopback, a
//! jumbo-frame LAN) earns more than kSafePayloadBytes: a 1,500-byte interface's path
//! may still hold a tunnel, and a fragment lost loses the whole datagram.
std::size_t payload_budget(std::size_t receiver_max, std::size_t route_mtu, bool ipv6) noexcept;

//! Writes header + payload + tag into out. Returns the packet size, or 0 when out is
//! too small or the payload exceeds kMaxPayloadBytes. header.payload_bytes is set from payload.
std::size_t encode(const PacketHeader& header, std::span<const std::uint8_t> payload, const SessionKey& key,
                   std::span<std::uint8_t> out) noexcept;

//! Parses and checks a datagram's header and shape (not the tag). On Ok, header is
//! filled and payload points into datagram.
DecodeError parse(std::span<const std::uint8_t> datagram, PacketHeader& header,
                  std::span<const std::uint8_t>& payload) noexcept;

//! Checks the tag of a datagram already accepted by parse(). Constant time.
bool verify_tag(std::span<const std::uint8_t> datagram, const SessionKey& key) noexcept;

//! parse() then verify_tag().
DecodeError decode(std::span<const std::uint8_t> datagram, const SessionKey& key, PacketHeader& header,
                   std::span<const std::uint8_t>& payload) noexcept;

//! Reads the node id field of a datagram of at least kHeaderBytes (to find its key).
std::uint16_t peek_node_id(std::span<const std::uint8_t> datagram) noexcept;

}  // namespace tl::protocol
