#pragma once
//! The producing side of the capture node: stamping and queueing blocks, and the
//! timer thread that paces generated sources in real time.

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "tl/capture/block_queue.h"
#include "tl/capture/sim_clock.h"
#include "tl/capture/sources.h"
#include "tl/common/clock_dll.h"

namespace tl::capture {

//! Stamps one block and queues it. When the queue is full the block is still
//! stamped and filled (into a scratch area) so the timeline and the source keep
//! moving; BlockQueue::overflows() counts it.
class BlockWriter {
 public:
  BlockWriter(BlockQueue& queue, MediaStamper& stamper)
      : queue_(queue), stamper_(stamper), scratch_(queue.channels() * queue.frames(), 0.0f) {}

  //! Real-time safe. fill(BlockInfo&, float* planar) writes channels x frames samples.
  template <typename Fill>
  void write(std::int64_t capture_ns, Fill&& fill) noexcept {
    BlockInfo* info = nullptr;
    float* planar = nullptr;
    const bool queued = queue_.begin_write(info, planar);
    if (!queued) {
      info = &scratch_info_;
      planar = scratch_.data();
    }
    *info = BlockInfo{};
    info->capture_ns = capture_ns;
    info->frame = frame_;
    frame_ += static_cast<std::int64_t>(queue_.frames());
    stamper_.stamp(*info, static_cast<std::uint32_t>(queue_.frames()));
    fill(*info, planar);
    if (queued) queue_.commit_write();
  }

  BlockQueue& queue() noexcept { return queue_; }
  const MediaStamper& stamper() const noexcept { return stamper_; }

 private:
  BlockQueue& queue_;
  MediaStamper& stamper_;
  std::vector<float> scratch_;
  BlockInfo scratch_info_;
  std::int64_t frame_ = 0;
};

//! Regroups what an audio driver delivers (any number of planar frames per call)
//! into blocks of exactly frames-per-packet frames, each stamped with the capture
//! time of its first frame. Callback times go through a ClockDll (bandwidth
//! 0.01 Hz) first, so block times follow the device's sample clock and do not
//! jitter with callback scheduling.
class BlockAssembler {
 public:
  BlockAssembler(BlockQueue& queue, MediaStamper& stamper, std::uint32_t rate)
      : writer_(queue, stamper),
        rate_(rate),
        dll_(rate, static_cast<std::int64_t>(queue.frames()), kDllBandwidthHz),
        pending_(queue.channels() * queue.frames(), 0.0f) {}

  static constexpr double kDllBandwidthHz = 0.01;

  //! Real-time safe. n planar frames (channel c at in + c*n) whose last frame was
  //! captured just before now_ns (the callback's time, node clock).
  void push(const float* in, std::size_t n, std::int64_t now_ns) noexcept;

  //! Before the stream starts: the driver's actual period (it may differ from the one asked for).
  void set_device_period(std::int64_t period_frames) noexcept {
    dll_ = ClockDll(rate_, period_frames, kDllBandwidthHz);
  }

  //! The loop (read it from the callback thread only, or after the device stopped).
  const ClockDll& dll() const noexcept { return dll_; }
  //! Callback thread: the media time the next frame pushed will have, or INT64_MIN while
  //! no timeline runs or a new one starts with the next block (its start is not known yet).
  MediaTime next_media() const noexcept {
    const MediaTime next = writer_.stamper().next_media();
    return next == INT64_MIN ? next : next + static_cast<MediaTime>(fill_);
  }

 private:
  BlockWriter writer_;
  const std::uint32_t rate_;
  ClockDll dll_;
  std::vector<float> pending_;  // channels x frames, planar
  std::size_t fill_ = 0;
  std::int64_t start_ns_ = 0;
};

//! Paces a generated source from the node's clock: one block per period at
//! absolute node-clock deadlines start + frames_to_ns((k+1) * frames), so nothing
//! drifts. With a simulated clock (SimClock) it sleeps until the real time of each
//! node deadline, i.e. produces audio at (1 + skew) x the nominal rate.
//!
//! Either on a thread of its own (start()), or paced by the thread that sends the
//! blocks (pump()): a generated source has no device callback to stand in for, and one
//! wake-up per block instead of two is half a node's CPU (32 nodes on a 2-core host).
class TimerDriver {
 public:
  TimerDriver(BlockQueue& queue, MediaStamper& stamper, GeneratedSource& source, std::uint32_t rate,
              const SimClock& clock = SimClock::real())
      : writer_(queue, stamper), source_(source), rate_(rate), clock_(clock) {}
  ~TimerDriver() { stop(); }
  TimerDriver(const TimerDriver&) = delete;
  TimerDriver& operator=(const TimerDriver&) = delete;

  //! Starts the timer thread: 0 when it runs with real-time priority, else why not (errno).
  int start(bool realtime = true);
  void stop();

  //! Instead of the thread: renders and queues every block whose deadline has passed at
  //! node time now_ns (the first call starts the schedule) and returns the next deadline.
  //! Real-time safe; one caller thread.
  std::int64_t pump(std::int64_t now_ns) noexcept;
  static constexpr int kPriority = 70;

  //! The real-time body: renders and queues the block whose first frame was at capture_ns.
  //! Before the first timeline (MediaStamper::restart) it queues silence and leaves the
  //! source untouched, so a file's first frame is the first frame sent.
  void produce(std::int64_t capture_ns) noexcept;

  std::uint64_t blocks() const noexcept { return blocks_.load(std::memory_order_relaxed); }

 private:
  void run();
  BlockWriter writer_;
  GeneratedSource& source_;
  const std::uint32_t rate_;
  const SimClock& clock_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> blocks_{0};
  std::thread thread_;
  std::int64_t pump_start_ = -1;  // pump(): the schedule's origin (node ns), -1: not started
  std::int64_t pumped_ = 0;       // pump(): blocks produced
};

}  // namespace tl::capture
