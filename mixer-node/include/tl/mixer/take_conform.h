#pragma once
//! The take's finishing step for one track: keep the raw file, write the
//! session-aligned one.
//!
//! <take>/<file> (as recorded: the node's exact samples at its media times) moves
//! to <take>/raw/<file>; <take>/<file> is rewritten by tl::dsp::conform from the
//! node's timestamp map. Under one sample of drift over the take that is a plain,
//! bit-exact copy.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "tl/common/result.h"
#include "tl/dsp/conform.h"
#include "tl/mixer/track_writer.h"

namespace tl::mixer {

struct ConformOutcome {
  bool resampled = false;
  double drift_samples = 0.0;
  double shift = 0.0;  // samples the track moved from its packets' stamps (see dsp::ConformResult)
};

Result<ConformOutcome> conform_track_file(const std::filesystem::path& take_dir, const std::string& file,
                                          std::span<const dsp::ConformAnchor> anchors, std::int64_t frames,
                                          const TrackFileInfo& info);

}  // namespace tl::mixer
