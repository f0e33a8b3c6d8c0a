#pragma once
//! Conform: turns a node's raw track (its exact samples, at its own clock) into a
//! track on the session timeline, given where its samples fell on that timeline.
//!
//! The raw track is never touched. A timestamp map (anchors: node sample index ->
//! session sample position, piecewise linear between anchors) says where each raw
//! sample belongs. When the drift over the take (how far the map's shift moves)
//! stays under one sample, the conformed track is a plain copy of the raw samples
//! at the nearest whole shift (bit-exact); otherwise every session sample is
//! interpolated from the raw ones with a windowed-sinc kernel (offline, high
//! quality: about -100 dB of error on a 1 kHz tone).
//!
//! Pure computation for the recorder's finishing step: allocates, no real-time use.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tl::dsp {

struct ConformAnchor {
  double node_index = 0.0;   //! sample index in the raw track
  double session_pos = 0.0;  //! session sample position where that sample belongs
  bool operator==(const ConformAnchor&) const = default;
};

struct ConformResult {
  std::vector<float> samples;  //! session positions [start, start + frames)
  bool copied = false;         //! true: a whole-sample shift of the raw samples
  double drift_samples = 0.0;  //! how far the map's shift moves over the take (samples)
  double shift = 0.0;          //! the map's middle shift (session position - raw index);
                               //! for a copy, the whole-sample shift it used
};

//! What conform() will do for this map, without the samples: whether it copies, the
//! drift and the shift (samples left empty). A copy with shift 0 is the raw track itself.
ConformResult plan_conform(std::span<const ConformAnchor> anchors, std::int64_t start, std::size_t frames);

//! Raw indices [first, last): what conform_into() reads for session positions
//! [start, start + frames) under a plan.
struct RawRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
};
RawRange raw_needed(std::span<const ConformAnchor> anchors, const ConformResult& plan, std::int64_t start,
                    std::size_t frames);

//! A stretch of a planned conform (plan: plan_conform() over the whole take), so a long
//! track is conformed a stretch at a time in bounded memory: session positions
//! [start, start + out.size()) from raw samples of which raw[0] is raw index raw_first
//! (what raw_needed() names; indices outside read as silence). Stretch by stretch it
//! gives the same samples, bit for bit, as conform() over the whole.
void conform_into(std::span<const float> raw, std::int64_t raw_first, std::span<const ConformAnchor> anchors,
                  const ConformResult& plan, std::int64_t start, std::span<float> out);

//! Conforms raw to session positions [start, start + frames). anchors must be
//! sorted by node_index with increasing session_pos (at least one; with one, the
//! map is a pure shift). Session positions outside the raw track read as silence.
ConformResult conform(std::span<const float> raw, std::span<const ConformAnchor> anchors, std::int64_t start,
                      std::size_t frames);

}  // namespace tl::dsp
