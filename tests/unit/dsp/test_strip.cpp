// Channel strip: pure gain/pan when bypassed, no allocation in real time, no zipper on changes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include "alloc_counter.h"
#include "dsp_test_util.h"
#include "tl/common/realtime.h"
#include "tl/dsp/pan.h"
#include "tl/dsp/strip.h"

namespace tl::dsp {
namespace {

using test::kFs;
constexpr std::size_t kBlock = 48;

struct Out {
  std::vector<float> l, r;
};

//! Runs the strip over `in` in 48-frame blocks; `between(block_index)` may change parameters.
template <class Between>
Out run(ChannelStrip& s, const std::vector<float>& in, Between&& between) {
  Out o{std::vector<float>(in.size()), std::vector<float>(in.size())};
  for (std::size_t i = 0, b = 0; i < in.size(); i += kBlock, ++b) {
    between(b);
    const std::size_t n = std::min(kBlock, in.size() - i);
    s.process(std::span<const float>(in.data() + i, n), std::span<float>(o.l.data() + i, n),
              std::span<float>(o.r.data() + i, n));
  }
  return o;
}
Out run(ChannelStrip& s, const std::vector<float>& in) {
  return run(s, in, [](std::size_t) {});
}

std::vector<float> noise(std::size_t n, double a, unsigned seed = 5) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(-a, a);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(d(rng));
  return v;
}

TEST(Pan, ConstantPowerLaw) {
  EXPECT_FLOAT_EQ(pan_gains(-1.0f).left, 1.0f);
  EXPECT_NEAR(pan_gains(-1.0f).right, 0.0f, 1e-7);
  EXPECT_NEAR(pan_gains(1.0f).left, 0.0f, 1e-7);
  EXPECT_FLOAT_EQ(pan_gains(1.0f).right, 1.0f);
  EXPECT_NEAR(pan_gains(0.0f).left, std::sqrt(0.5), 1e-7);  // -3.01 dB centre
  for (float p = -1.0f; p <= 1.0f; p += 0.05f) {
    const auto g = pan_gains(p);
    EXPECT_NEAR(g.left * g.left + g.right * g.right, 1.0, 1e-6);
    const double theta = (p + 1.0) * std::numbers::pi / 4.0;
    EXPECT_NEAR(g.left, std::cos(theta), 1e-7);
  }
}

TEST(ChannelStrip, BypassedIsPureGainAndPan) {
  const StripParams p{.trim_db = 6.0f, .fader_db = -3.5f, .pan = 0.3f};
  ChannelStrip s;
  s.prepare({.sample_rate = kFs, .max_block = kBlock}, p);
  const auto in = noise(4800, 0.5);
  const Out o = run(s, in);
  const double g = std::pow(10.0, 6.0 / 20.0) * std::pow(10.0, -3.5 / 20.0);
  const auto pg = pan_gains(0.3f);
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_NEAR(o.l[i], in[i] * g * pg.left, 1e-6 * std::abs(in[i]) + 1e-9) << i;
    ASSERT_NEAR(o.r[i], in[i] * g * pg.right, 1e-6 * std::abs(in[i]) + 1e-9) << i;
  }
}

TEST(ChannelStrip, PolarityAndSampleAccurateDelay) {
  const StripParams p{.phase_invert = true, .delay_samples = 1234, .pan = -1.0f};
  ChannelStrip s;
  s.prepare({.sample_rate = kFs, .max_block = kBlock}, p, {.max_delay_samples = 4800});
  std::vector<float> in(4800, 0.0f);
  in[100] = 1.0f;
  const Out o = run(s, in);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(o.l[i], i == 1334 ? -1.0f : 0.0f) << i;
}

TEST(ChannelStrip, MuteSilencesAfterRamp) {
  ChannelStrip s;
  s.prepare({.sample_rate = kFs, .max_block = kBlock});
  StripParams p{};
  const auto in = noise(4800, 0.5);
  const Out o = run(s, in, [&](std::size_t b) {
    if (b == 10) {
      p.mute = true;
      s.set_params(p);
    }
  });
  for (std::size_t i = 480 + 960; i < in.size(); ++i) ASSERT_EQ(o.l[i], 0.0f);
}

//! Largest |y[n+1] - 2 y[n] + y[n-1]| over [from, to): a click shows as a spike.
double max_second_diff(const std::vector<float>& y, std::size_t from, std::size_t to) {
  double m = 0.0;
  for (std::size_t i = std::max<std::size_t>(from, 1); i + 1 < to; ++i)
    m = std::max(m, std::abs(static_cast<double>(y[i + 1]) - 2.0 * y[i] + y[i - 1]));
  return m;
}

