#include "tl/dsp/eq.h"

#include <algorithm>
#include <cmath>

namespace tl::dsp {

void EqBand::prepare(double fs, double smooth_ms) noexcept {
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

//! Runs k sections sample-major: independent sections overlap in the pipeline.
template <std::size_t K>
inline __attribute__((always_inline)) void cascade(std::span<float> block, Biquad* const* sec) noexcept {
  std::array<BiquadCoeffs, K> c{};
  std::array<double, K> s1{}, s2{};
  for (std::size_t j = 0; j < K; ++j) {
    c[j] = sec[j]->coeffs();
    sec[j]->get_state(s1[j], s2[j]);
  }
  for (float& v : block) {
    double x = v;
#pragma GCC unroll 8
    for (std::size_t j = 0; j < K; ++j) {
      const double y = c[j].b0 * x + s1[j];
      s1[j] = (c[j].b1 * x + s2[j]) - c[j].a1 * y;  // y enters last: short recurrence
      s2[j] = c[j].b2 * x - c[j].a2 * y;
      x = y;
    }
    v = static_cast<float>(x);
  }
  for (std::size_t j = 0; j < K; ++j) {
    sec[j]->set_state(s1[j], s2[j]);
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
TL_FMA_CLONES void run_sections(std::span<float> block,
                                                                   Biquad* const* fused,
                                                                   std::size_t k) noexcept {
  for (std::size_t j = 0; j < k;) {
    const std::size_t left = k - j;
    if (left >= 4) {
      cascade<4>(block, &fused[j]);
      j += 4;
    } else if (left == 3) {
      cascade<3>(block, &fused[j]);
      j += 3;
    } else if (left == 2) {
      cascade<2>(block, &fused[j]);
      j += 2;
    } else {
      cascade<1>(block, &fused[j]);
      j += 1;
    }
  }
}

}  // namespace

void Equalizer::process(std::span<float> block, std::span<Biquad* const> pre) noexcept {
  std::array<Biquad*, 8> fused{};
  std::size_t k = 0;
  for (Biquad* b : pre)
    if (k < 4) fused[k++] = b;
  for (auto& b : bands_) {
    if (b.steady())
      fused[k++] = &b.section();
    else
      b.process(block);  // bypassed (no-op) or gliding
  }
  // Fixed-size kernels keep the section state in registers.
  if (k > 0) run_sections(block, fused.data(), k);
}

}  // namespace tl::dsp
