#pragma once
//! A picture of reference matching (PNG, PLplot's cairo driver): above, the tone shapes
//! (third-octave, smoothed, level taken out: spectrum.h) of the input, the references and
//! the master, mid only; below, the curve fitted to match them, for the mid and the side.
//!
//! PLplot keeps global state: draw from one thread at a time.

#include <string>

#include "tl/common/result.h"
#include "tl/mastering/reference_match.h"

namespace tl::mastering {

struct SpectrumPlot {
  std::string title;
  const MatchPlan* plan = nullptr;      //!< the shapes and the fitted curve
  const MatchResult* result = nullptr;  //!< the master's shape (null: not drawn)
  int width = 1200, height = 800;       //!< pixels
};

//! Writes the picture to path (.png). The error says why.
Status plot_spectra(const std::string& path, const SpectrumPlot& plot);

}  // namespace tl::mastering
