#pragma once
//! The session clock: owned by the mixer, counted from its start, in ns and samples.
//!
//! Capture nodes map their own monotonic clock onto it with the sync exchange;
//! packets carry session sample positions; the recorder and the mix place audio by them.

#include <cstdint>

#include "tl/common/clock.h"
#include "tl/common/units.h"

namespace tl::mixer {

class SessionClock {
 public:
  SessionClock(std::uint32_t rate, std::int64_t epoch_ns = monotonic_ns()) noexcept
      : rate_(rate), epoch_ns_(epoch_ns) {}

  std::uint32_t rate() const noexcept { return rate_; }
  std::int64_t epoch_ns() const noexcept { return epoch_ns_; }

  //! Session time now, in nanoseconds since the mixer's epoch.
  std::int64_t now_ns() const noexcept { return monotonic_ns() - epoch_ns_; }
  //! The session time of a monotonic-clock reading.
  std::int64_t from_monotonic_ns(std::int64_t monotonic) const noexcept { return monotonic - epoch_ns_; }
  //! Session sample position now.
  MediaTime now_samples() const noexcept { return to_samples(now_ns()); }

  MediaTime to_samples(std::int64_t session_ns) const noexcept { return ns_to_frames(session_ns, rate_); }
  std::int64_t to_ns(MediaTime samples) const noexcept { return frames_to_ns(samples, rate_); }
  //! Monotonic-clock deadline at which the session clock reaches a sample position.
  std::int64_t monotonic_at(MediaTime samples) const noexcept { return epoch_ns_ + to_ns(samples); }

 private:
  std::uint32_t rate_;
  std::int64_t epoch_ns_;
};

}  // namespace tl::mixer
