// The impairment model against its settings, on virtual time (no sockets, no clock).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "netem/impairment.h"

namespace tl::netem {
namespace {

constexpr std::int64_t kMs = 1'000'000;

struct Sent {
  std::int64_t arrival;
  Verdict verdict;
};

std::vector<Sent> feed(ImpairmentModel& model, int packets, std::int64_t spacing_ns,
                       std::size_t bytes = 200) {
  std::vector<Sent> out;
  out.reserve(static_cast<std::size_t>(packets));
  for (int i = 0; i < packets; ++i) {
    const std::int64_t t = 1'000 * kMs + i * spacing_ns;
    out.push_back({t, model.offer(t, bytes)});
  }
  return out;
}

TEST(ImpairmentModel, NoSettingsPassesEverythingAtOnce) {
  ImpairmentModel model({}, 1);
  for (const auto& s : feed(model, 1000, kMs)) {
    ASSERT_EQ(s.verdict.copies, 1);
    EXPECT_EQ(s.verdict.departure_ns[0], s.arrival);
  }
  EXPECT_EQ(model.stats().scheduled, 1000u);
  EXPECT_EQ(model.stats().delay.quantile_ms(0.99), 0.0);
}

TEST(ImpairmentModel, RandomLossMatchesSetting) {
  ImpairmentModel model({.loss_pct = 10.0}, 42);
  const int n = 100'000;
  feed(model, n, kMs);
  const double fraction = static_cast<double>(model.stats().dropped_random) / n;
  // One standard error is 0.001; allow 5.
  EXPECT_NEAR(fraction, 0.10, 0.005);
  EXPECT_EQ(model.stats().dropped_burst + model.stats().dropped_rate, 0u);
  EXPECT_EQ(model.stats().scheduled + model.stats().dropped(), static_cast<std::uint64_t>(n));
}

TEST(ImpairmentModel, SameSeedSameDecisionsOtherSeedOthers) {
  const ImpairmentConfig config{.loss_pct = 20.0, .jitter_ms = 5.0, .reorder_pct = 5.0, .duplicate_pct = 5.0};
  ImpairmentModel a(config, 7), b(config, 7), c(config, 8);
  const auto ra = feed(a, 5000, kMs);
  const auto rb = feed(b, 5000, kMs);
  const auto rc = feed(c, 5000, kMs);
  int differ = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    ASSERT_EQ(ra[i].verdict.copies, rb[i].verdict.copies) << i;
    ASSERT_EQ(ra[i].verdict.departure_ns, rb[i].verdict.departure_ns) << i;
    if (ra[i].verdict.copies != rc[i].verdict.copies) ++differ;
  }
  EXPECT_GT(differ, 100);
}

TEST(ImpairmentModel, LossChoicesDoNotDependOnOtherImpairments) {
  ImpairmentModel plain({.loss_pct = 10.0}, 3);
  ImpairmentModel busy({.loss_pct = 10.0, .jitter_ms = 3.0, .duplicate_pct = 10.0}, 3);
  const auto a = feed(plain, 2000, kMs);
  const auto b = feed(busy, 2000, kMs);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].verdict.drop, b[i].verdict.drop) << i;
}

// Runs of consecutive burst drops, in packets.
std::vector<int> burst_runs(const std::vector<Sent>& sent) {
  std::vector<int> runs;
  int run = 0;
  for (const auto& s : sent) {
    if (s.verdict.drop == Drop::burst) {
      ++run;
    } else if (run > 0) {
      runs.push_back(run);
      run = 0;
    }
  }
  if (run > 0) runs.push_back(run);
  return runs;
}

TEST(ImpairmentModel, GilbertElliottLossFractionAndBurstLength) {
  // 5 % of the time bad, bad periods of 20 ms on average; a packet every ms
  // for 1000 s gives about 2500 bursts.
  ImpairmentModel model({.burst_loss_pct = 5.0, .burst_len_ms = 20.0}, 11);
  const int n = 1'000'000;
  const auto sent = feed(model, n, kMs);
  const double loss = static_cast<double>(model.stats().dropped_burst) / n;
  const auto runs = burst_runs(sent);
  ASSERT_GT(runs.size(), 1000u);
  double total = 0;
  for (int r : runs) total += r;
  const double mean_ms = total / static_cast<double>(runs.size());  // 1 packet per ms
  EXPECT_NEAR(loss, 0.05, 0.005);
  // Sampling every 1 ms sees mean run 1/(1-q), q = p + (1-p) e^(-1ms/(Lb(1-p))): 20.5 ms.
  EXPECT_NEAR(mean_ms, 20.0, 2.0);
  EXPECT_EQ(model.stats().dropped_random, 0u);
  RecordProperty("ge_loss_fraction", std::to_string(loss));
  RecordProperty("ge_mean_burst_ms", std::to_string(mean_ms));
  std::printf("Gilbert-Elliott: loss %.4f (set 0.05), mean burst %.2f ms (set 20), %zu bursts\n", loss,
              mean_ms, runs.size());
}