TEST(ChannelStrip, StepChangesMakeNoZipper) {
  // A 200 Hz sine's second difference is 4 A sin^2(w/2) ~ 0.0069 A. Every change below is
  // applied as one step between blocks. Unsmoothed, each would put a step of the order of A
  // into the output (second difference ~A). Bound: 1.5x the steady sine's own second
  // difference at the largest gain, plus 1 % of A for the glide and filter transients.
  const double f = 200.0, a = 0.25;
  const double w = 2.0 * std::numbers::pi * f / kFs;
  struct Change {
    const char* name;
    void (*apply)(StripParams&);
    double max_gain;  // largest steady gain on the way
  };
  const Change changes[] = {
      {"fader 0 -> -60 dB", [](StripParams& p) { p.fader_db = -60.0f; }, 1.0},
      {"trim 0 -> +12 dB", [](StripParams& p) { p.trim_db = 12.0f; }, 4.0},
      {"mute", [](StripParams& p) { p.mute = true; }, 1.0},
      {"polarity", [](StripParams& p) { p.phase_invert = true; }, 1.0},
      {"pan hard left", [](StripParams& p) { p.pan = -1.0f; }, 1.0},
      {"eq +12 dB at 200 Hz",
       [](StripParams& p) {
         p.eq.bands[1].freq_hz = 200.0f;
         p.eq.bands[1].gain_db = 12.0f;
       },
       4.0},
      {"low shelf -12 dB",
       [](StripParams& p) {
         p.eq.bands[0].gain_db = -12.0f;
         p.eq.bands[0].freq_hz = 400.0f;
       },
       1.0},
      {"hpf on at 400 Hz",
       [](StripParams& p) {
         p.hpf_on = true;
         p.hpf_hz = 400.0f;
       },
       1.0},
      {"lpf on at 100 Hz 24 dB",
       [](StripParams& p) {
         p.lpf_on = true;
         p.lpf_hz = 100.0f;
         p.lpf_slope = Slope::db24;
       },
       1.0},
      {"compressor on -30 dB 10:1",
       [](StripParams& p) {
         p.comp_on = true;
         p.comp.threshold_db = -30.0f;
         p.comp.ratio = 10.0f;
         p.comp.attack_ms = 5.0f;
       },
       1.0},
      {"delay 0 -> 100 samples", [](StripParams& p) { p.delay_samples = 100; }, 1.0},
  };
  for (const auto& c : changes) {
    StripParams p{.pan = -1.0f};  // left only, unity: out_l is the mono signal
    ChannelStrip s;
    s.prepare({.sample_rate = kFs, .max_block = kBlock}, p, {.max_delay_samples = 4800});
    const auto in = test::sine(f, a, 9600);
    const Out o = run(s, in, [&](std::size_t b) {
      if (b == 51) {  // sample 2448: the sine is near its crest
        c.apply(p);
        s.set_params(p);
      }
    });
    const double bound = 1.5 * 4.0 * a * c.max_gain * std::sin(w / 2) * std::sin(w / 2) + 0.01 * a;
    // Pan moves energy to the right channel; check both outputs.
    EXPECT_LT(max_second_diff(o.l, 2400, 7200), bound) << c.name;
    EXPECT_LT(max_second_diff(o.r, 2400, 7200), bound) << c.name;
  }
}

TEST(ChannelStrip, ADelaySetOnAStripWithoutOneReadsOnlyRealHistory) {
  // Without a delay the line is not written (a strip with nothing set costs nothing). A
  // delay asked for then waits until the line holds that much audio, then cross-fades to
  // it: the output is the input until then, the input delayed after, never stale samples.
  StripParams p{.pan = -1.0f};  // left only, unity: out_l is the mono signal
  ChannelStrip s;
  s.prepare({.sample_rate = kFs, .max_block = kBlock}, p, {.max_delay_samples = 4800});
  const auto in = noise(19200, 0.5, 9);
  constexpr std::size_t kAt = 100 * kBlock;  // the change, at block 100
  constexpr std::int32_t kDelay = 1000;
  const Out o = run(s, in, [&](std::size_t b) {
    if (b == 100) {
      p.delay_samples = kDelay;
      s.set_params(p);
    }
  });
  for (std::size_t i = 0; i < kAt + kDelay; ++i)
    ASSERT_EQ(o.l[i], in[i]) << "before the line holds the delay, at " << i;
  const std::size_t fade = static_cast<std::size_t>(0.02 * kFs) + kBlock;  // 20 ms, to a block
  for (std::size_t i = kAt + kDelay + fade + kBlock; i < in.size(); ++i) {
    ASSERT_EQ(o.l[i], in[i - kDelay]) << "delayed, at " << i;
  }
}

TEST(ChannelStrip, ZipperCheckCatchesAnUnsmoothedStep) {
  // The same check with smoothing disabled (1-sample ramps) must see the click.
  const double a = 0.25, w = 2.0 * std::numbers::pi * 200.0 / kFs;
  StripParams p{.pan = -1.0f};
  ChannelStrip s;
  s.prepare({.sample_rate = kFs, .max_block = kBlock}, p, {.smooth_ms = 0.0});
  const auto in = test::sine(200.0, a, 9600);
  const Out o = run(s, in, [&](std::size_t b) {
    if (b == 51) {  // sample 2448: the sine is near its crest
      p.fader_db = -60.0f;
      s.set_params(p);
    }
  });
  EXPECT_GT(max_second_diff(o.l, 2400, 7200), 1.5 * 4.0 * a * std::sin(w / 2) * std::sin(w / 2) + 0.01 * a);
}

