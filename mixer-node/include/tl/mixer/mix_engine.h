#pragma once
//! The mix engine: one real-time pass per block, driven by one clock.
//!
//! Each block it drains every node's packet queue into that node's jitter
//! buffer (a node with a FrameSource hands over frames instead, read exactly at the
//! play-out position), reads the block at the node's play-out cursor (the session position,
//! steered by a VarispeedControl when the node's clock drifts, and then read
//! through a band-limited dsp::Varispeed), runs the node's dsp::ChannelStrip
//! (trim, polarity, delay, HPF, LPF, EQ, gate, compressor; prepared by the registry),
//! applies gain, mute, solo-in-place and constant-power pan, sums to stereo, meters, and
//! hands the mix to the recorder. Up to kMaxCues personal cue mixes are summed from the
//! same strip outputs (fader and pan, a level per source node) and handed to the io
//! thread, which streams each back to its node. process() never locks, allocates, logs or does
//! I/O: parameters arrive through a pre-sized command queue and are ramped over
//! the block so changes make no zipper noise.
//!
//! The play-out delay (how far the mix runs behind the session clock) adapts
//! (PlayoutPolicy): every packet tells its node's NodeDelay how much delay it
//! needed to be in time, measured when the mix thread sees it; a node asks for the
//! 99.9th percentile of its needs over the hold (30 s), or the need of its latest late
//! packet, plus a safety margin (1 ms), within its own range (from tlctl) if it has
//! one; the mix takes the largest ask of the streaming nodes, within the mixer's
//! range. One delay for all nodes keeps the live mix sample-aligned across nodes. It
//! rises at once and falls only once the needs behind it have left the hold. The
//! headless driver reads it for its deadlines, so a change moves the wall-clock time
//! of the blocks, never the audio: mix.wav stays continuous and aligned.

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>

#include "tl/common/spsc_ring.h"
#include "tl/common/units.h"
#include "tl/dsp/bus.h"
#include "tl/dsp/cascade_bank.h"
#include "tl/dsp/strip.h"
#include "tl/dsp/varispeed.h"
#include "tl/mixer/bus_rack.h"
#include "tl/mixer/delay_need.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/packet_slot.h"
#include "tl/mixer/playout_policy.h"
#include "tl/mixer/talk_mix.h"
#include "tl/mixer/timeline_loop.h"
#include "tl/mixer/varispeed_control.h"

