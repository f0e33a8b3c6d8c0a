#pragma once
//! The capture nodes a mixer knows, by name and by node id.
//!
//! A slot is created the first time a name registers and is kept for the whole
//! session: a node that stops, crashes or restarts re-registers under its name,
//! gets the same node id, and its audio lands on the same tracks.
//!
//! Threads: registration and everything marked "io" happen on the io thread.
//! The mix and recorder threads only touch a slot after seeing registered()
//! true (acquire), and only the fields marked for them.

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/spsc_ring.h"
#include "tl/dsp/concealer.h"
#include "tl/dsp/strip.h"
#include "tl/mixer/frame_source.h"
#include "tl/mixer/jitter_buffer.h"
#include "tl/mixer/opus_live.h"
#include "tl/mixer/packet_slot.h"
#include "tl/protocol/audio_packet.h"
#include "tl/protocol/control.pb.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {

inline constexpr std::uint16_t kMaxNodes = 64;
inline constexpr std::uint32_t kMaxChannelsPerNode = 64;

//! Channel levels published by the mix thread (post-fader, recent window).
struct ChannelLevels {
  std::atomic<float> peak{0.0f};
  std::atomic<float> rms{0.0f};
  std::atomic<float> comp_gr_db{0.0f};  // compressor gain reduction (<= 0)
  std::atomic<float> gate_db{0.0f};     // gate gain (<= 0; -range when closed)
};

//! Channel strip settings as last set over the control channel (io thread's copy).
struct StripSettings {
  float gain_db = 0.0f;
  float pan = 0.0f;
  bool mute = false;
  bool solo = false;
  dsp::StripParams dsp{};  // trim, polarity, delay, filters, EQ, dynamics (fader/pan/mute above)
};

struct NodeSlot {
  // Fixed at first registration (read by any thread after registered()).
  std::uint16_t id = 0;
  std::string name;
  std::uint32_t channels = 0;
  std::uint32_t sample_rate = 0;
  std::uint32_t frames_per_packet = 0;
  protocol::SampleFormat format = protocol::SampleFormat::Pcm24;
  std::unique_ptr<PacketRing> to_mix;         // io -> mix
  std::unique_ptr<JitterBuffer> jitter;       // mix thread only
  std::unique_ptr<ChannelLevels[]> levels;    // mix writes, io reads
  std::unique_ptr<dsp::ChannelStrip[]> dsp;   // prepared at registration; mix thread only after
  std::unique_ptr<dsp::Concealer[]> conceal;  // live-path loss concealment, likewise
  //! Where the slot's audio comes from when not from packets (NodeRegistry::add_source: a
  //! backing track, a take's tracks in tl-render), fixed when the slot is made; the engine
  //! reads it instead of the jitter buffer. Not owned.
  FrameSource* frames = nullptr;
  //! Not a capture node (a slot fed by a FrameSource): never recorded, never listed among
  //! the nodes, sent no packets; its name is not a node's.
  bool fed_frames() const noexcept { return frames != nullptr; }

  // io thread.
  protocol::SessionKey key{};
  std::string source, host;
  std::uint64_t pid = 0;
  bool wants_cue = false;  // it plays a cue mix (tl-capture --cue), as it said at its last registration
  std::uint32_t cue_opus_bitrate = 0;  // its cue as Opus at this rate (0: 24-bit PCM), as it said
  std::uint64_t address_changes = 0;   // io: its datagrams came from a new address (see NodeInfo)
  bool control_connected = false;
  std::uint32_t connects = 0;
  std::int64_t last_heard_ns = -1;  // session clock
  std::uint64_t packets = 0;
  std::uint64_t bad = 0;
  std::uint64_t dropped_to_mix = 0;  // mix queue full
  bool seq_started = false;
  Seq first_seq = 0, highest_seq = 0;
  std::uint64_t seq_received = 0;  // packets counted toward loss since first_seq
  std::uint64_t lost_before = 0;   // loss accumulated before the last restart
  MediaTime highest_ts_end = 0;    // end of the audio in the highest-sequence packet
  std::uint64_t nacks_sent = 0;    // resend requests for gaps in the sequence
  std::uint64_t retransmits = 0;   // resent packets received (recorded, mixed if in time)
  std::unique_ptr<OpusLive> opus;  // an Opus node's live decoding (made at registration)
  // Its cue mix, mix -> io: made by the io thread before the first cue command (the
  // command queue publishes it), never freed while the slot lives.
  std::unique_ptr<SpscRing<CueChunk>> cue_out;
  double transit_sum_ms = 0.0;
  std::uint64_t transit_count = 0;
  std::vector<StripSettings> strips;
  // Its cue mix (io thread's record of what the engine was told): which of the
  // engine's cues it holds (-1: none), on or off, and each source node's level (dB).
  int cue = -1;
  bool cue_on = false;
  std::array<float, kMaxNodes + 1> cue_levels_db{};
  float cue_limit_dbtp = kCueCeilingDbtp;  // its cue limiter's ceiling (kept across off and on)
  proto::NodeReport report;                // the node's latest own report (sync, drops)
  proto::NodeState reported_state = proto::NODE_UNKNOWN;

