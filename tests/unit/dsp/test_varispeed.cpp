#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "alloc_counter.h"
#include "tl/common/realtime.h"
#include "tl/dsp/varispeed.h"

namespace tl::dsp {
namespace {

constexpr double kRate = 48000.0;

//! Reads a tone through the varispeed in blocks, the cursor carried across blocks as
//! the mix engine does, and returns the worst error against the exact tone at the
//! positions read (dB relative to the tone's amplitude).
double worst_error_db(double freq, double step, std::size_t block, std::size_t blocks) {
  const double amplitude = 0.5;
  const auto tone = [&](double at) {
    return amplitude * std::sin(2.0 * std::numbers::pi * freq * at / kRate);
  };
  Varispeed v;
  v.prepare({.sample_rate = kRate, .max_block = block});
  const int head = v.half_taps() - 1;
  std::int64_t base = 1000;
  double frac = 0.37;
  std::vector<float> window(4 * block + 64), out(block);
  double worst = 0.0;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t len = v.plan(frac, step, block);
    for (std::size_t k = 0; k < len; ++k) {
      window[k] = static_cast<float>(tone(static_cast<double>(base - head + static_cast<std::int64_t>(k))));
    }
    v.apply(std::span<const float>(window.data(), len), out);
    for (std::size_t i = 0; i < block; ++i) {
      const double at = static_cast<double>(base) + frac + static_cast<double>(i) * step;
      worst = std::max(worst, std::fabs(out[i] - tone(at)));
    }
    const double end = v.advance();
    base += static_cast<std::int64_t>(std::floor(end));
    frac = end - std::floor(end);
  }
  return 20.0 * std::log10(worst / amplitude);
}

// The live kernel's ripple sets the floor (about -80 dB); the recorded tracks are
// conformed offline with a longer kernel.
TEST(Varispeed, ReadsBetweenSamplesWithLowErrorAcrossTheBand) {
  // 300 ppm fast: the cursor sweeps every fractional phase within a few seconds.
  struct Case {
    double freq, limit_db;
  };
  for (const Case c : {Case{100.0, -95.0}, Case{1000.0, -75.0}, Case{5000.0, -75.0}, Case{10000.0, -75.0}}) {
    const double err = worst_error_db(c.freq, 1.0003, 48, 4000);
    std::printf("[ figure ] varispeed %5.0f Hz at +300 ppm: worst error %.1f dB\n", c.freq, err);
    EXPECT_LT(err, c.limit_db) << c.freq;
  }
  const double slow = worst_error_db(1000.0, 1.0 - 500e-6, 64, 3000);
  std::printf("[ figure ] varispeed  1000 Hz at -500 ppm: worst error %.1f dB\n", slow);
  EXPECT_LT(slow, -75.0);
}

TEST(Varispeed, CursorEndsWhereTheStepsSay) {
  Varispeed v;
  v.prepare({.sample_rate = kRate, .max_block = 48});
  const std::size_t len = v.plan(0.25, 1.001, 48);
  EXPECT_DOUBLE_EQ(v.advance(), 0.25 + 48 * 1.001);
  // The window reaches half a kernel past the last position read.
  EXPECT_EQ(len, static_cast<std::size_t>(std::floor(0.25 + 47 * 1.001)) +
                     2 * static_cast<std::size_t>(v.half_taps()));
}

TEST(Varispeed, StepsOutsideTheRangeAreClamped) {
  Varispeed v;
  v.prepare({.sample_rate = kRate, .max_block = 48});
  v.plan(0.0, 1.5, 48);
  EXPECT_DOUBLE_EQ(v.advance(), 48 * (1.0 + Varispeed::kMaxStepDeviation));
  v.plan(0.0, 0.0, 48);
  EXPECT_DOUBLE_EQ(v.advance(), 48 * (1.0 - Varispeed::kMaxStepDeviation));
}

TEST(Varispeed, AShortWindowReadsSilenceNotPastItsEnd) {
  Varispeed v;
  v.prepare({.sample_rate = kRate, .max_block = 48});
  const std::size_t len = v.plan(0.5, 1.0, 48);
  std::vector<float> window(len, 1.0f), out(48, -1.0f);
  v.apply(std::span<const float>(window.data(), len - 1), out);  // one short
  EXPECT_EQ(out.back(), 0.0f);
  EXPECT_NEAR(out.front(), 1.0f, 1e-5f);  // DC passes at unity
}

TEST(Varispeed, PlanAndApplyNeverAllocate) {
  Varispeed v;
  v.prepare({.sample_rate = kRate, .max_block = 256});
  std::vector<float> window(600, 0.25f), out(256);
  const auto before = test::realtime_allocations();
  {
    rt::RealtimeScope realtime;
    for (int i = 0; i < 100; ++i) {
      const std::size_t len = v.plan(0.1 * (i % 10), 1.0 + 1e-4 * (i % 7), 256);
      v.apply(std::span<const float>(window.data(), len), out);
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
}

}  // namespace
}  // namespace tl::dsp
