#include "tl/mastering/analysis.h"

#include <algorithm>
#include <cmath>

namespace tl::mastering {
namespace {

double db(float linear, double floor) {
  return linear > 0.0f ? 20.0 * std::log10(static_cast<double>(linear)) : floor;
}

// EBU Tech 3342: short-term values gated at -70 LUFS absolute and 20 LU under their
// power mean; the range is the 95th less the 10th percentile.
double loudness_range(std::vector<double> st) {
  std::erase_if(st, [](double v) { return v < -70.0; });
  if (st.empty()) return 0.0;
  double energy = 0.0;
  for (const double v : st) energy += std::pow(10.0, v / 10.0);
  const double gate = 10.0 * std::log10(energy / static_cast<double>(st.size())) - 20.0;
  std::erase_if(st, [gate](double v) { return v < gate; });
  if (st.size() < 2) return 0.0;
  std::sort(st.begin(), st.end());
  const auto at = [&](double p) {
    const double x = p * static_cast<double>(st.size() - 1);
    const auto i = static_cast<std::size_t>(x);
    const double f = x - static_cast<double>(i);
    return i + 1 < st.size() ? st[i] * (1.0 - f) + st[i + 1] * f : st[i];
  };
  return at(0.95) - at(0.10);
}

}  // namespace

void Analyzer::prepare(double sample_rate, std::size_t channels, bool true_peak) {
  channels_ = std::clamp<std::size_t>(channels, 1, kMaxChannels);
  measure_true_peak_ = true_peak;
  rate_ = sample_rate;
  hop_frames_ = static_cast<std::size_t>(std::lround(sample_rate / 10.0));  // the meter's hop
  meter_.prepare({.sample_rate = sample_rate, .max_block = hop_frames_, .channels = channels_});
  for (std::size_t c = 0; c < channels_; ++c) {
    planar_[c].assign(hop_frames_, 0.0f);
    true_peak_[c] = PreciseTruePeak{};
  }
  fill_ = 0;
  metered_ = 0;
  frames_ = 0;
  sample_peak_ = 0.0f;
  hop_peak_ = 0.0f;
  short_term_.clear();
  short_term_max_ = -200.0;
  curve_.clear();
}

void Analyzer::process(std::span<const float> interleaved) {
  const std::size_t frames = interleaved.size() / channels_;
  for (std::size_t f = 0; f < frames;) {
    const std::size_t n = std::min(frames - f, hop_frames_ - fill_);
    for (std::size_t c = 0; c < channels_; ++c) {
      float* out = planar_[c].data() + fill_;
      // The hop's peak in a local: as a member it could alias out[], and was stored and
      // loaded again for every sample.
      float peak = hop_peak_;
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = interleaved[(f + i) * channels_ + c];
        const float a = std::fabs(out[i]);
        peak = a > peak ? a : peak;
      }
      hop_peak_ = peak;
      if (measure_true_peak_) true_peak_[c].process(std::span<const float>(out, n));
    }
    fill_ += n;
    f += n;
    if (fill_ == hop_frames_) hop();
  }
  frames_ += static_cast<std::int64_t>(frames);
}

void Analyzer::feed() {
  if (channels_ == 2) {
    meter_.process(std::span<const float>(planar_[0].data(), fill_),
                   std::span<const float>(planar_[1].data(), fill_));
  } else {
    meter_.process(std::span<const float>(planar_[0].data(), fill_));
  }
  metered_ += fill_;
  fill_ = 0;
}

void Analyzer::hop() {
  feed();
  LoudnessPoint point{.seconds = static_cast<float>(static_cast<double>(metered_) / rate_),
                      .peak = hop_peak_};
  sample_peak_ = std::max(sample_peak_, hop_peak_);
  hop_peak_ = 0.0f;
  if (metered_ >= 4 * hop_frames_) point.momentary_lufs = static_cast<float>(meter_.momentary_lufs());
  // A short-term value once its 3 s window is full.
  if (metered_ >= 30 * hop_frames_) {
    const double st = meter_.short_term_lufs();
    short_term_.push_back(st);
    short_term_max_ = std::max(short_term_max_, st);
    point.short_term_lufs = static_cast<float>(st);
  }
  curve_.push_back(point);
}

LoudnessFigures Analyzer::finish() {
  // The last partial hop counts for the integrated loudness as the meter gates it.
  if (fill_ != 0) feed();
  sample_peak_ = std::max(sample_peak_, hop_peak_);
  LoudnessFigures out;
  out.frames = frames_;
  out.seconds = static_cast<double>(frames_) / rate_;
  out.integrated_lufs = meter_.integrated_lufs();
  out.range_lu = loudness_range(short_term_);
  // Shorter than 3 s: the loudest momentary value stands in for the short-term maximum.
  out.short_term_max_lufs = short_term_.empty() ? meter_.max_momentary_lufs() : short_term_max_;
  float tp = 0.0f;
  for (std::size_t c = 0; c < channels_; ++c) {
    true_peak_[c].flush();
    tp = std::max(tp, true_peak_[c].peak());
  }
  out.true_peak_dbtp = db(tp, -150.0);
  out.sample_peak_dbfs = db(sample_peak_, -150.0);
  return out;
}

}  // namespace tl::mastering
