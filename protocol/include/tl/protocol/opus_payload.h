#pragma once
//! The payload of an Opus audio packet (SampleFormat::Opus).
//!
//! One Opus frame per channel of the packet, in channel order, each prefixed by
//! its length: [u16 bytes][bytes] x channel_count (network byte order). Every
//! channel is its own mono Opus stream (isolated mics need no stereo coupling, and
//! a channel's decoder never depends on another's). The header's frame_count is
//! the frame duration in samples: 2.5, 5, 10 or 20 ms of the node's rate.
//!
//! A node that sends Opus keeps its spool, and so every resend and backfill, in
//! 24-bit PCM: the recording is made from the node's exact samples, never from
//! decoded Opus.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tl/protocol/audio_packet.h"

namespace tl::protocol {

//! Largest Opus frame (RFC 6716, 3.2.1).
inline constexpr std::size_t kOpusMaxFrameBytes = 1275;

//! True when frames is an Opus frame duration at rate (48000 only: 120, 240, 480, 960).
bool opus_frame_size_ok(std::uint32_t rate, std::uint32_t frames) noexcept;

//! The format a node keeps in its spool and resends in: its live format, or
//! 24-bit PCM for Opus.
SampleFormat spool_format(SampleFormat live) noexcept;

//! The bytes one channel's Opus frame may use at this bitrate (bits/s): twice the
//! average, so VBR has room, within kOpusMaxFrameBytes.
std::size_t opus_frame_cap(std::uint32_t rate, std::uint32_t frames, std::uint32_t bitrate) noexcept;

//! Channels per Opus packet when each frame may use cap bytes (>= 1, <= 255).
std::size_t opus_channels_per_packet(std::size_t cap) noexcept;

//! Splits a payload into its channels' frames. False (frames untouched past the
//! failure) when the lengths do not add up to the payload exactly or a frame is empty.
bool split_opus_payload(std::span<const std::uint8_t> payload, std::size_t channels,
                        std::span<std::span<const std::uint8_t>> frames) noexcept;

//! Appends one channel's frame at offset of out. Returns the new offset, or 0 when
//! it does not fit or the frame is empty or over kOpusMaxFrameBytes.
std::size_t append_opus_frame(std::span<std::uint8_t> out, std::size_t offset,
                              std::span<const std::uint8_t> frame) noexcept;

}  // namespace tl::protocol
