#pragma once
//! Turns queued blocks into Opus audio packets (SampleFormat::Opus).
//!
//! One mono Opus encoder per channel, created once (the sender thread never
//! allocates per block). A block is one Opus frame per channel (120, 240, 480 or
//! 960 samples at 48 kHz); channels share packets as far as their frames fit
//! (see tl/protocol/opus_payload.h). In-band FEC is on: each frame carries a
//! low-rate copy of the one before, which the mixer decodes when that one is lost
//! (Opus codes it in its SILK layer, so it is there in SILK and hybrid modes).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/capture/block_queue.h"
#include "tl/capture/packetizer.h"
#include "tl/common/result.h"
#include "tl/protocol/audio_packet.h"

struct OpusEncoder;

namespace tl::capture {

class OpusPacketizer {
 public:
  struct Config {
    std::size_t channels = 1;
    std::uint32_t rate = 48000;
    std::uint16_t frames = 240;
    std::uint32_t bitrate = 96000;   //!< bits/s per channel
    int expected_loss_percent = 10;  //!< how much FEC the encoder spends
  };
  static Result<OpusPacketizer> create(const Config& config);
  ~OpusPacketizer();
  OpusPacketizer(OpusPacketizer&& other) noexcept;
  OpusPacketizer& operator=(OpusPacketizer&&) = delete;
  OpusPacketizer(const OpusPacketizer&) = delete;
  OpusPacketizer& operator=(const OpusPacketizer&) = delete;

  //! Packets of one block (planar: channel c at planar + c*frames). Valid until the
  //! next call; empty if the encoder failed (counted in encode_errors()).
  std::span<const Packet> packetize(const BlockInfo& info, const float* planar, std::uint16_t node_id,
                                    const protocol::SessionKey& key) noexcept;

  std::size_t channels_per_packet() const noexcept { return per_packet_; }
  std::uint64_t encode_errors() const noexcept { return encode_errors_; }

 private:
  explicit OpusPacketizer(const Config& config);

  Config config_;
  std::size_t cap_ = 0, per_packet_ = 1;
  std::vector<OpusEncoder*> encoders_;
  std::vector<Packet> packets_;
  std::vector<std::uint8_t> payload_, frame_;
  Seq seq_ = 0;
  std::uint64_t encode_errors_ = 0;
};

}  // namespace tl::capture
