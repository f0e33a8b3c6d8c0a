#include "tl/dsp/conform.h"

#include "tl/dsp/sinc_kernel.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace tl::dsp {
namespace {

//! Offline quality: 32 samples each side, 1024 phases, a hair below Nyquist to keep aliasing out.
const SincKernel& kernel() {
  static const SincKernel table({.half_taps = 32, .phases = 1024, .beta = 9.0, .cutoff = 0.97});
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

//! The raw sample at index base + frac (0 <= frac < 1), base counted in raw (whose first
//! sample may be any raw index: the caller subtracts it from base, in whole numbers).
float interpolate(std::span<const float> raw, std::int64_t base, double frac) {
  const SincKernel& k = kernel();
  // Between two table phases the kernel is interpolated linearly (in double: offline quality).
  const double where = frac * k.phases();
  const int phase = std::min(static_cast<int>(where), k.phases() - 1);
  const double mix = where - phase;
  const std::span<const float> k0 = k.row(phase);
  const std::span<const float> k1 = k.row(phase + 1);
  const auto first = base - k.half_taps() + 1;
  double acc = 0.0;
  for (int t = 0; t < k.taps(); ++t) {
    const std::int64_t i = first + t;
    if (i < 0 || i >= static_cast<std::int64_t>(raw.size())) continue;
    const auto ti = static_cast<std::size_t>(t);
    acc += (k0[ti] + mix * (k1[ti] - k0[ti])) * raw[static_cast<std::size_t>(i)];
  }
  return static_cast<float>(acc);
}

}  // namespace

ConformResult plan_conform(std::span<const ConformAnchor> anchors, std::int64_t start, std::size_t frames) {
  ConformResult result;
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
    if (a.session_pos > static_cast<double>(start) && a.session_pos < static_cast<double>(start) + frames)
      note(a.session_pos);
  }
  const double centre = std::round((lo + hi) / 2.0);
  result.drift_samples = hi - lo;
  result.shift = (lo + hi) / 2.0;

  if (result.drift_samples < 1.0) {
    result.copied = true;
    result.shift = centre;
  }
  return result;
}

RawRange raw_needed(std::span<const ConformAnchor> anchors, const ConformResult& plan, std::int64_t start,
                    std::size_t frames) {
  const auto end = start + static_cast<std::int64_t>(frames);
  if (anchors.empty() || frames == 0) return {};
  if (plan.copied) {
    const auto offset = static_cast<std::int64_t>(plan.shift);
    return {.first = start - offset, .last = end - offset};
  }
  // The map is monotonic: its ends bound it; the kernel reaches half_taps either side.
  const double lo = node_index_at(anchors, static_cast<double>(start));
  const double hi = node_index_at(anchors, static_cast<double>(end - 1));
  const int reach = kernel().half_taps() + 1;
  return {.first = static_cast<std::int64_t>(std::floor(lo)) - reach,
          .last = static_cast<std::int64_t>(std::floor(hi)) + reach + 1};
}

void conform_into(std::span<const float> raw, std::int64_t raw_first, std::span<const ConformAnchor> anchors,
                  const ConformResult& plan, std::int64_t start, std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  if (anchors.empty()) return;
  if (plan.copied) {
    const auto offset = static_cast<std::int64_t>(plan.shift);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::int64_t src = start + static_cast<std::int64_t>(i) - offset - raw_first;
      if (src >= 0 && src < static_cast<std::int64_t>(raw.size()))
        out[i] = raw[static_cast<std::size_t>(src)];
    }
    return;
  }
  // The whole and the fraction of each index split before raw_first is taken off (in
  // whole numbers): the same kernel phase, bit for bit, as a whole conform.
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double pos = static_cast<double>(start) + static_cast<double>(i);
    const double index = node_index_at(anchors, pos);
    const double base = std::floor(index);
    out[i] = interpolate(raw, static_cast<std::int64_t>(base) - raw_first, index - base);
  }
}

ConformResult conform(std::span<const float> raw, std::span<const ConformAnchor> anchors, std::int64_t start,
                      std::size_t frames) {
  ConformResult result = plan_conform(anchors, start, frames);
  result.samples.assign(frames, 0.0f);
  conform_into(raw, 0, anchors, result, start, result.samples);
  return result;
}

}  // namespace tl::dsp
