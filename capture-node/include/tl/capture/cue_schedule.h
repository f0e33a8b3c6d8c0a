#pragma once
//! When a node plays its cue mix, on its own media timeline: cue frame P (its mix
//! position) plays at the node's media time P + delay(), to the sample. An output that
//! plays this way (the simulated cable, a duplex interface) lets the mixer place the
//! node's overdubs exactly.
//!
//! The node chooses the delay itself, like a jitter buffer: the largest transit (the
//! node's media time "now" minus P, as each chunk arrives) over the first second of cue,
//! plus a margin. A chunk that comes later than its play time has its late frames played
//! as silence (counted). One late burst (a stall of the machine or the link) leaves the
//! delay as it is, so a take in progress keeps its placement; lateness that comes back
//! within kRecurSeconds grows the delay to take the latest of them, which the node
//! reports (take.json then flags the placement change).
//!
//! One thread delivers (the node's sender), one plays (the same thread for the simulated
//! cable, a device's callback for a duplex interface). Frames are kept by mix position in
//! atomics, each slot behind a sequence check, so the player never locks and never plays
//! half of a frame being written.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tl/common/units.h"

namespace tl::capture {

class CueSchedule {
 public:
  //! name: for its log lines ("cue-loop", "device:NAME"); margin: frames over the largest
  //! transit seen.
  CueSchedule(std::string name, std::uint32_t rate, MediaTime margin);

  //! Deliverer: the chunk for mix position `position` (interleaved stereo), when the
  //! node's media time is media_now (INT64_MIN: no timeline yet, nothing is chosen).
  //! Returns how many of its frames came after their play time (played as silence).
  MediaTime deliver(MediaTime position, std::span<const float> stereo, MediaTime media_now);
  //! Player (real-time safe): what plays at media time t on side 0 (left) or 1 (right);
  //! silence before the delay is chosen and where no cue frame is kept for t.
  float output(MediaTime t, int side) const noexcept;
  //! Player (real-time safe): both sides of the cue frame at mix position p at once (one
  //! check of the slot); false, and silence, when it is not kept.
  bool frame(MediaTime p, float& left, float& right) const noexcept;

  //! Any thread: cue frame P plays at P + this; -1 until it is chosen.
  MediaTime delay() const noexcept { return delay_.load(std::memory_order_relaxed); }
  //! Any thread: how often the delay grew after it was first chosen.
  std::uint64_t changes() const noexcept { return changes_.load(std::memory_order_relaxed); }

  //! Seconds of cue whose transit sets the first play-out delay.
  static constexpr double kSettleSeconds = 1.0;
  //! Late chunks this close after the first late one are one burst (one stall).
  static constexpr double kBurstSeconds = 0.25;
  //! A second burst this soon after the first grows the delay; a lone one does not.
  static constexpr double kRecurSeconds = 10.0;
  //! Frames of cue kept (by mix position): the longest delay plus round trip.
  static constexpr std::size_t kKept = 1u << 16;

 private:
  struct Frame {
    std::atomic<MediaTime> position{INT64_MIN};
    std::atomic<float> left{0.0f}, right{0.0f};
  };
  std::string name_;
  std::uint32_t rate_;
  MediaTime margin_;
  std::unique_ptr<Frame[]> kept_;
  std::atomic<MediaTime> delay_{-1};
  std::atomic<std::uint64_t> changes_{0};
  // The deliverer's own.
  double max_transit_ = 0.0;
  MediaTime settled_ = 0;             // cue frames seen before the delay was chosen
  MediaTime late_since_ = INT64_MIN;  // media time of the last lone late burst's start
  double late_transit_ = 0.0;         // the largest transit of late chunks since then
};

}  // namespace tl::capture
