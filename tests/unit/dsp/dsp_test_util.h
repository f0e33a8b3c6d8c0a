#pragma once
//! Helpers shared by the DSP unit tests: tone generation and level measurement.

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <vector>

namespace tl::dsp::test {

inline constexpr double kFs = 48000.0;

//! amplitude * sin(2 pi f n / fs + phase) for n in [0, n).
inline std::vector<float> sine(double f, double amplitude, std::size_t n, double fs = kFs,
                               double phase = 0.0) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(amplitude *
                              std::sin(2.0 * std::numbers::pi * f * static_cast<double>(i) / fs + phase));
  return v;
}

inline double rms(std::span<const float> v) {
  double s = 0.0;
  for (const float x : v) s += static_cast<double>(x) * x;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

inline double db(double g) {
  return 20.0 * std::log10(std::max(g, 1e-30));
}

//! Samples covering a whole number of cycles of f (at least min_samples long).
inline std::size_t whole_cycles(double f, std::size_t min_samples, double fs = kFs) {
  const double period = fs / f;
  const double cycles = std::ceil(static_cast<double>(min_samples) / period);
  return static_cast<std::size_t>(std::lround(cycles * period));
}

//! 30 log-spaced frequencies from 20 Hz to 20 kHz.
inline std::vector<double> log_freqs(int n = 30, double lo = 20.0, double hi = 20000.0) {
  std::vector<double> f(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) f[static_cast<std::size_t>(i)] = lo * std::pow(hi / lo, i / double(n - 1));
  return f;
}

//! Runs a sine of frequency f through `process` (in place on a block), skips `settle`
//! samples and returns the output/input RMS ratio over whole cycles.
template <class Process>
double measured_gain(double f, Process&& process, std::size_t settle = 12000) {
  const std::size_t window = whole_cycles(f, 9600);
  std::vector<float> in = sine(f, 0.5, settle + window);
  std::vector<float> out = in;
  process(std::span<float>(out));
  const std::span<const float> wi(in.data() + settle, window);
  const std::span<const float> wo(out.data() + settle, window);
  return rms(wo) / rms(wi);
}

}  // namespace tl::dsp::test
