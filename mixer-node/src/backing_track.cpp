#include "tl/mixer/backing_track.h"

#include <algorithm>

namespace tl::mixer {

BackingTrack::BackingTrack(const Transport& transport, std::uint32_t channels, std::size_t max_block)
    : transport_(transport),
      channels_(std::clamp<std::uint32_t>(channels, 1, kMaxBackingChannels)),
      max_block_(max_block),
      chunks_(kBackingChunks),
      block_(std::make_unique<float[]>(static_cast<std::size_t>(channels_) * max_block)) {}

void BackingTrack::want(std::uint64_t generation, std::uint64_t file, MediaTime start, MediaTime end,
                        bool enabled) noexcept {
  file_.store(file, std::memory_order_relaxed);
  start_.store(start, std::memory_order_relaxed);
  end_.store(end, std::memory_order_relaxed);
  enabled_.store(enabled, std::memory_order_relaxed);
  wanted_.store(generation, std::memory_order_release);
}

void BackingTrack::drop_until(std::uint64_t generation, std::uint64_t file, bool enabled,
                              MediaTime t) noexcept {
  while (BackingChunk* c = chunks_.front()) {
    const bool stale = !enabled || c->generation < generation || c->file != file;
    const bool behind = c->generation == generation && c->from + static_cast<MediaTime>(c->frames) <= t;
    if (!stale && !behind) break;
    chunks_.pop();
  }
}

void BackingTrack::begin_block(MediaTime at, std::size_t frames) noexcept {
  frames = std::min(frames, max_block_);
  block_at_ = at;
  block_frames_ = frames;
  // Only the block's own frames of each channel's row: the engine's largest block is
  // 4096 frames, its usual one 48.
  for (std::uint32_t ch = 0; ch < channels_; ++ch)
    std::fill_n(block_.get() + static_cast<std::size_t>(ch) * max_block_, frames, 0.0f);
  const std::uint64_t wanted = wanted_.load(std::memory_order_acquire);
  const std::uint64_t file = file_.load(std::memory_order_relaxed);
  const bool enabled = enabled_.load(std::memory_order_relaxed);
  const bool playing = transport_.playing && enabled;
  // Playing, the read its play command named goes on until the next command names the
  // new one (queued behind it): a locate changes the audio at the block it lands on, as
  // a render of the take does. Stopped, a read the io thread has moved on from is dropped
  // at once, so the reader has room for the new one.
  const std::uint64_t plays = playing ? std::min(transport_.generation, wanted) : wanted;
  drop_until(plays, file, enabled, INT64_MIN);
  if (!playing || transport_.generation > wanted) return;
  // Chunks are placed on the straight timeline (the reader folds it by the loop).
  const MediaTime t0 = transport_.linear(at);
  drop_until(plays, file, enabled, t0);
  const MediaTime start = start_.load(std::memory_order_relaxed), end = end_.load(std::memory_order_relaxed);
  std::uint64_t missed = 0;
  for (std::size_t i = 0; i < frames;) {
    const MediaTime t = t0 + static_cast<MediaTime>(i);
    BackingChunk* c = chunks_.front();
    if (c == nullptr || c->generation != plays || t < c->from) {
      // Nothing for t: before the next chunk (before the track, or where it joins), a new
      // read waiting for its command, or nothing read yet; inside the track with nothing
      // queued at all, that is an underrun.
      const std::size_t gap = c != nullptr && c->generation == plays
                                  ? std::min<std::size_t>(static_cast<std::size_t>(c->from - t), frames - i)
                                  : frames - i;
      if (c == nullptr) {  // (counted up to a loop's wrap: a count, not the audio)
        const MediaTime ft = transport_.loop.at(t);
        const MediaTime run = std::min(static_cast<MediaTime>(gap), transport_.loop.until_wrap(t));
        const MediaTime lo = std::max(ft, start), hi = std::min(ft + run, end);
        if (hi > lo) missed += static_cast<std::uint64_t>(hi - lo);
      }
      i += gap;
      continue;
    }
    const auto offset = static_cast<std::size_t>(t - c->from);
    const std::size_t n = std::min<std::size_t>(c->frames - offset, frames - i);
    for (std::uint32_t ch = 0; ch < channels_; ++ch) {
      float* __restrict out = block_.get() + static_cast<std::size_t>(ch) * max_block_ + i;
      const float* __restrict in = c->samples.data() + offset * channels_ + ch;
      for (std::size_t k = 0; k < n; ++k) out[k] = in[k * channels_];
    }
    i += n;
    if (offset + n == c->frames) chunks_.pop();
  }
  if (missed != 0) underruns_.fetch_add(missed, std::memory_order_relaxed);
}

std::uint32_t BackingTrack::read(std::uint32_t channel, MediaTime at, std::span<float> out,
                                 std::span<std::uint8_t> marks) noexcept {
  const auto offset = static_cast<std::size_t>(at - block_at_);
  const std::size_t n = std::min(out.size(), block_frames_ - std::min(offset, block_frames_));
  const float* in =
      block_.get() + static_cast<std::size_t>(std::min(channel, channels_ - 1)) * max_block_ + offset;
  std::copy_n(in, n, out.begin());
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), 0.0f);
  std::fill(marks.begin(), marks.end(), std::uint8_t{0});
  return 0;
}

}  // namespace tl::mixer
