#include "tl/dsp/effects.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tl/common/units.h"

namespace tl::dsp {
namespace {

// Mutually prime line lengths at 48 kHz (about 30 to 58 ms).
constexpr std::array<double, FdnReverb::kLines> kBaseLengths = {1433, 1601, 1867, 2053,
                                                                2251, 2399, 2617, 2797};
// Rows of the 8x8 Hadamard matrix used as output taps (orthogonal: decorrelated L/R).
constexpr std::array<double, 8> kTapL = {1, -1, 1, -1, 1, -1, 1, -1};
constexpr std::array<double, 8> kTapR = {1, 1, -1, -1, 1, 1, -1, -1};

//! One-pole low-pass coefficient (y += (1 - a)(x - y)) for a -3 dB-ish corner at hz; 0 = off.
double lowpass_pole(double fs, double hz) noexcept {
  if (hz <= 0.0 || hz >= 0.5 * fs) return 0.0;
  return std::exp(-2.0 * std::numbers::pi * hz / fs);
}

}  // namespace

// ---------------------------------------------------------------- FdnReverb

void FdnReverb::prepare(const ProcessSpec& spec, const ReverbParams& p, double max_predelay_ms) {
  const double fs = spec.sample_rate;
  fs_ = fs;
  p_ = p;
  const double scale = std::clamp(static_cast<double>(p.size), 0.5, 2.0) * fs / 48000.0;
  for (std::size_t i = 0; i < kLines; ++i) {
    len_[i] = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(kBaseLengths[i] * scale)));
    lines_[i].assign(len_[i], 0.0f);
  }
  pre_.assign(static_cast<std::size_t>(std::ceil(ms_to_frames(max_predelay_ms, fs))) + 1, 0.0f);
  level_.prepare(fs, 20.0, db_to_gain(p.level_db));
  set_params(p);
  reset();
}

void FdnReverb::set_params(const ReverbParams& p) noexcept {
  const float size = p_.size;
  p_ = p;
  p_.size = size;
  const double rt60 = std::max(0.05f, p_.rt60_s);
  for (std::size_t i = 0; i < kLines; ++i)
    gain_[i] = std::pow(10.0, -3.0 * static_cast<double>(len_[i]) / (fs_ * rt60));
  damp_ = lowpass_pole(fs_, p_.damping_hz);
  pre_len_ =
      std::min(pre_.size() - 1,
               static_cast<std::size_t>(std::lround(ms_to_frames(std::max(0.0f, p_.predelay_ms), fs_))));
  level_.set_target(db_to_gain(p_.level_db));
}

void FdnReverb::reset() noexcept {
  for (auto& l : lines_) std::fill(l.begin(), l.end(), 0.0f);
  pos_.fill(0);
  damp_state_.fill(0.0);
  std::fill(pre_.begin(), pre_.end(), 0.0f);
  pre_pos_ = 0;
}

void FdnReverb::process(std::span<const float> in, std::span<float> out_left,
                        std::span<float> out_right) noexcept {
  const std::size_t n = std::min({in.size(), out_left.size(), out_right.size()});
  const std::size_t pre_size = pre_.size();
  constexpr double kNorm = 0.35355339059327373;  // 1/sqrt(8): Hadamard and input spread
  for (std::size_t t = 0; t < n; ++t) {
    // Pre-delay.
    pre_[pre_pos_] = in[t];
    const double x = pre_[(pre_pos_ + pre_size - pre_len_) % pre_size] * kNorm;
    pre_pos_ = (pre_pos_ + 1) % pre_size;

    std::array<double, kLines> v{};
    double l = 0.0, r = 0.0;
    for (std::size_t i = 0; i < kLines; ++i) {
      const double y = lines_[i][pos_[i]];  // written len_[i] samples ago
      l += kTapL[i] * y;
      r += kTapR[i] * y;
      damp_state_[i] = y + damp_ * (damp_state_[i] - y);
      v[i] = gain_[i] * damp_state_[i];
    }
    // Fast Walsh-Hadamard transform (orthogonal after the 1/sqrt(8) scale).
    for (std::size_t h = 1; h < kLines; h <<= 1)
      for (std::size_t i = 0; i < kLines; i += 2 * h)
        for (std::size_t j = i; j < i + h; ++j) {
          const double a = v[j], b = v[j + h];
          v[j] = a + b;
          v[j + h] = a - b;
        }
    for (std::size_t i = 0; i < kLines; ++i) {
      lines_[i][pos_[i]] = static_cast<float>(v[i] * kNorm + x);
      if (++pos_[i] == len_[i]) pos_[i] = 0;
    }
    const float g = level_.next();
    out_left[t] = static_cast<float>(l * kNorm) * g;
    out_right[t] = static_cast<float>(r * kNorm) * g;
  }
  for (auto& d : damp_state_)
    if (std::abs(d) < 1e-30) d = 0.0;
}

