#pragma once
//! Conversion between float samples and wire PCM, exact for integer sources.
//!
//! Floats are normalised to [-1, 1): a 24-bit value v maps to v / 2^23 and back
//! without loss, so 16- and 24-bit sources round-trip bit-exactly. Values beyond
//! full scale are clamped, never wrapped; the functions report how many were.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tl/protocol/audio_packet.h"

namespace tl::protocol {

//! Float to signed 24-bit integer (clamped). Sets clipped when clamping happened.
std::int32_t float_to_int24(float v, bool& clipped) noexcept;
inline float int24_to_float(std::int32_t v) noexcept {
  return static_cast<float>(v) * (1.0f / 8388608.0f);
}

//! Packs interleaved float frames (frames x channels) into out as format.
//! out must hold frames*channels*bytes_per_sample(format). Returns samples clamped.
std::size_t pack_pcm(std::span<const float> interleaved, SampleFormat format,
                     std::span<std::uint8_t> out) noexcept;

//! Unpacks a PCM payload into interleaved floats (out.size() samples).
//! The payload must hold out.size()*bytes_per_sample(format) bytes (checked by parse()).
void unpack_pcm(std::span<const std::uint8_t> payload, SampleFormat format, std::span<float> out) noexcept;

}  // namespace tl::protocol
