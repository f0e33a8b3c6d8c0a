#include "tl/dsp/conform.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace tl::dsp {
namespace {

constexpr int kHalfTaps = 32;        // kernel reaches 32 samples each side
constexpr int kPhases = 1024;        // table resolution between samples
constexpr double kBeta = 9.0;        // Kaiser window shape
constexpr double kCutoff = 0.97;     // of Nyquist, a hair below to keep aliasing out

double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

//! Kernel table: [phase][tap], phase p covers fractional offsets p / kPhases.
const std::vector<float>& kernel() {
  static const std::vector<float> table = [] {
    std::vector<float> t(static_cast<std::size_t>(kPhases + 1) * 2 * kHalfTaps);
    const double norm = bessel_i0(kBeta);
    for (int p = 0; p <= kPhases; ++p) {
      const double frac = static_cast<double>(p) / kPhases;
      double sum = 0.0;
      for (int k = 0; k < 2 * kHalfTaps; ++k) {
        const double x = static_cast<double>(k - kHalfTaps + 1) - frac;  // distance from the point
        const double w_arg = x / kHalfTaps;
        const double window = std::fabs(w_arg) >= 1.0 ? 0.0 : bessel_i0(kBeta * std::sqrt(1.0 - w_arg * w_arg)) / norm;
        const double sinc = x == 0.0 ? kCutoff : std::sin(M_PI * kCutoff * x) / (M_PI * x);
        const double v = sinc * window;
        t[static_cast<std::size_t>(p) * 2 * kHalfTaps + static_cast<std::size_t>(k)] = static_cast<float>(v);
        sum += v;
      }
      // Unity gain at DC for every phase.
      for (int k = 0; k < 2 * kHalfTaps; ++k) {
        t[static_cast<std::size_t>(p) * 2 * kHalfTaps + static_cast<std::size_t>(k)] =
            static_cast<float>(t[static_cast<std::size_t>(p) * 2 * kHalfTaps + static_cast<std::size_t>(k)] / sum);
      }
    }
    return t;
  }();
  return table;
}

//! Node index of a session position, by the piecewise-linear map (extended at the ends).
double node_index_at(std::span<const ConformAnchor> anchors, double session_pos) {
  if (anchors.size() == 1) return anchors[0].node_index + (session_pos - anchors[0].session_pos);
  auto hi = std::lower_bound(anchors.begin(), anchors.end(), session_pos,
                             [](const ConformAnchor& a, double p) { return a.session_pos < p; });
  if (hi == anchors.begin()) hi = anchors.begin() + 1;
  if (hi == anchors.end()) hi = anchors.end() - 1;
  const ConformAnchor& a = *(hi - 1);
  const ConformAnchor& b = *hi;
  const double slope = (b.node_index - a.node_index) / (b.session_pos - a.session_pos);
  return a.node_index + (session_pos - a.session_pos) * slope;
}

float interpolate(std::span<const float> raw, double index) {
  const double base = std::floor(index);
  // Between two table phases the kernel is interpolated linearly.
  const double where = (index - base) * kPhases;
  const int phase = std::min(static_cast<int>(where), kPhases - 1);
  const double mix = where - phase;
  const float* k0 = kernel().data() + static_cast<std::size_t>(phase) * 2 * kHalfTaps;
  const float* k1 = k0 + 2 * kHalfTaps;
  const auto first = static_cast<std::int64_t>(base) - kHalfTaps + 1;
  double acc = 0.0;
  for (int t = 0; t < 2 * kHalfTaps; ++t) {
    const std::int64_t i = first + t;
    if (i < 0 || i >= static_cast<std::int64_t>(raw.size())) continue;
    const double k = k0[t] + mix * (k1[t] - k0[t]);
    acc += k * raw[static_cast<std::size_t>(i)];
  }
  return static_cast<float>(acc);
}

}  // namespace

ConformResult conform(std::span<const float> raw, std::span<const ConformAnchor> anchors, std::int64_t start,
                      std::size_t frames) {
  ConformResult result;
  result.samples.assign(frames, 0.0f);
  if (anchors.empty() || frames == 0) return result;

  // The best whole-sample shift, and how far the map strays from it over the take.
  const double first_shift = static_cast<double>(start) - node_index_at(anchors, static_cast<double>(start));
  double lo = first_shift, hi = first_shift;
  auto note = [&](double pos) {
    const double s = pos - node_index_at(anchors, pos);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  };
  note(static_cast<double>(start) + static_cast<double>(frames));
  for (const auto& a : anchors) {
    if (a.session_pos > static_cast<double>(start) && a.session_pos < static_cast<double>(start) + frames) note(a.session_pos);
  }
  const double centre = std::round((lo + hi) / 2.0);
  result.drift_samples = hi - lo;

  if (result.drift_samples < 1.0) {
    result.copied = true;
    const auto offset = static_cast<std::int64_t>(centre);
    for (std::size_t i = 0; i < frames; ++i) {
      const std::int64_t src = start + static_cast<std::int64_t>(i) - offset;
      if (src >= 0 && src < static_cast<std::int64_t>(raw.size())) result.samples[i] = raw[static_cast<std::size_t>(src)];
    }
    return result;
  }
  for (std::size_t i = 0; i < frames; ++i) {
    const double pos = static_cast<double>(start) + static_cast<double>(i);
    result.samples[i] = interpolate(raw, node_index_at(anchors, pos));
  }
  return result;
}

}  // namespace tl::dsp