TEST(ImpairmentModel, GilbertElliottBadStateLossIsApplied) {
  ImpairmentModel model({.burst_loss_pct = 10.0, .burst_len_ms = 50.0, .burst_bad_loss_pct = 50.0}, 5);
  const int n = 500'000;
  feed(model, n, kMs);
  EXPECT_NEAR(static_cast<double>(model.stats().dropped_burst) / n, 0.05, 0.006);
}

TEST(ImpairmentModel, JitterKeepsOrderWithoutReorder) {
  for (auto shape : {JitterShape::uniform, JitterShape::normal}) {
    ImpairmentModel model({.delay_ms = 20.0, .jitter_ms = 15.0, .jitter_shape = shape}, 9);
    const auto sent = feed(model, 100'000, kMs);
    std::int64_t last = 0;
    std::int64_t min_added = INT64_MAX, max_added = 0;
    for (const auto& s : sent) {
      ASSERT_EQ(s.verdict.copies, 1);
      ASSERT_GE(s.verdict.departure_ns[0], last);
      last = s.verdict.departure_ns[0];
      min_added = std::min(min_added, last - s.arrival);
      max_added = std::max(max_added, last - s.arrival);
    }
    EXPECT_EQ(model.stats().reordered, 0u);
    // The jitter really varies the delay, and never makes it negative.
    EXPECT_GE(min_added, 0);
    EXPECT_GT(max_added - min_added, 10 * kMs);
    EXPECT_GE(model.stats().delay.mean_ms(), 20.0);
  }
}

TEST(ImpairmentModel, DelayFiguresAreReported) {
  ImpairmentModel model({.delay_ms = 10.0}, 1);
  feed(model, 1000, kMs);
  EXPECT_NEAR(model.stats().delay.mean_ms(), 10.0, 1e-6);
  EXPECT_NEAR(model.stats().delay.quantile_ms(0.99), 10.0, 1e-6);
}

TEST(ImpairmentModel, ReorderRateMatchesSetting) {
  ImpairmentModel model({.delay_ms = 5.0, .jitter_ms = 0.4, .reorder_pct = 5.0, .reorder_gap_ms = 10.0}, 21);
  const int n = 100'000;
  const auto sent = feed(model, n, kMs);
  // A packet is out of order when some later packet leaves before it.
  int out_of_order = 0;
  std::int64_t min_later = INT64_MAX;
  for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
    const auto dep = it->verdict.departure_ns[0];
    if (min_later < dep) ++out_of_order;
    min_later = std::min(min_later, dep);
  }
  const double measured = static_cast<double>(out_of_order) / n;
  EXPECT_NEAR(measured, 0.05, 0.004);
  EXPECT_EQ(static_cast<std::uint64_t>(out_of_order), model.stats().reordered);
  std::printf("reorder: measured %.4f (set 0.05)\n", measured);
}

TEST(ImpairmentModel, DuplicateRateMatchesSetting) {
  ImpairmentModel model({.duplicate_pct = 3.0}, 5);
  const int n = 100'000;
  int twice = 0;
  for (const auto& s : feed(model, n, kMs)) {
    if (s.verdict.copies == 2) {
      ++twice;
      EXPECT_EQ(s.verdict.departure_ns[0], s.verdict.departure_ns[1]);
    }
  }
  EXPECT_NEAR(static_cast<double>(twice) / n, 0.03, 0.003);
  EXPECT_EQ(model.stats().duplicated, static_cast<std::uint64_t>(twice));
  EXPECT_EQ(model.stats().scheduled, static_cast<std::uint64_t>(n + twice));
}

