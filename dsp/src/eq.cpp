#include "tl/dsp/eq.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tl::dsp {

std::string_view name_of(BandType t) noexcept {
  switch (t) {
    case BandType::low_shelf:
      return "low-shelf";
    case BandType::high_shelf:
      return "high-shelf";
    default:
      return "peak";
  }
}

std::optional<BandType> band_type_named(std::string_view name) noexcept {
  if (name == "low-shelf") return BandType::low_shelf;
  if (name == "peak") return BandType::peaking;
  if (name == "high-shelf") return BandType::high_shelf;
  return std::nullopt;
}

void EqBand::prepare(const ProcessSpec& spec, double smooth_ms) noexcept {
  const double fs = spec.sample_rate;
  fs_ = fs;
  log_f_.prepare(fs, smooth_ms);
  gain_.prepare(fs, smooth_ms);
  q_.prepare(fs, smooth_ms);
  reset(p_);
}

void EqBand::reset(const EqBandParams& p) noexcept {
  p_ = p;
  log_f_.reset(std::log2(std::clamp<double>(p.freq_hz, 10.0, 0.49 * fs_)));
  gain_.reset(p.on ? p.gain_db : 0.0);
  q_.reset(std::max(p.q, 0.05f));
  update_coeffs();
  bq_.reset();
}

void EqBand::set(const EqBandParams& p) noexcept {
  p_ = p;
  log_f_.set_target(std::log2(std::clamp<double>(p.freq_hz, 10.0, 0.49 * fs_)));
  gain_.set_target(p.on ? p.gain_db : 0.0);
  q_.set_target(std::max(p.q, 0.05f));
  if (!(log_f_.settled() && gain_.settled() && q_.settled())) bypassed_ = false;
}

void EqBand::update_coeffs() noexcept {
  const double f = std::exp2(log_f_.current());
  const double g = gain_.current();
  const double q = q_.current();
  switch (p_.type) {
    case BandType::low_shelf:
      bq_.set(BiquadCoeffs::low_shelf(fs_, f, g, std::min(q, 1.0)));
      break;
    case BandType::high_shelf:
      bq_.set(BiquadCoeffs::high_shelf(fs_, f, g, std::min(q, 1.0)));
      break;
    case BandType::peaking:
      bq_.set(BiquadCoeffs::peaking(fs_, f, q, g));
      break;
  }
  const bool was = bypassed_;
  bypassed_ = g == 0.0 && log_f_.settled() && gain_.settled() && q_.settled();
  if (bypassed_ && !was) bq_.reset();
}

void EqBand::process(std::span<float> block) noexcept {
  if (bypassed_) return;
  const bool moving = !(log_f_.settled() && gain_.settled() && q_.settled());
  if (!moving) {
    bq_.process(block);
    return;
  }
  std::size_t i = 0;
  while (i < block.size()) {
    if (phase_ == 0) {
      log_f_.advance(static_cast<int>(kControlInterval));
      gain_.advance(static_cast<int>(kControlInterval));
      q_.advance(static_cast<int>(kControlInterval));
      update_coeffs();
      if (bypassed_) return;
    }
    const std::size_t run = std::min(block.size() - i, kControlInterval - phase_);
    bq_.process(block.subspan(i, run));
    i += run;
    phase_ = (phase_ + run) % kControlInterval;
  }
}

