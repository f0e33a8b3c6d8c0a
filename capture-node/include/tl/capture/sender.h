#pragma once
//! The sender thread: clock sync with the mixer and audio packets over one UDP socket.
//!
//! It owns the socket. It sends a SyncRequest every 100 ms for as long as it is
//! registered and feeds each reply to a tl::ClockEstimator, whose ClockMap it
//! publishes to the MediaStamper (seqlock: the producer never locks). For each
//! registration it streams once the estimator has a first estimate from a few
//! exchanges (retrying when no reply came within 2 s): a new timeline, first packet
//! flagged kFlagDiscontinuity. Later estimates do not move timestamps.
//! Without a registration (the mixer went away) a node with a timeline and a spool keeps
//! spooling its blocks (counted in Stats::frames_spooled_away); rejoining the same session
//! (RegisterReply.session_epoch_ns) it goes on with that timeline, no discontinuity, so the
//! mixer can fetch what it missed. Otherwise queued blocks are dropped and counted.
//! With a spool attached, every block it sends is first appended to the spool, and
//! NACKs from the mixer are answered from it with Retransmit packets.

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tl/capture/block_queue.h"
#include "tl/capture/sim_clock.h"
#include "tl/capture/spool.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {

class CueOutput;
class TimerDriver;

//! What the mixer gave the node at registration.
struct Registration {
  std::uint16_t node_id = 0;
  protocol::SessionKey key{};
  std::string host;  // the mixer's host (as given to --mixer)
  std::uint16_t audio_port = 0;
  std::int64_t session_epoch = 0;  // the session's identity (0: unknown, never the same)
  std::uint32_t max_payload = 0;   // the largest audio payload the mixer accepts (0: not said)
};

class Sender {
 public:
  struct Config {
    std::uint32_t rate = 48000;
    std::uint16_t frames = 48;
    std::size_t channels = 1;
    protocol::SampleFormat format =
        protocol::SampleFormat::Pcm24;   // the live path's; the spool's is spool_format()
    std::uint32_t bitrate = 96000;       // Opus: bits/s per channel
    std::int64_t stop_after_frames = 0;  // 0: run until stopped
    std::string audio_to_host;           // non-empty: send audio and sync here, not to the mixer's audio port
    std::uint16_t audio_to_port = 0;
  };

  //! Idle: no registration. Otherwise the estimator's state (Lost: no sync reply for 5 s).
  enum class SyncState { Idle, Acquiring, Locked, Lost };

  struct Stats {
    std::uint64_t packets_sent = 0;
    std::uint64_t frames_sent = 0;
    std::uint64_t frames_dropped = 0;        // discarded while unregistered + queue overflows
    std::uint64_t frames_spooled_away = 0;   // kept in the spool, not sent, while the mixer was away
    bool cue_opus = false;                   // the cue mix arrives as Opus
    std::uint64_t cue_concealed_frames = 0;  // ... and Opus concealed this much of it (lost packets)
    std::uint64_t cue_late_packets = 0;      // cue packets after their place was played or concealed
    std::int64_t offset_ns = 0;              // session - node at the time of the last update (estimator)
    std::int64_t rtt_ns = 0;                 // minimum RTT over the estimator's window
    double drift_ppm = 0.0;                  // node clock rate against the session clock (+: node fast)
    std::int64_t error_ns = 0;               // estimator's 1-sigma offset error estimate
    std::uint64_t exchanges = 0;             // sync replies accepted
    std::uint64_t estimate_exchanges = 0;    // exchanges the current estimate is fitted over
    SyncState state = SyncState::Idle;
    // A point of the timestamp map from the current estimate (valid while locked):
    // the block stamped anchor_media_ts was captured at session sample anchor_session_pos.
    bool has_anchor = false;
    MediaTime anchor_media_ts = 0;
    double anchor_session_pos = 0.0;
    // Where the current timeline began (its first block, flagged kFlagDiscontinuity):
    // the mixer can ask for that audio even when the first packets were lost.
    bool has_timeline = false;
    MediaTime timeline_start = 0;
    // The longest a block waited here between its capture and its packets' send, since
    // streaming began (a busy machine), and that block's media time.
    std::int64_t held_max_ns = 0;
    MediaTime held_max_at = 0;
    // The latest spells of blocks held kLongHoldNs or more, oldest first.
    struct Hold {
      MediaTime at = 0;          // the spell's first block
      std::int64_t held_ns = 0;  // the longest any of its blocks waited
    };
    std::array<Hold, 8> long_holds{};
    std::size_t long_hold_count = 0;
  };
  //! A block held this long after its capture counts as a spell of its own (Stats::long_holds).
  static constexpr std::int64_t kLongHoldNs = 10'000'000;

