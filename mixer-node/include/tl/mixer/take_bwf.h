#pragma once
//! A take's files on the transport timeline, as a DAW reads them: each file's BWF time
//! reference (bext) is where its first frame lies on the song's timeline, so importing
//! the files "at their time stamp" lines them up with each other and with the backing.
//!
//! The song's start is placed at one hour (the broadcast habit of a programme starting at
//! 01:00:00:00): a take begins before the song's start whenever it was started before the
//! transport played, and a time reference cannot be negative. A DAW session that starts at
//! 01:00:00:00 shows song position 0 at its start. A take with no transport keeps its
//! session sample, as written when it began.

#include <cstdint>
#include <filesystem>

#include "tl/common/result.h"
#include "tl/mixer/take_manifest.h"

namespace tl::mixer {

inline constexpr std::int64_t kBwfSongStartSeconds = 3600;

//! The BWF time reference of timeline position `timeline` at `rate`.
inline std::uint64_t bwf_time_reference(std::int64_t timeline, std::uint32_t rate) {
  const std::int64_t at = kBwfSongStartSeconds * static_cast<std::int64_t>(rate) + timeline;
  return at < 0 ? 0u : static_cast<std::uint64_t>(at);
}

//! Sets the time reference of every file of a closed take that has a timeline_sample
//! (mix.wav, the session-aligned tracks, and a raw/ file by its raw_timeline_sample),
//! in place. Call it once every file is closed and written. An error names each file
//! it could not set (the others are set).
Status stamp_timeline(const std::filesystem::path& take_dir, const TakeManifest& manifest);

}  // namespace tl::mixer
