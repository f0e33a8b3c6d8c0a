#pragma once
//! A histogram of durations written by one real-time thread and read by any other:
//! fixed buckets of atomics, no allocation, no lock. For figures such as how late a
//! timer thread woke (its 99.9th percentile and worst, for the operator).

#include <array>
#include <atomic>
#include <cstdint>

namespace tl {

class DurationHistogram {
 public:
  static constexpr std::int64_t kStepNs = 50'000;  //!< 50 us buckets
  static constexpr std::size_t kBuckets = 1000;    //!< up to 50 ms; beyond goes in the last

  //! One thread only (the writer). Negative durations count as 0.
  void add(std::int64_t ns) noexcept;
  //! Any thread: the q-quantile in ms (to the bucket's upper edge; 0 when empty).
  double quantile_ms(double q) const noexcept;
  //! Any thread: the largest duration added, in ms.
  double max_ms() const noexcept {
    return static_cast<double>(max_ns_.load(std::memory_order_relaxed)) / 1e6;
  }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> max_ns_{0};
};

}  // namespace tl