  // mix thread writes, others read.
  std::atomic<std::uint64_t> late{0};       // packets that came after the mix read (some of) their audio
  std::atomic<std::uint64_t> concealed{0};  // samples concealed (or a codec's guess) in the live mix
  std::atomic<std::uint64_t> concealed_blocks{0};  // mix blocks in which some of its audio was concealed
  std::atomic<std::uint64_t> too_early{0};
  std::atomic<float> varispeed_ppm{0.0f};   // live-path correction applied (0: read exactly)
  std::atomic<float> drift_ppm{0.0f};       // drift measured from arrivals (+: node fast)
  std::atomic<float> margin_ms{0.0f};       // least lead of arriving audio over play-out, last window
  std::atomic<float> jitter_ms{0.0f};       // transit spread, last window
  std::atomic<float> need_ms{-1.0f};        // play-out delay its audio needed (see NodeDelay), -1: unknown
  std::atomic<float> usual_need_ms{-1.0f};  // the 99.9th percentile of its needs over the hold
  // io writes (tlctl latency), mix reads: this node's play-out delay range, frames; -1: the mixer's.
  std::atomic<std::int64_t> latency_min_frames{-1};
  std::atomic<std::int64_t> latency_max_frames{-1};
  // io writes (from the node's report), mix reads: its audio's rate, ppm; NaN unknown.
  std::atomic<float> reported_drift_ppm{std::numeric_limits<float>::quiet_NaN()};
  //! Sync exchanges the node's estimate behind reported_drift_ppm spans (0: not said).
  std::atomic<std::uint64_t> reported_drift_exchanges{0};
  // mix writes, io reads: cue chunks the io thread had not taken in time.
  std::atomic<std::uint64_t> cue_dropped{0};

  std::atomic<bool> active{false};  // set once, at first registration (release)
  bool registered() const noexcept { return active.load(std::memory_order_acquire); }
};

struct RegistryConfig {
  std::uint32_t sample_rate = 48000;
  std::uint32_t jitter_capacity_frames = 32768;
  std::uint32_t mix_queue_packets = 2048;  // internet-size datagrams (packet_ring_bytes)
  std::uint32_t max_block_frames = 4096;   // largest mix block the channel strips are prepared for
  // channel delay range: what tlctl allows (100 ms at 48 kHz)
  std::int32_t max_delay_samples = static_cast<std::int32_t>(protocol::kDelaySamples.hi);
};

class NodeRegistry {
 public:
  explicit NodeRegistry(RegistryConfig config);

  //! io: registers or re-registers a node. Errors are for the operator (rate
  //! mismatch, channel count changed on rejoin, registry full, bad name).
  Result<NodeSlot*> register_node(const proto::RegisterNode& request, const protocol::SessionKey& key);

  //! io: a slot whose audio comes from `frames`, not packets (a backing track; a take's
  //! tracks in tl-render), with strips like a node's, addressed by its name. Errors: a bad
  //! or taken name, a bad channel count, the registry full. The source must outlive the
  //! registry.
  Result<NodeSlot*> add_source(const std::string& name, std::uint32_t channels, FrameSource& frames);

  //! Slot by node id, or nullptr when unknown. Safe from any thread.
  NodeSlot* by_id(std::uint16_t id) noexcept { return slot_at(id); }
  const NodeSlot* by_id(std::uint16_t id) const noexcept { return slot_at(id); }
  NodeSlot* by_name(const std::string& name) noexcept;

  //! Calls fn(slot) for every registered node, by ascending node id. Any thread, which
  //! then touches only the slot fields marked for it.
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (std::uint16_t id = 1, high = highest_id(); id <= high; ++id) {
      if (NodeSlot* slot = slot_at(id)) fn(*slot);
    }
  }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (std::uint16_t id = 1, high = highest_id(); id <= high; ++id) {
      if (const NodeSlot* slot = slot_at(id)) fn(*slot);
    }
  }

  //! io: the node state as the operator sees it.
  proto::NodeState state_of(const NodeSlot& slot, std::int64_t now_ns) const noexcept;

  //! Highest node id ever handed out (mix and recorder scan 1..this).
  std::uint16_t highest_id() const noexcept { return highest_.load(std::memory_order_acquire); }

  const RegistryConfig& config() const noexcept { return config_; }

 private:
  NodeSlot* slot_at(std::uint16_t id) const noexcept;
  //! A new slot under the next id, prepared and published to the other threads.
  Result<NodeSlot*> create_slot(const std::string& name, std::uint32_t channels, FrameSource* frames);

  RegistryConfig config_;
  std::array<std::unique_ptr<NodeSlot>, kMaxNodes + 1> slots_;  // index = node id, 0 unused
  std::atomic<std::uint16_t> highest_{0};
};

//! The wire format of a control-channel format (FORMAT_UNSPECIFIED reads as PCM24,
//! the default a node registers with).
protocol::SampleFormat wire_format(proto::SampleFormat format);

//! Splits "node/channel" (1-based channel) into a slot and a 0-based channel index.
Result<std::pair<NodeSlot*, std::uint32_t>> resolve_target(NodeRegistry& registry, const std::string& target);

}  // namespace tl::mixer
