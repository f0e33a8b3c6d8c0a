#pragma once
//! The take's finishing step: keep each track's raw file, write the session-aligned
//! one (conform_take, every node's tracks; conform_track_file, one track).
//!
//! <take>/<file> (as recorded: the node's exact samples at its media times) moves
//! to <take>/raw/<file>; <take>/<file> is rewritten by tl::dsp::conform from the
//! node's timestamp map. Under one sample of drift over the take that is a plain,
//! bit-exact copy.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tl/common/result.h"
#include "tl/dsp/conform.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/take.h"
#include "tl/mixer/track_writer.h"

namespace tl::mixer {

struct ConformOutcome {
  bool resampled = false;
  double drift_samples = 0.0;
  double shift = 0.0;   // samples the track moved from its packets' stamps (see dsp::ConformResult)
  bool linked = false;  // the track is raw/'s file itself (a copy that moved nothing): one file on disk
};

//! The node stamped each stretch of its audio from an early clock estimate; its later,
//! converged estimates (NodeReport anchors: media time, session position) say where
//! that audio belongs. Each stretch of the map (pairs of anchors: start, end; relative
//! to origin) is moved by the median disagreement of the anchors inside it, when at
//! least three fall inside. A plain copy then moves by the nearest whole sample: a node
//! whose first estimate was 0.6 samples off lands a sample away from its stamps (and
//! from the live mix, which played them; take.json says so in moved_samples), because
//! alignment across nodes is what the session-aligned tracks are for (left where the
//! stamps put it, such a node stood two samples from a resampled one in the alignment
//! test instead of one). A disagreement of half a second or more is another timeline,
//! not an estimate's error: ignored.
void place_by_node_anchors(std::vector<dsp::ConformAnchor>& map,
                           const std::vector<std::pair<MediaTime, double>>& reported, MediaTime origin,
                           std::uint32_t sample_rate);

Result<ConformOutcome> conform_track_file(const std::filesystem::path& take_dir, const std::string& file,
                                          std::span<const dsp::ConformAnchor> anchors, std::int64_t frames,
                                          const TrackFileInfo& info);

//! Conforms every node track of a closed take: each node's drift, measured from its
//! arrivals and checked against its own report, and its converged clock estimates give
//! the timestamp map (a plain copy when there is none). Records each track's outcome in
//! take.conformed; a track whose conform fails keeps its raw file (logged).
void conform_take(Take& take, std::int64_t length, NodeRegistry& registry, std::uint32_t sample_rate);

}  // namespace tl::mixer
