#pragma once
//! NACK: the mixer asks a node to resend audio it did not receive.
//!
//! Sent on the audio socket as a PacketType::Nack packet (format None, zero
//! frames) tagged with the session key; the payload lists ranges of media time:
//! u16 count, then count x [from: i64][frames: u32], big-endian. The node answers
//! from its spool with PacketType::Retransmit packets (kFlagRetransmit), which the
//! mixer records like any audio and mixes when they are still in time.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tl/protocol/audio_packet.h"

namespace tl::protocol {

struct NackRange {
  MediaTime from = 0;
  std::uint32_t frames = 0;
};

inline constexpr std::size_t kNackRangeBytes = 12;
inline constexpr std::size_t kMaxNackRanges = (kSafePayloadBytes - 2) / kNackRangeBytes;

//! Builds a complete NACK datagram; returns its size (0 when ranges is empty, holds
//! more than kMaxNackRanges, or out is too small).
std::size_t encode_nack(std::uint16_t node_id, Seq seq, std::span<const NackRange> ranges,
                        const SessionKey& key, std::span<std::uint8_t> out) noexcept;

//! Reads the ranges of a NACK payload into out; returns how many, or 0 when the
//! payload is malformed (count disagrees with its size, zero or oversized frames).
std::size_t parse_nack(std::span<const std::uint8_t> payload, std::span<NackRange> out) noexcept;

}  // namespace tl::protocol
