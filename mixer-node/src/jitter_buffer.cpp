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
  for (MediaTime f = 0; f < frames; ++f) {
    const MediaTime pos = position + f;
    if (pos < read_pos) continue;  // the part already played
    const std::size_t idx = static_cast<std::size_t>(pos) & mask_;
    for (std::uint32_t c = 0; c < channel_count; ++c) {
      const std::size_t at = static_cast<std::size_t>(first_channel + c) * capacity_ + idx;
      samples_[at] = interleaved[static_cast<std::size_t>(f) * channel_count + c];
      stamps_[at] = pos;
      guess_[at] = guess ? 1 : 0;
    }
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
