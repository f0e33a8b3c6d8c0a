#include "tl/mastering/true_peak.h"

#include <algorithm>
#include <numbers>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tl::mastering {
namespace {

struct Kernel {
  // by_tap[k][p]: tap k (oldest sample first) of phase p (p/kFactor of a sample from the
  // centre), so one pass over the history computes all phases at once (8 lanes).
  std::array<std::array<float, PreciseTruePeak::kFactor>, PreciseTruePeak::kTaps> by_tap{};
  float bound = 1.0f;

  Kernel() {
    constexpr int L = PreciseTruePeak::kFactor * PreciseTruePeak::kTaps;
    constexpr double beta = 9.0;
    const auto bessel_i0 = [](double x) {
      double sum = 1.0, term = 1.0;
      for (int k = 1; k < 40; ++k) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
      }
      return sum;
    };
    for (int p = 0; p < PreciseTruePeak::kFactor; ++p) {
      double sum = 0.0, abs_sum = 0.0;
      std::array<double, PreciseTruePeak::kTaps> h{};
      for (int k = 0; k < PreciseTruePeak::kTaps; ++k) {
        // Sample k of the history sits kTaps/2 - 1 - k samples before the centre; the
        // output is p/kFactor after it.
        const double t = static_cast<double>(k - (PreciseTruePeak::kTaps / 2 - 1)) -
                         static_cast<double>(p) / PreciseTruePeak::kFactor;
        const double n = (t * PreciseTruePeak::kFactor + L / 2.0) / L;  // 0..1 across the window
        const double w =
            n <= 0.0 || n >= 1.0
                ? 0.0
                : bessel_i0(beta * std::sqrt(1.0 - (2.0 * n - 1.0) * (2.0 * n - 1.0))) / bessel_i0(beta);
        const double s = t == 0.0 ? 1.0 : std::sin(std::numbers::pi * t) / (std::numbers::pi * t);
        h[static_cast<std::size_t>(k)] = s * w;
        sum += h[static_cast<std::size_t>(k)];
      }
      for (int k = 0; k < PreciseTruePeak::kTaps; ++k) {
        const double v = h[static_cast<std::size_t>(k)] / sum;  // unity gain at DC for every phase
        by_tap[static_cast<std::size_t>(PreciseTruePeak::kTaps - 1 - k)][static_cast<std::size_t>(p)] =
            static_cast<float>(v);
        abs_sum += std::fabs(v);
      }
      bound = std::max(bound, static_cast<float>(abs_sum));
    }
  }
};

const Kernel& kernel() {
  static const Kernel k;
  return k;
}

}  // namespace

PreciseTruePeak::PreciseTruePeak() noexcept : bound_(kernel().bound) {}

void PreciseTruePeak::remember(float x) noexcept {
  hist_[pos_] = x;
  hist_[pos_ + kTaps] = x;
  pos_ = (pos_ + 1) % kTaps;
}

void PreciseTruePeak::push(float x) noexcept {
  remember(x);
  const float* h = &hist_[pos_];  // oldest .. newest, contiguous
  const Kernel& kn = kernel();
  static_assert(kFactor == 8);
#if defined(__SSE2__)
  // The 8 phases in two 4-lane sums.
  __m128 lo = _mm_setzero_ps(), hi = _mm_setzero_ps();
  for (int k = 0; k < kTaps; ++k) {
    const __m128 v = _mm_set1_ps(h[k]);
    const float* t = kn.by_tap[static_cast<std::size_t>(k)].data();
    lo = _mm_add_ps(lo, _mm_mul_ps(_mm_loadu_ps(t), v));
    hi = _mm_add_ps(hi, _mm_mul_ps(_mm_loadu_ps(t + 4), v));
  }
  const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  const __m128 m = _mm_max_ps(_mm_and_ps(lo, abs_mask), _mm_and_ps(hi, abs_mask));
  alignas(16) std::array<float, 4> out{};
  _mm_store_ps(out.data(), m);
  peak_ = std::max({peak_, out[0], out[1], out[2], out[3]});
#else
  std::array<float, kFactor> acc{};
  for (int k = 0; k < kTaps; ++k) {
    const float v = h[k];
    const auto& t = kn.by_tap[static_cast<std::size_t>(k)];
    for (std::size_t p = 0; p < kFactor; ++p) acc[p] += t[p] * v;
  }
  for (const float a : acc) peak_ = std::max(peak_, std::fabs(a));
#endif
}

void PreciseTruePeak::process(std::span<const float> x) noexcept {
  // In runs of 64: most runs of a master sit well under its peak, and no interpolated
  // value exceeds bound_ times the largest |sample| in its reach, so such a run is only
  // remembered.
  constexpr std::size_t kRun = 64;
  for (std::size_t i = 0; i < x.size(); i += kRun) {
    const std::size_t n = std::min(kRun, x.size() - i);
    float most = 0.0f;
    for (const float v : hist_) most = std::max(most, std::fabs(v));
    for (std::size_t j = 0; j < n; ++j) most = std::max(most, std::fabs(x[i + j]));
    if (most * bound_ <= peak_) {
      for (std::size_t j = 0; j < n; ++j) remember(x[i + j]);
    } else {
      for (std::size_t j = 0; j < n; ++j) push(x[i + j]);
    }
  }
}

void PreciseTruePeak::flush() noexcept {
  for (int i = 0; i < kTaps; ++i) push(0.0f);
}

}  // namespace tl::mastering
