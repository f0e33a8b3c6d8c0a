#include "tl/dsp/loudness.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tl/common/units.h"

namespace tl::dsp {
namespace {

constexpr double kOffset = -0.691;  // BS.1770: L = -0.691 + 10 log10(sum G_i z_i)

double energy_to_lufs(double e) noexcept {
  return e > 0.0 ? kOffset + 10.0 * std::log10(e) : -200.0;
}

}  // namespace

std::array<BiquadCoeffs, 2> k_weighting(double fs) noexcept {
  // Analogue-matched designs whose 48 kHz bilinear transforms give the BS.1770 tables.
  std::array<BiquadCoeffs, 2> out{};
  {
    // Stage 1: high shelf, +4 dB above ~1.7 kHz (head diffraction).
    const double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
    const double k = std::tan(std::numbers::pi * f0 / fs);
    const double vh = db_to_gain(gain_db);
    const double vb = std::pow(vh, 0.4996667741545416);
    const double a0 = 1.0 + k / q + k * k;
    out[0] = {(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
              2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
  }
  {
    // Stage 2: RLB high-pass at ~38 Hz.
    const double f0 = 38.13547087602444, q = 0.5003270373238773;
    const double k = std::tan(std::numbers::pi * f0 / fs);
    const double a0 = 1.0 + k / q + k * k;
    out[1] = {1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
  }
  return out;
}

void LoudnessMeter::prepare(const ProcessSpec& spec) {
  const double fs = spec.sample_rate;
  fs_ = fs;
  channels_ = std::clamp<std::size_t>(spec.channels, 1, kMaxChannels);
  hop_len_ = static_cast<std::size_t>(std::lround(fs / 10.0));
  weight_.fill(1.0);
  if (channels_ >= 5) {
    const std::size_t ls = channels_ == 5 ? 3 : 4;
    weight_[ls] = weight_[ls + 1] = 1.41;
    if (channels_ >= 6) weight_[3] = 0.0;
  }
  const auto kw = k_weighting(fs);
  for (auto& f : filters_) {
    f[0].set(kw[0]);
    f[1].set(kw[1]);
  }
  bin_count_.assign(kBins, 0);
  bin_energy_.assign(kBins, 0.0);
  reset();
}

void LoudnessMeter::set_channel_weight(std::size_t channel, double weight) noexcept {
  if (channel < kMaxChannels) weight_[channel] = weight;
}

void LoudnessMeter::reset() noexcept {
  for (auto& f : filters_) {
    f[0].reset();
    f[1].reset();
  }
  hop_acc_ = 0.0;
  hop_fill_ = hops_done_ = hop_pos_ = 0;
  hops_.fill(0.0);
  std::fill(bin_count_.begin(), bin_count_.end(), 0);
  std::fill(bin_energy_.begin(), bin_energy_.end(), 0.0);
  max_momentary_ = -200.0;
}

double LoudnessMeter::window_lufs(std::size_t hops) const noexcept {
  double sum = 0.0;
  for (std::size_t i = 0; i < hops; ++i) sum += hops_[(hop_pos_ + hops_.size() - 1 - i) % hops_.size()];
  return energy_to_lufs(sum / static_cast<double>(hops * hop_len_));
}

double LoudnessMeter::momentary_lufs() const noexcept {
  return window_lufs(4);
}
double LoudnessMeter::short_term_lufs() const noexcept {
  return window_lufs(30);
}

void LoudnessMeter::process(std::span<const std::span<const float>> channels) noexcept {
  if (channels.empty()) return;
  const std::size_t n = channels[0].size();
  const std::size_t nch = std::min(channels_, channels.size());
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = std::min(n - i, hop_len_ - hop_fill_);
    if (nch == 2) {
      // Both channels in one loop: two independent filter recurrences side by side run
      // in about the time of one (each is a chain of dependent multiply-adds). The same
      // operations per channel as below, so the same figures to the bit.
      auto& l = filters_[0];
      auto& r = filters_[1];
      double acc_l = 0.0, acc_r = 0.0;
      for (std::size_t k = i; k < i + run; ++k) {
        const double yl = l[1].process(l[0].process(static_cast<double>(channels[0][k])));
        const double yr = r[1].process(r[0].process(static_cast<double>(channels[1][k])));
        acc_l += yl * yl;
        acc_r += yr * yr;
      }
      for (auto* f : {&l, &r}) {
        (*f)[0].flush();
        (*f)[1].flush();
      }
      hop_acc_ += weight_[0] * acc_l;
      hop_acc_ += weight_[1] * acc_r;
    } else {
      for (std::size_t c = 0; c < nch; ++c) {
        auto& f = filters_[c];
        double acc = 0.0;
        for (std::size_t k = i; k < i + run; ++k) {
          const double y = f[1].process(f[0].process(static_cast<double>(channels[c][k])));
          acc += y * y;
        }
        f[0].flush();
        f[1].flush();
        hop_acc_ += weight_[c] * acc;
      }
    }
    i += run;
    hop_fill_ += run;
    if (hop_fill_ == hop_len_) {
      hops_[hop_pos_] = hop_acc_;
      hop_pos_ = (hop_pos_ + 1) % hops_.size();
      hop_acc_ = 0.0;
      hop_fill_ = 0;
      ++hops_done_;
      const double m = momentary_lufs();
      max_momentary_ = std::max(max_momentary_, m);
      if (hops_done_ >= 4 && m > kBinLo) {
        // One gating block (400 ms, 75 % overlap) per hop.
        double e = 0.0;
        for (std::size_t h = 0; h < 4; ++h) e += hops_[(hop_pos_ + hops_.size() - 1 - h) % hops_.size()];
        e /= static_cast<double>(4 * hop_len_);
        const int bin = std::clamp(static_cast<int>((m - kBinLo) / kBinStep), 0, kBins - 1);
        ++bin_count_[static_cast<std::size_t>(bin)];
        bin_energy_[static_cast<std::size_t>(bin)] += e;
      }
    }
  }
}

void LoudnessMeter::process(std::span<const float> mono) noexcept {
  const std::array<std::span<const float>, 1> ch{mono};
  process(std::span<const std::span<const float>>(ch));
}

void LoudnessMeter::process(std::span<const float> left, std::span<const float> right) noexcept {
  const std::array<std::span<const float>, 2> ch{left, right};
  process(std::span<const std::span<const float>>(ch));
}

double LoudnessMeter::integrated_lufs() const noexcept {
  std::uint64_t n = 0;
  double e = 0.0;
  for (int b = 0; b < kBins; ++b) {
    n += bin_count_[static_cast<std::size_t>(b)];
    e += bin_energy_[static_cast<std::size_t>(b)];
  }
  if (n == 0) return -200.0;
  const double rel_gate = energy_to_lufs(e / static_cast<double>(n)) - 10.0;
  const int first = std::clamp(static_cast<int>((rel_gate - kBinLo) / kBinStep), 0, kBins - 1);
  n = 0;
  e = 0.0;
  for (int b = first; b < kBins; ++b) {
    n += bin_count_[static_cast<std::size_t>(b)];
    e += bin_energy_[static_cast<std::size_t>(b)];
  }
  return n == 0 ? -200.0 : energy_to_lufs(e / static_cast<double>(n));
}

}  // namespace tl::dsp