namespace tl::mixer {

//! MixCommand::count_in_to of a play that does not count in.
inline constexpr MediaTime kNoCountIn = INT64_MIN;

//! A parameter change for the mix thread. Plain data, copied through a pre-sized queue.
struct MixCommand {
  enum class Kind : std::uint8_t {
    Gain,
    Pan,
    Mute,
    Solo,
    Strip,
    Master,
    Bus,
    Reverb,
    Delay,
    CueOn,
    CueLevel,
    CueLimit,
    Transport,
    Click,
    Talk
  };
  Kind kind = Kind::Gain;
  //! Non-zero: the engine reports the play-out position of the block it was applied
  //! at (MixEngine::next_applied), for the take's automation record.
  std::uint32_t id = 0;
  std::uint16_t node = 0;
  std::uint16_t channel = 0;  // 0-based
  float value = 0.0f;         // linear gain, pan -1..1, or 0/1
  //! Kind::Strip: trim, polarity, delay, filters, EQ and dynamics (its fader, pan and mute
  //! are ignored: Gain, Pan, Mute and Solo set those). The strip smooths every change.
  dsp::StripParams strip{};
  //! Kind::Master: the master chain (EQ, glue compressor, fader, true-peak limiter).
  dsp::MasterParams master{};
  //! Kind::Bus: a group bus (index 0..7) or an effect return (8, 9); Reverb / Delay: fx1 / fx2.
  std::uint8_t bus = 0;
  dsp::BusParams bus_params{};
  dsp::ReverbParams reverb{};
  dsp::TempoDelayParams delay{};
  //! CueOn / CueLevel / CueLimit: `node` is the listener, `bus` its cue (0..kMaxCues-1, the
  //! io thread hands them out); CueOn: value 1 on, 0 off; CueLevel: `source` node at value
  //! (linear); CueLimit: the ceiling of its limiter, value in dBTP.
  std::uint16_t source = 0;
  //! Kind::Transport: value kTransportPlay plays from timeline position `at` (timeline
  //! `at` is this block's play-out position), kTransportStop stops where it is,
  //! kTransportStand stops at `at`; `generation` is the backing tracks' read that plays
  //! (BackingTrack). A play that counts in: the click sounds, on or off, up to timeline
  //! position count_in_to (kNoCountIn: none).
  MediaTime at = 0;
  std::uint64_t generation = 0;
  MediaTime count_in_to = kNoCountIn;
  //! A play's loop (tlctl loop): it folds the timeline from its `to` back to its `from`.
  TimelineLoop loop{};
  //! Kind::Click: the metronome in every cue mix at peak `value` (linear), sounding while
  //! the transport plays when click_on (and in a count-in either way), a beat every
  //! beat_frames of the timeline (fractional), beats_per_bar beats to a bar (its first
  //! beat higher).
  double beat_frames = 0.0;
  std::uint8_t beats_per_bar = 4;
  bool click_on = false;
  //! Kind::Talk: talkback line `bus` (< kTalkLines) does `talk` from this block on;
  //! `generation` numbers the setting (TalkMix::applied()).
  TalkLine talk{};
};

//! What a Kind::Transport command does (its value).
inline constexpr float kTransportStop = 0.0f;
inline constexpr float kTransportPlay = 1.0f;
inline constexpr float kTransportStand = 2.0f;

//! The transport timeline as the mix thread sees it (position 0: the song's start).
struct Transport {
  bool playing = false;
  MediaTime origin = 0;          //!< while playing: the play-out position of straight timeline 0
  MediaTime stopped_at = 0;      //!< while stopped: where it stands
  std::uint64_t generation = 0;  //!< which read of the backing tracks plays (see BackingTrack)
  TimelineLoop loop;             //!< while playing: the loop it plays (none: straight on)
  //! The straight timeline position of play-out position pos (see TimelineLoop): what the
  //! backing tracks' reads are counted in.
  MediaTime linear(MediaTime pos) const noexcept { return playing ? pos - origin : stopped_at; }
  //! The timeline position of play-out position pos.
  MediaTime at(MediaTime pos) const noexcept { return playing ? loop.at(pos - origin) : stopped_at; }
  //! A Kind::Transport command (what: kTransportPlay, Stop or Stand) applied at the block
  //! at play-out position pos: the engine's arithmetic, which a take's render repeats. A
  //! play runs straight from `timeline` (its straight position there) and folds by `l`.
  void apply(float what, MediaTime timeline, std::uint64_t read, MediaTime pos,
             TimelineLoop l = {}) noexcept {
    if (what == kTransportPlay) {
      playing = true;
      origin = pos - timeline;
      loop = l;
    } else {
      stopped_at = what == kTransportStand ? timeline : at(pos);
      playing = false;
      loop = {};
    }
    if (what != kTransportStop) generation = read;
  }
  bool operator==(const Transport&) const = default;
};

//! The transport as a Kind::Transport command left it, from the block at play-out
//! position `position` on: what a take records of its timeline.
struct TransportMark {
  MediaTime position = 0;
  Transport transport;
};

//! Personal cue mixes the engine makes at once.
inline constexpr std::size_t kMaxCues = 8;

//! A command with an id, applied from the block at this play-out position on.
struct AppliedChange {
  std::uint32_t id = 0;
  MediaTime position = 0;
};

//! Master meters, published by the mix thread about 10 times a second.
struct MasterMeters {
  float peak_dbfs = -150.0f;       //!< sample peak of the last window (max of both sides)
  float true_peak_dbtp = -150.0f;  //!< true peak of the last window
  float momentary_lufs = -200.0f;
  float short_term_lufs = -200.0f;
  float integrated_lufs = -200.0f;  //!< since the engine started
  float comp_gr_db = 0.0f;
  float limiter_gr_db = 0.0f;
};

//! The master chain switched off: transparent (no EQ, compressor or limiter).
inline dsp::MasterParams master_off() noexcept {
  dsp::MasterParams p;
  p.limiter_on = false;
  return p;
}

//! The master chain as a mixer starts: a safety true-peak limiter at -1 dBTP (transparent
//! below it: mix.wav never clips), no EQ, no compressor. `tlctl master limiter off`
//! gives the raw sum.
inline dsp::MasterParams master_safety() noexcept {
  dsp::MasterParams p;
  p.limiter_on = true;
  p.limiter.ceiling_dbtp = -1.0f;
  return p;
}

struct MixConfig {
  std::uint32_t sample_rate = 48000;
  std::uint32_t max_block_frames = 1024;
  MediaTime latency_frames = 960;  // play-out delay behind the session clock, at the start
  //! The range the play-out delay adapts in (see MixEngine).
  MediaTime latency_min_frames = 0;
  MediaTime latency_max_frames = 48000;
  //! Follow the measured need. Off when a device clocks the mix (its latency is the
  //! device's); the needs are still measured and reported.
  bool adaptive = false;
  //! Added to every node's need (see PlayoutPolicy).
  double latency_margin_seconds = 0.001;
  //! How long a need is remembered: the delay falls this long after what raised it.
  double latency_hold_seconds = 30.0;
  //! Run the master chain. It adds its look-ahead (1.5 ms) to the live path even when every
  //! stage is off, so the timeline never shifts when the limiter is switched.
  bool master_chain = true;
  //! The master chain's settings at the start.
  dsp::MasterParams master = master_safety();
};

class MixEngine {
 public:
  //! concealed: where the engine reports every run of input frames it concealed (for the
  //! recorder; none: not reported).
  MixEngine(NodeRegistry& registry, SpscRing<MixChunk>& to_recorder, MixConfig config,
            SpscRing<ConcealedRun>* concealed = nullptr);