TEST(ImpairmentModel, RateLimiterHoldsThroughputAndDropsExcess) {
  // 1000-byte packets every 4 ms = 2000 kbit/s into a 1000 kbit/s link.
  ImpairmentModel model({.rate_kbps = 1000.0, .rate_queue_bytes = 20'000}, 1);
  const auto sent = feed(model, 5000, 4 * kMs, 1000);
  std::int64_t first = INT64_MAX, last = 0;
  std::uint64_t forwarded = 0;
  for (const auto& s : sent) {
    if (s.verdict.copies == 0) continue;
    ++forwarded;
    first = std::min(first, s.verdict.departure_ns[0]);
    last = std::max(last, s.verdict.departure_ns[0]);
  }
  const double kbps =
      static_cast<double>(forwarded - 1) * 1000.0 * 8.0 / (static_cast<double>(last - first) / 1e9) / 1000.0;
  EXPECT_NEAR(kbps, 1000.0, 10.0);
  EXPECT_NEAR(static_cast<double>(model.stats().dropped_rate) / 5000.0, 0.5, 0.02);
  // The queue bound caps the added delay: 20 kB at 125 kB/s is 160 ms.
  EXPECT_LE(model.stats().delay.max_ms(), 161.0);
  std::printf("rate: %.1f kbit/s through a 1000 kbit/s limit, %.1f%% dropped, max delay %.1f ms\n", kbps,
              100.0 * static_cast<double>(model.stats().dropped_rate) / 5000.0, model.stats().delay.max_ms());
}

TEST(ImpairmentModel, RateLimiterBelowRateAddsNothing) {
  ImpairmentModel model({.rate_kbps = 1000.0}, 1);
  feed(model, 2000, 16 * kMs, 1000);  // 500 kbit/s
  EXPECT_EQ(model.stats().dropped_rate, 0u);
  EXPECT_EQ(model.stats().delay.max_ms(), 0.0);
}

TEST(ImpairmentConfig, ValidateNamesTheOption) {
  EXPECT_TRUE(validate({}).ok());
  auto s = validate({.loss_pct = 101.0});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("--loss"), std::string::npos);
  s = validate({.burst_loss_pct = 5.0});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("--burst-len-ms"), std::string::npos);
  EXPECT_FALSE(validate({.burst_loss_pct = 100.0, .burst_len_ms = 5.0}).ok());
  EXPECT_FALSE(validate({.delay_ms = -1.0}).ok());
  EXPECT_FALSE(validate({.rate_queue_bytes = 100}).ok());
}

TEST(LinkChange, ParsesTimeAndSettings) {
  auto change = parse_link_change("10.5:jitter-ms=25,loss=2");
  ASSERT_TRUE(change.ok()) << change.error();
  EXPECT_EQ(change->at_s, 10.5);
  ASSERT_EQ(change->settings.size(), 2u);
  EXPECT_EQ(change->settings[0], (std::pair<std::string, double>{"jitter-ms", 25.0}));
  EXPECT_EQ(describe(*change), "jitter-ms=25,loss=2");
  auto next = apply_link_change({.delay_ms = 5.0, .jitter_ms = 1.0}, *change);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->jitter_ms, 25.0);
  EXPECT_EQ(next->loss_pct, 2.0);
  EXPECT_EQ(next->delay_ms, 5.0);  // untouched settings stay
}

TEST(LinkChange, BadTextSaysWhat) {
  for (const char* text : {"", "jitter-ms=5", "x:jitter-ms=5", "-1:jitter-ms=5", "5:", "5:jitter-ms",
                           "5:jitter-ms=abc", "5:jitter-ms=5x", "5:rate-kbps=100"}) {
    auto change = parse_link_change(text);
    ASSERT_FALSE(change.ok()) << text;
    EXPECT_NE(change.error().find("--change"), std::string::npos) << text;
  }
  auto change = parse_link_change("5:loss=150");
  ASSERT_TRUE(change.ok());
  auto next = apply_link_change({}, *change);
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().find("--loss"), std::string::npos);
}

TEST(ImpairmentModel, ChangedJitterTakesOverFromTheNextPacket) {
  ImpairmentModel model({.delay_ms = 50.0, .jitter_ms = 1.0}, 7);
  const auto spread = [&](int packets, std::int64_t from) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < packets; ++i) {
      const std::int64_t t = from + i * kMs;
      const Verdict v = model.offer(t, 200);
      lo = std::min(lo, v.departure_ns[0] - t);
      hi = std::max(hi, v.departure_ns[0] - t);
    }
    return static_cast<double>(hi - lo) / kMs;
  };
  EXPECT_LE(spread(2000, 0), 2.0);
  model.change_link({.delay_ms = 50.0, .jitter_ms = 20.0});
  EXPECT_GT(spread(2000, 10'000 * kMs), 15.0);  // +-20 ms, narrowed where order is kept
  EXPECT_EQ(model.config().jitter_ms, 20.0);
}

}  // namespace
}  // namespace tl::netem
