// De-esser against theory: a loud burst in the sibilance band comes down by what the static
// curve says (and no more than its range), a tone below the threshold or outside the band
// passes exactly, the band filter is -3 dB at its edges, both channels get one gain, and
// process() does not allocate.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include "alloc_counter.h"
#include "dsp_test_util.h"
#include "tl/common/realtime.h"
#include "tl/dsp/deesser.h"

namespace tl::dsp {
namespace {

using test::db;
using test::rms;

constexpr ProcessSpec kSpec{.sample_rate = test::kFs, .max_block = 512, .channels = 2};

void run_blocks(DeEsser& d, std::span<float> x, std::size_t block = 512) {
  for (std::size_t at = 0; at < x.size(); at += block)
    d.process(x.subspan(at, std::min(block, x.size() - at)));
}

// RMS ratio (dB) of out to in over [from, to).
double change_db(const std::vector<float>& in, const std::vector<float>& out, std::size_t from,
                 std::size_t to) {
  const std::span<const float> a(in.data() + from, to - from), b(out.data() + from, to - from);
  return db(rms(b) / rms(a));
}

TEST(DeEsser, TheBandIsMinus3dBAtItsEdgesAnd0AtItsCentre) {
  DeEsser d;
  d.prepare(kSpec, {});
  const BiquadCoeffs& b = d.band();
  EXPECT_NEAR(magnitude_db(b, test::kFs, std::sqrt(5000.0 * 10000.0)), 0.0, 0.01);
  // The cookbook's bandwidth form allows for the bilinear transform's warping, not
  // exactly: at 48 kHz the edges read within 0.4 dB of -3.
  const double lo = magnitude_db(b, test::kFs, 5000.0), hi = magnitude_db(b, test::kFs, 10000.0);
  std::printf("band edges at 48 kHz: 5 kHz %.2f dB, 10 kHz %.2f dB\n", lo, hi);
  EXPECT_NEAR(lo, -3.0, 0.4);
  EXPECT_NEAR(hi, -3.0, 0.4);
  EXPECT_LT(magnitude_db(b, test::kFs, 1000.0), -19.0);
}

TEST(DeEsser, ALoudSibilantBurstComesDownByTheStaticCurve) {
  // -6 dBFS at 7 kHz against a -30 dBFS threshold, 4:1, range 12 dB: 24 dB over, so the
  // curve asks for -18 dB and the range holds it at -12.
  const DeEsserParams p{.threshold_db = -30.0f, .ratio = 4.0f, .range_db = 12.0f};
  DeEsser d;
  d.prepare(kSpec, p);
  const std::size_t n = 24000;
  std::vector<float> in = test::sine(7000.0, 0.5, n);
  std::vector<float> out = in;
  run_blocks(d, out);
  const double change = change_db(in, out, n / 2, n);
  std::printf("7 kHz at -6 dBFS, threshold -30: %.2f dB\n", change);
  EXPECT_NEAR(change, -12.0, 0.5);
  EXPECT_NEAR(d.max_reduction_db(), -12.0, 0.01);
  // Under the range: 8 dB over at 2:1 is -4 dB.
  DeEsser gentle;
  gentle.prepare(kSpec, {.threshold_db = -14.0f, .ratio = 2.0f, .range_db = 12.0f});
  out = in;
  run_blocks(gentle, out);
  EXPECT_NEAR(change_db(in, out, n / 2, n), -4.0, 0.3);
}

TEST(DeEsser, ToneOutsideTheBandOrUnderTheThresholdPassesUntouched) {
  DeEsser d;
  d.prepare(kSpec, {.threshold_db = -30.0f});
  // A 1 kHz tone at -20 dBFS: what leaks into the band (20 dB down) reads -40 dBFS...
  std::vector<float> in = test::sine(1000.0, 0.1, 24000);
  std::vector<float> out = in;
  run_blocks(d, out);
  EXPECT_EQ(out, in) << "no cut at all: the input exactly";
  // ...and a quiet 7 kHz tone under the threshold.
  d.reset();
  in = test::sine(7000.0, 0.02, 24000);  // -34 dBFS
  out = in;
  run_blocks(d, out);
  EXPECT_EQ(out, in);
  EXPECT_EQ(d.max_reduction_db(), 0.0f);
}

TEST(DeEsser, A1kToneKeepsItsLevelWhileSibilanceIsCut) {
  // 1 kHz at -6 dBFS in one channel, 7 kHz bursts in the other, stereo-linked: the cut
  // is the band's, so the 1 kHz tone moves by less than 0.1 dB.
  DeEsser d;
  d.prepare(kSpec, {.threshold_db = -30.0f, .ratio = 4.0f, .range_db = 12.0f});
  const std::size_t n = 48000;
  std::vector<float> l = test::sine(1000.0, 0.5, n), r = test::sine(7000.0, 0.5, n);
  const std::vector<float> l0 = l, r0 = r;
  for (std::size_t at = 0; at < n; at += 512) {
    const std::size_t k = std::min<std::size_t>(512, n - at);
    d.process(std::span(l).subspan(at, k), std::span(r).subspan(at, k));
  }
  EXPECT_LT(change_db(r0, r, n / 2, n), -10.0);
  EXPECT_NEAR(change_db(l0, l, n / 2, n), 0.0, 0.1);
}

TEST(DeEsser, TheCutFollowsTheBurstAndLetsGo) {
  // 100 ms of 7 kHz at -6 dBFS, then 1 kHz at -6 dBFS: reduced during the burst, and
  // 300 ms later (five release times) the 1 kHz tone is back within 0.1 dB.
  DeEsser d;
  d.prepare(kSpec, {.threshold_db = -30.0f});
  const std::size_t burst = 4800, n = 4800 + 24000;
  std::vector<float> in(n);
  const auto s7 = test::sine(7000.0, 0.5, n), s1 = test::sine(1000.0, 0.5, n);
  for (std::size_t i = 0; i < n; ++i) in[i] = i < burst ? s7[i] : s1[i];
  std::vector<float> out = in;
  run_blocks(d, out);
  EXPECT_LT(change_db(in, out, burst / 2, burst), -5.0);
  EXPECT_NEAR(change_db(in, out, burst + 14400, n), 0.0, 0.1);
}

TEST(DeEsser, ProcessNeverAllocates) {
  DeEsser d;
  d.prepare(kSpec, {.threshold_db = -30.0f});
  std::vector<float> l = test::sine(7000.0, 0.5, 4800), r = test::sine(6000.0, 0.5, 4800);
  const auto before = tl::test::realtime_allocations();
  const auto total_before = tl::test::total_allocations();
  for (std::size_t at = 0; at < l.size(); at += 480) {
    tl::rt::RealtimeScope rt;
    d.set_params({.threshold_db = at % 960 == 0 ? -30.0f : -24.0f});
    d.process(std::span<float>(l).subspan(at, 240));
    d.process(std::span<float>(l).subspan(at + 240, 240), std::span<float>(r).subspan(at + 240, 240));
  }
  EXPECT_EQ(tl::test::realtime_allocations(), before);
  EXPECT_EQ(tl::test::total_allocations(), total_before);
  EXPECT_LT(d.max_reduction_db(), -3.0f);
}

}  // namespace
}  // namespace tl::dsp
