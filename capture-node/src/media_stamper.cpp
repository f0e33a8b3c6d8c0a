#include "tl/capture/block_queue.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {

void MediaStamper::stamp(BlockInfo& info, std::uint32_t frames) noexcept {
  const std::uint32_t e = epoch_.load(std::memory_order_acquire);
  info.epoch = e;
  if (e == 0) {
    info.media_ts = 0;
    return;
  }
  if (e != seen_epoch_) {
    seen_epoch_ = e;
    (void)map_.try_load(map_copy_);  // on failure (a publish in progress) keep the previous map
    s0_ = ns_to_nearest_frame(map_copy_.to_session_ns(info.capture_ns), rate_);
    next_ts_ = s0_;
    info.flags |= protocol::kFlagDiscontinuity;
  }
  info.media_ts = next_ts_;
  next_ts_ += frames;
}

}  // namespace tl::capture
