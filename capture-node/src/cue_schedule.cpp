#include "tl/capture/cue_schedule.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace tl::capture {

CueSchedule::CueSchedule(std::string name, std::uint32_t rate, MediaTime margin)
    : name_(std::move(name)), rate_(rate), margin_(margin), kept_(std::make_unique<Frame[]>(kKept)) {}

MediaTime CueSchedule::deliver(MediaTime position, std::span<const float> stereo, MediaTime media_now) {
  const auto frames = static_cast<MediaTime>(stereo.size() / 2);
  for (MediaTime i = 0; i < frames; ++i) {
    Frame& f = kept_[static_cast<std::size_t>(position + i) & (kKept - 1)];
    // A sequence check: the slot reads as no frame while it is rewritten.
    f.position.store(INT64_MIN, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    f.left.store(stereo[static_cast<std::size_t>(2 * i)], std::memory_order_relaxed);
    f.right.store(stereo[static_cast<std::size_t>(2 * i + 1)], std::memory_order_relaxed);
    f.position.store(position + i, std::memory_order_release);
  }
  // "Now" on the node's own media timeline: the output plays on that timeline, so a clock
  // estimate that improves later moves nothing here.
  if (media_now == INT64_MIN) return 0;
  const auto transit = static_cast<double>(media_now - position);
  MediaTime delay = delay_.load(std::memory_order_relaxed);
  if (delay < 0) {
    max_transit_ = settled_ == 0 ? transit : std::max(max_transit_, transit);
    settled_ += frames;
    if (settled_ >= static_cast<MediaTime>(kSettleSeconds * rate_)) {
      delay = static_cast<MediaTime>(std::ceil(max_transit_)) + margin_;
      delay_.store(delay, std::memory_order_relaxed);
      spdlog::info("{}: the cue plays {:.2f} ms after its mix position (largest transit {:.2f} ms)", name_,
                   static_cast<double>(delay) * 1000.0 / rate_, max_transit_ * 1000.0 / rate_);
    }
    return 0;
  }
  if (position + delay >= media_now) return 0;
  // Later than its play time: its first frames are gone (silence was played for them).
  const MediaTime late = std::min(frames, media_now - (position + delay));
  const double since =
      late_since_ == INT64_MIN ? kRecurSeconds + 1.0 : static_cast<double>(media_now - late_since_) / rate_;
  if (since > kRecurSeconds) {
    // A first burst: the delay holds (a take in progress keeps its placement).
    late_since_ = media_now;
    late_transit_ = transit;
    spdlog::info(
        "{}: a cue chunk came {:.2f} ms after its mix position, after its play time (played as silence); the "
        "cue's delay grows if it happens again within {:g} s",
        name_, transit * 1000.0 / rate_, kRecurSeconds);
  } else if (since <= kBurstSeconds) {
    late_transit_ = std::max(late_transit_, transit);  // the same burst
  } else {
    // Lateness came back: the delay grows to take chunks as late as the latest seen.
    delay = static_cast<MediaTime>(std::ceil(std::max(late_transit_, transit))) + margin_;
    delay_.store(delay, std::memory_order_relaxed);
    changes_.fetch_add(1, std::memory_order_relaxed);
    late_since_ = INT64_MIN;
    spdlog::warn(
        "{}: cue chunks came late again ({:.2f} ms after their mix position); the cue now plays {:.2f} ms "
        "after it (the placement of a take follows)",
        name_, transit * 1000.0 / rate_, static_cast<double>(delay) * 1000.0 / rate_);
  }
  return late;
}

float CueSchedule::output(MediaTime t, int side) const noexcept {
  const MediaTime delay = delay_.load(std::memory_order_relaxed);
  if (delay < 0) return 0.0f;
  float left = 0.0f, right = 0.0f;
  frame(t - delay, left, right);
  return side == 0 ? left : right;
}

bool CueSchedule::frame(MediaTime p, float& left, float& right) const noexcept {
  const Frame& f = kept_[static_cast<std::size_t>(p) & (kKept - 1)];
  left = right = 0.0f;
  if (f.position.load(std::memory_order_acquire) != p) return false;
  const float l = f.left.load(std::memory_order_relaxed), r = f.right.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (f.position.load(std::memory_order_relaxed) != p) return false;
  left = l;
  right = r;
  return true;
}

}  // namespace tl::capture