  //! io: queues a parameter change; false when the queue is full (caller reports it).
  bool post(const MixCommand& command) noexcept;
  //! io: the next command with an id that the mix thread has applied, oldest first.
  bool next_applied(AppliedChange& out) noexcept { return applied_.try_pop(out); }

  //! io: the next transport change the mix thread applied, oldest first (a full ring of
  //! kTransportMarks drops the newest).
  bool next_transport_mark(TransportMark& out) noexcept { return marks_.try_pop(out); }
  static constexpr std::size_t kTransportMarks = 256;

  //! Sets the play-out position of the next block (before the clock starts).
  void start_at(MediaTime position) noexcept;

  //! Real-time: mixes the next left.size() frames (<= max_block_frames) into
  //! left/right and advances the play-out position.
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! Play-out position of the next block (any thread).
  MediaTime position() const noexcept { return position_.load(std::memory_order_acquire); }
  //! The play-out delay now, in frames (any thread).
  MediaTime latency_frames() const noexcept { return latency_.load(std::memory_order_relaxed); }
  //! What the neediest streaming node asked for at the last estimate (frames; 0: none).
  MediaTime latency_wanted() const noexcept { return wanted_.load(std::memory_order_relaxed); }
  const MixConfig& config() const noexcept { return config_; }

  //! The transport, for sources read on the mix thread (a backing track).
  const Transport& transport() const noexcept { return transport_; }
  //! Any thread: whether the transport plays, and its position at the next block.
  bool transport_playing() const noexcept { return transport_playing_.load(std::memory_order_relaxed); }
  //! Whether the play in progress loops (its loop: the last Kind::Transport command's).
  bool transport_looping() const noexcept { return transport_looping_.load(std::memory_order_relaxed); }
  //! The straight timeline position (TimelineLoop) of the next block, while playing.
  MediaTime transport_linear() const noexcept { return transport_linear_.load(std::memory_order_relaxed); }
  MediaTime transport_position() const noexcept {
    return transport_position_.load(std::memory_order_relaxed);
  }

  std::uint64_t blocks() const noexcept { return blocks_.load(std::memory_order_relaxed); }
  //! Blocks in which a streaming node's audio was missing when read (late or lost: concealed).
  std::uint64_t concealed_blocks() const noexcept {
    return concealed_blocks_.load(std::memory_order_relaxed);
  }
  //! Mix frames holding a concealed or guessed input.
  std::uint64_t concealed_frames() const noexcept {
    return concealed_frames_.load(std::memory_order_relaxed);
  }
  std::uint64_t clipped() const noexcept { return clipped_.load(std::memory_order_relaxed); }
  std::uint64_t record_dropped() const noexcept { return record_dropped_.load(std::memory_order_relaxed); }
  //! Concealed runs the recorder's queue had no room for (its take cannot be repeated exactly).
  std::uint64_t concealed_dropped() const noexcept {
    return concealed_dropped_.load(std::memory_order_relaxed);
  }
  //! The latest master meters (any thread).
  MasterMeters master_meters() const noexcept;
  //! Output peak of a bus (0..kBuses-1) over the last meter window, linear (any thread).
  float bus_peak(std::size_t bus) const noexcept { return bus_peaks_[bus].load(std::memory_order_relaxed); }
  //! Delay of the master chain (limiter look-ahead); mix chunks are placed earlier by this much.
  std::size_t master_latency() const noexcept { return master_latency_; }
  //! Talkback (any thread: which settings the mix thread has taken, which clips ended).
  const TalkMix& talk() const noexcept { return talk_; }
  //! Delay of every cue mix's limiter; cue chunks are placed earlier by this much.
  std::size_t cue_latency() const noexcept { return cues_[0].limiter.latency(); }

