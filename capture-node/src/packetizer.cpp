#include "tl/capture/packetizer.h"

#include <algorithm>
#include <cassert>

#include "tl/protocol/pcm.h"

namespace tl::capture {

Packetizer::Packetizer(std::size_t channels, std::uint16_t frames, protocol::SampleFormat format)
    : channels_(channels),
      frames_(frames),
      format_(format),
      per_packet_(std::min(channels, protocol::max_channels_per_packet(frames, format))) {
  assert(per_packet_ >= 1);
  count_ = (channels_ + per_packet_ - 1) / per_packet_;
  packets_.resize(count_);
  // Room for the largest budget's packets, so a new budget never allocates.
  const std::size_t most =
      std::min(channels, protocol::max_channels_per_packet(frames, format, protocol::kMaxPayloadBytes));
  interleaved_.resize(most * frames_);
  payload_.resize(most * frames_ * protocol::bytes_per_sample(format_));
}

void Packetizer::set_payload_budget(std::size_t bytes) noexcept {
  budget_ = std::clamp(bytes, protocol::kSafePayloadBytes, protocol::kMaxPayloadBytes);
  per_packet_ = std::min(channels_, protocol::max_channels_per_packet(frames_, format_, budget_));
  count_ = (channels_ + per_packet_ - 1) / per_packet_;
}

std::span<const Packet> Packetizer::packetize(const BlockInfo& info, const float* planar,
                                              std::uint16_t node_id,
                                              const protocol::SessionKey& key) noexcept {
  std::size_t first = 0;
  for (Packet& packet : std::span(packets_).first(count_)) {
    const std::size_t count = std::min(per_packet_, channels_ - first);
    for (std::size_t i = 0; i < frames_; ++i) {
      for (std::size_t c = 0; c < count; ++c) interleaved_[i * count + c] = planar[(first + c) * frames_ + i];
    }
    const std::size_t samples = count * frames_;
    const std::size_t bytes = samples * protocol::bytes_per_sample(format_);
    clipped_ += protocol::pack_pcm({interleaved_.data(), samples}, format_, {payload_.data(), bytes});
    protocol::PacketHeader h;
    h.type = protocol::PacketType::Audio;
    h.flags = info.flags;
    h.node_id = node_id;
    h.stream_id = 0;
    h.seq = seq_++;
    h.media_ts = info.media_ts;
    h.frame_count = frames_;
    h.channel_count = static_cast<std::uint8_t>(count);
    h.first_channel = static_cast<std::uint8_t>(first);
    h.format = format_;
    packet.size = protocol::encode(h, {payload_.data(), bytes}, key, packet.bytes);
    assert(packet.size != 0);
    first += count;
  }
  return std::span<const Packet>(packets_).first(count_);
}

std::span<const Packet> Packetizer::packetize_wire(MediaTime media_ts, std::uint16_t frames,
                                                   std::uint16_t flags, std::span<const std::uint8_t> wire,
                                                   std::uint16_t node_id,
                                                   const protocol::SessionKey& key) noexcept {
  const std::size_t bps = protocol::bytes_per_sample(format_);
  frames = std::min(frames, frames_);
  if (wire.size() < static_cast<std::size_t>(frames) * channels_ * bps) return {};
  std::size_t first = 0;
  for (Packet& packet : std::span(packets_).first(count_)) {
    const std::size_t count = std::min(per_packet_, channels_ - first);
    for (std::size_t i = 0; i < frames; ++i) {
      const std::uint8_t* from = wire.data() + (i * channels_ + first) * bps;
      std::copy_n(from, count * bps, payload_.data() + i * count * bps);
    }
    protocol::PacketHeader h;
    h.type = protocol::PacketType::Retransmit;
    h.flags = static_cast<std::uint16_t>(flags | protocol::kFlagRetransmit);
    h.node_id = node_id;
    h.media_ts = media_ts;
    h.frame_count = frames;
    h.channel_count = static_cast<std::uint8_t>(count);
    h.first_channel = static_cast<std::uint8_t>(first);
    h.format = format_;
    packet.size = protocol::encode(h, {payload_.data(), count * frames * bps}, key, packet.bytes);
    first += count;
  }
  return std::span<const Packet>(packets_).first(count_);
}

}  // namespace tl::capture
