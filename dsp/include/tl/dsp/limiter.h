#pragma once
//! Look-ahead true-peak limiter: output true peak (4x oversampled) stays at or below the ceiling.

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "tl/dsp/process_spec.h"
#include "tl/dsp/true_peak.h"

namespace tl::dsp {

struct LimiterParams {
  float ceiling_dbtp = -1.0f;
  float lookahead_ms = 1.5f;  //!< fixed at prepare(); later changes are ignored
  float release_ms = 80.0f;   //!< time constant of gain recovery
};

//! Linked (all channels share one gain) look-ahead limiter for up to kMaxChannels.
//! Gain path: required gain per sample from the true peak of both adjacent inter-sample
//! intervals, sliding minimum over the look-ahead window, release, then a box average
//! over the same window, which never exceeds the required gain at the delayed sample.
class TruePeakLimiter {
 public:
  static constexpr std::size_t kMaxChannels = 2;

  //! Allocates the delay lines for spec.channels (1..kMaxChannels, clamped). Not real-time safe.
  void prepare(const ProcessSpec& spec, const LimiterParams& p = {});
  //! Ceiling and release may change between blocks.
  void set_params(const LimiterParams& p) noexcept;
  void reset() noexcept;

  //! In place; every span has the same length (one per prepared channel).
  void process(std::span<const std::span<float>> channels) noexcept;
  void process(std::span<float> mono) noexcept;
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! Delay from input to output in samples.
  std::size_t latency() const noexcept { return latency_; }
  //! Current gain reduction in dB (<= 0).
  float gain_reduction_db() const noexcept;

 private:
  void step(const std::array<float, kMaxChannels>& in, std::array<float, kMaxChannels>& out) noexcept;
  //! A block that cannot reach the ceiling, while at rest: delayed, the detector's state
  //! moved on as the full path would, without interpolating (most blocks of a mix that
  //! stays under its ceiling). False: not such a block, nothing done.
  bool pass_through(std::span<const std::span<float>> channels) noexcept;

  double fs_ = 48000.0;
  LimiterParams p_{};
  std::size_t channels_ = 0, window_ = 1, latency_ = 0;
  double ceiling_ = 1.0, release_ = 0.0;
  std::array<Oversampler4x, kMaxChannels> os_{};
  float prev_det_ = 0.0f;
  // Sliding-minimum deque over the look-ahead window (values and their sample index).
  std::vector<double> dq_val_;
  std::vector<std::size_t> dq_idx_;
  std::size_t dq_head_ = 0, dq_size_ = 0, t_ = 0;
  double rel_gain_ = 1.0;
  std::vector<double> box_;
  std::size_t box_pos_ = 0;
  double box_sum_ = 0.0;
  std::vector<float> delay_;  // channels_ interleaved, latency_ + 1 frames
  std::size_t delay_pos_ = 0;
  double gain_ = 1.0;
};

}  // namespace tl::dsp
