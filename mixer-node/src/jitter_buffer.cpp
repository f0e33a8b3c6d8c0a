#include "tl/mixer/jitter_buffer.h"

#include <algorithm>
#include <bit>

namespace tl::mixer {
namespace {
constexpr MediaTime kNever = INT64_MIN;
}  // namespace

JitterBuffer::JitterBuffer(std::uint32_t channels, std::uint32_t capacity_frames)
    : channels_(channels),
      capacity_(std::bit_ceil(std::max<std::uint32_t>(capacity_frames, 64))),
      mask_(capacity_ - 1),
      samples_(std::make_unique<float[]>(static_cast<std::size_t>(channels_) * capacity_)),
      stamps_(std::make_unique<MediaTime[]>(static_cast<std::size_t>(channels_) * capacity_)),
      guess_(std::make_unique<std::uint8_t[]>(static_cast<std::size_t>(channels_) * capacity_)) {
  std::fill_n(stamps_.get(), static_cast<std::size_t>(channels_) * capacity_, kNever);
}

JitterBuffer::WriteResult JitterBuffer::write(MediaTime position, std::uint32_t first_channel,
                                              std::uint32_t channel_count, std::span<const float> interleaved,
                                              MediaTime read_pos, bool guess) noexcept {
  const auto frames = static_cast<MediaTime>(interleaved.size() / channel_count);
  if (position + frames <= read_pos) return WriteResult::Late;
  if (position + frames > read_pos + capacity_) return WriteResult::TooEarly;
  // Channel by channel: each channel's ring is contiguous, in at most two runs.
  const MediaTime from = std::max(position, read_pos);
  const auto skip = static_cast<std::size_t>(from - position);
  const auto count = static_cast<std::size_t>(position + frames - from);
  const std::size_t start = static_cast<std::size_t>(from) & mask_;
  const std::size_t first_run = std::min<std::size_t>(count, capacity_ - start);
  const std::uint8_t mark = guess ? 1 : 0;
  for (std::uint32_t c = 0; c < channel_count; ++c) {
    const std::size_t base = static_cast<std::size_t>(first_channel + c) * capacity_;
    const float* in = interleaved.data() + skip * channel_count + c;
    const auto copy = [&](std::size_t at, std::size_t n, std::size_t done) {
      float* out = &samples_[base + at];
      MediaTime* stamp = &stamps_[base + at];
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = in[(done + i) * channel_count];
        stamp[i] = from + static_cast<MediaTime>(done + i);
      }
      std::fill_n(&guess_[base + at], n, mark);
    };
    copy(start, first_run, 0);
    if (first_run < count) copy(0, count - first_run, first_run);
  }
  return WriteResult::Ok;
}

std::uint32_t JitterBuffer::read(std::uint32_t channel, MediaTime position, std::span<float> out,
                                 std::span<std::uint8_t> mark) const noexcept {
  std::uint32_t missing = 0;
  const bool marking = mark.size() >= out.size();
  const std::size_t base = static_cast<std::size_t>(channel) * capacity_;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const MediaTime pos = position + static_cast<MediaTime>(i);
    const std::size_t at = base + (static_cast<std::size_t>(pos) & mask_);
    const bool have = stamps_[at] == pos;
    out[i] = have ? samples_[at] : 0.0f;
    missing += have ? 0 : 1;
    if (marking) mark[i] = have ? static_cast<std::uint8_t>(2 * guess_[at]) : 1;
  }
  return missing;
}

}  // namespace tl::mixer
