#pragma once
//! A picture of reference matching (PNG, PLplot's cairo driver): above, the tone shapes
//! (third-octave, smoothed, level taken out: spectrum.h) of the input, the references and
//! the master, mid only; below, the curve fitted to match them, for the mid and the side.
//!
//! PLplot keeps global state: draw from one thread at a time.

#include <string>

#include "tl/common/result.h"
#include "tl/mastering/reference_match.h"
#include "tl/mastering/spectrum.h"

namespace tl::mastering {

struct SpectrumPlot {
  std::string title;
  const MatchPlan* plan = nullptr;      //!< the shapes and the fitted curve
  const MatchResult* result = nullptr;  //!< the master's shape (null: not drawn)
  int width = 1200, height = 800;       //!< pixels
};

//! Writes the picture to path (.png). The error says why.
Status plot_spectra(const std::string& path, const SpectrumPlot& plot);

//! A picture of what mastering did to the tone, with no reference: above, the input's and
//! the master's third-octave levels (dB, a full-scale sine 0 dB), mid and side; below,
//! the change band by band (master - input, the loudness gain included), mid and side.
struct ToneChangePlot {
  std::string title;
  const Spectrum* input = nullptr;
  const Spectrum* master = nullptr;
  int width = 1200, height = 800;  //!< pixels
};

Status plot_tone_change(const std::string& path, const ToneChangePlot& plot);

}  // namespace tl::mastering
