#pragma once
//! Reference matching: a master made to sound like one or more reference recordings in
//! four aspects, each with its own amount (0 leaves it, 1 matches it):
//!   level    the integrated loudness (BS.1770), not RMS: the master's target;
//!   tone     the smoothed long-term spectrum (third-octave bands, spectrum.h), mid and side
//!            apart: an EQ curve of peaking sections fitted to the difference, each band's
//!            change limited to +-kMaxToneDb;
//!   width    the side's level against the mid's;
//!   limiter  how dense the reference is (its peak-to-loudness ratio): the limiter's
//!            ceiling lowered so the master's PLR is the reference's (never raised over the
//!            delivery's ceiling).
//! The references are averaged: their loudness and PLR as means, their spectra as the mean
//! of their shapes. What was changed is kept in the plan, for the report and the picture.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/mastering/analysis.h"
#include "tl/mastering/master.h"
#include "tl/mastering/spectrum.h"

namespace tl::mastering {

struct MatchAmounts {
  double level = 1.0, tone = 1.0, width = 1.0, limiter = 1.0;  //!< 0..1 each
};

//! "ASPECT[:PERCENT],..." (aspects level, tone, width, limiter; 100 when left out): the
//! aspects named are matched by their amounts, the others not at all. "tone" alone matches
//! only the tone.
Result<MatchAmounts> parse_match(std::string_view spec);

inline constexpr double kMaxToneDb = 12.0;

//! One recording's figures for matching.
struct Recording {
  std::string path;
  LoudnessFigures loudness;
  Spectrum spectrum;
};

//! Measures a file for matching: its loudness and its spectrum, read once.
Result<Recording> measure_recording(const std::string& path, const Progress& progress = {});

struct MatchPlan {
  MatchAmounts amounts;
  std::vector<std::string> references;
  double reference_lufs = 0.0, reference_plr_db = 0.0, reference_side_to_mid_db = 0.0;
  double input_lufs = 0.0, input_side_to_mid_db = 0.0;
  bool stereo = true;
  //! Tone shapes (tone_shape(): dB, mean taken out, smoothed), per band.
  std::array<double, kSpectrumBands> reference_mid{}, reference_side{}, input_mid{}, input_side{};
  //! The change the fit aimed for, and the fitted curve's own effect on the input (what the
  //! input's band levels become through it), per band.
  std::array<double, kSpectrumBands> wanted_mid{}, wanted_side{}, fitted_mid{}, fitted_side{};
  ToneCurve curve;           //!< the sections (empty with tone at 0)
  double width = 1.0;        //!< the side's gain after the curve
  double target_lufs = 0.0;  //!< the master's target
  double ceiling_dbtp = 0.0;
};

//! Works out the match of input to the references for a master that would otherwise aim
//! at settings' target and ceiling. The input and references may differ in rate; the
//! curve is for the input's rate.
Result<MatchPlan> plan_match(const Recording& input, const std::vector<Recording>& references,
                             const MatchAmounts& amounts, const MasterSettings& settings);

//! The plan put into settings: the curve first in the chain, the width, target and ceiling.
void apply(const MatchPlan& plan, MasterSettings& settings);

//! How close a master came: the largest difference, over 63 Hz .. 12.5 kHz, between its
//! tone shape and the references' (mid, and side when stereo), dB.
struct MatchResult {
  std::array<double, kSpectrumBands> output_mid{}, output_side{};
  double worst_mid_db = 0.0, worst_side_db = 0.0;
  double output_side_to_mid_db = 0.0;
};
MatchResult judge(const MatchPlan& plan, const Spectrum& output);

//! The plan in a few lines for the report.
std::string describe(const MatchPlan& plan);

}  // namespace tl::mastering
