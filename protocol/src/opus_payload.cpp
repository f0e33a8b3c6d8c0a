#include "tl/protocol/opus_payload.h"

#include <algorithm>
#include <cstring>

#include "tl/protocol/byte_order.h"

namespace tl::protocol {

bool opus_frame_size_ok(std::uint32_t rate, std::uint32_t frames) noexcept {
  return rate == 48000 && (frames == 120 || frames == 240 || frames == 480 || frames == 960);
}

SampleFormat spool_format(SampleFormat live) noexcept {
  return live == SampleFormat::Opus ? SampleFormat::Pcm24 : live;
}

std::size_t opus_frame_cap(std::uint32_t rate, std::uint32_t frames, std::uint32_t bitrate) noexcept {
  if (rate == 0) return kOpusMaxFrameBytes;
  const std::uint64_t average = (static_cast<std::uint64_t>(bitrate) * frames / rate + 7) / 8;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(2 * average + 16, 64, kOpusMaxFrameBytes));
}

std::size_t opus_channels_per_packet(std::size_t cap) noexcept {
  return std::clamp<std::size_t>(kSafePayloadBytes / (cap + 2), 1, 255);
}

bool split_opus_payload(std::span<const std::uint8_t> payload, std::size_t channels,
                        std::span<std::span<const std::uint8_t>> frames) noexcept {
  if (frames.size() < channels) return false;
  std::size_t at = 0;
  for (std::size_t c = 0; c < channels; ++c) {
    if (payload.size() - at < 2) return false;
    const std::size_t n = get_u16(payload.data() + at);
    at += 2;
    if (n == 0 || n > kOpusMaxFrameBytes || payload.size() - at < n) return false;
    frames[c] = payload.subspan(at, n);
    at += n;
  }
  return at == payload.size();
}

std::size_t append_opus_frame(std::span<std::uint8_t> out, std::size_t offset,
                              std::span<const std::uint8_t> frame) noexcept {
  if (frame.empty() || frame.size() > kOpusMaxFrameBytes || offset > out.size() ||
      out.size() - offset < frame.size() + 2) {
    return 0;
  }
  put_u16(out.data() + offset, static_cast<std::uint16_t>(frame.size()));
  std::memcpy(out.data() + offset + 2, frame.data(), frame.size());
  return offset + 2 + frame.size();
}

}  // namespace tl::protocol
