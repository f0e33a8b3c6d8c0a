#pragma once
//! Per-node play-out buffer keyed by session sample position (media time).
//!
//! Owned by the mix thread alone: packets are written at their timestamp, blocks
//! are read at the play-out position. The ring is cut into cells of 64 frames; each
//! cell of each channel remembers which cell of the timeline it holds and which of its
//! frames were written (and which were a codec's guess), so a stale frame left over from
//! a lap of the ring is never mistaken for a fresh one. (A stamp per frame did the same
//! with 9 bytes per sample more to write: on 256 channels the stores missed the cache
//! and the writes cost more than the EQs.) Reordering is absorbed for free; duplicates
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
  //! TooEarly: beyond read_pos + capacity - 63 (nothing written; the cell holding
  //! read_pos is not reused before it is read). guess: the frames
  //! stand in for lost audio (a codec's concealment); reads mark them 2.
  WriteResult write(MediaTime position, std::uint32_t first_channel, std::uint32_t channel_count,
                    std::span<const float> interleaved, MediaTime read_pos, bool guess = false) noexcept;

  //! Reads one channel's frames [position, position + out.size()); frames never
  //! written read as 0 and, when missing is given (as long as out), are marked 1
  //! there, guesses 2, others 0. Returns how many frames were missing; *guesses (when
  //! given) how many were a codec's guess.
  std::uint32_t read(std::uint32_t channel, MediaTime position, std::span<float> out,
                     std::span<std::uint8_t> missing = {}, std::uint32_t* guesses = nullptr) const noexcept;

 private:
  static constexpr unsigned kCellShift = 6;  // 64 frames: one bit each in a 64-bit mask
  static constexpr std::uint32_t kCellFrames = 1u << kCellShift;
  struct Cell {
    MediaTime index = INT64_MIN;  // position >> kCellShift of the frames it holds
    std::uint64_t written = 0;    // frame k of the cell holds audio
    std::uint64_t guessed = 0;    // ... and it is a codec's guess
  };

  std::uint32_t channels_;
  std::uint32_t capacity_;
  std::uint32_t mask_;
  std::uint32_t cells_;               // per channel
  std::unique_ptr<float[]> samples_;  // [channel][capacity]
  std::unique_ptr<Cell[]> cell_;      // [channel][capacity / kCellFrames]
};

}  // namespace tl::mixer
