#include "tl/capture/producer.h"

#include <algorithm>

#include "tl/common/clock.h"
#include "tl/common/realtime.h"

namespace tl::capture {

int TimerDriver::start(bool realtime) {
  if (running_.exchange(true)) return 0;
  thread_ = std::thread([this] { run(); });
  return realtime ? rt::set_realtime_priority(thread_, kPriority) : 0;
}

void TimerDriver::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

void TimerDriver::produce(std::int64_t capture_ns) noexcept {
  rt::RealtimeScope scope;
  const std::size_t channels = writer_.queue().channels();
  const std::size_t frames = writer_.queue().frames();
  writer_.write(capture_ns, [&](BlockInfo& info, float* planar) {
    if (info.epoch == 0) {
      // No timeline yet (clock sync still running): the block will not be sent, so keep
      // the source where it is; a file then starts with its first frame on the timeline.
      std::fill_n(planar, channels * frames, 0.0f);
      return;
    }
    source_.render(info, planar, channels, frames);
  });
  blocks_.fetch_add(1, std::memory_order_relaxed);
}

void BlockAssembler::push(const float* in, std::size_t n, std::int64_t now_ns) noexcept {
  rt::RealtimeScope scope;
  const std::size_t channels = writer_.queue().channels();
  const std::size_t frames = writer_.queue().frames();
  // The DLL smooths the callback time; the block's first frame was captured n frames before it.
  const std::int64_t smoothed = dll_.update(now_ns, static_cast<std::int64_t>(n));
  const std::int64_t first_ns = smoothed - frames_to_ns(static_cast<std::int64_t>(n), rate_);
  std::size_t done = 0;
  while (done < n) {
    if (fill_ == 0) start_ns_ = first_ns + frames_to_ns(static_cast<std::int64_t>(done), rate_);
    const std::size_t take = std::min(frames - fill_, n - done);
    for (std::size_t c = 0; c < channels; ++c) {
      std::copy_n(in + c * n + done, take, pending_.data() + c * frames + fill_);
    }
    fill_ += take;
    done += take;
    if (fill_ == frames) {
      writer_.write(start_ns_, [&](BlockInfo&, float* planar) {
        std::copy_n(pending_.data(), channels * frames, planar);
      });
      fill_ = 0;
    }
  }
}

std::int64_t TimerDriver::pump(std::int64_t now_ns) noexcept {
  const auto frames = static_cast<std::int64_t>(writer_.queue().frames());
  if (pump_start_ < 0) pump_start_ = now_ns;
  // A late caller catches up, but never by more than the queue holds.
  for (int k = 0; k < 64 && now_ns >= pump_start_ + frames_to_ns((pumped_ + 1) * frames, rate_); ++k) {
    produce(pump_start_ + frames_to_ns(pumped_ * frames, rate_));
    ++pumped_;
  }
  return pump_start_ + frames_to_ns((pumped_ + 1) * frames, rate_);
}

void TimerDriver::run() {
  const auto frames = static_cast<std::int64_t>(writer_.queue().frames());
  const std::int64_t start = clock_.now();  // node clock
  for (std::int64_t k = 0; running_.load(std::memory_order_relaxed); ++k) {
    sleep_until_ns(clock_.real_ns(start + frames_to_ns((k + 1) * frames, rate_)));
    produce(start + frames_to_ns(k * frames, rate_));
  }
}

}  // namespace tl::capture
