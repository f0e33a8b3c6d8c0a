#include "tl/protocol/audio_packet.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "tl/protocol/byte_order.h"

namespace tl::protocol {
namespace {

bool known_type(std::uint8_t t) noexcept {
  return t >= static_cast<std::uint8_t>(PacketType::Audio) &&
         t <= static_cast<std::uint8_t>(PacketType::Retransmit);
}

bool carries_audio(PacketType t) noexcept {
  return t == PacketType::Audio || t == PacketType::Cue || t == PacketType::Retransmit;
}

void compute_tag(std::span<const std::uint8_t> body, const SessionKey& key, std::uint8_t* tag) noexcept {
  crypto_generichash(tag, kTagBytes, body.data(), body.size(), key.data(), key.size());
}

}  // namespace

std::string_view to_string(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::Ok:
      return "ok";
    case DecodeError::TooShort:
      return "too short";
    case DecodeError::TooLong:
      return "too long";
    case DecodeError::BadMagic:
      return "bad magic";
    case DecodeError::BadVersion:
      return "unsupported version";
    case DecodeError::BadType:
      return "unknown packet type";
    case DecodeError::BadFormat:
      return "unknown sample format";
    case DecodeError::BadLength:
      return "payload length mismatch";
    case DecodeError::BadShape:
      return "frame/channel counts out of range";
    case DecodeError::BadTag:
      return "authentication failed";
    case DecodeError::kCount:
      break;
  }
  return "?";
}

std::size_t bytes_per_sample(SampleFormat f) noexcept {
  switch (f) {
    case SampleFormat::Pcm16:
      return 2;
    case SampleFormat::Pcm24:
      return 3;
    case SampleFormat::F32:
      return 4;
    default:
      return 0;
  }
}

std::size_t max_channels_per_packet(std::uint16_t frames, SampleFormat f,
                                    std::size_t payload_budget) noexcept {
  const std::size_t per_channel = static_cast<std::size_t>(frames) * bytes_per_sample(f);
  if (per_channel == 0) return 0;
  const std::size_t n = std::min(payload_budget, kMaxPayloadBytes) / per_channel;
  return n > 255 ? 255 : n;
}

std::size_t payload_budget(std::size_t receiver_max, std::size_t route_mtu, bool ipv6) noexcept {
  const std::size_t accepted =
      receiver_max == 0 ? kSafePayloadBytes : std::min(receiver_max, kMaxPayloadBytes);
  constexpr std::size_t kEthernetMtu = 1500;
  if (route_mtu <= kEthernetMtu) return std::min(accepted, kSafePayloadBytes);
  const std::size_t ip_udp = (ipv6 ? 40 : 20) + 8;
  const std::size_t overhead = ip_udp + kHeaderBytes + kTagBytes;
  if (route_mtu <= overhead + kSafePayloadBytes) return std::min(accepted, kSafePayloadBytes);
  return std::min(accepted, route_mtu - overhead);
}

std::size_t encode(const PacketHeader& h, std::span<const std::uint8_t> payload, const SessionKey& key,
                   std::span<std::uint8_t> out) noexcept {
  if (payload.size() > kMaxPayloadBytes) return 0;
  const std::size_t total = kHeaderBytes + payload.size() + kTagBytes;
  if (out.size() < total) return 0;
  std::uint8_t* p = out.data();
  put_u32(p + 0, kMagic);
  p[4] = kVersion;
  p[5] = static_cast<std::uint8_t>(h.type);
  put_u16(p + 6, h.flags);
  put_u16(p + 8, h.node_id);
  put_u16(p + 10, h.stream_id);
  put_u32(p + 12, h.seq);
  put_u64(p + 16, static_cast<std::uint64_t>(h.media_ts));
  put_u16(p + 24, h.frame_count);
  p[26] = h.channel_count;
  p[27] = h.first_channel;
  p[28] = static_cast<std::uint8_t>(h.format);
  p[29] = 0;
  put_u16(p + 30, static_cast<std::uint16_t>(payload.size()));
  if (!payload.empty()) std::memcpy(p + kHeaderBytes, payload.data(), payload.size());
  compute_tag(out.first(kHeaderBytes + payload.size()), key, p + kHeaderBytes + payload.size());
  return total;
}

DecodeError parse(std::span<const std::uint8_t> d, PacketHeader& h,
                  std::span<const std::uint8_t>& payload) noexcept {
  if (d.size() < kHeaderBytes + kTagBytes) return DecodeError::TooShort;
  if (d.size() > kMaxPacketBytes) return DecodeError::TooLong;
  const std::uint8_t* p = d.data();
  if (get_u32(p) != kMagic) return DecodeError::BadMagic;
  if (p[4] != kVersion) return DecodeError::BadVersion;
  if (!known_type(p[5])) return DecodeError::BadType;
  if (p[28] > static_cast<std::uint8_t>(SampleFormat::Opus)) return DecodeError::BadFormat;

  h.type = static_cast<PacketType>(p[5]);
  h.flags = get_u16(p + 6);
  h.node_id = get_u16(p + 8);
  h.stream_id = get_u16(p + 10);
  h.seq = get_u32(p + 12);
  h.media_ts = static_cast<MediaTime>(get_u64(p + 16));
  h.frame_count = get_u16(p + 24);
  h.channel_count = p[26];
  h.first_channel = p[27];
  h.format = static_cast<SampleFormat>(p[28]);
  h.payload_bytes = get_u16(p + 30);

  if (h.payload_bytes != d.size() - kHeaderBytes - kTagBytes) return DecodeError::BadLength;
  if (h.payload_bytes > kMaxPayloadBytes) return DecodeError::BadLength;

  if (carries_audio(h.type)) {
    if (h.format == SampleFormat::None) return DecodeError::BadFormat;
    if (h.frame_count == 0 || h.frame_count > kMaxFrames) return DecodeError::BadShape;
    if (h.channel_count == 0) return DecodeError::BadShape;
    if (static_cast<unsigned>(h.first_channel) + h.channel_count > 255u) return DecodeError::BadShape;
    const std::size_t bps = bytes_per_sample(h.format);
    if (bps != 0) {
      const std::size_t want = static_cast<std::size_t>(h.frame_count) * h.channel_count * bps;
      if (want != h.payload_bytes) return DecodeError::BadShape;
    } else if (h.payload_bytes == 0) {
      return DecodeError::BadShape;  // Opus needs at least its TOC byte
    }
  }
  payload = d.subspan(kHeaderBytes, h.payload_bytes);
  return DecodeError::Ok;
}

bool verify_tag(std::span<const std::uint8_t> d, const SessionKey& key) noexcept {
  if (d.size() < kHeaderBytes + kTagBytes) return false;
  std::uint8_t tag[kTagBytes];
  const std::size_t body = d.size() - kTagBytes;
  compute_tag(d.first(body), key, tag);
  return sodium_memcmp(tag, d.data() + body, kTagBytes) == 0;
}

DecodeError decode(std::span<const std::uint8_t> d, const SessionKey& key, PacketHeader& h,
                   std::span<const std::uint8_t>& payload) noexcept {
  const DecodeError e = parse(d, h, payload);
  if (e != DecodeError::Ok) return e;
  if (!verify_tag(d, key)) return DecodeError::BadTag;
  return DecodeError::Ok;
}

std::uint16_t peek_node_id(std::span<const std::uint8_t> d) noexcept {
  if (d.size() < kHeaderBytes) return 0;
  return get_u16(d.data() + 8);
}

}  // namespace tl::protocol
