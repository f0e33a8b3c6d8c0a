#include "tl/common/histogram.h"

#include <algorithm>
#include <cmath>

namespace tl {

void DurationHistogram::add(std::int64_t ns) noexcept {
  ns = std::max<std::int64_t>(ns, 0);
  const auto b = std::min<std::size_t>(static_cast<std::size_t>(ns / kStepNs), kBuckets - 1);
  // One writer: a plain load and store is enough, and cheaper than a locked add.
  buckets_[b].store(buckets_[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (ns > max_ns_.load(std::memory_order_relaxed)) max_ns_.store(ns, std::memory_order_relaxed);
}

double DurationHistogram::quantile_ms(double q) const noexcept {
  std::uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0.0;
  const auto rank =
      static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      return std::min(static_cast<double>((static_cast<std::int64_t>(i) + 1) * kStepNs) / 1e6, max_ms());
    }
  }
  return max_ms();
}

}  // namespace tl
