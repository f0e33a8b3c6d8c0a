#pragma once
//! What a cutting engineer checks in a vinyl pre-master before the lacquer is cut, read
//! from the master as written: out-of-phase low end (it cuts as vertical groove motion,
//! which can throw the stylus out of the groove; lathes refuse or sum it), inter-sample
//! peaks near the ceiling (the cutter head follows the waveform between the samples, and
//! a bright overshoot is where the lathe's HF limiter acts or the lacquer distorts), and
//! the side's length (the longer a side, the narrower the groove pitch must be: level and
//! low end are what give). Each is a warning: nothing here changes the master.

#include <span>
#include <string>
#include <vector>

#include "tl/common/result.h"

namespace tl::mastering {

struct VinylChecks {
  //! The longest side cut at full level: about 22 minutes at 33 1/3 rpm on 12" (commonly
  //! given as 18-22; past that the level or the bass comes down).
  double side_minutes = 22.0;
  double phase_below_hz = 300.0;    //!< the low end whose phase is checked (LR4 low-pass)
  double min_correlation = -0.2;    //!< L/R correlation of that low end under this warns
  double phase_window_s = 0.5;      //!< over windows this long
  double low_end_floor_db = -40.0;  //!< a window whose low end is quieter (RMS, dBFS) is not judged
  double isp_margin_db = 1.0;       //!< a true peak this far over the samples warns (noisy music: 0.5-0.8)...
  double isp_near_ceiling_db = 6.0;  //!< ...when it is within this of the ceiling (or over it)
};

//! One finding, where in the file it is (from_s == to_s == 0: the whole file or side).
struct VinylWarning {
  std::string kind;  //!< "out-of-phase-low-end", "inter-sample-peaks", "side-length"
  std::string file;  //!< the file it is about (the first, for the side's length)
  std::string message;
  double from_s = 0.0, to_s = 0.0;
};

//! Reads the files (one side, in order; one file is a side of one) and returns what a
//! cutting engineer should hear about, in order of time within each file. ceiling_dbtp is
//! the master's; an error only when a file cannot be read.
Result<std::vector<VinylWarning>> check_for_vinyl(std::span<const std::string> side,
                                                  const VinylChecks& checks, double ceiling_dbtp);

//! "1:02.5": seconds as minutes and seconds to a tenth.
std::string clock_time(double seconds);

}  // namespace tl::mastering
