#pragma once
//! The sender thread: clock sync with the mixer and audio packets over one UDP socket.
//!
//! It owns the socket. For each registration it first syncs (8 requests 20 ms
//! apart; streams once a reply came back, retrying when none did within 2 s),
//! then publishes the offset to the MediaStamper (a new timeline, first packet
//! flagged kFlagDiscontinuity) and sends every block of that timeline. One sync
//! request per second keeps the estimate fresh (it does not move timestamps).
//! Without a registration (mixer unreachable) queued blocks are dropped and counted.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "tl/capture/block_queue.h"
#include "tl/capture/clock_sync.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {

//! What the mixer gave the node at registration.
struct Registration {
  std::uint16_t node_id = 0;
  protocol::SessionKey key{};
  std::string host;  // the mixer's host (as given to --mixer)
  std::uint16_t audio_port = 0;
};

class Sender {
 public:
  struct Config {
    std::uint32_t rate = 48000;
    std::uint16_t frames = 48;
    std::size_t channels = 1;
    protocol::SampleFormat format = protocol::SampleFormat::Pcm24;
    std::int64_t stop_after_frames = 0;  // 0: run until stopped
  };

  //! Idle: no registration, or no sync reply for 5 s while streaming (reported as SYNC_LOST).
  enum class SyncState { Idle, Acquiring, Locked };

  struct Stats {
    std::uint64_t packets_sent = 0;
    std::uint64_t frames_sent = 0;
    std::uint64_t frames_dropped = 0;  // discarded while unregistered + queue overflows
    std::int64_t offset_ns = 0;
    std::int64_t rtt_ns = 0;
    SyncState state = SyncState::Idle;
  };

  Sender(BlockQueue& queue, MediaStamper& stamper, Config config);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void start();
  void stop();

  //! Any thread: stream under this registration (sync first, then a new timeline).
  void connect(const Registration& reg);
  //! Any thread: the control connection is gone; stop sending.
  void disconnect();

  Stats stats() const noexcept;
  //! True once stop_after_frames frames were sent.
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }

 private:
  void run();

  BlockQueue& queue_;
  MediaStamper& stamper_;
  const Config config_;

  std::mutex mutex_;  // guards pending_ / generation_ (control side, not real-time)
  Registration pending_;
  bool pending_active_ = false;
  std::atomic<std::uint64_t> generation_{0};

  std::atomic<bool> running_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;

  std::atomic<std::uint64_t> packets_sent_{0};
  std::atomic<std::uint64_t> frames_sent_{0};
  std::atomic<std::uint64_t> frames_discarded_{0};
  std::atomic<std::int64_t> offset_ns_{0};
  std::atomic<std::int64_t> rtt_ns_{0};
  std::atomic<int> state_{0};
};

}  // namespace tl::capture
