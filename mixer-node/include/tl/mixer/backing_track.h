#pragma once
//! A backing track as the mix thread reads it: a FrameSource that plays a file's frames
//! at their places on the transport timeline while the transport plays.
//!
//! A disk reader (BackingTracks, on a thread of its own) reads the file ahead into a ring
//! of chunks, each tagged with the timeline position of its first frame and the
//! generation of the read it belongs to. Every play and locate starts a new generation:
//! the io thread asks for it (want()), the reader reads from the new position, and the
//! play command carries the generation, so the mix plays only chunks read for it. While
//! playing, the read in play goes on until the command naming the next one lands (the
//! new read queues behind it): the audio changes at that block and no other, so a take's
//! render can repeat it. While stopped, a read the io thread has moved on from is dropped
//! at once, so the reader always has room. Chunks behind the timeline are dropped. A
//! frame inside the track with nothing queued plays as silence and counts as an
//! underrun; frames before or after the track are silence. Nothing on the mix thread
//! locks, allocates or waits.

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
//! The ring: 32 chunks of 1024 frames. A read keeps at most kBackingReadAhead of them
//! queued (0.51 s at 48 kHz), so the first kBackingReady chunks of a new read always
//! find room behind the one in play, whatever it holds.
inline constexpr std::size_t kBackingChunks = 32;
inline constexpr std::size_t kBackingReadAhead = 24;
inline constexpr int kBackingReady = 4;

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
  std::size_t block_frames_ = 0;
  std::atomic<std::uint64_t> wanted_{0};
  std::atomic<std::uint64_t> file_{0};
  std::atomic<MediaTime> start_{0}, end_{0};
  std::atomic<bool> enabled_{false};
  std::atomic<std::uint64_t> underruns_{0};
};

}  // namespace tl::mixer
