#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tl/protocol/pcm.h"

namespace tl::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::int32_t kMin24 = -(1 << 23);
constexpr std::int32_t kMax24 = (1 << 23) - 1;

float from16(std::int32_t v) {
  return static_cast<float>(v) / 32768.0f;
}

TEST(Pcm, EverySixteenBitValueRoundTripsBitExactly) {
  std::vector<float> in;
  in.reserve(65536);
  for (std::int32_t v = -32768; v <= 32767; ++v) in.push_back(from16(v));
  Bytes wire(in.size() * 2);
  EXPECT_EQ(pack_pcm(in, SampleFormat::Pcm16, wire), 0u) << "no in-range value counts as clipped";

  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto want = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<int>(i) - 32768));
    const auto got = static_cast<std::uint16_t>((wire[2 * i] << 8) | wire[2 * i + 1]);
    ASSERT_EQ(got, want) << "value " << static_cast<int>(i) - 32768;
  }

  std::vector<float> out(in.size(), 99.0f);
  unpack_pcm(wire, SampleFormat::Pcm16, out);
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(out[i]), std::bit_cast<std::uint32_t>(in[i]))
        << "value " << static_cast<int>(i) - 32768;
  }
}

std::vector<std::int32_t> dense_24bit_values() {
  std::vector<std::int32_t> v;
  // Both ends and zero, densely.
  for (std::int32_t x = kMin24; x < kMin24 + 4096; ++x) v.push_back(x);
  for (std::int32_t x = kMax24 - 4095; x <= kMax24; ++x) v.push_back(x);
  for (std::int32_t x = -4096; x <= 4096; ++x) v.push_back(x);
  // A stride over the whole range (prime step, so every byte pattern appears).
  for (std::int64_t x = kMin24; x <= kMax24; x += 997) v.push_back(static_cast<std::int32_t>(x));
  // Powers of two and their neighbours.
  for (int b = 0; b < 23; ++b) {
    for (const std::int32_t s : {-1, 0, 1}) {
      v.push_back((1 << b) + s);
      v.push_back(-(1 << b) + s);
    }
  }
  return v;
}

TEST(Pcm, TwentyFourBitValuesRoundTripBitExactlyIncludingExtremes) {
  const std::vector<std::int32_t> values = dense_24bit_values();
  ASSERT_GT(values.size(), 20000u);
  std::vector<float> in;
  in.reserve(values.size());
  for (const std::int32_t x : values) in.push_back(int24_to_float(x));
  Bytes wire(in.size() * 3);
  EXPECT_EQ(pack_pcm(in, SampleFormat::Pcm24, wire), 0u) << "no in-range value counts as clipped";

  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto u = static_cast<std::uint32_t>(values[i]) & 0xFFFFFFu;
    ASSERT_EQ(wire[3 * i], static_cast<std::uint8_t>(u >> 16)) << values[i];
    ASSERT_EQ(wire[3 * i + 1], static_cast<std::uint8_t>(u >> 8)) << values[i];
    ASSERT_EQ(wire[3 * i + 2], static_cast<std::uint8_t>(u)) << values[i];
  }

  std::vector<float> out(in.size(), 99.0f);
  unpack_pcm(wire, SampleFormat::Pcm24, out);
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(out[i], in[i]) << values[i];
    bool clipped = false;
    ASSERT_EQ(float_to_int24(out[i], clipped), values[i]);
    ASSERT_FALSE(clipped) << values[i];
  }
}

TEST(Pcm, Int24FloatConversionAtExtremes) {
  EXPECT_EQ(int24_to_float(kMin24), -1.0f);
  EXPECT_EQ(int24_to_float(0), 0.0f);
  EXPECT_LT(int24_to_float(kMax24), 1.0f);
  bool clipped = false;
  EXPECT_EQ(float_to_int24(-1.0f, clipped), kMin24);
  EXPECT_FALSE(clipped) << "-1.0 is exactly full scale";
  EXPECT_EQ(float_to_int24(int24_to_float(kMax24), clipped), kMax24);
  EXPECT_FALSE(clipped) << "the largest positive code is in range";
  clipped = false;
  EXPECT_EQ(float_to_int24(0.5f, clipped), 1 << 22);
  EXPECT_FALSE(clipped);
}

