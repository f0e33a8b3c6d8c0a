#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "tl/mastering/true_peak.h"

namespace tl::mastering {
namespace {

double read_dbtp(double freq, double rate, double phase, double amplitude = 0.5) {
  // 100 ms, faded in and out over 20 ms (an abrupt start would ring: a real overshoot).
  std::vector<float> x(static_cast<std::size_t>(rate / 10));
  const double fade = 0.02 * rate;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i);
    const double edge = std::min({1.0, t / fade, (static_cast<double>(x.size()) - 1 - t) / fade});
    const double g = 0.5 - 0.5 * std::cos(std::numbers::pi * edge);
    x[i] = static_cast<float>(g * amplitude * std::sin(2 * std::numbers::pi * freq * t / rate + phase));
  }
  PreciseTruePeak m;
  m.process(x);
  m.flush();
  return 20.0 * std::log10(m.peak());
}

TEST(PreciseTruePeak, ReadsASinesPeakBetweenItsSamplesUpTo85PercentOfNyquist) {
  const double want = 20.0 * std::log10(0.5);
  // A quarter of the rate, samples at 45 degrees: every sample is 3 dB under the peak.
  EXPECT_NEAR(read_dbtp(12000.0, 48000.0, std::numbers::pi / 4), want, 0.02);
  for (const double rate : {44100.0, 48000.0}) {
    for (const double f : {997.0, 5000.0, 11025.0, 15000.0, 0.85 * rate / 2}) {
      for (const double phase : {0.0, 0.3, 1.1}) {
        EXPECT_NEAR(read_dbtp(f, rate, phase), want, 0.05) << f << " Hz at " << rate << ", phase " << phase;
      }
    }
    // At 0.9 of Nyquist the kernel's transition band begins: a tenth of a dB low at most.
    EXPECT_NEAR(read_dbtp(0.9 * rate / 2, rate, 1.1), want, 0.12);
  }
}

TEST(PreciseTruePeak, SilenceAndASingleSample) {
  PreciseTruePeak m;
  std::vector<float> zeros(1000, 0.0f);
  m.process(zeros);
  m.flush();
  EXPECT_EQ(m.peak(), 0.0f);
  // One full-scale sample alone: its own value is the peak (a sinc's largest point).
  zeros[500] = 0.8f;
  PreciseTruePeak one;
  one.process(zeros);
  one.flush();
  EXPECT_NEAR(one.peak(), 0.8f, 1e-6);
}

}  // namespace
}  // namespace tl::mastering
