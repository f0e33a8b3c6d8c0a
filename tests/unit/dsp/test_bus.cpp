// Stereo bus and master chain.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "alloc_counter.h"
#include "dsp_test_util.h"
#include "tl/common/realtime.h"
#include "tl/dsp/bus.h"

namespace tl::dsp {
namespace {

using test::kFs;

TEST(StereoBus, FlatBusIsExactPassThrough) {
  StereoBus b;
  b.prepare({.sample_rate = kFs});
  auto l = test::sine(440.0, 0.5, 4800), r = test::sine(660.0, 0.5, 4800);
  auto lo = l, ro = r;
  for (std::size_t i = 0; i < l.size(); i += 48)
    b.process(std::span<float>(lo.data() + i, 48), std::span<float>(ro.data() + i, 48));
  EXPECT_EQ(lo, l);
  EXPECT_EQ(ro, r);
}

TEST(StereoBus, CompressorSwitchCrossFadesWithoutClick) {
  StereoBus b;
  BusParams p{};
  p.comp = {.threshold_db = -30.0f,
            .ratio = 10.0f,
            .knee_db = 0.0f,
            .attack_ms = 0.0f};  // instant: only the fade smooths
  b.prepare({.sample_rate = kFs, .max_block = 48}, p);
  const double a = 0.5, w = 2.0 * 3.141592653589793 * 200.0 / kFs;
  auto l = test::sine(200.0, a, 9600), r = l;
  for (std::size_t i = 0, blk = 0; i < l.size(); i += 48, ++blk) {
    if (blk == 51) {
      p.comp_on = true;  // ~-24 dB of gain reduction, switched in between blocks
      b.set_params(p);
    }
    b.process(std::span<float>(l.data() + i, 48), std::span<float>(r.data() + i, 48));
  }
  double worst = 0.0;
  for (std::size_t i = 2400; i + 1 < 7200; ++i)
    worst = std::max(worst, std::abs(double(l[i + 1]) - 2.0 * l[i] + l[i - 1]));
  EXPECT_LT(worst, 1.5 * 4.0 * a * std::sin(w / 2) * std::sin(w / 2) + 0.01 * a);
}

TEST(MasterChain, LimitsToCeilingAndMetersWithoutAllocating) {
  MasterChain m;
  MasterParams p{};
  p.bus.comp_on = true;
  p.bus.comp = {.threshold_db = -12.0f, .ratio = 2.0f, .attack_ms = 30.0f, .release_ms = 200.0f};
  p.limiter.ceiling_dbtp = -1.0f;
  m.prepare({.sample_rate = kFs}, p);
  EXPECT_EQ(m.latency(), 72u + Oversampler4x::kDelay - 1);
  auto l = test::sine(997.0, 1.9, 48000 * 3), r = test::sine(1500.0, 1.9, 48000 * 3);
  const auto before = tl::test::realtime_allocations();
  for (std::size_t i = 0; i < l.size(); i += 48) {
    tl::rt::RealtimeScope rt;
    m.process(std::span<float>(l.data() + i, 48), std::span<float>(r.data() + i, 48));
  }
  EXPECT_EQ(tl::test::realtime_allocations(), before);
  EXPECT_LE(m.true_peak(0).peak_dbtp(), -1.0 + 1e-4);
  EXPECT_LE(m.true_peak(1).peak_dbtp(), -1.0 + 1e-4);
  EXPECT_GT(m.loudness().integrated_lufs(), -10.0);
  EXPECT_LT(m.limiter_gain_reduction_db(), 0.0f);
}

}  // namespace
}  // namespace tl::dsp
