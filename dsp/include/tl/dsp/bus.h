#pragma once
//! Stereo buses: group/effect-return bus (EQ, linked compressor, fader, mute) and the master
//! chain (bus processing followed by the true-peak limiter, with true-peak and loudness meters).

#include <cstddef>
#include <span>
#include <vector>

#include "tl/dsp/dynamics.h"
#include "tl/dsp/eq.h"
#include "tl/dsp/limiter.h"
#include "tl/dsp/loudness.h"
#include "tl/dsp/pan.h"
#include "tl/dsp/process_spec.h"
#include "tl/dsp/smoother.h"
#include "tl/dsp/true_peak.h"

namespace tl::dsp {

//! Adds gain * src into dst (dst.size() <= src.size()).
inline void mix_into(std::span<float> dst, std::span<const float> src, float gain = 1.0f) noexcept {
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i] += gain * src[i];
}

struct BusParams {
  EqParams eq{};  //!< all bands 0 dB: pass-through
  bool comp_on = false;
  CompressorParams comp{};
  float fader_db = 0.0f;
  bool mute = false;
};

//! Stereo bus processing, in place. prepare() allocates; set_params() and process() are
//! real-time safe. Compressor on/off cross-fades over 20 ms.
class StereoBus {
 public:
  //! Stereo (spec.channels is not read); blocks passed to process() must not exceed
  //! spec.max_block frames.
  void prepare(const ProcessSpec& spec, const BusParams& p = {});
  void set_params(const BusParams& p) noexcept;
  const BusParams& params() const noexcept { return p_; }
  void process(std::span<float> left, std::span<float> right) noexcept;
  float comp_gain_reduction_db() const noexcept { return comp_.gain_reduction_db(); }

 private:
  BusParams p_{};
  Equalizer eq_l_, eq_r_;
  Compressor comp_;
  LinearSmoother fader_, comp_wet_;
  std::vector<float> dry_l_, dry_r_;
};

struct MasterParams {
  BusParams bus{};
  LimiterParams limiter{};
  bool limiter_on = true;
};

//! Master chain: StereoBus then TruePeakLimiter; meters the output (true peak, loudness).
class MasterChain {
 public:
  //! Stereo (spec.channels is not read). Allocates (limiter delay lines, loudness histogram).
  void prepare(const ProcessSpec& spec, const MasterParams& p = {});
  void set_params(const MasterParams& p) noexcept;
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! Input-to-output delay in samples (the limiter's look-ahead, also when it is off).
  std::size_t latency() const noexcept { return limiter_.latency(); }
  const LoudnessMeter& loudness() const noexcept { return loudness_; }
  LoudnessMeter& loudness() noexcept { return loudness_; }
  TruePeakMeter& true_peak(std::size_t ch) noexcept { return tp_[ch & 1]; }
  float limiter_gain_reduction_db() const noexcept { return limiter_.gain_reduction_db(); }
  //! The bus (glue) compressor's gain reduction now (dB, <= 0).
  float comp_gain_reduction_db() const noexcept { return bus_.comp_gain_reduction_db(); }

 private:
  MasterParams p_{};
  StereoBus bus_;
  TruePeakLimiter limiter_;
  std::array<TruePeakMeter, 2> tp_{};
  LoudnessMeter loudness_;
};

}  // namespace tl::dsp
