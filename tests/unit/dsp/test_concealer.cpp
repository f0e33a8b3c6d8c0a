#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "alloc_counter.h"
#include "tl/common/realtime.h"
#include "tl/dsp/concealer.h"

namespace tl::dsp {
namespace {

constexpr double kRate = 48000.0;

std::vector<float> sine(std::size_t n, double freq, double amp = 0.5) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(amp * std::sin(2.0 * M_PI * freq * i / kRate));
  return v;
}

//! Runs signal through a concealer in 48-frame blocks with frames [from, to) missing.
std::vector<float> conceal(const std::vector<float>& signal, std::size_t from, std::size_t to, Concealer& c,
                           std::size_t* concealed = nullptr) {
  std::vector<float> out = signal;
  std::vector<std::uint8_t> missing(signal.size(), 0);
  for (std::size_t i = from; i < to; ++i) {
    missing[i] = 1;
    out[i] = 0.0f;
  }
  std::size_t total = 0;
  for (std::size_t at = 0; at < out.size(); at += 48) {
    const std::size_t n = std::min<std::size_t>(48, out.size() - at);
    total += c.process(std::span<float>(out.data() + at, n),
                       std::span<const std::uint8_t>(missing.data() + at, n));
  }
  if (concealed != nullptr) *concealed = total;
  return out;
}

TEST(Concealer, ContinuesAPeriodicSignalThroughALostPacket) {
  Concealer c;
  c.prepare({.sample_rate = kRate});
  const auto x = sine(9600, 220.0);
  std::size_t concealed = 0;
  const auto y = conceal(x, 4800, 4848, c, &concealed);
  EXPECT_EQ(concealed, 48u);
  EXPECT_NEAR(static_cast<double>(c.period()), kRate / 220.0, 1.0);
  double err = 0.0, sig = 0.0;
  for (std::size_t i = 4800; i < 4848; ++i) {
    err += (y[i] - x[i]) * (y[i] - x[i]);
    sig += x[i] * x[i];
  }
  const double snr_db = 10.0 * std::log10(sig / err);
  std::printf("[ figure ] 220 Hz, one 1 ms packet lost: continuation SNR %.1f dB\n", snr_db);
  EXPECT_GT(snr_db, 20.0) << "far better than silence (0 dB)";
}

TEST(Concealer, ACleanBlockLongerThanItsHistoryLeavesItsEndToContinue) {
  // One 4800-frame clean block (longer than the history ring), then a lost packet: the
  // continuation comes from the block's last periods, so it follows the sine.
  Concealer c;
  c.prepare({.sample_rate = kRate});
  const auto x = sine(4848, 220.0);
  std::vector<float> y = x;
  std::vector<std::uint8_t> missing(x.size(), 0);
  EXPECT_EQ(c.process(std::span<float>(y.data(), 4800), std::span<const std::uint8_t>(missing.data(), 4800)),
            0u);
  for (std::size_t i = 4800; i < 4848; ++i) missing[i] = 1, y[i] = 0.0f;
  EXPECT_EQ(c.process(std::span<float>(y.data() + 4800, 48),
                      std::span<const std::uint8_t>(missing.data() + 4800, 48)),
            48u);
  double err = 0.0, sig = 0.0;
  for (std::size_t i = 4800; i < 4848; ++i) {
    err += (y[i] - x[i]) * (y[i] - x[i]);
    sig += x[i] * x[i];
  }
  EXPECT_GT(10.0 * std::log10(sig / err), 20.0);
}

TEST(Concealer, NoClickWhereTheGapStartsOrEnds) {
  Concealer c;
  c.prepare({.sample_rate = kRate});
  const auto x = sine(9600, 330.0);
  const auto y = conceal(x, 3000, 3480, c);
  double natural = 0.0;
  for (std::size_t i = 1; i < x.size(); ++i)
    natural = std::max(natural, std::fabs(static_cast<double>(x[i] - x[i - 1])));
  double worst = 0.0;
  for (std::size_t i = 2900; i < 3700; ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(y[i] - y[i - 1])));
  EXPECT_LT(worst, 1.5 * natural) << "steps stay within the signal's own slope";
}

TEST(Concealer, LongGapsFadeToSilenceAndNeverGrowLouder) {
  Concealer c;
  c.prepare({.sample_rate = kRate}, {.hold_ms = 20.0, .fade_ms = 60.0});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  std::vector<float> x(48000);
  for (auto& v : x) v = u(rng);
  const auto y = conceal(x, 10000, 40000, c);
  float peak = 0.0f;
  for (std::size_t i = 10000; i < 40000; ++i) peak = std::max(peak, std::fabs(y[i]));
  EXPECT_LE(peak, 0.3f);
  for (std::size_t i = 10000 + 4800; i < 40000; ++i)
    ASSERT_EQ(y[i], 0.0f) << "silent after hold + fade, frame " << i;
  // Audio after the gap comes back (crossfaded from silence).
  EXPECT_NEAR(y[41000], x[41000], 1e-7f);
}

TEST(Concealer, UntouchedWhenNothingIsMissingAndNeverAllocates) {
  Concealer c;
  c.prepare({.sample_rate = kRate});
  const auto x = sine(4800, 1000.0);
  const auto before = test::realtime_allocations();
  std::vector<float> y;
  {
    y = x;  // allocate outside the scope
    std::vector<std::uint8_t> none(48, 0), some(48, 0);
    some[10] = some[11] = 1;
    rt::RealtimeScope scope;
    for (std::size_t at = 0; at < y.size(); at += 48) {
      c.process(std::span<float>(y.data() + at, 48), at == 2400 ? some : none);
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  for (std::size_t i = 0; i < 2400; ++i) ASSERT_EQ(y[i], x[i]);
}

}  // namespace
}  // namespace tl::dsp
