#include "tl/protocol/sync.h"

#include "tl/protocol/byte_order.h"

namespace tl::protocol {
namespace {
PacketHeader sync_header(PacketType type, std::uint16_t node_id, Seq seq) {
  PacketHeader h;
  h.type = type;
  h.node_id = node_id;
  h.seq = seq;
  h.format = SampleFormat::None;
  return h;
}
}  // namespace

std::size_t encode_sync_request(std::uint16_t node_id, Seq seq, std::int64_t t1, const SessionKey& key,
                                std::span<std::uint8_t> out) noexcept {
  std::uint8_t payload[kSyncRequestPayload];
  put_u64(payload, static_cast<std::uint64_t>(t1));
  return encode(sync_header(PacketType::SyncRequest, node_id, seq), payload, key, out);
}

std::size_t encode_sync_reply(std::uint16_t node_id, Seq seq, std::int64_t t1, std::int64_t t2,
                              std::int64_t t3, const SessionKey& key, std::span<std::uint8_t> out) noexcept {
  std::uint8_t payload[kSyncReplyPayload];
  put_u64(payload, static_cast<std::uint64_t>(t1));
  put_u64(payload + 8, static_cast<std::uint64_t>(t2));
  put_u64(payload + 16, static_cast<std::uint64_t>(t3));
  return encode(sync_header(PacketType::SyncReply, node_id, seq), payload, key, out);
}

std::optional<std::int64_t> parse_sync_request(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() != kSyncRequestPayload) return std::nullopt;
  return static_cast<std::int64_t>(get_u64(payload.data()));
}

std::optional<SyncSample> parse_sync_reply(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() != kSyncReplyPayload) return std::nullopt;
  SyncSample s;
  s.t1 = static_cast<std::int64_t>(get_u64(payload.data()));
  s.t2 = static_cast<std::int64_t>(get_u64(payload.data() + 8));
  s.t3 = static_cast<std::int64_t>(get_u64(payload.data() + 16));
  return s;
}

}  // namespace tl::protocol