// ---------------------------------------------------------------- TempoDelay

double quarter_notes(NoteDivision d) noexcept {
  switch (d) {
    case NoteDivision::whole:
      return 4.0;
    case NoteDivision::half:
      return 2.0;
    case NoteDivision::quarter:
      return 1.0;
    case NoteDivision::eighth:
      return 0.5;
    case NoteDivision::sixteenth:
      return 0.25;
    case NoteDivision::dotted_quarter:
      return 1.5;
    case NoteDivision::dotted_eighth:
      return 0.75;
    case NoteDivision::triplet_quarter:
      return 2.0 / 3.0;
    case NoteDivision::triplet_eighth:
      return 1.0 / 3.0;
  }
  return 1.0;
}

void TempoDelay::prepare(const ProcessSpec& spec, const TempoDelayParams& p, double max_delay_s) {
  const double fs = spec.sample_rate;
  fs_ = fs;
  const auto size = static_cast<std::size_t>(std::ceil(fs * max_delay_s)) + 2;
  buf_l_.assign(size, 0.0f);
  buf_r_.assign(size, 0.0f);
  glide_ = 1.0 - std::exp(std::log(1e-3) / (fs * 0.050));
  level_.prepare(fs, 20.0, db_to_gain(p.level_db));
  set_params(p);
  reset();
}

double TempoDelay::time_samples(const TempoDelayParams& p) const noexcept {
  const double bpm = std::max(1.0f, p.bpm);
  const double t = std::round(60.0 / bpm * quarter_notes(p.division) * fs_);
  return std::clamp(t, 1.0, static_cast<double>(buf_l_.size() - 2));
}

void TempoDelay::set_params(const TempoDelayParams& p) noexcept {
  p_ = p;
  target_ = time_samples(p);
  feedback_ = std::clamp(static_cast<double>(p.feedback), 0.0, 0.98);
  damp_ = lowpass_pole(fs_, p.damping_hz);
  level_.set_target(db_to_gain(p.level_db));
}

void TempoDelay::reset() noexcept {
  std::fill(buf_l_.begin(), buf_l_.end(), 0.0f);
  std::fill(buf_r_.begin(), buf_r_.end(), 0.0f);
  pos_ = 0;
  current_ = target_;
  damp_l_ = damp_r_ = 0.0;
}

float TempoDelay::read(const std::vector<float>& buf, double delay) const noexcept {
  const std::size_t size = buf.size();
  const auto whole = static_cast<std::size_t>(delay);
  const double frac = delay - static_cast<double>(whole);
  const float a = buf[(pos_ + size - whole) % size];
  if (frac == 0.0) return a;
  const float b = buf[(pos_ + size - whole - 1) % size];
  return static_cast<float>(a + frac * (b - a));
}

void TempoDelay::process(std::span<const float> in, std::span<float> out_left,
                         std::span<float> out_right) noexcept {
  const std::size_t n = std::min({in.size(), out_left.size(), out_right.size()});
  const std::size_t size = buf_l_.size();
  for (std::size_t t = 0; t < n; ++t) {
    if (current_ != target_) {
      current_ += glide_ * (target_ - current_);
      if (std::abs(target_ - current_) < 1e-3) current_ = target_;
    }
    const double el = read(buf_l_, current_);
    damp_l_ = el + damp_ * (damp_l_ - el);
    double wl, wr, ol, orr;
    if (p_.ping_pong) {
      const double er = read(buf_r_, current_);
      damp_r_ = er + damp_ * (damp_r_ - er);
      wl = in[t] + feedback_ * damp_r_;  // right echoes come back on the left
      wr = feedback_ * damp_l_;          // left echoes continue on the right
      ol = el;
      orr = er;
    } else {
      wl = in[t] + feedback_ * damp_l_;
      wr = 0.0;
      ol = orr = el;
    }
    buf_l_[pos_] = static_cast<float>(wl);
    buf_r_[pos_] = static_cast<float>(wr);
    pos_ = (pos_ + 1) % size;
    const float g = level_.next();
    out_left[t] = static_cast<float>(ol) * g;
    out_right[t] = static_cast<float>(orr) * g;
  }
  if (std::abs(damp_l_) < 1e-30) damp_l_ = 0.0;
  if (std::abs(damp_r_) < 1e-30) damp_r_ = 0.0;
}

}  // namespace tl::dsp
