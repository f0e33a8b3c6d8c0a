// The FFT against a direct DFT, and the linear-phase FIR: its magnitude follows the
// response it was designed from, its taps are symmetric (a pure delay), and the FFT
// convolution streams it sample-exact whatever the block sizes, without allocating.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "alloc_counter.h"
#include "tl/common/realtime.h"
#include "tl/dsp/biquad.h"
#include "tl/dsp/linear_phase.h"

namespace tl::dsp {
namespace {

TEST(Fft, MatchesADirectTransformAndComesBack) {
  Fft fft;
  fft.prepare(64);
  std::mt19937 rng(1);
  std::normal_distribution<double> g;
  std::vector<std::complex<double>> x(64), y(64);
  for (auto& v : x) v = {g(rng), g(rng)};
  y = x;
  fft.forward(y);
  for (std::size_t k = 0; k < 64; ++k) {
    std::complex<double> direct = 0.0;
    for (std::size_t n = 0; n < 64; ++n) {
      direct += x[n] * std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(k * n) / 64.0);
    }
    EXPECT_NEAR(std::abs(y[k] - direct), 0.0, 1e-12) << k;
  }
  fft.inverse(y);
  for (std::size_t n = 0; n < 64; ++n) EXPECT_NEAR(std::abs(y[n] - x[n]), 0.0, 1e-14);
}

// A mastering EQ: a low shelf, a narrow cut and a high shelf.
double eq_magnitude(double rate, double hz) {
  return magnitude(BiquadCoeffs::low_shelf(rate, 80.0, 4.0), rate, hz) *
         magnitude(BiquadCoeffs::peaking(rate, 2500.0, 3.0, -6.0), rate, hz) *
         magnitude(BiquadCoeffs::high_shelf(rate, 10000.0, 3.0), rate, hz);
}

TEST(LinearPhase, TheFirFollowsTheResponseItWasDesignedFromWithAPureDelay) {
  for (const double rate : {44100.0, 48000.0, 96000.0}) {
    const auto taps =
        design_linear_phase([&](double hz) { return eq_magnitude(rate, hz); }, rate, linear_phase_taps(rate));
    ASSERT_EQ(taps.size() % 2, 1u);
    for (std::size_t i = 0; i < taps.size() / 2; ++i) ASSERT_EQ(taps[i], taps[taps.size() - 1 - i]);
    // Its magnitude on a fine grid (the taps' own DFT): within 0.1 dB of the target from
    // 30 Hz to 20 kHz.
    Fft fft;
    fft.prepare(8 * taps.size());
    std::vector<std::complex<double>> h(fft.size());
    for (std::size_t i = 0; i < taps.size(); ++i) h[i] = taps[i];
    fft.forward(h);
    double worst = 0.0;
    for (std::size_t k = 1; k < fft.size() / 2; ++k) {
      const double hz = static_cast<double>(k) * rate / static_cast<double>(fft.size());
      if (hz < 30.0 || hz > 20000.0) continue;
      worst = std::max(worst, std::fabs(20.0 * std::log10(std::abs(h[k]) / eq_magnitude(rate, hz))));
    }
    std::printf("[ figure ] %.0f Hz, %zu taps: magnitude within %.4f dB of the EQ's from 30 Hz to 20 kHz\n",
                rate, taps.size(), worst);
    EXPECT_LT(worst, 0.1);
  }
}

TEST(LinearPhase, TheConvolutionStreamsTheFirExactlyAtItsLatency) {
  // A short FIR against the direct sum, fed in blocks of awkward sizes, two channels apart.
  std::vector<double> taps(31);
  for (std::size_t i = 0; i < taps.size(); ++i)
    taps[i] = 1.0 / (1.0 + std::fabs(static_cast<double>(i) - 15.0));
  LinearPhaseFir fir;
  fir.prepare(taps);
  const std::size_t latency = fir.latency();
  std::mt19937 rng(2);
  std::normal_distribution<float> g(0.0f, 0.3f);
  const std::size_t n = 5000;
  std::vector<float> in[2], out[2];
  for (int c = 0; c < 2; ++c) {
    in[c].resize(n);
    for (float& v : in[c]) v = g(rng);
    out[c] = in[c];
  }
  const auto rt_before = tl::test::realtime_allocations();
  for (std::size_t at = 0, size = 1; at < n; at += size, size = size % 97 + 13) {
    const std::size_t k = std::min(size, n - at);
    rt::RealtimeScope scope;
    fir.process(std::span(out[0]).subspan(at, k), std::span(out[1]).subspan(at, k));
  }
  EXPECT_EQ(tl::test::realtime_allocations(), rt_before);
  // out[i] is the filter's output for input frame i - latency + 15 (its centre tap).
  double worst = 0.0;
  for (int c = 0; c < 2; ++c) {
    for (std::size_t i = latency; i < n; ++i) {
      double direct = 0.0;
      const auto centre = static_cast<std::ptrdiff_t>(i - latency);
      for (std::size_t t = 0; t < taps.size(); ++t) {
        const std::ptrdiff_t j = centre + 15 - static_cast<std::ptrdiff_t>(t);
        if (j >= 0 && j < static_cast<std::ptrdiff_t>(n))
          direct += taps[t] * in[c][static_cast<std::size_t>(j)];
      }
      worst = std::max(worst, std::fabs(direct - out[c][i]));
    }
    for (std::size_t i = 0; i < latency - 15; ++i) EXPECT_EQ(out[c][i], 0.0f) << "nothing before the delay";
  }
  EXPECT_LT(worst, 1e-5);
}

}  // namespace
}  // namespace tl::dsp
