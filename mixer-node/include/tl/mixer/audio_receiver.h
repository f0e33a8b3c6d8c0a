#pragma once
//! Receives audio and sync datagrams on the io thread (one socket, one owner).
//!
//! The socket is read every millisecond (Config::poll_period), everything waiting at
//! once (recvmmsg): the io thread wakes a thousand times a second, not once per
//! datagram (at 64 channels that was 9,000 wake-ups a second, most of its CPU). A
//! packet carries when it reached the host (the kernel's stamp: the path's transit and
//! drift) and when it was read (what the play-out delay must cover).
//! Every datagram is parsed and authenticated before anything trusts it; a bad
//! one is dropped and counted by reason, and a line is logged (rate-limited).
//! Good audio packets are copied into the node's mix queue and the recorder's
//! queue; sync requests are answered with the time they reached the host (the
//! kernel's stamp) and the time of the answer, so the wait costs the exchange nothing. A gap in a
//! node's sequence is answered with a NACK for the audio it held, which the node
//! resends from its spool. Opus audio is decoded here, in media-time order, by
//! the node's OpusLive (which conceals its losses), and handed on as PCM flagged
//! lossy: the mix plays it; the recorder keeps it only until the node's exact
//! samples (fetched from its spool) replace it. Every millisecond the cue mixes the
//! mix thread made are sent back to their nodes (PCM24 stereo, PacketType::Cue) at
//! the address their sync and audio come from.

#include <sys/socket.h>

#include <array>
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "tl/common/spsc_ring.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/opus_live.h"
#include "tl/mixer/packet_slot.h"
#include "tl/mixer/session_clock.h"
#include "tl/protocol/audio_packet.h"
#include "tl/protocol/opus_cue.h"

namespace tl::mixer {

struct ReceiverCounters {
  std::array<std::uint64_t, static_cast<std::size_t>(protocol::DecodeError::kCount)> rejected{};
  std::uint64_t unknown_node = 0;
  std::uint64_t bad_channel = 0;
  std::uint64_t unsupported = 0;
  std::uint64_t bad_opus = 0;        // Opus packets whose frames do not parse
  std::uint64_t record_dropped = 0;  // recorder queue full: must stay 0
  std::uint64_t datagrams = 0;
  std::uint64_t sync_replies = 0;
  std::uint64_t cue_packets = 0;
  std::uint64_t total_rejected() const noexcept;
};

class AudioReceiver {
 public:
  struct Config {
    //! How often the socket is read (and cue mixes sent): every datagram waiting is
    //! read at once, so the io thread wakes this often, not once per datagram. The mixer
    //! reads once per mix block.
    std::chrono::microseconds poll_period{1000};
  };
  //! Binds the UDP socket (std::system_error when it cannot) and starts reading it.
  AudioReceiver(asio::io_context& io, const asio::ip::udp::endpoint& endpoint, NodeRegistry& registry,
                const SessionClock& clock, PacketRing& to_recorder, Config config);
  AudioReceiver(asio::io_context& io, const asio::ip::udp::endpoint& endpoint, NodeRegistry& registry,
                const SessionClock& clock, PacketRing& to_recorder)
      : AudioReceiver(io, endpoint, registry, clock, to_recorder, Config{}) {}
  ~AudioReceiver();
  AudioReceiver(const AudioReceiver&) = delete;
  AudioReceiver& operator=(const AudioReceiver&) = delete;

  std::uint16_t port() const;
  //! The live mix's play-out delay now, in frames (it adapts): Opus gaps are given up
  //! just before their audio is due. Set before audio arrives; without it, 20 ms.
  void set_play_out_delay(std::function<MediaTime()> delay) { play_out_delay_ = std::move(delay); }
  //! Whether the recorder wants packets now (while no take records, none are queued for
  //! it). Without it, every packet is.
  void set_record_gate(std::function<bool()> gate) { record_gate_ = std::move(gate); }
  const ReceiverCounters& counters() const noexcept { return counters_; }

