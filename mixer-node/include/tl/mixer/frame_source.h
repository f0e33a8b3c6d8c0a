#pragma once
//! The mix engine's second kind of input: audio handed over as frames on the session
//! timeline, not as packets.
//!
//! A node's audio reaches the engine one of two ways. A capture node's comes as
//! packets: the engine drains them into the node's jitter buffer and reads them at a
//! play-out cursor that follows the node's clock (varispeed). A FrameSource's comes as
//! frames already on the mix's timeline: a take's track files (tl-render), and next a
//! backing track. The engine reads a source's block exactly at the play-out position,
//! with no jitter buffer, cursor or packet in between; everything after the read (the
//! concealment of frames the source marks missing, the strip, the sums, the cues, the
//! master) is the same code for both.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tl/common/units.h"

namespace tl::mixer {

class FrameSource {
 public:
  virtual ~FrameSource() = default;

  //! Mix thread, real time: called once a block, before its reads and audio_until(), with
  //! the block's play-out position and length (a streaming source takes its block here).
  virtual void begin_block(MediaTime at, std::size_t frames) noexcept {
    static_cast<void>(at);
    static_cast<void>(frames);
  }

  //! Mix thread, real time (no locks, allocation or I/O): channel's frames
  //! [at, at + out.size()) into out, and marks[i] = 1 where the source has no audio for
  //! frame i (0 elsewhere); the engine conceals those frames as it would a lost
  //! packet's. Returns how many frames it marked.
  virtual std::uint32_t read(std::uint32_t channel, MediaTime at, std::span<float> out,
                             std::span<std::uint8_t> marks) noexcept = 0;

  //! Mix thread: the end of the latest frame, on any channel, the source has audio for,
  //! up to `end` (the end of the block it is about to read). The node counts as
  //! streaming, so its missing frames as concealed, while this is within a second.
  virtual MediaTime audio_until(MediaTime end) const noexcept = 0;

 protected:
  FrameSource() = default;
  FrameSource(const FrameSource&) = default;
  FrameSource& operator=(const FrameSource&) = default;
};

}  // namespace tl::mixer
