#pragma once
//! Fixed-size carriers between the receive, mix and recorder threads.
//!
//! They travel by value through SpscRings (datagrams through a PacketRing) sized at
//! set-up, so no thread ever allocates to hand audio to another.

#include <array>
#include <cstddef>
#include <cstdint>

#include "tl/common/units.h"
#include "tl/mixer/packet_ring.h"
#include "tl/protocol/audio_packet.h"

namespace tl::mixer {

//! Bytes of a PacketRing that hold this many internet-size datagrams (larger ones
//! take proportionally more of it): how the mixer's queues are sized.
inline std::size_t packet_ring_bytes(std::size_t packets) noexcept {
  return packets * PacketRing::footprint(protocol::kSafePacketBytes);
}

inline constexpr std::uint32_t kMaxMixChunk = 256;

//! A run of one input channel's frames the live mix concealed (they were missing, late
//! or lost, when its block read them): at the node's own timeline positions, so an
//! offline render of the raw tracks can leave the same frames out and conceal them
//! the same way (tl-render --as-live).
struct ConcealedRun {
  MediaTime from = 0;  // media time (the raw track's timeline)
  std::uint32_t frames = 0;
  std::uint16_t node = 0;
  std::uint16_t channel = 0;  // 0-based
  bool exact = true;          // read sample for sample (false: through the varispeed, not repeatable)
};

//! A stretch of the stereo mix at a session position, for the recorder.
struct MixChunk {
  MediaTime position = 0;
  std::uint32_t frames = 0;
  std::uint32_t clipped = 0;  // samples over full scale in this chunk
  //! Frames of this chunk in which some input's audio was missing and concealed
  //! (a waveform continuation stood in): where the live mix holds a guess.
  std::uint32_t concealed = 0;
  std::array<float, kMaxMixChunk> left{};
  std::array<float, kMaxMixChunk> right{};
};

//! A node's personal cue mix is sent in chunks that fit one PCM24 stereo datagram.
inline constexpr std::uint32_t kCueChunkFrames = 224;
//! Every cue mix ends in a true-peak limiter, a performer's ears' protection: its
//! ceiling unless the operator sets one (tlctl cue NODE limit DB), and its look-ahead
//! (short: a cue's latency is what the performer plays against).
inline constexpr float kCueCeilingDbtp = -6.0f;
inline constexpr float kCueLookaheadMs = 0.5f;

//! A stretch of a node's cue mix (stereo, interleaved) at a mix position, for the
//! io thread to send it.
struct CueChunk {
  MediaTime position = 0;
  std::uint32_t frames = 0;
  std::array<float, 2 * kCueChunkFrames> samples{};
};

}  // namespace tl::mixer
