#include "tl/dsp/crossover.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace tl::dsp {
namespace {

// Q of each Butterworth section of an LR4 pair; an LR4 filter is this section squared.
constexpr double kButterworthQ = 0.7071067811865476;

//! The allpass an LR4 pair at f sums to: LP^2 + HP^2 = (1 + s^4) / (s^2 + sqrt2 s + 1)^2
//! = (s^2 - sqrt2 s + 1) / (s^2 + sqrt2 s + 1), a 2nd-order allpass of the same Q. Built with
//! the same prewarped bilinear transform as the cookbook low- and high-pass, the identity
//! holds exactly in z as well, so a band passed through it lines up with the bands split there.
BiquadCoeffs lr4_allpass(double fs, double f) noexcept {
  const double w = 2.0 * std::numbers::pi * f / fs;
  const double cw = std::cos(w);
  const double alpha = std::sin(w) / (2.0 * kButterworthQ);
  const double a0 = 1.0 + alpha;
  return {.b0 = (1.0 - alpha) / a0,
          .b1 = -2.0 * cw / a0,
          .b2 = 1.0,
          .a1 = -2.0 * cw / a0,
          .a2 = (1.0 - alpha) / a0};
}

}  // namespace

// ---------------------------------------------------------------- Crossover

void Crossover::prepare(const ProcessSpec& spec, std::size_t bands,
                        std::span<const float> split_hz) noexcept {
  bands_ = std::clamp<std::size_t>(bands, 2, kMaxBands);
  channels_ = std::clamp<std::size_t>(spec.channels, 1, kMaxChannels);
  const double fs = spec.sample_rate;
  const MultibandParams defaults{};
  const std::size_t splits = bands_ - 1;
  for (std::size_t i = 0; i < splits; ++i) {
    const double f = i < split_hz.size() ? split_hz[i] : defaults.split_hz[i];
    // Above ~0.45 fs the bilinear transform squeezes the filters against Nyquist; below
    // 10 Hz a band would be all DC. Neither is a useful split.
    split_hz_[i] = std::clamp(f, 10.0, 0.45 * fs);
  }
  // Out-of-order splits would still sum flat, but a band would then not be the range its
  // index says; sorting keeps band 0 the lowest.
  std::sort(split_hz_.begin(), split_hz_.begin() + static_cast<std::ptrdiff_t>(splits));
  for (std::size_t i = splits; i < split_hz_.size(); ++i) split_hz_[i] = 0.0;

  for (Channel& c : ch_) {
    for (std::size_t i = 0; i < splits; ++i) {
      const double f = split_hz_[i];
      for (Biquad& s : c.lp[i]) s.set(BiquadCoeffs::lowpass(fs, f, kButterworthQ));
      for (Biquad& s : c.hp[i]) s.set(BiquadCoeffs::highpass(fs, f, kButterworthQ));
      for (std::size_t j = 0; j < i; ++j) c.ap[i][j].set(lr4_allpass(fs, f));
    }
  }
  reset();
}

void Crossover::reset() noexcept {
  for (Channel& c : ch_) {
    for (auto& pair : c.lp)
      for (Biquad& s : pair) s.reset();
    for (auto& pair : c.hp)
      for (Biquad& s : pair) s.reset();
    for (auto& row : c.ap)
      for (Biquad& s : row) s.reset();
  }
}

void Crossover::split(std::size_t ch, std::span<const float> in, std::span<float* const> out) noexcept {
  assert(ch < channels_ && out.size() >= bands_);
  if (ch >= channels_ || out.size() < bands_) return;
  Channel& c = ch_[ch];
  const std::size_t n = in.size();
  // The top band's buffer carries the part above the splits done so far; each split takes
  // its low part out of it into the band below, so no scratch buffer is needed.
  float* carry = out[bands_ - 1];
  if (carry != in.data()) std::copy_n(in.data(), n, carry);
  const std::span<float> high(carry, n);
  for (std::size_t i = 0; i + 1 < bands_; ++i) {
    const std::span<float> low(out[i], n);
    std::copy_n(carry, n, out[i]);
    c.lp[i][0].process(low);
    c.lp[i][1].process(low);
    c.hp[i][0].process(high);
    c.hp[i][1].process(high);
    // The bands already split off below this split get its allpass: the same phase as
    // the two bands made here, so all bands add up in phase.
    for (std::size_t j = 0; j < i; ++j) c.ap[i][j].process(std::span<float>(out[j], n));
  }
}

