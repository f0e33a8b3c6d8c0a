#pragma once
//! True-peak estimation by 4x oversampling (polyphase windowed-sinc interpolator), and a
//! true-peak meter built on it (ITU-R BS.1770-4 Annex 2 style).

#include <array>
#include <cmath>
#include <cstddef>
#include <span>

namespace tl::dsp {

//! Streaming 4x interpolator. push(x) returns nothing; the four values at positions
//! m, m+1/4, m+2/4, m+3/4 for m = (samples pushed) - 1 - kDelay are then in phases().
//! Phase 0 is exactly the input sample (the sinc passes through its zero crossings).
class Oversampler4x {
 public:
  static constexpr int kTapsPerPhase = 16;
  static constexpr int kDelay = kTapsPerPhase / 2;  //!< latency in input samples

  Oversampler4x() noexcept;
  void reset() noexcept {
    hist_.fill(0.0f);
    pos_ = 0;
  }
  //! Pushes one input sample and computes the 4 interpolated outputs.
  void push(float x) noexcept {
    push_history(x);
    compute();
  }
  //! Pushes one input sample without computing its outputs (phases() is then stale until
  //! compute()): for runs whose true peak is known to be small (see gain_bound()).
  void push_history(float x) noexcept {
    hist_[pos_] = x;
    hist_[pos_ + kTapsPerPhase] = x;
    pos_ = (pos_ + 1) % kTapsPerPhase;
  }
  //! The largest |sample| the interpolator holds (the span of its outputs).
  float history_peak() const noexcept {
    float m = 0.0f;
    for (std::size_t k = 0; k < kTapsPerPhase; ++k) {
      const float a = std::fabs(hist_[k]);
      m = a > m ? a : m;
    }
    return m;
  }
  //! No output exceeds this times the largest |sample| in its span (the largest sum of
  //! |taps| of a phase): a bound that needs no interpolation.
  float gain_bound() const noexcept { return gain_bound_; }
  //! The 4 outputs for the last sample pushed.
  void compute() noexcept {
    const float* h = &hist_[pos_];  // oldest .. newest, contiguous
    // The phases side by side, one vector lane each (lane 0's taps are 0), summed in four
    // interleaved partial sums: a chain of 4 dependent adds instead of 16 (the sum per
    // phase in one chain waited on each add's latency).
    Lanes acc[4] = {};
    for (std::size_t k = 0; k < kTapsPerPhase; k += 4) {
      for (std::size_t j = 0; j < 4; ++j) acc[j] += taps_[k + j] * h[k + j];
    }
    const Lanes sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    out_ = {h[kTapsPerPhase - 1 - kDelay], sum[1], sum[2], sum[3]};
  }
  //! Largest |value| among the 4 current phases.
  float max_abs() const noexcept {
    // Compares, not std::fmax: that is a libm call per sample unless NaN can be ruled out.
    const float a = std::fabs(out_[0]), b = std::fabs(out_[1]), c = std::fabs(out_[2]),
                d = std::fabs(out_[3]);
    const float ab = a > b ? a : b, cd = c > d ? c : d;
    return ab > cd ? ab : cd;
  }
  const std::array<float, 4>& phases() const noexcept { return out_; }

 private:
  //! Four floats as one SSE/NEON register (GCC and Clang's vector extension).
  using Lanes = float __attribute__((vector_size(16)));
  std::array<Lanes, kTapsPerPhase> taps_{};  // [tap][phase]
  std::array<float, 2 * kTapsPerPhase> hist_{};
  std::array<float, 4> out_{};
  std::size_t pos_ = 0;
  float gain_bound_ = 1.0f;
};

//! Holds the highest true peak seen since the last reset, for one channel.
class TruePeakMeter {
 public:
  void process(std::span<const float> block) noexcept {
    float pk = peak_;
    for (const float v : block) {
      os_.push(v);
      const float m = os_.max_abs();
      pk = m > pk ? m : pk;
    }
    peak_ = pk;
  }
  //! Flushes the interpolator's latency with silence so the last samples are measured.
  void flush() noexcept {
    for (int i = 0; i < Oversampler4x::kDelay + 1; ++i) {
      os_.push(0.0f);
      const float m = os_.max_abs();
      peak_ = m > peak_ ? m : peak_;
    }
  }
  //! Linear true peak.
  float peak() const noexcept { return peak_; }
  //! True peak in dBTP (-150 for silence).
  double peak_dbtp() const noexcept {
    return peak_ > 0.0f ? 20.0 * std::log10(static_cast<double>(peak_)) : -150.0;
  }
  //! Resets the held peak (keeps the signal history, so a level read between blocks is seamless).
  void reset_peak() noexcept { peak_ = 0.0f; }
  void reset() noexcept {
    os_.reset();
    peak_ = 0.0f;
  }

 private:
  Oversampler4x os_;
  float peak_ = 0.0f;
};

}  // namespace tl::dsp
