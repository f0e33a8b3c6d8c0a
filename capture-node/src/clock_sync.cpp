#include "tl/capture/clock_sync.h"

namespace tl::capture {

bool ClockSync::add_sample(const protocol::SyncSample& sample) {
  if (sample.rtt_ns() < 0 || sample.t4 < sample.t1) return false;
  samples_.push_back(sample);
  while (samples_.size() > window_) samples_.pop_front();
  return true;
}

const protocol::SyncSample* ClockSync::best() const noexcept {
  const protocol::SyncSample* b = nullptr;
  for (const auto& s : samples_) {
    if (b == nullptr || s.rtt_ns() < b->rtt_ns()) b = &s;
  }
  return b;
}

std::int64_t ClockSync::offset_ns() const noexcept {
  const auto* b = best();
  return b ? b->offset_ns() : 0;
}

std::int64_t ClockSync::rtt_ns() const noexcept {
  const auto* b = best();
  return b ? b->rtt_ns() : 0;
}

}  // namespace tl::capture