// ---------------------------------------------------------------- MultibandCompressor

void MultibandCompressor::prepare(const ProcessSpec& spec, const MultibandParams& p) {
  // Both channels' filters are always set up, so either process() overload may be called.
  ProcessSpec xs = spec;
  xs.channels = Crossover::kMaxChannels;
  xover_.prepare(xs, p.bands, p.split_hz);
  max_block_ = std::max<std::size_t>(spec.max_block, 1);
  buf_.assign(xover_.bands() * Crossover::kMaxChannels * max_block_, 0.0f);
  for (Compressor& c : comp_) c.prepare(spec);
  on_.fill(false);
  set_params(p);
  reset();
}

void MultibandCompressor::set_params(const MultibandParams& p) noexcept {
  for (std::size_t b = 0; b < xover_.bands(); ++b) {
    comp_[b].set_params(p.band[b]);
    // A band that was off kept no detector history; starting from a cleared one lets it
    // attack from unity gain rather than jump to whatever gain it had when switched off.
    if (p.band_on[b] && !on_[b]) comp_[b].reset();
    on_[b] = p.band_on[b];
  }
}

void MultibandCompressor::reset() noexcept {
  xover_.reset();
  for (Compressor& c : comp_) c.reset();
}

void MultibandCompressor::process(std::span<float> mono) noexcept {
  const std::size_t nb = xover_.bands();
  std::array<float*, Crossover::kMaxBands> band{};
  for (std::size_t b = 0; b < nb; ++b) band[b] = band_buffer(b, 0);
  for (std::size_t at = 0; at < mono.size(); at += max_block_) {
    const std::span<float> x = mono.subspan(at, std::min(max_block_, mono.size() - at));
    const std::size_t n = x.size();
    xover_.split(0, x, std::span<float* const>(band.data(), nb));
    for (std::size_t b = 0; b < nb; ++b)
      if (on_[b]) comp_[b].process(std::span<float>(band[b], n));
    std::copy_n(band[0], n, x.data());
    for (std::size_t b = 1; b < nb; ++b)
      for (std::size_t i = 0; i < n; ++i) x[i] += band[b][i];
  }
}

void MultibandCompressor::process(std::span<float> left, std::span<float> right) noexcept {
  const std::size_t nb = xover_.bands();
  const std::size_t frames = std::min(left.size(), right.size());
  std::array<float*, Crossover::kMaxBands> bl{}, br{};
  for (std::size_t b = 0; b < nb; ++b) {
    bl[b] = band_buffer(b, 0);
    br[b] = band_buffer(b, 1);
  }
  for (std::size_t at = 0; at < frames; at += max_block_) {
    const std::size_t n = std::min(max_block_, frames - at);
    const std::span<float> l = left.subspan(at, n), r = right.subspan(at, n);
    xover_.split(0, l, std::span<float* const>(bl.data(), nb));
    xover_.split(1, r, std::span<float* const>(br.data(), nb));
    for (std::size_t b = 0; b < nb; ++b)
      if (on_[b]) comp_[b].process(std::span<float>(bl[b], n), std::span<float>(br[b], n));
    std::copy_n(bl[0], n, l.data());
    std::copy_n(br[0], n, r.data());
    for (std::size_t b = 1; b < nb; ++b) {
      for (std::size_t i = 0; i < n; ++i) {
        l[i] += bl[b][i];
        r[i] += br[b][i];
      }
    }
  }
}

float MultibandCompressor::gain_reduction_db(std::size_t band) const noexcept {
  if (band >= xover_.bands() || !on_[band]) return 0.0f;
  return std::min(comp_[band].gain_reduction_db(), 0.0f);
}

}  // namespace tl::dsp
