#pragma once
//! A seeded virtual network for clock-sync tests and benchmarks: no sleeping, no
//! real clock. Session clock = true time tau (the mixer owns it); node clock =
//! tau - X + skew * (tau - tau0), so the offset is X at tau0. Each trip has a
//! base delay, exponential queueing jitter, occasional spikes and timestamping
//! noise; exchanges can be lost.

#include <cmath>
#include <cstdint>
#include <random>

#include "tl/common/clock_estimator.h"
#include "tl/common/units.h"

namespace tl::test {

inline constexpr std::int64_t kSimMs = 1'000'000;
inline constexpr std::int64_t kSimS = kNanosPerSecond;

struct Net {
  double offset_s = 0, skew_ppm = 0;
  double jitter_ms = 0;  // mean exponential queueing delay, each direction
  double loss = 0;
  double spike_prob = 0.05, spike_ms = 50;
  double base_up_ms = 0.4, base_down_ms = 0.4;
};

class Sim {
 public:
  Sim(const Net& n, std::uint64_t seed) : net_(n), rng_(seed) {
    x_ = std::llround(n.offset_s * 1e9);
    s_ = n.skew_ppm * 1e-6;
  }
  std::int64_t now() const { return tau_; }
  void advance(std::int64_t ns) { tau_ += ns; }
  std::int64_t node_now() const { return node_at(tau_); }
  std::int64_t node_at(std::int64_t tau) const {
    return tau - x_ + std::llround(s_ * static_cast<double>(tau - tau0_));
  }
  //! Steps the node clock by ns (its offset drops by ns).
  void step_node(std::int64_t ns) { x_ -= ns; }
  double true_offset(std::int64_t node) const {
    return static_cast<double>(tau0_ - node) + static_cast<double>(node + x_ - tau0_) / (1.0 + s_);
  }
  //! The documented bias (d_up - d_down) / 2.
  double bias() const { return (net_.base_up_ms - net_.base_down_ms) * 0.5e6; }
  //! |estimate - (true offset + bias)| at the node's current time, ns.
  double error(const ClockEstimator& est) const {
    const std::int64_t n = node_now();
    return std::abs(static_cast<double>(est.offset_ns_at(n)) - true_offset(n) - bias());
  }
  //! One exchange starting now; false when lost.
  bool exchange(SyncExchange& out) {
    const std::int64_t t2 = tau_ + delay(net_.base_up_ms);
    const std::int64_t t3 = t2 + 20'000 + static_cast<std::int64_t>(uni_(rng_) * 30'000);
    out = {.t1 = node_at(tau_), .t2 = t2, .t3 = t3, .t4 = node_at(t3 + delay(net_.base_down_ms))};
    return uni_(rng_) >= net_.loss;
  }

 private:
  std::int64_t delay(double base_ms) {
    double d = base_ms * 1e6;
    if (net_.jitter_ms > 0) d += std::exponential_distribution<double>(1.0 / (net_.jitter_ms * 1e6))(rng_);
    if (uni_(rng_) < net_.spike_prob) d += net_.spike_ms * 1e6;
    d += std::abs(std::normal_distribution<double>(0.0, 2'000.0)(rng_));  // timestamping latency
    return std::llround(d);
  }
  Net net_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uni_{0.0, 1.0};
  std::int64_t tau_ = 1000 * kSimS, tau0_ = 1000 * kSimS, x_ = 0;
  double s_ = 0;
};

}  // namespace tl::test
