#include "tl/capture/opus_packetizer.h"

#include <opus.h>

#include <algorithm>
#include <string>

#include "tl/protocol/opus_payload.h"

namespace tl::capture {

OpusPacketizer::OpusPacketizer(const Config& config)
    : config_(config),
      cap_(protocol::opus_frame_cap(config.rate, config.frames, config.bitrate)),
      per_packet_(std::min(config.channels, protocol::opus_channels_per_packet(cap_))),
      packets_((config.channels + per_packet_ - 1) / per_packet_),
      payload_(protocol::kMaxPayloadBytes),
      frame_(cap_) {}

Result<OpusPacketizer> OpusPacketizer::create(const Config& config) {
  if (!protocol::opus_frame_size_ok(config.rate, config.frames)) {
    return Error{"Opus needs --rate 48000 and --frames-per-packet 120, 240, 480 or 960 (2.5-20 ms); got " +
                 std::to_string(config.rate) + " Hz, " + std::to_string(config.frames) + " frames"};
  }
  if (config.bitrate < 6000 || config.bitrate > 510000) {
    return Error{"Opus bitrate " + std::to_string(config.bitrate / 1000) + " kb/s is outside 6-510 kb/s"};
  }
  OpusPacketizer p(config);
  for (std::size_t c = 0; c < config.channels; ++c) {
    int err = OPUS_OK;
    OpusEncoder* enc =
        opus_encoder_create(static_cast<opus_int32>(config.rate), 1, OPUS_APPLICATION_AUDIO, &err);
    if (enc == nullptr || err != OPUS_OK) {
      return Error{std::string("cannot create an Opus encoder: ") + opus_strerror(err)};
    }
    p.encoders_.push_back(enc);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(static_cast<opus_int32>(config.bitrate)));
    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(config.expected_loss_percent));
    opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_MUSIC));
  }
  return p;
}

OpusPacketizer::OpusPacketizer(OpusPacketizer&& other) noexcept
    : config_(other.config_),
      cap_(other.cap_),
      per_packet_(other.per_packet_),
      encoders_(std::move(other.encoders_)),
      packets_(std::move(other.packets_)),
      payload_(std::move(other.payload_)),
      frame_(std::move(other.frame_)),
      seq_(other.seq_),
      encode_errors_(other.encode_errors_) {
  other.encoders_.clear();
}

OpusPacketizer::~OpusPacketizer() {
  for (OpusEncoder* e : encoders_) opus_encoder_destroy(e);
}

std::span<const Packet> OpusPacketizer::packetize(const BlockInfo& info, const float* planar,
                                                  std::uint16_t node_id,
                                                  const protocol::SessionKey& key) noexcept {
  const std::size_t frames = config_.frames;
  std::size_t first = 0;
  for (Packet& packet : packets_) {
    const std::size_t count = std::min(per_packet_, config_.channels - first);
    std::size_t used = 0;
    for (std::size_t c = first; c < first + count; ++c) {
      const opus_int32 n = opus_encode_float(encoders_[c], planar + c * frames, static_cast<int>(frames),
                                             frame_.data(), static_cast<opus_int32>(frame_.size()));
      used = n > 0 ? protocol::append_opus_frame(payload_, used, {frame_.data(), static_cast<std::size_t>(n)})
                   : 0;
      if (used == 0) {
        ++encode_errors_;
        return {};
      }
    }
    protocol::PacketHeader h;
    h.type = protocol::PacketType::Audio;
    h.flags = info.flags;
    h.node_id = node_id;
    h.seq = seq_++;
    h.media_ts = info.media_ts;
    h.frame_count = static_cast<std::uint16_t>(frames);
    h.channel_count = static_cast<std::uint8_t>(count);
    h.first_channel = static_cast<std::uint8_t>(first);
    h.format = protocol::SampleFormat::Opus;
    packet.size = protocol::encode(h, {payload_.data(), used}, key, packet.bytes);
    first += count;
  }
  return packets_;
}

}  // namespace tl::capture
