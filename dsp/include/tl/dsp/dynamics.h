#pragma once
//! Dynamics processors: compressor and gate/expander. Value types; prepare() once,
//! set_params() between blocks, process() in real time (no allocation, no locks).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tl/dsp/biquad.h"
#include "tl/dsp/process_spec.h"

namespace tl::dsp {

enum class Detection { peak, rms };

struct CompressorParams {
  float threshold_db = -18.0f;
  float ratio = 4.0f;         //!< 1..20 (clamped); 1 = no compression
  float knee_db = 6.0f;       //!< soft-knee width; 0 = hard knee
  float attack_ms = 10.0f;    //!< time constant of gain reduction rising (63 %)
  float release_ms = 100.0f;  //!< peak: detector decay (8.69 dB per release_ms); rms: time constant
  float makeup_db = 0.0f;
  Detection detection = Detection::peak;
  float rms_window_ms = 10.0f;    //!< averaging time of the RMS detector
  float sidechain_hpf_hz = 0.0f;  //!< 0 = off; otherwise 12 dB/oct HPF on the detector path
};

//! Feed-forward compressor with the Giannoulis/Massberg/Reiss soft-knee gain computer.
//! The detector runs per sample; the gain is computed every 8 samples and interpolated.
class Compressor {
 public:
  //! Mono or stereo-linked by the process() overload called; spec.channels is not read.
  void prepare(const ProcessSpec& spec) noexcept;
  //! Applies new parameters; keeps the detector state (safe between blocks).
  void set_params(const CompressorParams& p) noexcept;
  const CompressorParams& params() const noexcept { return p_; }
  void reset() noexcept;

  //! In place; the signal is its own key.
  void process(std::span<float> block) noexcept;
  //! Stereo-linked, in place: one gain for both channels, keyed by the louder channel
  //! (peak) or the mean power of both (rms).
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! Output level (dB) of the static curve for an input level (dB), before make-up.
  static double static_curve_db(const CompressorParams& p, double in_db) noexcept {
    const double t = p.threshold_db, w = p.knee_db > 0.0f ? p.knee_db : 0.0;
    const double r = p.ratio < 1.0f ? 1.0 : (p.ratio > 20.0f ? 20.0 : static_cast<double>(p.ratio));
    const double d = in_db - t;
    if (2.0 * d < -w) return in_db;
    if (w > 0.0 && 2.0 * d <= w) {
      const double k = d + 0.5 * w;
      return in_db + (1.0 / r - 1.0) * k * k / (2.0 * w);
    }
    return t + d / r;
  }
  //! Current gain reduction in dB (<= 0), for metering.
  float gain_reduction_db() const noexcept { return static_cast<float>(gr_db_); }

 private:
  template <class Key, class Apply>
  void run(std::size_t n, Key&& key_sq, Apply&& apply) noexcept;
  //! static_curve_db(in) - in (<= 0): with u = clamp(d + W/2, 0, W), d = in - T, the reduction
  //! is (1/R - 1) (u^2 / 2W + max(0, d - W/2)); exactly 0 below the knee, and min/max only.
  double gain_computer_db(double in_db) const noexcept {
    const double d = in_db - gc_threshold_db_;
    double u = d + gc_half_knee_db_;
    u = u < 0.0 ? 0.0 : u;
    u = u > 2.0 * gc_half_knee_db_ ? 2.0 * gc_half_knee_db_ : u;
    const double above = d - gc_half_knee_db_;
    return gc_slope_ * (u * u * gc_inv_2knee_ + (above > 0.0 ? above : 0.0));
  }

  double fs_ = 48000.0;
  CompressorParams p_{};
  Biquad sc_hpf_, sc_hpf_r_;
  bool sc_on_ = false;
  static constexpr std::size_t kControl = 8;  // gain-computer interval (samples)
  double att_ = 1.0, rel_ = 1.0, rms_a_ = 1.0, peak_decay_ = 0.0;
  std::array<double, kControl + 1> att_k_{}, rel_k_{}, makeup_k_{}, decay_pow_{};
  double gain_ = 1.0;                          // linear gain at the end of the last chunk
  double makeup_ = 1.0, makeup_target_ = 1.0;  // make-up glides (~20 ms)
  // The gain computer's constants: static_curve_db(in) - in, without branches.
  double knee_lo_sq_ = 0.0;  // detector power at the knee's lower edge: below it, 0 dB exactly
  double gc_threshold_db_ = 0.0, gc_half_knee_db_ = 0.0, gc_inv_2knee_ = 0.0, gc_slope_ = 0.0;
  double peak_ = 0.0, ms_ = 0.0, level_db_ = -200.0, gr_db_ = 0.0;
};

struct GateParams {
  float threshold_db = -50.0f;
  float range_db = -80.0f;    //!< maximum attenuation (negative)
  float ratio = 100.0f;       //!< expander ratio below threshold; >= 50 acts as a gate
  float attack_ms = 0.5f;     //!< opening time constant
  float hold_ms = 20.0f;      //!< stays open this long after the level falls below threshold
  float release_ms = 100.0f;  //!< closing time constant
};

//! Downward expander / gate. Detector: peak held for max(hold, 10 ms), then 5 ms decay;
//! gain smoothed in dB with attack (opening) and release (closing) time constants.
class Gate {
 public:
  void prepare(const ProcessSpec& spec) noexcept;
  void set_params(const GateParams& p) noexcept;
  const GateParams& params() const noexcept { return p_; }
  void reset() noexcept;
  void process(std::span<float> block) noexcept;

  //! Static gain (dB, <= 0) for a steady input level (dB).
  static double static_gain_db(const GateParams& p, double in_db) noexcept;
  float gain_db() const noexcept { return static_cast<float>(gain_db_); }

 private:
  double fs_ = 48000.0;
  GateParams p_{};
  double att_ = 1.0, rel_ = 1.0, decay_ = 0.0, thr_amp_ = 0.0;
  std::int64_t hold_samples_ = 0, since_above_ = 0;  // since_above_: hold samples left
  double peak_ = 0.0, gain_db_ = 0.0;
};

}  // namespace tl::dsp