namespace {

//! Two doubles (one SSE2 register) and the matching lane mask.
typedef double V2 __attribute__((vector_size(16)));
typedef std::int64_t M2 __attribute__((vector_size(16)));

//! Runs K fixed sections as a wavefront across SIMD lanes: at step t section j works on sample
//! t - j, so all K recurrences advance together. Section j sits in lane j / P of vector j % P
//! (P = ceil(K / 2)): each vector takes the previous one's output of the step before, lane for
//! lane, and vector 0 takes the last one's moved up a lane, with the new sample in lane 0.
//! Two-lane vectors keep that move inside one SSE2 register (one unpack).
//!
//! Each section computes Biquad's transposed direct form II with s2 folded into s1:
//!   y = b0 x + s1,   s1' = (c1 x + c2 x_prev) - a2 s1_prev - a1 s1,
//! where c1 = b1 - a1 b0 and c2 = b2 - a2 b0 (so s2 = c2 x_prev - a2 s1_prev). The loop-carried
//! path is then one multiply-add per sample instead of two (through y). The first and last
//! K-1 steps mask the sections that have no sample yet or any more.
template <std::size_t K>
inline __attribute__((always_inline)) void wavefront(std::span<float> block, Biquad* const* sec) noexcept {
  constexpr std::size_t P = (K + 1) / 2;
  static_assert(K >= 1 && K <= 8);
  const std::size_t n = block.size();
  if (n == 0) return;
  // Lanes past K are identity sections. State: s1, s1p (s1 a sample earlier) and px (c2 times
  // the previous input), with s2 == px - a2 s1p; on entry s1p = 0 and px = s2.
  // Vectors are built whole from scalars (writing single lanes through memory would stall the
  // first full-vector read of them).
  V2 b0[P], c1[P], c2[P], a1[P], a2[P], s1[P], s1p[P], px[P];
  V2 first[P];  // each lane's section index: the step its first sample arrives
  for (std::size_t p = 0; p < P; ++p) {
    static constexpr BiquadCoeffs kIdentity{};
    const BiquadCoeffs* c[2] = {&kIdentity, &kIdentity};
    double v1[2] = {0.0, 0.0}, v2[2] = {0.0, 0.0};
    for (std::size_t l = 0; l < 2; ++l) {
      const std::size_t j = p + l * P;
      if (j < K) {
        c[l] = &sec[j]->coeffs();
        sec[j]->get_state(v1[l], v2[l]);
      }
    }
    b0[p] = V2{c[0]->b0, c[1]->b0};
    c1[p] = V2{c[0]->b1 - c[0]->a1 * c[0]->b0, c[1]->b1 - c[1]->a1 * c[1]->b0};
    c2[p] = V2{c[0]->b2 - c[0]->a2 * c[0]->b0, c[1]->b2 - c[1]->a2 * c[1]->b0};
    a1[p] = V2{c[0]->a1, c[1]->a1};
    a2[p] = V2{c[0]->a2, c[1]->a2};
    s1[p] = V2{v1[0], v1[1]};
    s1p[p] = V2{0.0, 0.0};
    px[p] = V2{v2[0], v2[1]};
    first[p] = V2{static_cast<double>(p), static_cast<double>(p + P)};
  }

  float* d = block.data();
  V2 x[P];  // each section's input for the next step
  for (std::size_t p = 1; p < P; ++p) x[p] = V2{0.0, 0.0};
  x[0] = V2{static_cast<double>(d[0]), 0.0};
  constexpr std::size_t kOutVec = (K - 1) % P, kOutLane = (K - 1) / P;
  const double count = static_cast<double>(n);
  // One step; `masked` keeps the state of lanes outside [first, first + n).
  const auto step = [&](std::size_t t, bool masked) __attribute__((always_inline)) {
    V2 y[P];
    for (std::size_t p = 0; p < P; ++p) {
      y[p] = b0[p] * x[p] + s1[p];
      // The input arrives last along the wavefront: it is two multiply-adds from the new s1.
      const V2 next = (c1[p] * x[p] + (px[p] - a2[p] * s1p[p])) - a1[p] * s1[p];
      if (masked) {
        const V2 since = static_cast<double>(t) - first[p];
        const M2 active = (since >= 0.0) & (since < count);
        s1p[p] = active ? s1[p] : s1p[p];
        s1[p] = active ? next : s1[p];
        px[p] = active ? c2[p] * x[p] : px[p];
      } else {
        s1p[p] = s1[p];
        s1[p] = next;
        px[p] = c2[p] * x[p];
      }
    }
    if (t >= K - 1) d[t - (K - 1)] = static_cast<float>(y[kOutVec][kOutLane]);
    const V2 in{t + 1 < n ? static_cast<double>(d[t + 1]) : 0.0, 0.0};
    for (std::size_t p = P - 1; p > 0; --p) x[p] = y[p - 1];
    x[0] = __builtin_shuffle(in, y[P - 1], M2{0, 2});
  };
  const std::size_t steps = n + K - 1;
  std::size_t t = 0;
  for (; t < K - 1; ++t) step(t, true);
  for (; t < n; ++t) step(t, false);
  for (; t < steps; ++t) step(t, true);

  for (std::size_t j = 0; j < K; ++j) {
    const std::size_t p = j % P, l = j / P;
    sec[j]->set_state(s1[p][l], px[p][l] - a2[p][l] * s1p[p][l]);
    sec[j]->flush();
  }
}

//! Runs k (1..8) sections; built for baseline x86-64 and for FMA-capable CPUs, picked at load time.
// The FMA clone is picked by an ifunc resolver that runs while the program is being
// loaded; ThreadSanitizer's instrumentation of it crashes before TSan starts, so a
// TSan build runs the default version only.
#if defined(__SANITIZE_THREAD__)
#define TL_FMA_CLONES
#else
#define TL_FMA_CLONES __attribute__((target_clones("fma", "default")))
#endif
TL_FMA_CLONES void run_sections(std::span<float> block, Biquad* const* fused, std::size_t k) noexcept {
  // All sections in one pass: run one after the other, each section's recurrence stalls the
  // pipeline on every sample (a 5-section strip run as 4 + 1 spent ~40 % of its cascade time
  // in the lone fifth); in one wavefront they advance side by side in vector lanes.
  switch (k) {
    case 1:
      return wavefront<1>(block, fused);
    case 2:
      return wavefront<2>(block, fused);
    case 3:
      return wavefront<3>(block, fused);
    case 4:
      return wavefront<4>(block, fused);
    case 5:
      return wavefront<5>(block, fused);
    case 6:
      return wavefront<6>(block, fused);
    case 7:
      return wavefront<7>(block, fused);
    default:
      return wavefront<8>(block, fused);
  }
}

}  // namespace

void run_cascade(std::span<float> block, Biquad* const* sections, std::size_t k) noexcept {
  // Fixed-size kernels keep the section state in registers.
  if (k > 0) run_sections(block, sections, std::min<std::size_t>(k, 8));
}

std::size_t Equalizer::process_front(std::span<float> block, std::span<Biquad* const> pre,
                                     Biquad** fused) noexcept {
  std::size_t k = 0;
  for (Biquad* b : pre)
    if (k < 4) fused[k++] = b;
  for (auto& b : bands_) {
    if (b.steady())
      fused[k++] = &b.section();
    else
      b.process(block);  // bypassed (no-op) or gliding
  }
  return k;
}

void Equalizer::process(std::span<float> block, std::span<Biquad* const> pre) noexcept {
  std::array<Biquad*, 8> fused{};
  run_cascade(block, fused.data(), process_front(block, pre, fused.data()));
}

}  // namespace tl::dsp
