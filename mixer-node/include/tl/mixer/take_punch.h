#pragma once
//! Punch in / punch out: the passes of a take through its armed range, and each pass's
//! files (see TakePunch in take_manifest.h for what a take folder holds).
//!
//! The take records every input whole, as any take (spools, backfill and the conform
//! work on the whole track); the punch is cut from the session-aligned tracks once they
//! are written, on the conformer's thread.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/mixer/take_automation.h"
#include "tl/mixer/take_manifest.h"

namespace tl::mixer {

//! The crossfade at each edge of a punch: long enough that a cut through a sustained note
//! does not click, short enough to stay inside a breath.
inline constexpr double kPunchFadeSeconds = 0.010;

//! Passes a take keeps at most (a loop of a quarter second over an hour would make 14400).
inline constexpr std::size_t kMaxPunchPasses = 999;

//! Every time the transport played through timeline `from` between session samples
//! [take_start, take_stop), a loop's every lap included: a pass, numbered from 1, running
//! to `to` or to where the transport stopped, located, looped back or the take ended (then
//! not complete).
std::vector<TakePunch::Pass> find_punch_passes(const TakeAutomation& automation, MediaTime take_start,
                                               MediaTime take_stop, std::int64_t from, std::int64_t to);

//! Writes punch-N/<file> for each pass and each armed node track of a closed take whose
//! session-aligned files are written: timeline [from - fade, to + fade) of the track, the
//! fades outside the range, the rest of a pass cut short silent; its BWF time reference is
//! the timeline position of its first frame (see take_bwf.h). Fills each pass's files and clears pending;
//! a track that cannot be cut is left out (the others written) and named in the error. A
//! track with no timeline placement has no punch.
Status write_punch_files(const std::filesystem::path& take_dir, TakeManifest& manifest);

}  // namespace tl::mixer
