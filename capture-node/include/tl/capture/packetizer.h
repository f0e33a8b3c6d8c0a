#pragma once
//! Turns queued blocks into authenticated audio packets.
//!
//! One block becomes ceil(channels / max_channels_per_packet) packets (within the
//! payload budget: kSafePayloadBytes until set_payload_budget() says the route takes
//! more), all with the block's media timestamp, each carrying a contiguous channel
//! range (first_channel, channel_count) interleaved [frame][channel]. Sequence numbers
//! count packets per node (+1 each, wrapping). Buffers are sized once, for any budget.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/capture/block_queue.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {

struct Packet {
  std::array<std::uint8_t, protocol::kMaxPacketBytes> bytes{};
  std::size_t size = 0;
  std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
};

class Packetizer {
 public:
  Packetizer(std::size_t channels, std::uint16_t frames, protocol::SampleFormat format);

  //! Packets of one block (planar: channel c at planar + c*frames). Valid until the next call.
  std::span<const Packet> packetize(const BlockInfo& info, const float* planar, std::uint16_t node_id,
                                    const protocol::SessionKey& key) noexcept;

  //! Packets resending frames (<= the block size) of wire-format audio for every
  //! channel (interleaved [frame][channel], as the spool keeps it): type Retransmit,
  //! flags | kFlagRetransmit, split by channel like a live block. They take no
  //! live sequence number (seq 0). Valid until the next call.
  std::span<const Packet> packetize_wire(MediaTime media_ts, std::uint16_t frames, std::uint16_t flags,
                                         std::span<const std::uint8_t> wire, std::uint16_t node_id,
                                         const protocol::SessionKey& key) noexcept;

  //! Packs up to this many payload bytes into a packet from the next block on (clamped
  //! to kSafePayloadBytes..kMaxPayloadBytes). Never allocates.
  void set_payload_budget(std::size_t bytes) noexcept;
  std::size_t payload_budget() const noexcept { return budget_; }

  Seq next_seq() const noexcept { return seq_; }
  void set_next_seq(Seq seq) noexcept { seq_ = seq; }
  std::size_t packets_per_block() const noexcept { return count_; }
  std::size_t channels_per_packet() const noexcept { return per_packet_; }
  //! Samples clamped to full scale so far.
  std::uint64_t clipped() const noexcept { return clipped_; }

 private:
  const std::size_t channels_;
  const std::uint16_t frames_;
  const protocol::SampleFormat format_;
  std::size_t budget_ = protocol::kSafePayloadBytes;
  std::size_t per_packet_;
  std::size_t count_ = 0;        // packets per block at this budget
  std::vector<Packet> packets_;  // as many as the smallest budget needs
  std::vector<float> interleaved_;
  std::vector<std::uint8_t> payload_;
  Seq seq_ = 0;
  std::uint64_t clipped_ = 0;
};

}  // namespace tl::capture
