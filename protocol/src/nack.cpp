#include "tl/protocol/nack.h"

#include "tl/protocol/byte_order.h"

namespace tl::protocol {

std::size_t encode_nack(std::uint16_t node_id, Seq seq, std::span<const NackRange> ranges,
                        const SessionKey& key, std::span<std::uint8_t> out) noexcept {
  if (ranges.empty() || ranges.size() > kMaxNackRanges) return 0;
  std::uint8_t payload[kMaxPayloadBytes];
  put_u16(payload, static_cast<std::uint16_t>(ranges.size()));
  std::size_t at = 2;
  for (const NackRange& r : ranges) {
    put_u64(payload + at, static_cast<std::uint64_t>(r.from));
    put_u32(payload + at + 8, r.frames);
    at += kNackRangeBytes;
  }
  PacketHeader h;
  h.type = PacketType::Nack;
  h.node_id = node_id;
  h.seq = seq;
  h.format = SampleFormat::None;
  return encode(h, std::span<const std::uint8_t>(payload, at), key, out);
}

std::size_t parse_nack(std::span<const std::uint8_t> payload, std::span<NackRange> out) noexcept {
  if (payload.size() < 2) return 0;
  const std::size_t count = get_u16(payload.data());
  if (count == 0 || count > kMaxNackRanges || payload.size() != 2 + count * kNackRangeBytes) return 0;
  if (count > out.size()) return 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* p = payload.data() + 2 + i * kNackRangeBytes;
    out[i].from = static_cast<MediaTime>(get_u64(p));
    out[i].frames = get_u32(p + 8);
    if (out[i].frames == 0 || out[i].frames > 10u * 48000u) return 0;  // at most 10 s at 48 kHz per range
  }
  return count;
}

}  // namespace tl::protocol
