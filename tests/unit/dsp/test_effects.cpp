// Send effects: reverb RT60 from the impulse response's energy decay; delay echo positions.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dsp_test_util.h"
#include "tl/dsp/biquad.h"
#include "tl/dsp/effects.h"

namespace tl::dsp {
namespace {

using test::kFs;

struct Ir {
  std::vector<float> l, r;
};

Ir impulse_response(FdnReverb& rv, std::size_t n) {
  Ir ir{std::vector<float>(n), std::vector<float>(n)};
  std::vector<float> in(n, 0.0f);
  in[0] = 1.0f;
  for (std::size_t i = 0; i < n; i += 48)
    rv.process(std::span<const float>(in.data() + i, 48), std::span<float>(ir.l.data() + i, 48),
               std::span<float>(ir.r.data() + i, 48));
  return ir;
}

//! RT60 from Schroeder backward integration of the energy, T30 fit (-5 to -35 dB, times 2).
double rt60_from_energy(const std::vector<double>& e) {
  std::vector<double> edc(e.size());
  double acc = 0.0;
  for (std::size_t i = e.size(); i-- > 0;) edc[i] = (acc += e[i]);
  const double total = edc[0];
  auto when = [&](double db) {
    for (std::size_t i = 0; i < edc.size(); ++i)
      if (10.0 * std::log10(edc[i] / total) <= db) return static_cast<double>(i) / kFs;
    return static_cast<double>(edc.size()) / kFs;
  };
  return 2.0 * (when(-35.0) - when(-5.0));
}

std::vector<double> energy(const Ir& ir) {
  std::vector<double> e(ir.l.size());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = double(ir.l[i]) * ir.l[i] + double(ir.r[i]) * ir.r[i];
  return e;
}

TEST(FdnReverb, Rt60WithinFifteenPercentOfSetting) {
  for (const float rt : {0.6f, 1.5f, 3.0f}) {
    FdnReverb rv;
    rv.prepare({.sample_rate = kFs}, {.rt60_s = rt, .predelay_ms = 0.0f, .damping_hz = 0.0f});
    const Ir ir = impulse_response(rv, static_cast<std::size_t>(kFs * rt * 1.5));
    const double measured = rt60_from_energy(energy(ir));
    std::printf("[ figure ] reverb RT60 set %.2f s, measured %.3f s\n", rt, measured);
    EXPECT_NEAR(measured, rt, 0.15 * rt);
  }
}

TEST(FdnReverb, DampingShortensHighsNotLows) {
  FdnReverb rv;
  rv.prepare({.sample_rate = kFs}, {.rt60_s = 2.0f, .predelay_ms = 0.0f, .damping_hz = 3000.0f});
  const Ir ir = impulse_response(rv, static_cast<std::size_t>(kFs * 3.0));
  auto band = [&](bool low) {
    PassFilter f(low ? PassFilter::Kind::lowpass : PassFilter::Kind::highpass, kFs, low ? 300.0 : 6000.0,
                 Slope::db24);
    std::vector<float> x = ir.l;
    f.process(std::span<float>(x));
    std::vector<double> e(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) e[i] = double(x[i]) * x[i];
    return rt60_from_energy(e);
  };
  const double lo = band(true), hi = band(false);
  std::printf("[ figure ] reverb damping 3 kHz: RT60 below 300 Hz %.3f s, above 6 kHz %.3f s\n", lo, hi);
  EXPECT_NEAR(lo, 2.0, 0.3);
  EXPECT_LT(hi, 0.6 * lo);
}

TEST(FdnReverb, PredelayDelaysTheFirstOutput) {
  FdnReverb rv;
  rv.prepare({.sample_rate = kFs}, {.rt60_s = 1.0f, .predelay_ms = 30.0f});
  const Ir ir = impulse_response(rv, 9600);
  std::size_t first = 0;
  while (first < ir.l.size() && ir.l[first] == 0.0f && ir.r[first] == 0.0f) ++first;
  // Pre-delay (1440 samples) plus the shortest line (1433).
  EXPECT_EQ(first, 1440u + 1433u);
}

TEST(TempoDelay, EchoesAtTheBeatDivision) {
  // 120 BPM dotted eighth = 0.375 s = 18000 samples; echoes decay by the feedback each time.
  TempoDelay d;
  d.prepare({.sample_rate = kFs}, {.bpm = 120.0f, .division = NoteDivision::dotted_eighth, .feedback = 0.5f});
  EXPECT_DOUBLE_EQ(d.delay_samples(), 18000.0);
  const std::size_t n = 18000 * 4 + 100;
  std::vector<float> in(n, 0.0f), l(n), r(n);
  in[10] = 1.0f;
  for (std::size_t i = 0; i < n; i += 48) {
    const std::size_t k = std::min<std::size_t>(48, n - i);
    d.process(std::span<const float>(in.data() + i, k), std::span<float>(l.data() + i, k),
              std::span<float>(r.data() + i, k));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const bool echo = i > 10 && (i - 10) % 18000 == 0;
    const float expect = echo ? static_cast<float>(std::pow(0.5, (i - 10) / 18000 - 1)) : 0.0f;
    ASSERT_FLOAT_EQ(l[i], expect) << i;
    ASSERT_FLOAT_EQ(r[i], expect) << i;
  }
}

TEST(TempoDelay, PingPongAlternatesSides) {
  TempoDelay d;
  d.prepare({.sample_rate = kFs},
            {.bpm = 100.0f, .division = NoteDivision::triplet_eighth, .feedback = 0.8f, .ping_pong = true});
  const double t = 60.0 / 100.0 / 3.0 * kFs;  // 9600 samples
  EXPECT_DOUBLE_EQ(d.delay_samples(), t);
  const std::size_t n = 9600 * 4 + 10;
  std::vector<float> in(n, 0.0f), l(n), r(n);
  in[0] = 1.0f;
  d.process(in, l, r);
  EXPECT_FLOAT_EQ(l[9600], 1.0f);
  EXPECT_FLOAT_EQ(r[9600], 0.0f);
  EXPECT_FLOAT_EQ(r[19200], 0.8f);
  EXPECT_FLOAT_EQ(l[19200], 0.0f);
  EXPECT_FLOAT_EQ(l[28800], 0.64f);
}

}  // namespace
}  // namespace tl::dsp
