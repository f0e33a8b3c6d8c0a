#pragma once
//! The take's finishing step: keep each track's raw file, make the session-aligned
//! one (conform_take plans every node's tracks as the take closes; write_conformed_track
//! writes one, later, on the Conformer's thread).
//!
//! <take>/<file> (as recorded: the node's exact samples at its media times) moves
//! to <take>/raw/<file>; <take>/<file> is then written by tl::dsp::conform from the
//! node's timestamp map, a stretch at a time. Under one sample of drift over the take
//! that is a plain, bit-exact copy; one that moves nothing is raw/'s file itself (a
//! hard link), made at once.

#include <atomic>
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
  double shift = 0.0;    // samples the track moved from its packets' stamps (see dsp::ConformResult)
  bool linked = false;   // the track is raw/'s file itself (a copy that moved nothing): one file on disk
  bool pending = false;  // the session-aligned file is still to be written (write_conformed_track)
};

//! Session frames conformed at a time: memory stays bounded whatever the take's length.
inline constexpr std::uint32_t kConformStretch = 65536;

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

//! Moves <file> to raw/ and plans its conform: a plan that moves nothing links it back
//! at once (linked); any other leaves it pending for write_conformed_track.
Result<ConformOutcome> start_track_conform(const std::filesystem::path& take_dir, const std::string& file,
                                           std::span<const dsp::ConformAnchor> anchors, std::int64_t frames);

//! Writes <file> from raw/<file> by the map (aside as <file>.part, then renamed), a
//! stretch at a time. false: stop was set first (nothing is left behind).
Result<bool> write_conformed_track(const std::filesystem::path& take_dir, const std::string& file,
                                   std::span<const dsp::ConformAnchor> anchors, std::int64_t frames,
                                   const TrackFileInfo& info, const std::atomic<bool>* stop = nullptr);

//! Plans the conform of every node track of a closed take: each node's drift, measured
//! from its arrivals and checked against its own report, and its converged clock
//! estimates give the timestamp map (a plain copy when there is none). Records each
//! track's plan in take.conformed (pending, with its map, when a file is to be written);
//! a track that cannot be moved to raw/ stays as recorded (logged).
void conform_take(Take& take, std::int64_t length, NodeRegistry& registry, std::uint32_t sample_rate);

}  // namespace tl::mixer
