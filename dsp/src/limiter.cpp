#include "tl/dsp/limiter.h"

#include <algorithm>
#include <cmath>

#include "tl/common/units.h"

namespace tl::dsp {

void TruePeakLimiter::prepare(const ProcessSpec& spec, const LimiterParams& p) {
  const double fs = spec.sample_rate;
  fs_ = fs;
  channels_ = std::clamp<std::size_t>(spec.channels, 1, kMaxChannels);
  p_ = p;
  window_ = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(ms_to_frames(p.lookahead_ms, fs))));
  // The detector sees sample m once the interpolator has sample m + kDelay.
  latency_ = static_cast<std::size_t>(Oversampler4x::kDelay) + window_ - 1;
  dq_val_.assign(window_ + 1, 1.0);
  dq_idx_.assign(window_ + 1, 0);
  box_.assign(window_, 1.0);
  delay_.assign((latency_ + 1) * channels_, 0.0f);
  set_params(p);
  reset();
}

void TruePeakLimiter::set_params(const LimiterParams& p) noexcept {
  const float lookahead = p_.lookahead_ms;
  p_ = p;
  p_.lookahead_ms = lookahead;
  // A hair of margin covers the gain varying across the interpolator's span.
  ceiling_ = db_to_gain(p_.ceiling_dbtp - 0.02);
  const double n = ms_to_frames(std::max(p_.release_ms, 1.0f), fs_);
  release_ = 1.0 - std::exp(-1.0 / n);
}

void TruePeakLimiter::reset() noexcept {
  for (auto& o : os_) o.reset();
  prev_det_ = 0.0f;
  dq_head_ = dq_size_ = 0;
  t_ = 0;
  rel_gain_ = 1.0;
  std::fill(box_.begin(), box_.end(), 1.0);
  box_pos_ = 0;
  box_sum_ = static_cast<double>(window_);
  std::fill(delay_.begin(), delay_.end(), 0.0f);
  delay_pos_ = 0;
  gain_ = 1.0;
}

float TruePeakLimiter::gain_reduction_db() const noexcept {
  return static_cast<float>(20.0 * std::log10(std::max(gain_, 1e-9)));
}

void TruePeakLimiter::step(const std::array<float, kMaxChannels>& in,
                           std::array<float, kMaxChannels>& out) noexcept {
  // 1. True peak of the interval [m, m+1) for m = t - kDelay; the sample m borders that
  //    interval and the previous one, so its required gain covers both.
  float det = 0.0f;
  for (std::size_t c = 0; c < channels_; ++c) {
    os_[c].push(in[c]);
    const float m = os_[c].max_abs();
    det = m > det ? m : det;
  }
  const double both = std::max(det, prev_det_);
  prev_det_ = det;
  const double req = both > ceiling_ ? ceiling_ / both : 1.0;

  // 2. Sliding minimum over the last window_ required gains (monotone deque in a ring).
  const std::size_t cap = dq_val_.size();
  while (dq_size_ > 0 && dq_val_[(dq_head_ + dq_size_ - 1) % cap] >= req) --dq_size_;
  dq_val_[(dq_head_ + dq_size_) % cap] = req;
  dq_idx_[(dq_head_ + dq_size_) % cap] = t_;
  ++dq_size_;
  while (dq_idx_[dq_head_] + window_ <= t_) {
    dq_head_ = (dq_head_ + 1) % cap;
    --dq_size_;
  }
  const double wmin = dq_val_[dq_head_];
  ++t_;

  // 3. Release toward unity, never above the windowed minimum.
  rel_gain_ = std::min(wmin, rel_gain_ + release_ * (1.0 - rel_gain_));

  // 4. Box average over the window: every term is <= the required gain of the sample
  //    leaving the delay line now, so the average is too.
  box_sum_ += rel_gain_ - box_[box_pos_];
  box_[box_pos_] = rel_gain_;
  if (++box_pos_ == window_) {
    box_pos_ = 0;
    double s = 0.0;  // re-sum once per window so rounding never accumulates
    for (const double v : box_) s += v;
    box_sum_ = s;
  }
  gain_ = box_sum_ / static_cast<double>(window_);

  // 5. Delay the audio by the latency and apply the gain.
  const std::size_t frames = latency_ + 1;
  const std::size_t read = (delay_pos_ + 1) % frames;  // oldest frame
  for (std::size_t c = 0; c < channels_; ++c) {
    delay_[delay_pos_ * channels_ + c] = in[c];
    out[c] = static_cast<float>(delay_[read * channels_ + c] * gain_);
  }
  delay_pos_ = read;
}

bool TruePeakLimiter::pass_through(std::span<const std::span<float>> channels) noexcept {
  // Only from rest: no gain reduction, none in the look-ahead window.
  if (gain_ != 1.0 || rel_gain_ != 1.0 || prev_det_ > ceiling_) return false;
  const std::size_t chans = std::min(channels_, channels.size());
  const std::size_t n = channels[0].size();
  float peak = 0.0f;
  for (std::size_t c = 0; c < chans; ++c) {
    peak = std::max(peak, os_[c].history_peak());
    for (const float x : channels[c]) {
      const float a = std::fabs(x);
      peak = a > peak ? a : peak;
    }
  }
  // No interpolated value of these samples can reach the ceiling: every required gain is
  // 1, so the block is only delayed. (A NaN fails the test and takes the full path.)
  if (!(static_cast<double>(peak) * os_[0].gain_bound() <= ceiling_)) return false;
  const std::size_t frames = latency_ + 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t read = (delay_pos_ + 1) % frames;
    for (std::size_t c = 0; c < chans; ++c) {
      os_[c].push_history(channels[c][i]);
      delay_[delay_pos_ * channels_ + c] = channels[c][i];
      channels[c][i] = delay_[read * channels_ + c];
    }
    delay_pos_ = read;
  }
  // The detector as n samples that asked for no reduction leave it.
  float det = 0.0f;
  for (std::size_t c = 0; c < chans; ++c) {
    os_[c].compute();
    const float m = os_[c].max_abs();
    det = m > det ? m : det;
  }
  prev_det_ = det;
  t_ += n;
  dq_head_ = 0;
  dq_size_ = 1;
  dq_val_[0] = 1.0;
  dq_idx_[0] = t_ - 1;
  box_pos_ = (box_pos_ + n) % window_;
  return true;
}

void TruePeakLimiter::process(std::span<const std::span<float>> channels) noexcept {
  if (channels.empty()) return;
  if (pass_through(channels)) return;
  const std::size_t n = channels[0].size();
  std::array<float, kMaxChannels> in{}, out{};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < channels_ && c < channels.size(); ++c) in[c] = channels[c][i];
    step(in, out);
    for (std::size_t c = 0; c < channels_ && c < channels.size(); ++c) channels[c][i] = out[c];
  }
}

void TruePeakLimiter::process(std::span<float> mono) noexcept {
  const std::array<std::span<float>, 1> ch{mono};
  process(std::span<const std::span<float>>(ch));
}

void TruePeakLimiter::process(std::span<float> left, std::span<float> right) noexcept {
  const std::array<std::span<float>, 2> ch{left, right};
  process(std::span<const std::span<float>>(ch));
}

}  // namespace tl::dsp
