#pragma once
//! Clock-sync exchange over UDP (NTP/PTP-style four timestamps).
//!
//! The node sends SyncRequest{t1 = its monotonic ns}; the mixer answers
//! SyncReply{t1, t2 = session ns at receipt, t3 = session ns at send}; the node
//! notes t4 on receipt. Both travel in the audio packet framing (type SyncRequest /
//! SyncReply, format None, zero frames) and carry the session key's tag.
//!
//!   offset = ((t2 - t1) + (t3 - t4)) / 2    session_ns ~= node_ns + offset
//!   rtt    = (t4 - t1) - (t3 - t2)

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tl/protocol/audio_packet.h"

namespace tl::protocol {

struct SyncSample {
  std::int64_t t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  std::int64_t offset_ns() const noexcept { return ((t2 - t1) + (t3 - t4)) / 2; }
  std::int64_t rtt_ns() const noexcept { return (t4 - t1) - (t3 - t2); }
};

inline constexpr std::size_t kSyncRequestPayload = 8;
inline constexpr std::size_t kSyncReplyPayload = 24;

//! Builds a complete SyncRequest datagram into out; returns its size (0 if out is too small).
std::size_t encode_sync_request(std::uint16_t node_id, Seq seq, std::int64_t t1, const SessionKey& key,
                                std::span<std::uint8_t> out) noexcept;

//! Builds a complete SyncReply datagram into out; returns its size.
std::size_t encode_sync_reply(std::uint16_t node_id, Seq seq, std::int64_t t1, std::int64_t t2,
                              std::int64_t t3, const SessionKey& key, std::span<std::uint8_t> out) noexcept;

//! t1 from a decoded SyncRequest payload; nullopt when the size is wrong.
std::optional<std::int64_t> parse_sync_request(std::span<const std::uint8_t> payload) noexcept;

//! t1, t2, t3 from a decoded SyncReply payload (t4 left 0); nullopt when the size is wrong.
std::optional<SyncSample> parse_sync_reply(std::span<const std::uint8_t> payload) noexcept;

}  // namespace tl::protocol
