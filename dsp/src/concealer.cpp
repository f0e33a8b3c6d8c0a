#include "tl/dsp/concealer.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "tl/common/units.h"

namespace tl::dsp {
namespace {
//! At least one frame.
std::size_t frames_of(double ms, double fs) {
  return static_cast<std::size_t>(std::max(1.0, std::round(ms_to_frames(ms, fs))));
}
}  // namespace

void Concealer::prepare(const ProcessSpec& spec, const ConcealerConfig& config) {
  config_ = config;
  const double fs = spec.sample_rate;
  min_period_ = frames_of(config.min_period_ms, fs);
  max_period_ = frames_of(config.max_period_ms, fs);
  window_ = max_period_;  // correlate one longest period
  hold_ = frames_of(config.hold_ms, fs);
  fade_ = frames_of(config.fade_ms, fs);
  crossfade_ = frames_of(config.crossfade_ms, fs);
  history_.assign(std::bit_ceil(max_period_ + window_ + 1), 0.0f);
  mask_ = history_.size() - 1;
  bridge_.assign(crossfade_, 0.0f);
  reset();
}

void Concealer::reset() noexcept {
  std::fill(history_.begin(), history_.end(), 0.0f);
  head_ = filled_ = 0;
  in_gap_ = false;
  gap_pos_ = 0;
  since_gap_ = crossfade_;
  period_ = 0;
}

float Concealer::history_at(std::size_t back) const noexcept {
  return history_[(head_ - back) & mask_];
}

void Concealer::push(float v) noexcept {
  history_[head_ & mask_] = v;
  ++head_;
  if (filled_ < history_.size()) ++filled_;
}

std::size_t Concealer::find_period() const noexcept {
  // Normalised cross-correlation between the last window and the window one lag earlier.
  if (filled_ < window_ + max_period_)
    return std::min(max_period_, std::max<std::size_t>(min_period_, filled_ / 2));
  double best = -1.0;
  std::size_t best_lag = max_period_;
  for (std::size_t lag = min_period_; lag <= max_period_; ++lag) {
    double xy = 0.0, yy = 0.0;
    for (std::size_t i = 1; i <= window_; ++i) {
      const double x = history_at(i);
      const double y = history_at(i + lag);
      xy += x * y;
      yy += y * y;
    }
    if (yy <= 1e-12) continue;
    const double score = xy / std::sqrt(yy);
    if (score > best) {
      best = score;
      best_lag = lag;
    }
  }
  return best_lag;
}

float Concealer::continuation() noexcept {
  // Repeats the last period of the history (which includes what was already
  // concealed), so the loop is seamless once established.
  return history_at(period_);
}

void Concealer::remember(std::span<const float> block) noexcept {
  // In at most two runs (a block longer than the history keeps only its end).
  const std::size_t n = block.size();
  const std::size_t keep = std::min(n, history_.size());
  const float* from = block.data() + (n - keep);
  const std::size_t at = (head_ + n - keep) & mask_;
  const std::size_t first = std::min(keep, history_.size() - at);
  std::copy_n(from, first, history_.data() + at);
  std::copy_n(from + first, keep - first, history_.data());
  head_ += n;
  filled_ = std::min(filled_ + n, history_.size());
}

std::size_t Concealer::process(std::span<float> block, std::span<const std::uint8_t> missing) noexcept {
  std::size_t concealed = 0;
  const std::size_t n = std::min(block.size(), missing.size());
  // Nothing missing and no seam to smooth (the usual block): only remember it.
  if (idle() && std::none_of(missing.begin(), missing.begin() + static_cast<std::ptrdiff_t>(n),
                             [](std::uint8_t m) { return m != 0; })) {
    remember(block.first(n));
    return 0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (missing[i] != 0) {
      if (!in_gap_) {
        in_gap_ = true;
        gap_pos_ = 0;
        period_ = find_period();
      }
      // The copy starts where the signal stood one period ago, so a periodic
      // signal continues without a seam.
      float v = continuation();
      // Hold, then fade out to silence.
      if (gap_pos_ >= hold_) {
        const std::size_t into = gap_pos_ - hold_;
        v *= into >= fade_ ? 0.0f : 1.0f - static_cast<float>(into) / static_cast<float>(fade_);
      }
      block[i] = v;
      push(v);
      ++gap_pos_;
      ++concealed;
      continue;
    }
    if (in_gap_) {
      // Audio returns: keep the continuation going for a short crossfade.
      in_gap_ = false;
      since_gap_ = 0;
      const bool faded = gap_pos_ >= hold_ + fade_;
      for (std::size_t k = 0; k < crossfade_; ++k) {
        bridge_[k] = faded ? 0.0f : history_at(period_ - (k % period_));
      }
    }
    float v = block[i];
    if (since_gap_ < crossfade_) {
      const float w = static_cast<float>(since_gap_ + 1) / static_cast<float>(crossfade_ + 1);
      v = w * v + (1.0f - w) * bridge_[since_gap_];
      ++since_gap_;
    }
    block[i] = v;
    push(v);
  }
  return concealed;
}

}  // namespace tl::dsp