TEST(ChannelStrip, NoAllocationInRealtimeProcessOrSetParams) {
  ChannelStrip s;
  StripParams p{.hpf_on = true, .lpf_on = true, .gate_on = true, .comp_on = true};
  p.eq.bands[0].gain_db = 3.0f;
  p.eq.bands[2].gain_db = -4.0f;
  s.prepare({.sample_rate = kFs, .max_block = kBlock}, p, {.max_delay_samples = 4800});
  const auto in = noise(48000, 0.5);
  std::vector<float> l(kBlock), r(kBlock);
  const auto before_total = tl::test::total_allocations();
  static std::vector<int> probe;  // escapes, so the allocation cannot be elided
  probe.resize(probe.size() + 1000);
  EXPECT_GT(tl::test::total_allocations(), before_total);  // the counter sees allocations
  const auto before = tl::test::realtime_allocations();
  for (std::size_t i = 0, b = 0; i + kBlock <= in.size(); i += kBlock, ++b) {
    tl::rt::RealtimeScope rt;
    if (b % 50 == 0) {
      p.fader_db = -static_cast<float>(b % 7);
      p.pan = static_cast<float>(b % 3) - 1.0f;
      p.hpf_hz = 60.0f + static_cast<float>(b % 5) * 20.0f;
      p.hpf_slope = b % 100 == 0 ? Slope::db24 : Slope::db12;
      p.eq.bands[1].gain_db = static_cast<float>(b % 9) - 4.0f;
      p.comp.threshold_db = -10.0f - static_cast<float>(b % 11);
      p.delay_samples = static_cast<std::int32_t>(b % 300);
      p.gate_on = b % 200 != 0;
      s.set_params(p);
    }
    s.process(std::span<const float>(in.data() + i, kBlock), l, r);
  }
  EXPECT_EQ(tl::test::realtime_allocations(), before);
}

TEST(ChannelStrip, SteadyFiltersMatchTheirAnalyticResponse) {
  // A steady HPF and EQ run as one fused cascade; a 20 Hz 24 dB/oct HPF has the poles closest
  // to z = 1. Measured through the whole strip (left output, unity gain) against the product of
  // the sections' analytic responses, 20 Hz .. 20 kHz.
  StripParams p{.hpf_on = true, .hpf_hz = 20.0f, .hpf_slope = Slope::db24, .pan = -1.0f};
  const float gains[4] = {4.0f, -6.0f, 3.0f, -2.5f};
  for (std::size_t j = 0; j < 4; ++j) p.eq.bands[j].gain_db = gains[j];
  Equalizer eq;  // the same band designs as the strip's
  eq.prepare({.sample_rate = kFs});
  eq.reset(p.eq);
  const PassFilter hpf(PassFilter::Kind::highpass, kFs, 20.0, Slope::db24);
  double worst = 0.0;
  for (const double f : test::log_freqs(20)) {
    ChannelStrip s;
    s.prepare({.sample_rate = kFs, .max_block = kBlock}, p);
    const std::size_t settle = 48000, window = test::whole_cycles(f, 9600);
    const auto in = test::sine(f, 0.5, settle + window);
    const Out o = run(s, in);
    const double measured = test::db(test::rms(std::span<const float>(o.l.data() + settle, window)) /
                                     test::rms(std::span<const float>(in.data() + settle, window)));
    double analytic = test::db(hpf.magnitude(kFs, f));
    for (std::size_t j = 0; j < 4; ++j) analytic += magnitude_db(eq.band(j).coeffs(), kFs, f);
    worst = std::max(worst, std::abs(measured - analytic));
    EXPECT_NEAR(measured, analytic, 0.1) << "f=" << f;
  }
  std::printf("[ figure ] strip HPF 20 Hz 24 dB/oct + 4 EQ bands, worst |measured - theory| = %.4f dB\n",
              worst);
}

TEST(ChannelStrip, MeterReadsThePostFaderPeakAndRms) {
  const StripParams p{.trim_db = 2.0f, .fader_db = -4.0f};
  ChannelStrip s;
  s.prepare({.sample_rate = kFs, .max_block = kBlock}, p);
  const auto in = noise(4801, 0.5, 9);  // the last block is 1 sample: partial sums' tail
  std::vector<float> l(kBlock), r(kBlock);
  double peak = 0.0, sum = 0.0;
  for (std::size_t i = 0; i < in.size(); i += kBlock) {
    const std::size_t n = std::min(kBlock, in.size() - i);
    s.process(std::span<const float>(in.data() + i, n), std::span<float>(l.data(), n),
              std::span<float>(r.data(), n));
    for (const float v : s.post_fader()) {
      peak = std::max(peak, std::abs(static_cast<double>(v)));
      sum += static_cast<double>(v) * v;
    }
  }
  EXPECT_EQ(s.meter().count(), in.size());
  EXPECT_EQ(s.meter().peak(), static_cast<float>(peak));
  EXPECT_NEAR(s.meter().rms(), std::sqrt(sum / static_cast<double>(in.size())), 1e-7);
  EXPECT_GT(s.meter().rms(), 0.1f);
}

}  // namespace
}  // namespace tl::dsp
