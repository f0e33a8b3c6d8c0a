#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

#include "tl/common/clock_dll.h"

namespace tl {
namespace {

// A device at `ppm` off 48 kHz, 256-frame periods; callbacks run at the true time
// of each block's first frame plus uniform jitter of +-jitter_ns.
struct Device {
  double rate;
  double jitter_ns;
  std::int64_t origin;
  std::mt19937_64 rng{1234};
  std::int64_t block = 0;

  //! Feeds the next callback; returns the filtered time's error in ns.
  double step(ClockDll& dll) {
    std::uniform_real_distribution<double> jit(-jitter_ns, jitter_ns);
    const double rel = static_cast<double>(block++) * 256.0 * 1e9 / rate;  // since origin
    const std::int64_t cb = origin + std::llround(rel + (jitter_ns > 0 ? jit(rng) : 0.0));
    return static_cast<double>(dll.update(cb, 256) - origin) - rel;
  }
};

constexpr std::int64_t kBlocksPerSecond = 48000 / 256;  // 187.5, rounded down

TEST(ClockDll, BlockTimeWithinFiftyMicrosecondsUnderOneMsCallbackJitter) {
  Device dev{.rate = 48000.0 * (1 + 100e-6), .jitter_ns = 1e6, .origin = 7'000'000'000'000};
  ClockDll dll(48000, 256, 0.01);
  double worst = 0;
  for (std::int64_t k = 0; k < 200 * kBlocksPerSecond; ++k) {
    const double e = std::abs(dev.step(dll));
    if (k > 40 * kBlocksPerSecond) worst = std::max(worst, e);
  }
  // Raw callbacks are off by up to 1000 us; the loop keeps the block time within 50 us.
  EXPECT_LT(worst, 50'000.0);
}

TEST(ClockDll, MeasuresADevice100PpmFastWithinTwoPpm) {
  for (double bw : {0.1, 0.5}) {
    Device dev{.rate = 48000.0 * (1 + 100e-6), .jitter_ns = 1e6, .origin = 1'000'000'000};
    ClockDll dll(48000, 256, bw);
    for (std::int64_t k = 0; k < 120 * kBlocksPerSecond; ++k) dev.step(dll);
    EXPECT_NEAR(dll.rate_error_ppm(), 100.0, 2.0) << "bandwidth " << bw;
    EXPECT_NEAR(dll.rate_hz(), 48004.8, 0.1) << "bandwidth " << bw;
  }
}

TEST(ClockDll, SettlesQuicklyFromTheNominalRate) {
  // Noise-free callbacks, device 200 ppm slow: the wide start pulls in fast.
  Device dev{.rate = 48000.0 * (1 - 200e-6), .jitter_ns = 0, .origin = 5'000'000'000};
  ClockDll dll(48000, 256, 0.1);
  double settled_at = -1;
  for (std::int64_t k = 0; k < 60 * kBlocksPerSecond; ++k) {
    const double e = std::abs(dev.step(dll));
    if (e > 1'000.0)
      settled_at = -1;
    else if (settled_at < 0)
      settled_at = static_cast<double>(k) / kBlocksPerSecond;
  }
  ASSERT_GE(settled_at, 0.0);
  EXPECT_LT(settled_at, 10.0);  // within 1 us of the true block time, and staying there
  EXPECT_NEAR(dll.rate_error_ppm(), -200.0, 0.5);
}

TEST(ClockDll, HoldsPrecisionFarFromTheEpochAndAcrossRebases) {
  // Monotonic times near 2^62 ns and 30 minutes of blocks (several rebases).
  Device dev{.rate = 48000.0 * (1 + 37e-6), .jitter_ns = 0, .origin = 4'000'000'000'000'000'000};
  ClockDll dll(48000, 256, 0.5);
  double worst = 0;
  for (std::int64_t k = 0; k < 1800 * kBlocksPerSecond; ++k) {
    const double e = std::abs(dev.step(dll));
    if (k > 30 * kBlocksPerSecond) worst = std::max(worst, e);
  }
  EXPECT_LT(worst, 100.0);
  EXPECT_EQ(dll.resyncs(), 0u);
}

TEST(ClockDll, ResyncsAfterAGapAndKeepsTheRate) {
  Device dev{.rate = 48000.0 * (1 + 50e-6), .jitter_ns = 0, .origin = 1'000'000'000};
  ClockDll dll(48000, 256, 0.1);
  for (std::int64_t k = 0; k < 60 * kBlocksPerSecond; ++k) dev.step(dll);
  // The device stalls for 200 ms (xrun): the next callback is far from the prediction.
  dev.origin += 200'000'000;
  dev.step(dll);
  EXPECT_EQ(dll.resyncs(), 1u);
  double worst = 0;
  for (std::int64_t k = 0; k < 5 * kBlocksPerSecond; ++k) worst = std::max(worst, std::abs(dev.step(dll)));
  EXPECT_LT(worst, 1'000.0);
  EXPECT_NEAR(dll.rate_error_ppm(), 50.0, 1.0);
}

TEST(ClockDll, FrameTimeInterpolatesWithinTheBlock) {
  Device dev{.rate = 48000.0, .jitter_ns = 0, .origin = 1'000'000'000};
  ClockDll dll(48000, 256, 0.1);
  for (std::int64_t k = 0; k < 10 * kBlocksPerSecond; ++k) dev.step(dll);
  const std::int64_t f = dll.block_frame() + 128;
  EXPECT_NEAR(static_cast<double>(dll.frame_time_ns(f)),
              static_cast<double>(dll.block_time_ns()) + 128.0 * 1e9 / 48000.0, 10.0);
  EXPECT_NEAR(static_cast<double>(dll.next_block_time_ns() - dll.block_time_ns()), 256.0 * 1e9 / 48000.0,
              10.0);
}

}  // namespace
}  // namespace tl
