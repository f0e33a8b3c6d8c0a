#pragma once
//! A split-band de-esser: the sibilance band (5-10 kHz by default) is turned down when
//! its level rises above a threshold, and only then; the rest of the spectrum is left
//! alone.
//!
//! Value type like every tl::dsp processor: prepare() once, set_params() between blocks,
//! process() in real time (no allocation, no locks, no logging).

#include <array>
#include <cstddef>
#include <span>

#include "tl/dsp/biquad.h"
#include "tl/dsp/process_spec.h"

namespace tl::dsp {

struct DeEsserParams {
  float threshold_db = -20.0f;  //!< band level (dBFS, a full-scale sine reads 0) where it starts
  float ratio = 4.0f;           //!< 1..20 (clamped) above the threshold
  float range_db = 6.0f;        //!< 0..24 (clamped): the most the band is turned down
  float low_hz = 5000.0f;       //!< the band's lower edge (-3 dB)
  float high_hz = 10000.0f;     //!< its upper edge; both kept within [1 kHz, 0.45 fs]
  float attack_ms = 1.0f;       //!< the detector's rise time constant
  float release_ms = 60.0f;     //!< its fall time constant
};

//! The band is a 2nd-order band-pass B (0 dB at its centre, sqrt(low x high), about
//! -3 dB at the edges) and the output is x - (1 - g) B(x) with g the band's gain: at g = 1 the
//! input exactly (no phase change, no latency), at g < 1 a cut centred on the band that
//! leaves frequencies an octave or more away within a fraction of a dB. The detector is
//! the band's square averaged over 2 ms, then followed with attack and release, read so a sine of amplitude
//! A is 20 log10 A; stereo-linked: one gain, from the louder channel, for both.
class DeEsser {
 public:
  static constexpr std::size_t kMaxChannels = 2;

  //! spec.channels is not read (mono or stereo by the process() overload). Clears the state.
  void prepare(const ProcessSpec& spec, const DeEsserParams& p) noexcept;
  //! New threshold, ratio, range and times; the band's edges too (the filter state is kept).
  void set_params(const DeEsserParams& p) noexcept;
  const DeEsserParams& params() const noexcept { return p_; }
  void reset() noexcept;

  //! In place.
  void process(std::span<float> mono) noexcept;
  //! In place, min(left.size(), right.size()) frames, one gain for both channels.
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! The band's gain now, dB (<= 0).
  float gain_reduction_db() const noexcept { return static_cast<float>(gr_db_); }
  //! The most reduction since the last reset(), dB (<= 0).
  float max_reduction_db() const noexcept { return static_cast<float>(max_gr_db_); }
  //! The band filter's coefficients (for tests against theory).
  const BiquadCoeffs& band() const noexcept { return band_[0].coeffs(); }
  //! Gain (dB, <= 0) the static curve gives a steady band level (dBFS).
  static double static_gain_db(const DeEsserParams& p, double level_db) noexcept;

 private:
  template <std::size_t N>
  void run(std::array<std::span<float>, N> io) noexcept;

  double fs_ = 48000.0;
  DeEsserParams p_{};
  std::array<Biquad, kMaxChannels> band_{};
  static constexpr double kAverageMs = 2.0;
  double avg_ = 0.0, att_ = 0.0, rel_ = 0.0;  // one-pole coefficients of the detector
  double threshold_sq_ = 0.0;                 // the threshold as a detector value (below it: no log, no cut)
  double avg_ms_ = 0.0;                       // the band's square averaged (the louder channel)
  double ms_ = 0.0;                           // ...followed with attack and release
  double gr_db_ = 0.0, max_gr_db_ = 0.0;
};

}  // namespace tl::dsp