TEST(Pcm, FloatToInt24ClampsAndReports) {
  struct Case {
    float in;
    std::int32_t want;
  };
  for (const Case c : {Case{1.0f, kMax24}, Case{1.5f, kMax24}, Case{-1.5f, kMin24}, Case{1e30f, kMax24},
                       Case{-1e30f, kMin24}, Case{std::numeric_limits<float>::infinity(), kMax24},
                       Case{-std::numeric_limits<float>::infinity(), kMin24},
                       Case{std::numeric_limits<float>::quiet_NaN(), 0}}) {
    bool clipped = false;
    EXPECT_EQ(float_to_int24(c.in, clipped), c.want) << c.in;
    EXPECT_TRUE(clipped) << c.in;
  }
}

class PcmClamp : public ::testing::TestWithParam<SampleFormat> {};

TEST_P(PcmClamp, OverFullScaleClampsNeverWrapsAndIsCounted) {
  const SampleFormat f = GetParam();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> in{1.0f,  1.0001f, 2.0f, 1e9f, inf,   -1.0001f,
                              -2.0f, -1e9f,   -inf, nan,  0.25f, -1.0f};
  // Counted: everything except the last two (0.25 and exactly -1.0).
  const std::size_t bps = bytes_per_sample(f);
  Bytes wire(in.size() * bps);
  EXPECT_EQ(pack_pcm(in, f, wire), in.size() - 2);

  std::vector<float> out(in.size());
  unpack_pcm(wire, f, out);
  const float top = f == SampleFormat::Pcm16 ? 32767.0f / 32768.0f : int24_to_float(kMax24);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], top) << "positive overload " << in[i];
  for (std::size_t i = 5; i < 9; ++i) EXPECT_EQ(out[i], -1.0f) << "negative overload " << in[i];
  EXPECT_EQ(out[9], 0.0f) << "NaN becomes silence";
  EXPECT_FALSE(std::signbit(out[9]));
  EXPECT_EQ(out[10], 0.25f);
  EXPECT_EQ(out[11], -1.0f);
}

INSTANTIATE_TEST_SUITE_P(IntegerFormats, PcmClamp,
                         ::testing::Values(SampleFormat::Pcm16, SampleFormat::Pcm24),
                         [](const ::testing::TestParamInfo<SampleFormat>& p) {
                           return p.param == SampleFormat::Pcm16 ? "Pcm16" : "Pcm24";
                         });

TEST(Pcm, SixteenBitRoundsToNearest) {
  const std::vector<float> in{from16(100) + 0.4f / 32768.0f, from16(100) + 0.6f / 32768.0f,
                              from16(-100) - 0.4f / 32768.0f, from16(-100) - 0.6f / 32768.0f};
  Bytes wire(in.size() * 2);
  EXPECT_EQ(pack_pcm(in, SampleFormat::Pcm16, wire), 0u);
  std::vector<float> out(in.size());
  unpack_pcm(wire, SampleFormat::Pcm16, out);
  EXPECT_EQ(out[0], from16(100));
  EXPECT_EQ(out[1], from16(101));
  EXPECT_EQ(out[2], from16(-100));
  EXPECT_EQ(out[3], from16(-101));
}

