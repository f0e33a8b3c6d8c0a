#include "tl/capture/producer.h"

#include "tl/common/clock.h"
#include "tl/common/realtime.h"

namespace tl::capture {

void TimerDriver::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void TimerDriver::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

void TimerDriver::produce(std::int64_t capture_ns) noexcept {
  rt::RealtimeScope scope;
  const std::size_t channels = writer_.queue().channels();
  const std::size_t frames = writer_.queue().frames();
  writer_.write(capture_ns, [&](BlockInfo& info, float* planar) { source_.render(info, planar, channels, frames); });
  blocks_.fetch_add(1, std::memory_order_relaxed);
}

void TimerDriver::run() {
  rt::try_set_realtime_priority(70);
  const auto frames = static_cast<std::int64_t>(writer_.queue().frames());
  const std::int64_t start = monotonic_ns();
  for (std::int64_t k = 0; running_.load(std::memory_order_relaxed); ++k) {
    sleep_until_ns(start + frames_to_ns((k + 1) * frames, rate_));
    produce(start + frames_to_ns(k * frames, rate_));
  }
}

}  // namespace tl::capture
