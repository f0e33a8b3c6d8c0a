#pragma once
//! A node's measured round trip (tl-capture --calibrate), kept per node name and used
//! from then on to place its overdubs: the frames from a sample leaving its interface's
//! output to the same sample coming back in at its input.
//!
//! One small JSON file (default_calibration_file): node, sample_rate,
//! round_trip_frames, round_trip_ms, measured (what was measured: the source), at
//! (UTC). A file for another rate is not used (the round trip differs by rate).

#include <cstdint>
#include <string>

#include "tl/common/result.h"

namespace tl::capture {

struct Calibration {
  std::string node;
  std::uint32_t sample_rate = 0;
  std::int64_t round_trip_frames = 0;
  std::string measured;  //!< the source it was measured with ("cue-loop:7.3", "device:...")
  std::string at;        //!< when, UTC (ISO 8601)
};

//! Writes the file (and its folder), whole or not at all.
Status write_calibration(const std::string& path, const Calibration& c);
//! The file's calibration; an error says whether it is missing or what is wrong with it.
Result<Calibration> read_calibration(const std::string& path);

}  // namespace tl::capture
