#pragma once
//! Per-node play-out buffer keyed by session sample position (media time).
//!
//! Owned by the mix thread alone: packets are written at their timestamp, blocks
//! are read at the play-out position. Each frame of each channel remembers the
//! position it was written for, so a stale frame left over from a lap of the ring
//! is never mistaken for a fresh one. Reordering is absorbed for free; duplicates
//! overwrite identical data. No allocation after construction.

#include <cstdint>
#include <memory>
#include <span>

#include "tl/common/units.h"

namespace tl::mixer {

class JitterBuffer {
 public:
  //! capacity_frames is rounded up to a power of two; it bounds how far ahead of
  //! the play-out position a packet may be written.
  JitterBuffer(std::uint32_t channels, std::uint32_t capacity_frames);

  std::uint32_t channels() const noexcept { return channels_; }
  std::uint32_t capacity() const noexcept { return capacity_; }

  enum class WriteResult { Ok, Late, TooEarly };

  //! Writes interleaved frames (frames x channel_count) for channels
  //! [first_channel, first_channel + channel_count) at position. The caller has
  //! checked the channel range. Late: entirely before read_pos (nothing written).
  //! TooEarly: beyond read_pos + capacity (nothing written). guess: the frames
  //! stand in for lost audio (a codec's concealment); reads mark them 2.
  WriteResult write(MediaTime position, std::uint32_t first_channel, std::uint32_t channel_count,
                    std::span<const float> interleaved, MediaTime read_pos, bool guess = false) noexcept;

  //! Reads one channel's frames [position, position + out.size()); frames never
  //! written read as 0 and, when missing is given (as long as out), are marked 1
  //! there, guesses 2, others 0. Returns how many frames were missing.
  std::uint32_t read(std::uint32_t channel, MediaTime position, std::span<float> out,
                     std::span<std::uint8_t> missing = {}) const noexcept;

 private:
  std::uint32_t channels_;
  std::uint32_t capacity_;
  std::uint32_t mask_;
  std::unique_ptr<float[]> samples_;     // [channel][capacity]
  std::unique_ptr<MediaTime[]> stamps_;  // [channel][capacity]: position last written
  std::unique_ptr<std::uint8_t[]> guess_;  // [channel][capacity]: 1 where a guess was written
};

}  // namespace tl::mixer
