#pragma once
//! The hand-over from the audio callback / timer thread to the sender thread.
//!
//! A pre-sized SPSC ring of block descriptors plus one planar sample area per
//! slot (channel c of a slot starts at samples + c * frames). Both sides never
//! lock or allocate; a full queue makes the producer drop the block (counted).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tl/capture/seqlock.h"
#include "tl/common/clock_estimator.h"
#include "tl/common/spsc_ring.h"
#include "tl/common/units.h"

namespace tl::capture {

//! What travels with a block of frames-per-packet frames.
struct BlockInfo {
  std::int64_t capture_ns = 0;  // node monotonic time of the first frame
  std::int64_t frame = 0;       // producer's frame count at the first frame (0 = first block produced)
  MediaTime media_ts = 0;       // session sample of the first frame (valid when epoch != 0)
  std::uint32_t epoch = 0;      // timestamp epoch (see MediaStamper); 0 = not yet stamped
  std::uint16_t flags = 0;      // protocol::PacketFlags
};

class BlockQueue {
 public:
  //! capacity blocks (rounded up to a power of two) of channels x frames floats.
  BlockQueue(std::size_t capacity, std::size_t channels, std::size_t frames)
      : ring_(capacity),
        channels_(channels),
        frames_(frames),
        samples_(ring_.capacity() * channels * frames, 0.0f) {}

  std::size_t channels() const noexcept { return channels_; }
  std::size_t frames() const noexcept { return frames_; }
  std::size_t capacity() const noexcept { return ring_.capacity(); }

  //! Producer: a free slot, or false when the queue is full (counted in overflows()).
  bool begin_write(BlockInfo*& info, float*& planar) noexcept {
    info = ring_.begin_write();
    if (info == nullptr) {
      overflows_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    planar = slot_samples(written_);
    return true;
  }
  //! Producer: publishes the slot from begin_write().
  void commit_write() noexcept {
    ++written_;
    ring_.commit_write();
  }

  //! Consumer: oldest block, or false when empty. Valid until pop().
  bool front(const BlockInfo*& info, const float*& planar) noexcept {
    info = ring_.front();
    if (info == nullptr) return false;
    planar = slot_samples(read_);
    return true;
  }
  //! Consumer: releases the block from front().
  void pop() noexcept {
    ++read_;
    ring_.pop();
  }

  //! Blocks the producer could not queue because the consumer fell behind.
  std::uint64_t overflows() const noexcept { return overflows_.load(std::memory_order_relaxed); }

 private:
  float* slot_samples(std::size_t counter) noexcept {
    return samples_.data() + (counter & (ring_.capacity() - 1)) * channels_ * frames_;
  }

  SpscRing<BlockInfo> ring_;
  const std::size_t channels_;
  const std::size_t frames_;
  std::vector<float> samples_;
  std::size_t written_ = 0;  // producer only
  std::size_t read_ = 0;     // consumer only
  std::atomic<std::uint64_t> overflows_{0};
};

//! Gives blocks their session timestamps on the producer side.
//!
//! The sender publishes the estimator's ClockMap (publish(), a seqlock: the producer
//! never locks) and starts a timeline with restart(); at the next block the producer
//! computes S0 = ns_to_nearest_frame(map.to_session_ns(capture_ns), rate) once, and every
//! later block gets S0 + frames produced since, so timestamps never jitter. The drift
//! the map carries is not applied after S0 (see capture-node/README.md, "Timestamps").
//! The first block of each epoch carries kFlagDiscontinuity.
class MediaStamper {
 public:
  explicit MediaStamper(std::uint32_t rate) noexcept : rate_(rate) {}

  //! One publishing thread (the sender): the node-to-session mapping the next timeline starts from.
  void publish(const ClockMap& map) noexcept { map_.store(map); }

  //! Any thread: start a new timeline from the next block with the last published map.
  //! Returns the new epoch number (>= 1).
  std::uint32_t restart() noexcept {
    const std::uint32_t e = next_epoch_.fetch_add(1, std::memory_order_relaxed) + 1;
    epoch_.store(e, std::memory_order_release);
    return e;
  }
  //! Publishes a constant offset (session_ns - node_ns) and starts a new timeline.
  std::uint32_t restart(std::int64_t offset_ns) noexcept {
    publish(ClockMap{.ref_node_ns = 0, .ref_offset_ns = offset_ns, .slope = 0.0, .valid = true});
    return restart();
  }

  //! Producer (real-time safe): fills info's media_ts, epoch and discontinuity flag.
  void stamp(BlockInfo& info, std::uint32_t frames) noexcept;

  //! Producer: the media time of the next block, or INT64_MIN while no timeline runs or a
  //! new one starts with it (restart() since the last block).
  MediaTime next_media() const noexcept {
    const std::uint32_t e = epoch_.load(std::memory_order_acquire);
    return e != 0 && e == seen_epoch_ ? next_ts_ : INT64_MIN;
  }

  //! Producer: frames stamped since the current epoch began.
  std::int64_t frames_in_epoch() const noexcept { return next_ts_ - s0_; }

 private:
  const std::uint32_t rate_;
  SeqLock<ClockMap> map_;
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> next_epoch_{0};
  std::uint32_t seen_epoch_ = 0;  // producer only
  ClockMap map_copy_{};           // producer only: the last consistent read of map_
  MediaTime s0_ = 0;
  MediaTime next_ts_ = 0;
};

}  // namespace tl::capture
