// VarispeedControl in virtual time: a node whose media time runs at its own rate
// sends a packet every 48 of its samples; the mix thread reads a 48-frame block
// per 48 session samples, 960 samples behind the session clock, after observing
// every packet that has arrived by then.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "tl/mixer/varispeed_control.h"

namespace tl::mixer {
namespace {

constexpr double kRate = 48000.0;
constexpr std::int64_t kBlock = 48;
constexpr std::int64_t kLatency = 960;

struct Outcome {
  bool ever_engaged = false;
  double engaged_at_s = -1.0;
  double worst_lead_error = 0.0;   // samples, after settle_s
  double worst_step_change = 0.0;  // between consecutive blocks, ppm
  double last_correction_ppm = 0.0;
  double last_drift_ppm = 0.0;
  bool always_whole = true;  // the cursor never left whole samples
  bool cursor_followed_session = true;
};

//! skew: node media time gained per session sample (+300e-6: 300 ppm fast).
//! jitter_ms: one-sided random queueing delay added to a 1 ms path.
//! The lead error is judged from settle_s after the cursor engaged.
//! startup_ms: extra delay of every packet in the first 2 s (a busy machine starting up).
Outcome simulate(double skew, double jitter_ms, double seconds, double settle_s = 8.0,
                 double startup_ms = 0.0) {
  const unsigned seed = 1;
  std::mt19937 rng(seed);
  std::exponential_distribution<double> queueing(jitter_ms > 0.0 ? 3.0 / (jitter_ms * 1e-3 * kRate) : 1.0);
  VarispeedControl control({.sample_rate = 48000});
  control.set_reported_drift(skew * 1e6);  // the node's own measurement agrees
  const std::int64_t start = 100'000'000;  // session sample where the node's first sample belongs
  std::int64_t packet = 0;
  const auto arrival_of = [&](std::int64_t k) {
    const double captured = static_cast<double>(start) + static_cast<double>((k + 1) * kBlock) / (1.0 + skew);
    double delay = 0.001 * kRate;
    if (captured - static_cast<double>(start) < 2.0 * kRate) delay += startup_ms * 1e-3 * kRate;
    if (jitter_ms > 0.0) delay += std::min(queueing(rng), jitter_ms * 1e-3 * kRate);
    return captured + delay;
  };
  double next_arrival = arrival_of(0);
  Outcome r;
  double last_step = 1.0;
  bool started = false;
  std::int64_t origin = 0;
  const auto blocks = static_cast<std::int64_t>(seconds * kRate / kBlock);
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t now = start + b * kBlock;
    const std::int64_t pos = now - kLatency;
    while (next_arrival <= static_cast<double>(now)) {
      if (!started) {
        control.restart(pos);
        origin = pos;
        started = true;
      }
      const std::int64_t media_end = start + (packet + 1) * kBlock;
      control.observe(media_end, static_cast<std::int64_t>(next_arrival * 1e9 / kRate));
      ++packet;
      next_arrival = arrival_of(packet);
    }
    if (!started) continue;
    const VarispeedControl::Block block = control.plan(pos);
    const double t = static_cast<double>(pos - origin) / kRate;
    if (!block.exact && !r.ever_engaged) {
      r.ever_engaged = true;
      r.engaged_at_s = t;
    }
    r.always_whole = r.always_whole && block.frac == 0.0;
    r.cursor_followed_session = r.cursor_followed_session && block.base == pos;
    const double step = block.exact ? 1.0 : block.step;
    if (b > 0) r.worst_step_change = std::max(r.worst_step_change, std::fabs(step - last_step) * 1e6);
    last_step = step;
    if (r.ever_engaged && t > r.engaged_at_s + settle_s) {
      // The lead the node's drift calls for: what it gained since the stretch began.
      const double lead = static_cast<double>(block.base - pos) + block.frac;
      const double wanted = skew / (1.0 + skew) * static_cast<double>(pos - origin);
      r.worst_lead_error = std::max(r.worst_lead_error, std::fabs(lead - wanted));
    }
    control.advance(block, kBlock, block.frac + static_cast<double>(kBlock) * block.step);
  }
  r.last_correction_ppm = control.correction_ppm();
  r.last_drift_ppm = control.drift_ppm();
  return r;
}

TEST(VarispeedControl, ADriftFreeNodeIsReadSampleForSample) {
  for (const double jitter : {0.0, 2.0, 5.0}) {
    const Outcome r = simulate(0.0, jitter, 120.0);
    EXPECT_FALSE(r.ever_engaged) << jitter;
    EXPECT_TRUE(r.always_whole) << jitter;
    EXPECT_TRUE(r.cursor_followed_session) << jitter;
    EXPECT_NEAR(r.last_drift_ppm, 0.0, 2.0) << jitter;
  }
  // A path that slows down steadily (load building up: 1 ms more over 10 s) looks like a
  // node running 100 ppm slow; the node's own report (0 ppm) says otherwise.
  {
    VarispeedControl control({.sample_rate = 48000});
    control.set_reported_drift(0.0);
    control.restart(0);
    bool engaged = false;
    double slowest = 0.0;
    for (std::int64_t k = 0; k < 20000; ++k) {  // 20 s of packets
      const double captured = static_cast<double>((k + 1) * kBlock);
      const double delay = 48.0 + std::min(captured / kRate, 10.0) * 4.8;
      control.observe((k + 1) * kBlock, static_cast<std::int64_t>((captured + delay) * 1e9 / kRate));
      engaged = engaged || !control.plan(static_cast<std::int64_t>(captured) - kLatency).exact;
      control.advance(control.plan(static_cast<std::int64_t>(captured) - kLatency), kBlock, kBlock);
      slowest = std::min(slowest, control.drift_ppm());
    }
    EXPECT_FALSE(engaged);
    EXPECT_LT(slowest, -50.0) << "arrivals alone do look like a slow node";
  }
  // Slow packets while the machine starts up raise the first floors; that is no drift.
  const Outcome busy = simulate(0.0, 1.0, 60.0, 8.0, 1.5);
  EXPECT_FALSE(busy.ever_engaged);
  EXPECT_TRUE(busy.cursor_followed_session);
}

TEST(VarispeedControl, FollowsFastAndSlowNodesWithoutJumps) {
  struct Case {
    double ppm, jitter_ms;
  };
  for (const Case c :
       {Case{300.0, 0.0}, Case{-500.0, 0.0}, Case{100.0, 2.0}, Case{-200.0, 5.0}, Case{50.0, 1.0}}) {
    const Outcome r = simulate(c.ppm * 1e-6, c.jitter_ms, 60.0);
    std::printf(
        "[ figure ] varispeed %+6.0f ppm, %.0f ms jitter: engaged after %.2f s, correction %+.1f ppm, "
        "lead error <= %.2f samples from 8 s later, step change <= %.2f ppm/block\n",
        c.ppm, c.jitter_ms, r.engaged_at_s, r.last_correction_ppm, r.worst_lead_error, r.worst_step_change);
    EXPECT_TRUE(r.ever_engaged) << c.ppm;
    // Engages once 8 floors (4 s) agree and the drift has moved the node by 0.5 ms.
    const double due_s = std::max(4.0, 24.0 / (kRate * std::fabs(c.ppm) * 1e-6));
    EXPECT_LE(r.engaged_at_s, due_s + 1.0) << c.ppm;
    EXPECT_NEAR(r.last_correction_ppm, c.ppm, 5.0) << c.ppm;
    // Plays out where the node played it: within 0.1 ms once settled.
    EXPECT_LE(r.worst_lead_error, 5.0) << c.ppm;
    // The rate glides: no step in pitch a listener could hear as a jump.
    EXPECT_LE(r.worst_step_change, 10.0 + 1e-6) << c.ppm;
  }
}

TEST(VarispeedControl, RestartReturnsToExactReadingAtTheGivenPosition) {
  VarispeedControl control({.sample_rate = 48000});
  control.set_reported_drift(1000.0);
  control.restart(1000);
  // 6 s of a node 1000 ppm fast, arriving with a fixed delay: engages.
  for (std::int64_t k = 0; k < 6000; ++k) {
    const double arrival = 1000.0 + static_cast<double>((k + 1) * kBlock) / 1.001 + 48.0;
    control.observe(1000 + (k + 1) * kBlock, static_cast<std::int64_t>(arrival * 1e9 / kRate));
  }
  const auto block = control.plan(1000 + 6000 * kBlock / 1.001 - 960);
  EXPECT_FALSE(block.exact);
  control.restart(5000);
  const auto fresh = control.plan(5000);
  EXPECT_TRUE(fresh.exact);
  EXPECT_EQ(fresh.base, 5000);
  EXPECT_EQ(control.cursor(), 5000);
  EXPECT_EQ(control.correction_ppm(), 0.0);
}

}  // namespace
}  // namespace tl::mixer