 private:
  static constexpr std::array<float, dsp::kSends> nan_sends() noexcept {
    std::array<float, dsp::kSends> a{};
    a.fill(std::numeric_limits<float>::quiet_NaN());
    return a;
  }
  struct Strip {
    float gain = 1.0f;
    float pan = 0.0f;
    bool mute = false;
    bool solo = false;
    float cur_left = 0.70710678f;  // gains applied at the end of the last block
    float cur_right = 0.70710678f;
    float cue_left = 0.70710678f;  // the same for cue mixes (mute, no solo)
    float cue_right = 0.70710678f;
    std::uint8_t route = 0;                 // where it went in the last block (0: master)
    std::array<float, dsp::kSends> send{};  // send gains at the end of the last block
    // Cached per block work: the pan's unit gains (cos, sin) and each send's linear level,
    // recomputed only when the pan or the level changes.
    float pan_at = std::numeric_limits<float>::quiet_NaN();
    float pan_unit_left = 0.0f, pan_unit_right = 0.0f;
    std::array<float, dsp::kSends> send_db_at = nan_sends();
    std::array<float, dsp::kSends> send_unit{};
    float meter_peak = 0.0f;
    double meter_sum_sq = 0.0;
  };
  //! A node's personal cue mix: every channel after its strip, at its fader and pan
  //! (mute silences it, solo does not), times the level of its node in this mix.
  struct CueMix {
    std::uint16_t listener = 0;
    bool on = false;
    std::array<float, kMaxNodes + 1> level{};      // per source node, linear
    std::array<float, kMaxNodes + 1> level_cur{};  // at the end of the last block
    std::unique_ptr<float[]> left, right;
    dsp::TruePeakLimiter limiter;  // hearing protection, on the whole cue
  };
  struct NodeMix {
    MediaTime written_until = INT64_MIN;  // end of the latest audio written to the jitter buffer
    MediaTime heard_until = INT64_MIN;    // end of the latest live audio received, in time or late
    MediaTime stream_start = INT64_MAX;   // first position of the current stretch of audio
    VarispeedControl varispeed;           // the node's play-out cursor
    bool was_live = false;                // its concealers hold the last stretch's history
    NodeDelay need;                       // the delay its packets needed
    double ask = -1.0;                    // delay it asks for (frames), -1: no estimate yet
  };

  //! What every channel's mixing in this block shares.
  struct BlockContext {
    std::span<float> left, right;  // the master sum (frames long)
    bool any_solo = false, any_cue = false, publish_levels = false;
  };
  //! A channel read and through the front of its strip, waiting in its row for the rest.
  struct RowJob {
    NodeSlot* slot = nullptr;
    std::uint16_t id = 0;
    std::uint32_t channel = 0;
    bool last_of_node = false;  // the node's last channel (its cue levels move on after it)
    bool back = false;          // the strip's dynamics and fader are still to run
    std::array<dsp::Biquad*, dsp::kMaxCascadeSections> section{};  // its steady filter sections
  };
  //! Channels are read and their strips started row by row, then every row's steady
  //! filters run at once (dsp::run_cascades, channels in vector lanes), then each row's
  //! dynamics, pan, sums, sends and meters.
  static constexpr std::size_t kBatchRows = 64;

  void apply_commands(MediaTime pos) noexcept;
  //! Finishes the rows in jobs_[0..rows_used_): filters, strip back ends, mixing.
  void mix_rows(const BlockContext& ctx) noexcept;
  //! Pans and sums one channel's processed block into the master or its group, its cue
  //! mixes and its sends, and meters it.
  void mix_channel(const BlockContext& ctx, NodeSlot& slot, std::uint16_t id, std::uint32_t c,
                   std::span<const float> ch) noexcept;
  void drain(NodeSlot& slot, NodeMix& state, MediaTime pos, std::size_t frames) noexcept;
  //! What drain() notes of a node's packets, for a node whose frames come from a source.
  void note_frames(FrameSource& source, NodeMix& state, MediaTime pos, std::size_t frames) noexcept;
  //! The delay a packet whose audio starts at media_ts and arrived at arrival_ns
  //! needed to be in time for the block that first reads it (frames). late: it is
  //! drained after that block was computed, so it needed at least as much as this
  //! block's computation was behind that block's end.
  double needed_delay(const NodeMix& state, MediaTime media_ts, std::int64_t arrival_ns, MediaTime pos,
                      std::size_t frames, bool late) const noexcept;
  //! Folds the node's need into its ask, within its range.
  void update_ask(NodeSlot& slot, NodeMix& state) noexcept;
  //! Reads one channel's block at the node's cursor; returns the frames that were missing.
  //! window and moved come from the varispeed's plan (unused when the block is exact).
  //! Marks in missing_ which output frames had no audio behind them (1) or a guess (2);
  //! marked says whether any frame is marked.
  std::uint32_t read_channel(NodeSlot& slot, std::uint32_t channel, const VarispeedControl::Block& block,
                             std::size_t window, std::size_t moved, std::span<float> out,
                             bool& marked) noexcept;
  //! Hands each cue mix that is on to its listener's io queue, in chunks.
  void send_cues(MediaTime pos, std::size_t frames) noexcept;
  //! The metronome for the block at pos into click_block_; false when it is silent.
  bool render_click(MediaTime pos, std::size_t frames) noexcept;
  //! The strip's constant-power pan gains at `gain`.
  static void pan_gains(Strip& s, float gain, float& left, float& right) noexcept;
  //! Send k's linear level (dB to gain only when it changed).
  static float send_level(Strip& s, std::size_t k, float level_db) noexcept;
  Strip& strip(std::uint16_t node, std::uint32_t channel) noexcept {
    return strips_[static_cast<std::size_t>(node) * kMaxChannelsPerNode + channel];
  }

