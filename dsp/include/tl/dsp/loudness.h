#pragma once
//! ITU-R BS.1770-4 / EBU R128 loudness: K-weighting, momentary (400 ms), short-term (3 s)
//! and gated integrated loudness (absolute -70 LUFS, relative -10 LU).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/dsp/biquad.h"
#include "tl/dsp/process_spec.h"

namespace tl::dsp {

//! The two K-weighting stages (pre-filter shelf, RLB high-pass) designed for any sample rate.
std::array<BiquadCoeffs, 2> k_weighting(double fs) noexcept;

//! Loudness meter for up to kMaxChannels channels.
//! Momentary and short-term values update every 100 ms (one hop); integrated loudness
//! uses 400 ms gating blocks every 100 ms. Gating blocks are kept in a fixed histogram
//! (0.01 LU bins holding exact energy sums), so memory is fixed at prepare() and any
//! programme length is metered; the relative gate is resolved to 0.01 LU.
class LoudnessMeter {
 public:
  static constexpr std::size_t kMaxChannels = 8;

  //! Allocates, for spec.channels (1..kMaxChannels, clamped). Channel weights default to
  //! BS.1770 (1.0; 1.41 for channels 3 and 4 when there are 5 or more channels, with
  //! channel 3 (LFE) excluded in 6-channel layouts).
  void prepare(const ProcessSpec& spec);
  void set_channel_weight(std::size_t channel, double weight) noexcept;
  void reset() noexcept;

  //! One span per prepared channel, all the same length. Real-time safe.
  void process(std::span<const std::span<const float>> channels) noexcept;
  void process(std::span<const float> mono) noexcept;
  void process(std::span<const float> left, std::span<const float> right) noexcept;

  //! LUFS over the last 400 ms (as of the last completed hop); -inf-ish (-200) for silence.
  double momentary_lufs() const noexcept;
  //! LUFS over the last 3 s.
  double short_term_lufs() const noexcept;
  //! Gated integrated loudness since reset; -200 when no block passes the absolute gate.
  //! Walks the histogram (~8k bins): call from a non-real-time thread or sparingly.
  double integrated_lufs() const noexcept;
  //! Highest momentary loudness since reset.
  double max_momentary_lufs() const noexcept { return max_momentary_; }

 private:
  static constexpr int kBins = 8000;  // -70 .. +10 LUFS in 0.01 LU steps
  static constexpr double kBinLo = -70.0, kBinStep = 0.01;
  double window_lufs(std::size_t hops) const noexcept;

  double fs_ = 48000.0;
  std::size_t channels_ = 0, hop_len_ = 4800, hop_fill_ = 0, hops_done_ = 0;
  std::array<double, kMaxChannels> weight_{};
  std::array<std::array<Biquad, 2>, kMaxChannels> filters_{};
  double hop_acc_ = 0.0;
  std::array<double, 30> hops_{};  // weighted energy sums of the last 30 hops (ring)
  std::size_t hop_pos_ = 0;
  std::vector<std::uint64_t> bin_count_;
  std::vector<double> bin_energy_;
  double max_momentary_ = -200.0;
};

}  // namespace tl::dsp
