// Clock-sync figures in virtual time: ClockEstimator lock time, residual offset
// error and skew error over a grid of networks; ClockDll settling and error.
// Plain program (no timing): every figure is in simulated time, seeded.
// Needs only tl_common.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string_view>
#include <vector>

#include "sync_sim.h"
#include "tl/common/clock_dll.h"
#include "tl/common/clock_estimator.h"
#include "tl/common/units.h"

namespace {

using tl::ClockEstimator;
using tl::ClockSyncState;
using tl::SyncExchange;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = tl::kNanosPerSecond;

using tl::test::Net;
using tl::test::Sim;

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void run_estimator_grid(bool quick, bool slow_exchanges) {
  std::printf(
      "ClockEstimator, virtual time, 5%% spikes of +50 ms on each trip, exchanges every 100 ms until "
      "Locked.\n");
  std::printf("jitter = mean of the exponential queueing delay added to each direction (its std too).\n");
  std::printf("600 s of simulated time per run, errors sampled every 10 ms; 4 seeds per row\n");
  std::printf(
      "lock_s: p50/max over seeds; err5_us: max |offset error| at 5 s, locked or not;\n"
      "p50/p99/max_us: |offset error| after 200 s; skew30/skewE: max |skew error| (ppm) at 30 s / 600 s\n");
  std::printf("%7s %7s %6s %5s | %6s %6s | %8s | %7s %7s %7s | %7s %7s | %8s\n", "offset", "skew", "jit_ms",
              "loss", "lock_s", "lk_max", "err5_us", "p50_us", "p99_us", "max_us", "skew30", "skewE",
              "resid_us");
  const std::vector<double> offsets = quick ? std::vector<double>{0.003} : std::vector<double>{-10.0, 10.0};
  const std::vector<double> skews = quick ? std::vector<double>{100.0} : std::vector<double>{-500.0, 500.0};
  const std::vector<double> jitters =
      quick ? std::vector<double>{2.0, 5.0, 20.0} : std::vector<double>{0.0, 0.5, 2.0, 5.0, 20.0};
  const std::vector<double> losses = quick ? std::vector<double>{0.0, 0.3} : std::vector<double>{0.0, 0.3};
  for (double jit : jitters) {
    for (double loss : losses) {
      for (double off : offsets) {
        for (double skew : skews) {
          std::vector<double> errs, lock_times, skew_errs, err5, skew30;
          double resid = 0;
          for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            Sim sim({.offset_s = off, .skew_ppm = skew, .jitter_ms = jit, .loss = loss}, seed * 7919);
            ClockEstimator est;
            std::mt19937_64 period_rng(seed);
            const std::int64_t period_lo = 100 * kMs;
            const std::uint64_t period_span = slow_exchanges ? 150 : 1;
            double lock_t = -1;
            const std::int64_t start = sim.now();
            std::int64_t next = start;
            while (sim.now() - start < 600 * kS) {
              if (sim.now() >= next) {
                SyncExchange x;
                if (sim.exchange(x)) (void)est.add(x);
                const bool locked = est.state() == ClockSyncState::Locked;
                if (locked && lock_t < 0) lock_t = static_cast<double>(sim.now() - start) / 1e9;
                next += locked ? period_lo + static_cast<std::int64_t>(period_rng() % period_span) * kMs
                               : 100 * kMs;
              }
              sim.advance(10 * kMs);
              const std::int64_t node_now = sim.node_at(sim.now());
              const double err_now = std::abs(static_cast<double>(est.offset_ns_at(node_now)) -
                                              sim.true_offset(node_now) - sim.bias());
              if (sim.now() - start == 5 * kS) err5.push_back(err_now / 1e3);
              if (sim.now() - start == 30 * kS) skew30.push_back(std::abs(est.skew_ppm() - skew));
              if (sim.now() - start >= 200 * kS) {
                const std::int64_t node = sim.node_at(sim.now());
                errs.push_back(std::abs(static_cast<double>(est.offset_ns_at(node)) - sim.true_offset(node) -
                                        sim.bias()) /
                               1e3);
              }
            }
            lock_times.push_back(lock_t < 0 ? 1e9 : lock_t);
            skew_errs.push_back(std::abs(est.skew_ppm() - skew));
            resid = std::max(resid, static_cast<double>(est.residual_ns()) / 1e3);
          }
          std::printf(
              "%7.3f %7.1f %6.1f %5.2f | %6.2f %6.2f | %8.1f | %7.2f %7.2f %7.2f | %7.3f %7.4f | %8.1f\n",
              off, skew, jit, loss, pct(lock_times, 0.5), pct(lock_times, 1.0), pct(err5, 1.0),
              pct(errs, 0.5), pct(errs, 0.99), pct(errs, 1.0), pct(skew30, 1.0), pct(skew_errs, 1.0), resid);
        }
      }
    }
  }
}

void run_dll() {
  std::printf("\nClockDll, 48 kHz device 100 ppm fast, 256-frame periods, callback jitter uniform +-1 ms\n");
  std::printf("%8s | %9s | %8s %8s %8s | %9s\n", "bw_hz", "settle_s", "p50_us", "p99_us", "max_us",
              "rate_e_ppm");
  for (double bw : {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0}) {
    std::vector<double> errs;
    double settle = -1, rate_err = 0;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> jit(-1e6, 1e6);
    const double rate = 48000.0 * (1 + 100e-6);
    tl::ClockDll dll(48000, 256, bw);
    const std::int64_t origin = 5000 * kS;
    const int periods = static_cast<int>(300.0 * 48000 / 256);
    double last_bad = 0;
    for (int k = 0; k < periods; ++k) {
      const double true_t = static_cast<double>(origin) + static_cast<double>(k) * 256 * 1e9 / rate;
      const auto cb = static_cast<std::int64_t>(std::llround(true_t + jit(rng)));
      const std::int64_t est = dll.update(cb, 256);
      const double e = std::abs(static_cast<double>(est) - true_t) / 1e3;
      const double t = static_cast<double>(k) * 256 / 48000;
      if (e > 50) last_bad = t;
      if (t > 60) errs.push_back(e);
      rate_err = (dll.rate_hz() / rate - 1) * 1e6;
    }
    settle = last_bad;
    std::printf("%8.3f | %9.2f | %8.2f %8.2f %8.2f | %9.4f\n", bw, settle, pct(errs, 0.5), pct(errs, 0.99),
                pct(errs, 1.0), rate_err);
  }
  std::printf("settle_s = last time the block-time error exceeded 50 us\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Arguments: none = everything; "quick" = a short estimator grid; "dll" = the DLL only.
  const std::string_view mode = argc > 1 ? argv[1] : "";
  const bool quick = mode == "quick";
  if (mode == "dll") {
    run_dll();
    return 0;
  }
  std::printf("== exchanges every 100 ms (recommended) ==\n");
  run_estimator_grid(quick, false);
  if (!quick) {
    std::printf("== exchanges every 100-250 ms once Locked ==\n");
    run_estimator_grid(quick, true);
  }
  if (!quick) run_dll();
  return 0;
}
