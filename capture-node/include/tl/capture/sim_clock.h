#pragma once
//! SIMULATION ONLY: the node's view of time when tl-capture is told to behave like
//! a machine whose system clock is off and whose audio clock runs fast or slow
//! (--sim-clock-offset-ms, --sim-clock-skew-ppm). Real nodes use the identity clock.
//!
//!   node_ns = origin + (real_ns - origin) * (1 + skew_ppm * 1e-6) + offset_ns
//!
//! with origin = the real monotonic time at process start. Every node-side clock
//! reading used for clock sync and timestamps goes through node_ns(); the timer of
//! a generated source sleeps until real_ns(node deadline), so it produces audio at
//! (1 + skew) x the nominal rate in real time. Pure arithmetic, real-time safe.

#include <cstdint>

#include "tl/common/clock.h"

namespace tl::capture {

class SimClock {
 public:
  //! The identity: node time is the real monotonic time.
  constexpr SimClock() noexcept = default;
  constexpr SimClock(std::int64_t offset_ns, double skew_ppm, std::int64_t real_origin_ns) noexcept
      : origin_(real_origin_ns),
        offset_(offset_ns),
        skew_(skew_ppm * 1e-6),
        identity_(offset_ns == 0 && skew_ppm == 0.0) {}

  constexpr bool identity() const noexcept { return identity_; }
  constexpr std::int64_t offset_ns() const noexcept { return offset_; }
  constexpr double skew_ppm() const noexcept { return skew_ * 1e6; }

  //! The node's clock reading at real monotonic time real_ns.
  constexpr std::int64_t node_ns(std::int64_t real_ns) const noexcept {
    if (identity_) return real_ns;
    return real_ns + round(static_cast<double>(real_ns - origin_) * skew_) + offset_;
  }
  //! The real monotonic time at which the node's clock reads node_ns (inverse of node_ns, +-1 ns).
  constexpr std::int64_t real_ns(std::int64_t node_ns) const noexcept {
    if (identity_) return node_ns;
    const auto elapsed_node = static_cast<double>(node_ns - offset_ - origin_);
    return origin_ + round(elapsed_node / (1.0 + skew_));
  }
  //! The node's clock now.
  std::int64_t now() const noexcept { return node_ns(monotonic_ns()); }

  //! A shared identity instance (default argument for parts that take a clock).
  static const SimClock& real() noexcept {
    static constexpr SimClock kReal{};
    return kReal;
  }

 private:
  static constexpr std::int64_t round(double v) noexcept {
    return static_cast<std::int64_t>(v < 0 ? v - 0.5 : v + 0.5);
  }
  std::int64_t origin_ = 0;
  std::int64_t offset_ = 0;
  double skew_ = 0.0;
  bool identity_ = true;
};

}  // namespace tl::capture