  //! clock: the node's clock (identity unless simulating); must outlive the sender.
  Sender(BlockQueue& queue, MediaStamper& stamper, Config config, const SimClock& clock = SimClock::real());
  //! Where the cue mix the mixer streams back goes (none: it is dropped). Before start().
  void set_cue_output(CueOutput* cue) noexcept { cue_ = cue; }
  //! A generated source this thread paces itself (TimerDriver::pump), rendering each
  //! block when it is due and sending it at once. Before start().
  void set_source(TimerDriver* source) noexcept { source_ = source; }
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  //! Starts the sending thread: 0 when it runs with real-time priority (a packet it is
  //! slow to send is late at the mixer), else why not (errno).
  int start(bool realtime = true);
  void stop();
  static constexpr int kPriority = 60;

  //! Any thread: stream under this registration (sync first, then a new timeline).
  void connect(const Registration& reg);
  //! Any thread: the control connection is gone; stop sending.
  void disconnect();

  Stats stats() const noexcept;

  //! Before start(): keep every sent block in this spool and answer NACKs from it.
  void attach_spool(std::unique_ptr<Spool> spool);

  //! A timeline as the spool's `timeline` file keeps it: the node-to-session map it was
  //! stamped with and the session (RegisterReply.session_epoch_ns) it belongs to.
  struct TimelineMemo {
    ClockMap map;
    std::int64_t session_epoch = 0;
  };
  //! Before start(), with a spool: goes on with that timeline at once (a node started
  //! again while its mixer is away), spooling what it captures until a mixer of the same
  //! session answers; the take then fetches it. Another session starts a new timeline.
  void resume_timeline(const TimelineMemo& memo) { resume_ = memo; }
  //! Any thread: the current timeline while it streams with a locked clock (nullopt
  //! before), for the spool's `timeline` file.
  std::optional<TimelineMemo> timeline_memo() const;
  //! Any thread: reads [from, from + frames) from the spool (see Spool::read);
  //! 0 without a spool.
  std::size_t read_spool(MediaTime from, std::uint32_t frames, std::span<std::uint8_t> out,
                         std::span<std::uint8_t> have);
  //! Any thread: the spool's oldest frame, or nullopt without a spool.
  std::optional<MediaTime> spool_first() const;

  struct SpoolStats {
    std::uint64_t nacks = 0;                // NACKs received
    std::uint64_t resent_packets = 0;       // Retransmit packets sent in answer
    std::uint64_t nack_frames_missing = 0;  // asked for but not in the spool
    std::uint64_t append_errors = 0;
  };
  SpoolStats spool_stats() const noexcept;
  //! True once stop_after_frames frames were sent.
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }

 private:
  class Loop;  // the thread's state and its steps (sender_loop.cpp)
  void run();
  void append_to_spool(const BlockInfo& info, const float* planar);
  bool has_spool() const;

  BlockQueue& queue_;
  MediaStamper& stamper_;
  const Config config_;
  const SimClock& clock_;

  std::mutex mutex_;  // guards pending_ / generation_ (control side, not real-time)
  Registration pending_;
  bool pending_active_ = false;
  std::atomic<std::uint64_t> generation_{0};

  std::atomic<bool> running_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
  mutable std::mutex spool_mutex_;  // sender thread appends and answers NACKs; the control side reads
  std::unique_ptr<Spool> spool_;
  std::vector<float> spool_interleaved_;
  std::vector<std::uint8_t> spool_wire_;
  std::atomic<std::uint64_t> nacks_{0}, resent_packets_{0}, nack_missing_{0}, spool_errors_{0};

  std::atomic<std::uint64_t> packets_sent_{0};
  // An Opus cue's decoding (CueDecoder's counters, published by the sender thread).
  std::atomic<std::uint64_t> cue_concealed_{0}, cue_late_{0};
  std::atomic<bool> cue_opus_{false};
  std::atomic<std::uint64_t> frames_sent_{0};
  std::atomic<std::uint64_t> frames_discarded_{0};
  std::atomic<std::uint64_t> frames_spooled_away_{0};
  std::atomic<std::int64_t> offset_ns_{0};
  std::atomic<std::int64_t> rtt_ns_{0};
  std::atomic<double> drift_ppm_{0.0};
  std::atomic<std::int64_t> error_ns_{0};
  std::atomic<std::uint64_t> exchanges_{0};
  std::atomic<std::uint64_t> estimate_exchanges_{0};
  std::atomic<int> state_{0};
  mutable std::mutex anchor_mutex_;  // sender thread writes up to ten times a second; stats() reads
  bool has_anchor_ = false;
  MediaTime anchor_media_ts_ = 0;
  double anchor_session_pos_ = 0.0;
  bool has_timeline_ = false;
  MediaTime timeline_start_ = 0;
  std::int64_t held_max_ns_ = 0;
  MediaTime held_max_at_ = 0;
  std::array<Stats::Hold, 8> long_holds_{};  // a ring: long_hold_count_ % 8 is the next
  std::size_t long_hold_count_ = 0;
  std::optional<TimelineMemo> memo_;    // guarded by anchor_mutex_
  std::optional<TimelineMemo> resume_;  // set before start()
  CueOutput* cue_ = nullptr;
  TimerDriver* source_ = nullptr;
};

}  // namespace tl::capture
