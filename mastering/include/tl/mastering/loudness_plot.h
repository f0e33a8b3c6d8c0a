#pragma once
//! A picture of a file over time (PNG, drawn with PLplot's cairo driver): above, the
//! waveform of the input and of the master (each 100 ms's peak); below, the master's
//! short-term (3 s) and momentary (400 ms) loudness, the input's short-term loudness
//! beside it, and the target as a line. What an engineer looks at to see where a master
//! was pushed, where it breathes, and how it compares with what came in.
//!
//! PLplot keeps global state: draw from one thread at a time.

#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/mastering/analysis.h"

namespace tl::mastering {

struct LoudnessPlot {
  std::string title;
  std::vector<LoudnessPoint> input;   //!< grey (empty: not drawn)
  std::vector<LoudnessPoint> output;  //!< blue, momentary in a lighter blue (empty: not drawn)
  std::string input_label = "input", output_label = "master";
  double target_lufs = 0.0;  //!< a dashed red line
  bool has_target = false;
  int width = 1200, height = 800;  //!< pixels
};

//! Writes the picture to path (.png). The error says why (a folder that is not there,
//! a file that cannot be written, nothing to draw).
Status plot_loudness(const std::string& path, const LoudnessPlot& plot);

}  // namespace tl::mastering