  //! Handles one datagram from sender (used by the receive loop; public so tests can feed
  //! crafted input): reached_ns, when it reached this host (the kernel's stamp), and
  //! read_ns, when it was read (session clock; -1: now).
  void handle(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& sender,
              std::int64_t reached_ns = -1, std::int64_t read_ns = -1);

 private:
  //! Every poll period: reads every datagram waiting, sends the cue mixes.
  void poll();
  //! Reads every datagram waiting (recvmmsg, in batches) and handles each.
  void drain();
  //! Sends the cue chunks the mix thread has made.
  void send_cues();
  //! Sends a datagram (never blocks; a full socket buffer drops it), counting it when sent.
  void send(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& to, std::uint64_t& sent);
  void reject(protocol::DecodeError reason, const asio::ip::udp::endpoint& sender, std::uint16_t node);
  void log_drop(std::string_view reason, const asio::ip::udp::endpoint& sender, std::uint16_t node);
  void request_missing(NodeSlot& slot, const protocol::PacketHeader& h,
                       const asio::ip::udp::endpoint& sender);
  void account(NodeSlot& slot, const protocol::PacketHeader& h, std::int64_t arrival_ns);
  //! Copies a datagram into the node's mix queue and the recorder's queue: it reached the
  //! host at arrival_ns and was read at ready_ns.
  void forward(NodeSlot& slot, std::span<const std::uint8_t> datagram, std::int64_t arrival_ns,
               std::int64_t ready_ns);
  //! Decodes an Opus packet (and any now due) and forwards the PCM.
  void receive_opus(NodeSlot& slot, const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                    std::int64_t arrival_ns, const asio::ip::udp::endpoint& sender);
  class DecodedSink;

  int fd_ = -1;  // the UDP socket: this class's own, read and written on the io thread only
  asio::steady_timer poll_timer_;
  Config config_;
  std::array<asio::ip::udp::endpoint, kMaxNodes + 1> from_{};  // where each node's datagrams come from
  std::array<Seq, kMaxNodes + 1> cue_seq_{};
  std::array<float, 2 * kCueChunkFrames> cue_samples_{};
  //! A node's cue as Opus (its registration asked for it), made on first use.
  std::array<std::unique_ptr<protocol::CueEncoder>, kMaxNodes + 1> cue_encoders_{};
  std::array<std::uint32_t, kMaxNodes + 1> cue_encoder_bitrate_{};
  //! Sends one cue packet to node id.
  void send_cue(NodeSlot& slot, const protocol::PacketHeader& h, std::span<const std::uint8_t> payload);
  NodeRegistry& registry_;
  const SessionClock& clock_;
  PacketRing& to_recorder_;
  //! One datagram of a batch: its buffer (longer than any packet: longer datagrams are
  //! cut, and refused by their length), where it came from, its arrival stamp.
  struct Incoming {
    std::array<std::uint8_t, protocol::kMaxPacketBytes + 64> data{};
    sockaddr_storage from{};
    iovec iov{};
    std::array<char, 64> control{};  // SCM_TIMESTAMPNS
  };
  static constexpr std::size_t kBatch = 32;
  std::array<Incoming, kBatch> batch_{};
  std::array<mmsghdr, kBatch> headers_{};
  std::array<std::uint8_t, protocol::kMaxPacketBytes> reply_{};
  std::array<std::uint8_t, protocol::kMaxPacketBytes> decoded_{};
  std::array<std::uint8_t, protocol::kMaxPayloadBytes> decoded_payload_{};
  std::function<MediaTime()> play_out_delay_;
  std::function<bool()> record_gate_;
  ReceiverCounters counters_;
  std::int64_t read_ns_ = 0;  // when the datagram being handled was read
  std::int64_t last_log_ns_ = -10'000'000'000;
  std::uint64_t suppressed_logs_ = 0;
};

}  // namespace tl::mixer
