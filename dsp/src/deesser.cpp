#include "tl/dsp/deesser.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tl::dsp {
namespace {

//! RBJ cookbook band-pass with 0 dB at its centre f0, octaves wide between its -3 dB
//! points (the cookbook's bandwidth form, which allows for the bilinear transform's warping).
BiquadCoeffs bandpass(double fs, double f0, double octaves) noexcept {
  const double w = 2.0 * std::numbers::pi * f0 / fs;
  const double alpha = std::sin(w) * std::sinh(std::numbers::ln2 / 2.0 * octaves * w / std::sin(w));
  const double a0 = 1.0 + alpha;
  return {.b0 = alpha / a0,
          .b1 = 0.0,
          .b2 = -alpha / a0,
          .a1 = -2.0 * std::cos(w) / a0,
          .a2 = (1.0 - alpha) / a0};
}

double one_pole(double fs, double ms) noexcept {
  return ms <= 0.0 ? 0.0 : std::exp(-1.0 / (fs * ms * 1e-3));
}

}  // namespace

double DeEsser::static_gain_db(const DeEsserParams& p, double level_db) noexcept {
  const double ratio = std::clamp(static_cast<double>(p.ratio), 1.0, 20.0);
  const double range = std::clamp(static_cast<double>(p.range_db), 0.0, 24.0);
  const double over = level_db - p.threshold_db;
  if (over <= 0.0) return 0.0;
  return std::max(-over * (1.0 - 1.0 / ratio), -range);
}

void DeEsser::prepare(const ProcessSpec& spec, const DeEsserParams& p) noexcept {
  fs_ = spec.sample_rate;
  set_params(p);
  reset();
}

void DeEsser::set_params(const DeEsserParams& p) noexcept {
  p_ = p;
  const double top = 0.45 * fs_;
  const double lo = std::clamp(static_cast<double>(p.low_hz), 1000.0, top);
  const double hi = std::clamp(static_cast<double>(p.high_hz), lo, top);
  // A band narrower than a sixth of an octave is held there.
  const double f0 = std::sqrt(lo * hi);
  const double octaves = std::max(std::log2(hi / lo), 1.0 / 6.0);
  for (Biquad& b : band_) b.set(bandpass(fs_, f0, octaves));
  avg_ = one_pole(fs_, kAverageMs);
  att_ = one_pole(fs_, p.attack_ms);
  rel_ = one_pole(fs_, p.release_ms);
  threshold_sq_ = std::pow(10.0, p.threshold_db / 10.0);
}

void DeEsser::reset() noexcept {
  for (Biquad& b : band_) b.reset();
  avg_ms_ = 0.0;
  ms_ = 0.0;
  gr_db_ = 0.0;
  max_gr_db_ = 0.0;
}

template <std::size_t N>
void DeEsser::run(std::array<std::span<float>, N> io) noexcept {
  const std::size_t n = io[0].size();
  // Mean square x 2: a sine's reads as its amplitude squared (20 log10 A, dBFS).
  constexpr double kSineScale = 2.0;
  double avg = avg_ms_, ms = ms_, gr = gr_db_, worst = max_gr_db_;
  for (std::size_t i = 0; i < n; ++i) {
    std::array<double, N> band{};
    double sq = 0.0;
    for (std::size_t c = 0; c < N; ++c) {
      band[c] = band_[c].process(static_cast<double>(io[c][i]));
      sq = std::max(sq, band[c] * band[c]);
    }
    // The square averaged over 2 ms (a 5 kHz tone's ripple is then +-0.4 %), then followed
    // with the attack and release: a steady tone reads its mean square, not its crests.
    avg = sq + avg_ * (avg - sq);
    const double k = avg > ms ? att_ : rel_;
    ms = avg + k * (ms - avg);
    const double level = ms * kSineScale;
    gr = level <= threshold_sq_ ? 0.0 : static_gain_db(p_, 10.0 * std::log10(level));
    worst = std::min(worst, gr);
    if (gr < 0.0) {
      const double cut = 1.0 - std::pow(10.0, gr / 20.0);
      for (std::size_t c = 0; c < N; ++c) io[c][i] = static_cast<float>(io[c][i] - cut * band[c]);
    }
  }
  for (Biquad& b : band_) b.flush();
  avg_ms_ = avg < 1e-30 ? 0.0 : avg;
  ms_ = ms < 1e-30 ? 0.0 : ms;
  gr_db_ = gr;
  max_gr_db_ = worst;
}

void DeEsser::process(std::span<float> mono) noexcept {
  run<1>({mono});
}

void DeEsser::process(std::span<float> left, std::span<float> right) noexcept {
  const std::size_t n = std::min(left.size(), right.size());
  run<2>({left.first(n), right.first(n)});
}

}  // namespace tl::dsp
