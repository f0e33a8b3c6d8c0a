#pragma once
//! A backing track as the mix thread reads it: a FrameSource that plays a file's frames
//! at their places on the transport timeline while the transport plays.
//!
//! A disk reader (BackingTracks, on a thread of its own) reads the file ahead into a ring
//! of chunks, each tagged with the timeline position of its first frame and the
//! generation of the read it belongs to. Every play and locate starts a new generation:
//! the io thread asks for it (want()), the reader reads from the new position, and the
//! play command carries the generation, so the mix plays only chunks read for it. The
//! mix thread drops chunks of older generations (also while stopped, so the reader
//! always has room) and chunks behind the timeline. A frame inside the track that has
//! no chunk yet plays as silence and counts as an underrun; frames before or after the
//! track are silence. Nothing on the mix thread locks, allocates or waits.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "tl/common/spsc_ring.h"
#include "tl/mixer/frame_source.h"
#include "tl/mixer/mix_engine.h"

namespace tl::mixer {

inline constexpr std::size_t kBackingChunkFrames = 1024;
inline constexpr std::uint32_t kMaxBackingChannels = 8;
//! Chunks read ahead: 32 x 1024 frames, 0.68 s at 48 kHz.
inline constexpr std::size_t kBackingChunks = 32;

struct BackingChunk {
  std::uint64_t generation = 0;
  std::uint64_t file = 0;  //!< which file (a track removed and added again reads another)
  MediaTime from = 0;      //!< timeline position of its first frame
  std::uint32_t frames = 0;
  std::array<float, kBackingChunkFrames * kMaxBackingChannels> samples{};  //!< interleaved
};

class BackingTrack final : public FrameSource {
 public:
  //! transport: the engine's (read on the mix thread only). max_block: the engine's
  //! largest block. Allocates its ring and block here.
  BackingTrack(const Transport& transport, std::uint32_t channels, std::size_t max_block);

  std::uint32_t channels() const noexcept { return channels_; }

  //! The reader thread's side of the ring (its one producer).
  SpscRing<BackingChunk>& chunks() noexcept { return chunks_; }

  //! io: chunks of generations before `generation`, or of another file than `file`, are
  //! stale from now on. The track covers timeline [start, end) (for counting underruns);
  //! enabled false silences it and drops whatever it holds.
  void want(std::uint64_t generation, std::uint64_t file, MediaTime start, MediaTime end,
            bool enabled) noexcept;
  //! Any thread: track frames that had not been read in time (played as silence).
  std::uint64_t underruns() const noexcept { return underruns_.load(std::memory_order_relaxed); }

  void begin_block(MediaTime at, std::size_t frames) noexcept override;
  std::uint32_t read(std::uint32_t channel, MediaTime at, std::span<float> out,
                     std::span<std::uint8_t> marks) noexcept override;
  MediaTime audio_until(MediaTime end) const noexcept override { return end; }

 private:
  //! Drops the front chunks that are stale (or all, when disabled) or end before timeline
  //! position t.
  void drop_until(std::uint64_t generation, std::uint64_t file, bool enabled, MediaTime t) noexcept;

  const Transport& transport_;
  std::uint32_t channels_;
  std::size_t max_block_;
  SpscRing<BackingChunk> chunks_;
  std::unique_ptr<float[]> block_;  // the block, planar: channel c at c * max_block_
  MediaTime block_at_ = 0;
  std::atomic<std::uint64_t> wanted_{0};
  std::atomic<std::uint64_t> file_{0};
  std::atomic<MediaTime> start_{0}, end_{0};
  std::atomic<bool> enabled_{false};
  std::atomic<std::uint64_t> underruns_{0};
};

}  // namespace tl::mixer
