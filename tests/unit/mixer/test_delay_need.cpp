#include "tl/mixer/delay_need.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace tl::mixer {
namespace {

// 1000 packets a second; sub-windows of 250 ms (12000 samples at 48 kHz).
constexpr double kPacket = 48.0;

double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end(), std::greater<>());
  const auto k = static_cast<std::size_t>(std::ceil((1.0 - q) * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(k, 1) - 1];
}

TEST(DelayNeed, NoEstimateBeforeTheFirstSubWindowCloses) {
  DelayNeed need;
  double v = 0.0;
  for (int i = 0; i < 200; ++i) EXPECT_FALSE(need.observe(100.0, i * kPacket));
  EXPECT_FALSE(need.estimate(v));
  EXPECT_TRUE(need.observe(100.0, 250 * kPacket));  // 12000 samples on: the first closes
  ASSERT_TRUE(need.estimate(v));
  EXPECT_EQ(v, 100.0);
}

TEST(DelayNeed, TheQuantileIsExactOverTheSpan) {
  DelayNeed need;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1000.0);
  std::vector<double> span;  // the needs of the last kWindows closed sub-windows
  std::vector<std::vector<double>> windows(1);
  for (int i = 0; i < 5000; ++i) {
    const double v = std::round(u(rng));  // floats hold these exactly
    if (need.observe(v, i * kPacket)) windows.emplace_back();
    windows.back().push_back(v);
  }
  windows.pop_back();  // still open
  for (std::size_t w = windows.size() - DelayNeed::Config{}.windows; w < windows.size(); ++w) {
    span.insert(span.end(), windows[w].begin(), windows[w].end());
  }
  double v = 0.0;
  ASSERT_TRUE(need.estimate(v));
  EXPECT_EQ(v, exact_quantile(span, 0.99));
  EXPECT_EQ(need.count(), span.size());
  EXPECT_EQ(need.worst(), *std::max_element(span.begin(), span.end()));
}

TEST(DelayNeed, ManyLargeNeedsInOneSubWindowErrOnTheLongSide) {
  // 16 frames a packet (3000 a second): the p99 of the span is the 30th largest, and
  // one sub-window holds 100 large needs, more than it keeps.
  DelayNeed need({.window_samples = 12000.0, .quantile = 0.99});
  std::vector<double> all;
  for (int i = 0; i < 3000; ++i) {
    const double v = (i >= 100 && i < 200) ? 500.0 + i : static_cast<double>(i % 50);
    need.observe(v, i * 16.0);
    all.push_back(v);
  }
  need.observe(0.0, 3000 * 16.0);  // closes the fourth
  double v = 0.0;
  ASSERT_TRUE(need.estimate(v));
  EXPECT_GE(v, exact_quantile(all, 0.99));
}

TEST(DelayNeed, OldSubWindowsFallOutAndResetForgets) {
  DelayNeed need;
  double t = 0.0, v = 0.0;
  for (int i = 0; i < 1000; ++i, t += kPacket) need.observe(900.0, t);
  for (int i = 0; i < 1500; ++i, t += kPacket) need.observe(100.0, t);
  ASSERT_TRUE(need.estimate(v));
  EXPECT_EQ(v, 100.0) << "1.5 s of lower needs: the high ones are out of the one-second span";
  need.reset();
  EXPECT_FALSE(need.estimate(v));
}

}  // namespace
}  // namespace tl::mixer
