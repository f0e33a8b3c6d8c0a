// Stereo bus and master chain.
#include <gtest/gtest.h>

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
  b.prepare(kFs);
  auto l = test::sine(440.0, 0.5, 4800), r = test::sine(660.0, 0.5, 4800);
  auto lo = l, ro = r;
  for (std::size_t i = 0; i < l.size(); i += 48)
    b.process(std::span<float>(lo.data() + i, 48), std::span<float>(ro.data() + i, 48));
  EXPECT_EQ(lo, l);
  EXPECT_EQ(ro, r);
}

TEST(MasterChain, LimitsToCeilingAndMetersWithoutAllocating) {
  MasterChain m;
  MasterParams p{};
  p.bus.comp_on = true;
  p.bus.comp = {.threshold_db = -12.0f, .ratio = 2.0f, .attack_ms = 30.0f, .release_ms = 200.0f};
  p.limiter.ceiling_dbtp = -1.0f;
  m.prepare(kFs, p);
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
