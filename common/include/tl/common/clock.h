#pragma once
//! Monotonic time for every node: one source, in nanoseconds.

#include <chrono>
#include <cstdint>

namespace tl {

//! Nanoseconds on the monotonic clock (CLOCK_MONOTONIC via steady_clock).
inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

//! Sleeps until an absolute monotonic time in nanoseconds.
void sleep_until_ns(std::int64_t deadline_ns);

}  // namespace tl