  //! Reports the runs of missing frames (marks 1 in missing_) of one channel's block.
  void report_concealed(std::uint16_t node, std::uint32_t channel, MediaTime base, std::size_t frames,
                        bool exact) noexcept;

  NodeRegistry& registry_;
  SpscRing<MixChunk>& to_recorder_;
  SpscRing<ConcealedRun>* concealed_out_;
  MixConfig config_;
  SpscRing<MixCommand> commands_;
  SpscRing<AppliedChange> applied_;
  SpscRing<TransportMark> marks_;
  std::unique_ptr<Strip[]> strips_;
  std::unique_ptr<NodeMix[]> nodes_;
  std::unique_ptr<float[]> scratch_;            // unpacked packet samples
  std::unique_ptr<float[]> rows_;               // kBatchRows channel blocks (max_block_frames each)
  std::unique_ptr<RowJob[]> jobs_;              // what each row holds
  std::unique_ptr<dsp::CascadeRow[]> cascade_;  // each row's block and steady sections, for run_cascades
  std::size_t rows_used_ = 0;
  std::unique_ptr<float[]> window_;                 // a channel's input window for the varispeed
  std::unique_ptr<std::uint8_t[]> window_missing_;  // its missing frames
  std::unique_ptr<std::uint8_t[]> missing_;         // the block's frames with no audio (for concealment)
  std::unique_ptr<std::uint8_t[]> guessed_;         // the block's frames where any input was concealed
  std::unique_ptr<std::uint8_t[]> near_;            // window samples whose kernel reach has a missing one
  dsp::Varispeed varispeed_;                        // the plan of the node being mixed
  BusRack buses_;
  std::array<CueMix, kMaxCues> cues_;
  TalkMix talk_;
  std::array<std::atomic<float>, kBuses> bus_peaks_{};
  dsp::MasterChain master_;
  std::size_t master_latency_ = 0;
  float master_peak_ = 0.0f;
  struct AtomicMeters {
    std::atomic<float> peak{0.0f}, true_peak{0.0f}, momentary{-200.0f}, short_term{-200.0f},
        integrated{-200.0f}, comp_gr{0.0f}, limiter_gr{0.0f};
  } meters_;
  std::uint32_t meter_frames_ = 0;
  std::uint32_t meter_window_;
  std::atomic<MediaTime> position_{0};
  std::atomic<MediaTime> latency_{0};
  std::atomic<MediaTime> wanted_{0};
  Transport transport_;
  struct Metronome {
    float level = 0.0f;
    bool on = false;
    double beat_frames = 24000.0;
    std::uint8_t beats_per_bar = 4;
  } click_;
  MediaTime count_in_to_ = kNoCountIn;    // the click sounds up to this timeline position
  std::unique_ptr<float[]> click_block_;  // max_block_frames
  std::atomic<bool> transport_playing_{false};
  std::atomic<MediaTime> transport_position_{0};
  std::atomic<MediaTime> transport_linear_{0};
  std::atomic<bool> transport_looping_{false};
  PlayoutPolicy playout_;
  MediaTime last_block_latency_ = 0;  // the delay the last block was computed at
  std::atomic<std::uint64_t> blocks_{0};
  std::atomic<std::uint64_t> concealed_blocks_{0};
  std::atomic<std::uint64_t> concealed_frames_{0};
  std::atomic<std::uint64_t> clipped_{0};
  std::atomic<std::uint64_t> record_dropped_{0};
  std::atomic<std::uint64_t> concealed_dropped_{0};
};

}  // namespace tl::mixer