TEST(Pcm, BigEndianByteOrderOnKnownValues) {
  {
    const std::vector<float> in{from16(0x1234), from16(-2)};
    Bytes wire(4);
    EXPECT_EQ(pack_pcm(in, SampleFormat::Pcm16, wire), 0u);
    EXPECT_EQ(wire, (Bytes{0x12, 0x34, 0xFF, 0xFE}));
  }
  {
    const std::vector<float> in{int24_to_float(0x123456), int24_to_float(-2)};
    Bytes wire(6);
    EXPECT_EQ(pack_pcm(in, SampleFormat::Pcm24, wire), 0u);
    EXPECT_EQ(wire, (Bytes{0x12, 0x34, 0x56, 0xFF, 0xFF, 0xFE}));
  }
  {
    const std::vector<float> in{1.0f, -2.5f};  // 0x3F800000, 0xC0200000
    Bytes wire(8);
    EXPECT_EQ(pack_pcm(in, SampleFormat::F32, wire), 0u);
    EXPECT_EQ(wire, (Bytes{0x3F, 0x80, 0x00, 0x00, 0xC0, 0x20, 0x00, 0x00}));
  }
  {
    // Unpack reads big-endian too: 0x8000 is the most negative 16-bit value.
    std::vector<float> out(2);
    unpack_pcm(Bytes{0x80, 0x00, 0x7F, 0xFF}, SampleFormat::Pcm16, out);
    EXPECT_EQ(out[0], -1.0f);
    EXPECT_EQ(out[1], from16(32767));
    unpack_pcm(Bytes{0x80, 0x00, 0x00, 0x7F, 0xFF, 0xFF}, SampleFormat::Pcm24, out);
    EXPECT_EQ(out[0], -1.0f) << "sign extension of 0x800000";
    EXPECT_EQ(out[1], int24_to_float(kMax24));
  }
}

TEST(Pcm, F32RoundTripIsExactForEveryBitPattern) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> in{0.0f,
                        -0.0f,
                        1.0f,
                        -1.0f,
                        3.5f,
                        -1e-30f,
                        1e30f,
                        std::numeric_limits<float>::denorm_min(),
                        std::numeric_limits<float>::infinity(),
                        nan};
  for (std::uint32_t bits = 0x00000001u; bits < 0xFF000000u; bits += 0x00F0F0F1u) {
    in.push_back(std::bit_cast<float>(bits));
  }
  Bytes wire(in.size() * 4);
  EXPECT_EQ(pack_pcm(in, SampleFormat::F32, wire), 0u) << "F32 never clamps";
  std::vector<float> out(in.size());
  unpack_pcm(wire, SampleFormat::F32, out);
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(out[i]), std::bit_cast<std::uint32_t>(in[i])) << i;
  }
}

TEST(Pcm, InterleavedFramesKeepTheirOrder) {
  // 3 frames x 2 channels, [frame][channel].
  const std::vector<float> in{from16(1), from16(2), from16(3), from16(4), from16(5), from16(6)};
  Bytes wire(12);
  EXPECT_EQ(pack_pcm(in, SampleFormat::Pcm16, wire), 0u);
  EXPECT_EQ(wire, (Bytes{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6}));
}

TEST(Pcm, NonPcmFormatsPackNothingAndUnpackSilence) {
  const std::vector<float> in{0.5f, 2.0f};
  Bytes wire(8, 0xAA);
  EXPECT_EQ(pack_pcm(in, SampleFormat::Opus, wire), 0u);
  EXPECT_EQ(pack_pcm(in, SampleFormat::None, wire), 0u);
  EXPECT_EQ(wire, Bytes(8, 0xAA)) << "nothing written for a format pack_pcm cannot write";
  std::vector<float> out{1.0f, 1.0f};
  unpack_pcm(wire, SampleFormat::Opus, out);
  EXPECT_EQ(out, (std::vector<float>{0.0f, 0.0f}));
}

TEST(Pcm, EmptyInputIsANoOp) {
  EXPECT_EQ(pack_pcm({}, SampleFormat::Pcm24, {}), 0u);
  unpack_pcm({}, SampleFormat::Pcm24, {});
}

}  // namespace
}  // namespace tl::protocol
