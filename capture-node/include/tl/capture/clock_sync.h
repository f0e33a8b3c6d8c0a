#pragma once
//! The node's estimate of the session clock from four-timestamp sync samples.
//!
//! Keeps the last `window` samples and reports the offset of the one with the
//! smallest round trip (the least queueing-delayed). A better estimator (drift,
//! outlier rejection) can replace this class behind the same interface.

#include <cstddef>
#include <cstdint>
#include <deque>

#include "tl/protocol/sync.h"

namespace tl::capture {

class ClockSync {
 public:
  explicit ClockSync(std::size_t window = 8) : window_(window < 1 ? 1 : window) {}

  //! Adds a completed exchange. Samples with a negative round trip are ignored
  //! (returns false): they cannot come from a real exchange.
  bool add_sample(const protocol::SyncSample& sample);

  //! True once at least one sample was accepted since construction or reset().
  bool has_estimate() const noexcept { return !samples_.empty(); }
  //! session_ns - node_ns from the minimum-RTT sample of the window (0 without estimate).
  std::int64_t offset_ns() const noexcept;
  //! Round trip of that sample (0 without estimate).
  std::int64_t rtt_ns() const noexcept;

  void reset() noexcept { samples_.clear(); }

 private:
  const protocol::SyncSample* best() const noexcept;
  std::size_t window_;
  std::deque<protocol::SyncSample> samples_;
};

}  // namespace tl::capture
