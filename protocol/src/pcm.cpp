#include "tl/protocol/pcm.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "tl/protocol/byte_order.h"

namespace tl::protocol {
namespace {
constexpr float kScale24 = 8388608.0f;  // 2^23
constexpr float kScale16 = 32768.0f;    // 2^15

std::int32_t to_int(float v, float scale, std::int32_t max, bool& clipped) noexcept {
  const float s = v * scale;
  // max itself is in range (the largest positive code); only beyond it clamps.
  if (!(s <= static_cast<float>(max))) {  // also catches NaN
    clipped = true;
    return std::isnan(s) ? 0 : max;
  }
  if (s < -scale) {
    clipped = true;
    return -static_cast<std::int32_t>(scale);
  }
  return static_cast<std::int32_t>(std::lrint(s));
}
}  // namespace

std::int32_t float_to_int24(float v, bool& clipped) noexcept {
  return to_int(v, kScale24, 8388607, clipped);
}

std::size_t pack_pcm(std::span<const float> in, SampleFormat format, std::span<std::uint8_t> out) noexcept {
  std::size_t clipped_count = 0;
  std::uint8_t* p = out.data();
  for (const float v : in) {
    bool clipped = false;
    switch (format) {
      case SampleFormat::Pcm16: {
        const auto s = to_int(v, kScale16, 32767, clipped);
        put_u16(p, static_cast<std::uint16_t>(s));
        p += 2;
        break;
      }
      case SampleFormat::Pcm24: {
        const auto s = static_cast<std::uint32_t>(to_int(v, kScale24, 8388607, clipped));
        p[0] = static_cast<std::uint8_t>(s >> 16);
        p[1] = static_cast<std::uint8_t>(s >> 8);
        p[2] = static_cast<std::uint8_t>(s);
        p += 3;
        break;
      }
      case SampleFormat::F32: {
        put_u32(p, std::bit_cast<std::uint32_t>(v));
        p += 4;
        break;
      }
      default:
        return 0;
    }
    if (clipped) ++clipped_count;
  }
  return clipped_count;
}

void unpack_pcm(std::span<const std::uint8_t> payload, SampleFormat format, std::span<float> out) noexcept {
  const std::uint8_t* p = payload.data();
  switch (format) {
    case SampleFormat::Pcm16:
      for (float& v : out) {
        v = static_cast<float>(static_cast<std::int16_t>(get_u16(p))) / kScale16;
        p += 2;
      }
      break;
    case SampleFormat::Pcm24: {
      // Four bytes at a time (the sample and the next one's first byte), big-endian: the
      // arithmetic shift drops the extra byte and sign-extends. The last sample has no
      // byte after it in the payload and is read by itself.
      const auto top_three = [](std::uint32_t word) {
        return static_cast<float>(static_cast<std::int32_t>(word) >> 8) * (1.0f / kScale24);
      };
      const std::size_t n = out.size();
      for (std::size_t i = 0; i + 1 < n; ++i, p += 3) {
        std::uint32_t word = 0;
        std::memcpy(&word, p, 4);
        if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap32(word);
        out[i] = top_three(word);
      }
      if (n != 0)
        out[n - 1] = top_three((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (p[2] << 8));
      break;
    }
    case SampleFormat::F32:
      for (float& v : out) {
        v = std::bit_cast<float>(get_u32(p));
        p += 4;
      }
      break;
    default:
      for (float& v : out) v = 0.0f;
      break;
  }
}

}  // namespace tl::protocol
