#include "tl/dsp/dynamics.h"

#include <algorithm>
#include <cmath>

#include "tl/common/units.h"
#include "tl/dsp/fast_math.h"

namespace tl::dsp {
namespace {

//! One-pole coefficient reaching 63 % of a step after `ms`.
double tc_coef(double fs, double ms) noexcept {
  const double n = ms_to_frames(ms, fs);
  return n <= 1.0 ? 1.0 : 1.0 - std::exp(-1.0 / n);
}

//! Per-sample multiplier giving exp decay with time constant `ms`.
double decay_coef(double fs, double ms) noexcept {
  const double n = ms_to_frames(ms, fs);
  return n <= 0.0 ? 0.0 : std::exp(-1.0 / n);
}

}  // namespace

// ---------------------------------------------------------------- Compressor

void Compressor::prepare(const ProcessSpec& spec) noexcept {
  fs_ = spec.sample_rate;
  set_params(p_);
  reset();
}

void Compressor::set_params(const CompressorParams& p) noexcept {
  p_ = p;
  p_.ratio = std::clamp(p_.ratio, 1.0f, 20.0f);
  p_.knee_db = std::max(p_.knee_db, 0.0f);
  att_ = tc_coef(fs_, p_.attack_ms);
  rel_ = tc_coef(fs_, p_.release_ms);
  const double mk = 1.0 - std::exp(std::log(1e-3) / (fs_ * 0.020));
  for (std::size_t len = 0; len <= kControl; ++len) {
    // Coefficients for a chunk of len samples: the same time constants whatever the block size.
    att_k_[len] = 1.0 - std::pow(1.0 - att_, static_cast<double>(len));
    rel_k_[len] = 1.0 - std::pow(1.0 - rel_, static_cast<double>(len));
    makeup_k_[len] = 1.0 - std::pow(1.0 - mk, static_cast<double>(len));
  }
  peak_decay_ = decay_coef(fs_, p_.release_ms);
  for (std::size_t j = 0; j <= kControl; ++j)
    decay_pow_[j] = std::pow(peak_decay_ * peak_decay_, static_cast<double>(j));
  rms_a_ = tc_coef(fs_, p_.rms_window_ms);
  makeup_target_ = db_to_gain(static_cast<double>(p_.makeup_db));
  knee_lo_sq_ = std::pow(10.0, (p_.threshold_db - 0.5 * p_.knee_db) / 10.0);
  gc_threshold_db_ = p_.threshold_db;
  gc_half_knee_db_ = 0.5 * p_.knee_db;
  gc_inv_2knee_ = p_.knee_db > 0.0f ? 1.0 / (2.0 * p_.knee_db) : 0.0;
  gc_slope_ = 1.0 / p_.ratio - 1.0;
  const bool sc = p_.sidechain_hpf_hz > 0.0f;
  if (sc && !sc_on_) {
    sc_hpf_.reset();
    sc_hpf_r_.reset();
  }
  sc_on_ = sc;
  if (sc) {
    sc_hpf_.set(BiquadCoeffs::highpass(fs_, p_.sidechain_hpf_hz, 0.7071067811865476));
    sc_hpf_r_.set(sc_hpf_.coeffs());
  }
}

void Compressor::reset() noexcept {
  sc_hpf_.reset();
  sc_hpf_r_.reset();
  peak_ = ms_ = 0.0;
  level_db_ = -200.0;
  gr_db_ = 0.0;
  makeup_ = makeup_target_;
  gain_ = makeup_;
}

template <class Key, class Apply>
void Compressor::run(std::size_t n, Key&& key_sq, Apply&& apply) noexcept {
  // The detector runs every sample; the gain computer (log, curve, exp) runs once per
  // kControl samples on the chunk's detector level, and the linear gain is interpolated
  // across the chunk, so the gain is smooth and the cost of the logs is divided by kControl.
  // A batch of chunks goes through each stage in turn (detector, logs, attack/release
  // recurrence, exps, gain ramps): the long log and exp chains of successive chunks are
  // independent and overlap, where chunk by chunk each waited on the one before.
  constexpr std::size_t kBatch = 16;
  const bool rms = p_.detection == Detection::rms;
  const double decay_sq = peak_decay_ * peak_decay_;
  double peak_sq = peak_ * peak_, ms = ms_, level_db = level_db_, gr = gr_db_, makeup = makeup_;
  double gain = gain_;
  for (std::size_t b0 = 0; b0 < n; b0 += kBatch * kControl) {
    const std::size_t chunks = (std::min(kBatch * kControl, n - b0) + kControl - 1) / kControl;
    const auto chunk_len = [&](std::size_t k) { return std::min(kControl, n - b0 - k * kControl); };
    // Detector: per chunk, the peak's highest power in it, or the mean square at its end.
    std::array<double, kBatch> level{};
    double highest = 0.0;
    for (std::size_t k = 0; k < chunks; ++k) {
      const std::size_t i0 = b0 + k * kControl, len = chunk_len(k);
      if (rms) {
        for (std::size_t i = i0; i < i0 + len; ++i) ms += rms_a_ * (key_sq(i) - ms);
        level[k] = ms;
      } else {
        // peak(n) = max(key(n), peak(n-1) * d), evaluated in closed form over the chunk:
        // the chunk's highest level is max(peak * d, max key); its end state weighs each key
        // by d^(samples to the end). Both loops are free of loop-carried dependencies.
        std::array<double, kControl> k2{};
        for (std::size_t j = 0; j < len; ++j) k2[j] = key_sq(i0 + j);
        double kmax = 0.0, end = peak_sq * decay_pow_[len];
        for (std::size_t j = 0; j < len; ++j) {
          kmax = std::max(kmax, k2[j]);
          end = std::max(end, k2[j] * decay_pow_[len - 1 - j]);
        }
        level[k] = std::max(peak_sq * decay_sq, kmax);
        highest = std::max(highest, level[k]);
        peak_sq = end;
      }
    }
    if (!rms && highest <= knee_lo_sq_ && gr == 0.0 && gain == makeup && makeup == makeup_target_) {
      // Below the knee with no reduction left and the make-up settled: the gain computer
      // would give 0 dB and zero steps (stretches of this are long, so this branch predicts).
      if (gain != 1.0)
        for (std::size_t i = b0; i < b0 + chunks * kControl && i < n; ++i) apply(i, gain);
      continue;
    }
    std::array<double, kBatch> in_db{}, chunk_gr{}, chunk_makeup{}, next{};
    for (std::size_t k = 0; k < chunks; ++k) in_db[k] = fast::pow_to_db(level[k]);
    // Gain computer, without data-dependent branches (levels around the knee would
    // mispredict them chunk after chunk): below the knee the curve gives exactly 0 dB.
    for (std::size_t k = 0; k < chunks; ++k) {
      const std::size_t len = chunk_len(k);
      if (rms) {
        const double a = in_db[k] > level_db ? att_k_[len] : rel_k_[len];
        level_db += a * (in_db[k] - level_db);
        gr = gain_computer_db(level_db);
      } else {
        const double target_db = gain_computer_db(in_db[k]);
        // Attack smooths the gain reduction; release is carried by the detector decay.
        const double attacked = gr + att_k_[len] * (target_db - gr);
        gr = target_db < gr ? attacked : target_db;
      }
      if (makeup != makeup_target_) {
        makeup += makeup_k_[len] * (makeup_target_ - makeup);
        if (std::abs(makeup - makeup_target_) < 1e-7) makeup = makeup_target_;
      }
      chunk_gr[k] = gr;
      chunk_makeup[k] = makeup;
    }
    for (std::size_t k = 0; k < chunks; ++k) {
      const double g = fast::db_to_amp(chunk_gr[k]);
      next[k] = chunk_makeup[k] * (chunk_gr[k] < -1e-9 ? g : 1.0);
    }
    // Gain ramps; a steady gain is a zero step, and x * 1.0 is exact.
    for (std::size_t k = 0; k < chunks; ++k) {
      const std::size_t i0 = b0 + k * kControl, len = chunk_len(k);
      const double step =
          len == kControl ? (next[k] - gain) * (1.0 / kControl) : (next[k] - gain) / static_cast<double>(len);
      for (std::size_t j = 0; j < len; ++j) apply(i0 + j, gain + step * static_cast<double>(j + 1));
      gain = next[k];
    }
  }
  peak_ = peak_sq < 1e-60 ? 0.0 : std::sqrt(peak_sq);
  ms_ = ms < 1e-30 ? 0.0 : ms;
  level_db_ = std::max(level_db, -200.0);
  gr_db_ = gr;
  makeup_ = makeup;
  gain_ = gain;
  sc_hpf_.flush();
  sc_hpf_r_.flush();
}

void Compressor::process(std::span<float> block) noexcept {
  float* x = block.data();
  if (sc_on_) {
    run(
        block.size(),
        [&](std::size_t i) {
          const double k = sc_hpf_.process(static_cast<double>(x[i]));
          return k * k;
        },
        [&](std::size_t i, double g) { x[i] = static_cast<float>(x[i] * g); });
  } else {
    run(
        block.size(), [&](std::size_t i) { return static_cast<double>(x[i]) * x[i]; },
        [&](std::size_t i, double g) { x[i] = static_cast<float>(x[i] * g); });
  }
}

void Compressor::process(std::span<float> left, std::span<float> right) noexcept {
  const std::size_t n = std::min(left.size(), right.size());
  float* l = left.data();
  float* r = right.data();
  const bool rms = p_.detection == Detection::rms;
  auto key = [&](double a, double b) { return rms ? 0.5 * (a * a + b * b) : std::max(a * a, b * b); };
  auto apply = [&](std::size_t i, double g) {
    l[i] = static_cast<float>(l[i] * g);
    r[i] = static_cast<float>(r[i] * g);
  };
  if (sc_on_) {
    run(
        n,
        [&](std::size_t i) {
          return key(sc_hpf_.process(static_cast<double>(l[i])),
                     sc_hpf_r_.process(static_cast<double>(r[i])));
        },
        apply);
  } else {
    run(
        n, [&](std::size_t i) { return key(l[i], r[i]); }, apply);
  }
}

// ---------------------------------------------------------------- Gate

void Gate::prepare(const ProcessSpec& spec) noexcept {
  fs_ = spec.sample_rate;
  set_params(p_);
  reset();
}

void Gate::set_params(const GateParams& p) noexcept {
  p_ = p;
  p_.range_db = std::min(p_.range_db, 0.0f);
  p_.ratio = std::max(p_.ratio, 1.0f);
  p_.hold_ms = std::max(p_.hold_ms, 0.0f);
  att_ = tc_coef(fs_, p_.attack_ms);
  rel_ = tc_coef(fs_, p_.release_ms);
  decay_ = decay_coef(fs_, 5.0);
  // The detector holds its peak at least 10 ms so low notes do not chatter between cycles.
  hold_samples_ = static_cast<std::int64_t>(std::llround(ms_to_frames(std::max(p_.hold_ms, 10.0f), fs_)));
  thr_amp_ = db_to_gain(static_cast<double>(p_.threshold_db));
}

void Gate::reset() noexcept {
  peak_ = 0.0;
  since_above_ = 0;
  gain_db_ = p_.range_db;
}

double Gate::static_gain_db(const GateParams& p, double in_db) noexcept {
  const double range = std::min(p.range_db, 0.0f);
  if (in_db >= p.threshold_db) return 0.0;
  if (p.ratio >= 50.0f) return range;
  return std::max(range, (in_db - p.threshold_db) * (std::max(p.ratio, 1.0f) - 1.0));
}

void Gate::process(std::span<float> block) noexcept {
  const double thr_amp = thr_amp_;
  const std::size_t n = block.size();
  if (n == 0) return;
  if (gain_db_ == 0.0 && peak_ >= thr_amp && since_above_ >= static_cast<std::int64_t>(n)) {
    // Open and settled, with the level at or above the threshold and more hold left than
    // the block is long: the peak can only rise or hold (no decay) and stays above the
    // threshold, so the gain stays 0 dB. The detector's end state in closed form: its peak is
    // the block's maximum if that reaches the old peak, and the hold restarts at the last
    // sample equal to it.
    float amax = 0.0f;
    for (const float v : block) amax = std::max(amax, std::fabs(v));
    if (static_cast<double>(amax) >= peak_) {
      std::size_t last = n;
      while (std::fabs(block[last - 1]) != amax) --last;
      peak_ = amax;
      since_above_ = hold_samples_ - static_cast<std::int64_t>(n - last);
    } else {
      since_above_ -= static_cast<std::int64_t>(n);
    }
    return;
  }
  const bool hard_gate = p_.ratio >= 50.0f;
  const double range = p_.range_db;
  double peak = peak_, g = gain_db_;
  double lin = fast::db_to_amp(g);
  std::int64_t held = since_above_;  // samples left in the detector's peak hold
  for (float& s : block) {
    const double a = std::abs(static_cast<double>(s));
    if (a >= peak) {
      peak = a;
      held = hold_samples_;
    } else if (held > 0) {
      --held;
    } else {
      peak *= decay_;
    }
    double target = 0.0;
    if (peak < thr_amp) target = hard_gate ? range : static_gain_db(p_, fast::amp_to_db(peak));
    if (g != target) {
      g += (target > g ? att_ : rel_) * (target - g);
      // Snap within 1e-4 dB (1e-5 relative, inaudible) so a settled gate costs nothing.
      if (std::abs(g - target) < 1e-4) g = target;
      lin = fast::db_to_amp(g);
    }
    if (g != 0.0) s = static_cast<float>(s * lin);
  }
  peak_ = peak < 1e-30 ? 0.0 : peak;
  gain_db_ = g;
  since_above_ = held;
}

}  // namespace tl::dsp
