#pragma once
//! Offline re-render of a take: its tracks through the mix as it was, with every
//! change at the frame it was made.
//!
//! A take's automation.json holds the mix as the take began (a scene), each change
//! with the mix.wav frame it took effect from and its target's whole state after
//! it, and the live engine's block grid and master look-ahead. The render runs the
//! real MixEngine over the tracks on that grid: a node per track owner, its tracks
//! read as the node's FrameSource at their session positions (24-bit tracks give the
//! engine the very samples their packets did live; float tracks go in unquantised),
//! the backing tracks that played read again from their files where the take's
//! transport marks put them (automation.json transport, backing), the initial scene and every
//! change posted through the engine's command queue before the block it was applied
//! at. The same code as live, so the render of an unchanged take equals mix.wav to
//! float rounding, except where the live mix held something the tracks cannot give:
//! state from before the take (a reverb tail, a compressor's envelope settle within
//! its release) and concealed input (take.json mix.concealed).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tl/common/result.h"

namespace tl::mixer {

struct RenderOptions {
  std::filesystem::path take_dir;
  std::filesystem::path out;  //!< default: <take>/mix-render.wav
  //! Render from raw/ (each node's samples at its packets' stamps: what the live mix
  //! heard) instead of the conformed, session-aligned tracks.
  bool raw = false;
  //! The live mix exactly, including what it concealed: raw/ tracks, with the frames the
  //! live mix found missing (take.json live_concealed) left out, so the engine conceals
  //! them the same way. Implies raw.
  bool as_live = false;
  //! When set, only the tracks it accepts (node or backing track name, channel from 1) are
  //! heard; the rest play silence through their strips (a stem: part of the take through
  //! the whole mix).
  std::function<bool(const std::string& node, std::uint32_t channel)> include;
  //! Called about twice a second of work: seconds rendered, seconds in all.
  std::function<void(double done, double total)> progress;
};

struct RenderSummary {
  std::filesystem::path out;
  std::int64_t frames = 0;
  std::uint32_t sample_rate = 0;
  std::size_t tracks = 0;
  std::size_t silenced = 0;  //!< tracks `include` left out (played as silence)
  std::size_t changes = 0;   //!< automation changes applied
  std::size_t skipped = 0;   //!< scene or change targets with no track in the take
  //! Whose they were ("bed" for bed/1 and bed/2): nodes that recorded nothing, or backing
  //! tracks the render could not read.
  std::vector<std::string> skipped_owners;
  std::size_t backing = 0;  //!< backing tracks played from their files, where the take's transport put them
  //! Backing tracks of the take whose file cannot be read as it was: "name: why".
  std::vector<std::string> backing_unreadable;
  //! A backing track was added or removed during the take (its render cannot know when the
  //! live mix first heard it).
  bool backing_changed = false;
  std::size_t moved = 0;      //!< tracks the conform moved or resampled (rendered from the
                              //!< session-aligned tracks, they stand apart from the live mix)
  std::int64_t left_out = 0;  //!< --as-live: input frames left out, as the live mix missed them
  //! --as-live: tracks whose live audio the render cannot repeat exactly (an Opus node's
  //! decoded audio, a read through the varispeed, a concealment record cut short).
  std::vector<std::string> not_repeatable;
  double cpu_seconds = 0.0;
  float peak_dbfs = -150.0f;
  std::uint64_t clipped = 0;
};

Result<RenderSummary> render_take(const RenderOptions& options);

//! A track that ends before its take does (a file cut short, or copied in part): the
//! render plays silence after its end.
struct ShortTrack {
  std::string file;         //!< as the render reads it (raw/... for --raw and --as-live)
  std::int64_t frames = 0;  //!< its length
  std::int64_t take_frames = 0;
  std::uint32_t sample_rate = 0;
};

//! The tracks render_take(options) would read that are shorter than the take, in
//! take.json's order; an error when the take or a track cannot be read (render_take says
//! the same). Reads only the files' headers.
Result<std::vector<ShortTrack>> short_tracks(const RenderOptions& options);

//! How a render compares with the take's mix.wav, from `settle` frames on, leaving out
//! the frames take.json marks concealed in the live mix unless the render repeated them
//! (`include_concealed`, for --as-live). In 24-bit LSB.
struct MixComparison {
  std::int64_t compared = 0;
  std::int64_t skipped_concealed = 0;
  std::int64_t differing = 0;  //!< frames more than tolerance apart
  std::int64_t max_lsb = 0;
  std::int64_t first_differing = -1;  //!< mix.wav frame, -1: none
};
Result<MixComparison> compare_with_mix(const std::filesystem::path& take_dir,
                                       const std::filesystem::path& render, std::int64_t settle,
                                       std::int64_t tolerance_lsb, bool include_concealed = false);

}  // namespace tl::mixer
