#include "tl/mixer/jitter_buffer.h"

#include <algorithm>
#include <bit>

namespace tl::mixer {
namespace {

//! Bits [from, from + n) of a cell's mask (n >= 1, from + n <= 64).
std::uint64_t bits(std::uint32_t from, std::uint32_t n) noexcept {
  return (n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1)) << from;
}

}  // namespace

JitterBuffer::JitterBuffer(std::uint32_t channels, std::uint32_t capacity_frames)
    : channels_(channels),
      capacity_(std::bit_ceil(std::max<std::uint32_t>(capacity_frames, 2 * kCellFrames))),
      mask_(capacity_ - 1),
      cells_(capacity_ >> kCellShift),
      samples_(std::make_unique<float[]>(static_cast<std::size_t>(channels_) * capacity_)),
      cell_(std::make_unique<Cell[]>(static_cast<std::size_t>(channels_) * cells_)) {}

JitterBuffer::WriteResult JitterBuffer::write(MediaTime position, std::uint32_t first_channel,
                                              std::uint32_t channel_count, std::span<const float> interleaved,
                                              MediaTime read_pos, bool guess) noexcept {
  const auto frames = static_cast<MediaTime>(interleaved.size() / channel_count);
  if (position + frames <= read_pos) return WriteResult::Late;
  // The cell holding read_pos may not be taken for a later lap before it is read.
  const MediaTime reading_cell = read_pos & ~static_cast<MediaTime>(kCellFrames - 1);
  if (position + frames > reading_cell + capacity_) return WriteResult::TooEarly;
  const MediaTime from = std::max(position, read_pos);
  const float* in = interleaved.data() + static_cast<std::size_t>(from - position) * channel_count;
  // Cell by cell (a cell never wraps the ring: the capacity is a multiple of it).
  for (MediaTime at = from, end = position + frames; at < end;) {
    const auto offset = static_cast<std::uint32_t>(at & (kCellFrames - 1));
    const auto n = static_cast<std::uint32_t>(std::min<MediaTime>(end - at, kCellFrames - offset));
    const std::uint64_t span_bits = bits(offset, n);
    const std::size_t ring = static_cast<std::size_t>(at) & mask_;
    const MediaTime index = at >> kCellShift;
    for (std::uint32_t c = 0; c < channel_count; ++c) {
      const std::size_t channel = first_channel + c;
      Cell& cell = cell_[channel * cells_ + (ring >> kCellShift)];
      if (cell.index != index) cell = Cell{.index = index};
      cell.written |= span_bits;
      cell.guessed = guess ? cell.guessed | span_bits : cell.guessed & ~span_bits;
      float* out = &samples_[channel * capacity_ + ring];
      const float* src = in + c;
      for (std::uint32_t i = 0; i < n; ++i) out[i] = src[static_cast<std::size_t>(i) * channel_count];
    }
    in += static_cast<std::size_t>(n) * channel_count;
    at += n;
  }
  // The next packet most likely follows this one: ask for its lines now, so its stores do
  // not wait on memory (a node's rows are far apart and each is written a little at a time).
  const std::size_t next = static_cast<std::size_t>(position + frames) & mask_;
  const auto ahead = static_cast<std::size_t>(std::min<MediaTime>(frames, capacity_ - next));
  for (std::uint32_t c = 0; c < channel_count; ++c) {
    const float* row = &samples_[static_cast<std::size_t>(first_channel + c) * capacity_ + next];
    for (std::size_t i = 0; i < ahead; i += 16) __builtin_prefetch(row + i, 1);
  }
  return WriteResult::Ok;
}

std::uint32_t JitterBuffer::read(std::uint32_t channel, MediaTime position, std::span<float> out,
                                 std::span<std::uint8_t> mark, std::uint32_t* guesses) const noexcept {
  std::uint32_t missing = 0, guessed_count = 0;
  const bool marking = mark.size() >= out.size();
  const float* samples = &samples_[static_cast<std::size_t>(channel) * capacity_];
  const Cell* cells = &cell_[static_cast<std::size_t>(channel) * cells_];
  for (std::size_t done = 0; done < out.size();) {
    const MediaTime at = position + static_cast<MediaTime>(done);
    const auto offset = static_cast<std::uint32_t>(at & (kCellFrames - 1));
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size() - done, kCellFrames - offset));
    const std::size_t ring = static_cast<std::size_t>(at) & mask_;
    const Cell& cell = cells[ring >> kCellShift];
    const std::uint64_t want = bits(offset, n);
    const bool here = cell.index == (at >> kCellShift);
    const std::uint64_t have = here ? cell.written & want : 0;
    const std::uint64_t guessed = here ? cell.guessed & have : 0;
    float* o = out.data() + done;
    if (have == want && guessed == 0) {  // the usual case: all there, all real
      std::copy_n(samples + ring, n, o);
      if (marking) std::fill_n(mark.data() + done, n, std::uint8_t{0});
    } else {
      for (std::uint32_t i = 0; i < n; ++i) {
        const bool ok = ((have >> (offset + i)) & 1) != 0;
        o[i] = ok ? samples[ring + i] : 0.0f;
        if (marking) mark[done + i] = ok ? static_cast<std::uint8_t>(2 * ((guessed >> (offset + i)) & 1)) : 1;
      }
      missing += n - static_cast<std::uint32_t>(std::popcount(have));
      guessed_count += static_cast<std::uint32_t>(std::popcount(guessed));
    }
    done += n;
  }
  if (guesses != nullptr) *guesses = guessed_count;
  return missing;
}

}  // namespace tl::mixer
