#pragma once
//! The tone stages of a master, in the order a mastering engineer runs them, before its
//! gain and true-peak limiter (master.h): a high-pass (rumble and subsonics out), mono bass
//! (the side below a frequency removed, for a record's groove), parametric EQ (shelves and
//! peaking bands), a de-esser (the sibilance band turned down when it is too loud),
//! multiband compression (Linkwitz-Riley bands that sum flat, one compressor each),
//! mid/side width and tape-style saturation (8x oversampled). Each stage is off unless set; with every stage
//! off the chain is an exact pass-through. The processors are dsp/'s, the same the live console runs.
//!
//! Set from options (parse_eq_band, parse_multiband, parse_deess...) or a preset file (preset_file.h).

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/dsp/biquad.h"
#include "tl/dsp/crossover.h"
#include "tl/dsp/deesser.h"
#include "tl/dsp/eq.h"
#include "tl/dsp/linear_phase.h"
#include "tl/dsp/saturation.h"

namespace tl::mastering {

//! A tone curve fitted by reference matching (reference_match.h): peaking sections at
//! the given centres, with gains for the mid and for the side apart. Runs first.
struct ToneCurve {
  std::vector<double> freq_hz, mid_db, side_db;  //!< one entry per section
  double q = 2.0;                                //!< every section's Q

  static constexpr std::size_t kMaxSections = 32;
};

struct ChainSettings {
  double highpass_hz = 0.0;                         //!< 0: none; else 24 dB/oct Butterworth, -3 dB there
  double mono_bass_hz = 0.0;                        //!< 0: none; else the side under it removed (LR4)
  std::optional<ToneCurve> tone;                    //!< none: no fitted curve
  std::vector<dsp::EqBandParams> eq;                //!< in order; empty: no EQ
  bool eq_linear = false;                           //!< the EQ as one linear-phase FIR
  std::optional<dsp::DeEsserParams> deess;          //!< none: no de-esser
  std::optional<dsp::MultibandParams> multiband;    //!< none: no multiband compression
  double width = 1.0;                               //!< side level: 0 mono, 1 as it is, up to 2
  std::optional<dsp::SaturationParams> saturation;  //!< none: no saturation

  static constexpr std::size_t kMaxEqBands = 8;
  static constexpr double kMaxWidth = 2.0;

  bool empty() const noexcept {
    return highpass_hz == 0.0 && mono_bass_hz == 0.0 && !tone && eq.empty() && !deess && !multiband &&
           width == 1.0 && !saturation;
  }
  //! One line for the report ("eq 3 bands, multiband 3 bands, width 1.20"; "none").
  std::string describe() const;
};

//! An EQ band from "TYPE:FREQ:GAIN[:Q]": TYPE low-shelf, peak or high-shelf; FREQ in Hz
//! (a k multiplies by 1000: 2.5k); GAIN in dB; Q (peak) or slope (shelves), 0.1..10,
//! 0.707 when left out.
Result<dsp::EqBandParams> parse_eq_band(std::string_view spec);

//! Multiband compression from "THRESHOLD[:RATIO[:SPLIT,SPLIT...]]": every band's
//! threshold (dBFS) and ratio (2 when left out), the splits in Hz (120,2000 when left
//! out: three bands). Attack and release per band follow its frequencies (slower low).
Result<dsp::MultibandParams> parse_multiband(std::string_view spec);

//! A multiband band's compressor: threshold and ratio, a 6 dB knee, and attack and
//! release that follow the band's lowest frequency low_hz (slower low: a fast one follows
//! a bass note's waveform and distorts it).
dsp::CompressorParams band_compressor(double threshold_db, double ratio, double low_hz);

//! Saturation from "DRIVE[:MIX[:BIAS]]": drive in dB (0..24), the wet share (0..1, 1
//! when left out), the asymmetry (0..0.3, 0 when left out: odd harmonics only).
Result<dsp::SaturationParams> parse_saturation(std::string_view spec);

//! A de-esser from "THRESHOLD[:RATIO[:RANGE]]": the threshold in dBFS of the band's level
//! where the chain runs (before the master's gain; a full-scale sine reads 0), the ratio
//! (4 when left out) and the most it cuts in dB (6 when left out), on 5-10 kHz.
Result<dsp::DeEsserParams> parse_deess(std::string_view spec);

//! Whether the settings can run at rate: frequencies under 0.45 of it, splits ascending
//! and an octave apart, width within 0..2, a high-pass at 10..200 Hz, mono bass at
//! 20..500 Hz, a de-esser's threshold at -60..0 dBFS. The error says which value and why.
Status check(const ChainSettings& settings, double rate);

//! The stages, run over interleaved blocks (mono or stereo) in place. High-pass, mono
//! bass, the tone curve, EQ, de-esser, multiband and width are minimum phase with no delay
//! (mono bass: the mid goes through the crossover's allpass too, so mid and side stay in
//! phase; a mono input has no side and skips it); saturation's oversampling filters are
//! linear phase and delay the whole signal by latency() frames (what a caller takes back
//! out), as does the EQ when eq_linear asks for it as one linear-phase FIR
//! (dsp/linear_phase.h: the bands' magnitude, no phase shift, about 0.3 s of delay).
class Chain {
 public:
  //! May allocate; settings must have passed check().
  void prepare(double rate, std::size_t channels, std::size_t max_block, const ChainSettings& settings);
  //! frames <= max_block. Never allocates.
  void process(std::span<float> interleaved, std::size_t frames) noexcept;
  bool empty() const noexcept { return settings_.empty(); }
  //! Frames the output lags the input: the saturator's filters and a linear-phase EQ's
  //! (0 without either).
  std::size_t latency() const noexcept {
    return (settings_.saturation ? saturator_.latency() : 0) + (linear_eq_ ? fir_.latency() : 0);
  }

 private:
  void to_mid_side(std::size_t frames) noexcept;    // (l, r) -> ((l + r) / 2, (l - r) / 2)
  void from_mid_side(std::size_t frames) noexcept;  // (m, s) -> (m + s, m - s)
  ChainSettings settings_;
  std::size_t channels_ = 2;
  dsp::PassFilter highpass_[2];
  dsp::Crossover mono_bass_;  // channel 0 splits the mid, 1 the side
  dsp::DeEsser deesser_;
  std::vector<dsp::Biquad> tone_[2];  // mid, side
  std::vector<dsp::EqBand> eq_[2];
  bool linear_eq_ = false;  // the bands run as fir_
  dsp::LinearPhaseFir fir_;
  dsp::MultibandCompressor multiband_;
  dsp::Saturator saturator_;
  std::vector<float> planar_[2];
  std::vector<float> bands_[4];  // mono bass: mid low, mid high, side low, side high
};

}  // namespace tl::mastering
