#pragma once
//! `timeline` in a node's spool folder: the timeline the node last streamed on (its
//! node-to-session clock map and the session it belongs to), kept every few seconds
//! while it streams with a locked clock. A node started again while its mixer is away
//! reads it and goes on spooling on that timeline (Sender::resume_timeline), so a take
//! the restarted mixer resumes can fetch what was captured before it answered.
//!
//! The map is in the node's monotonic clock, which only holds within one boot: a file
//! from another boot, or older than the caller allows, is not used.

#include <cstdint>
#include <optional>
#include <string>

#include "tl/capture/sender.h"
#include "tl/common/result.h"

namespace tl::capture {

//! The memo in spool_dir when it was written on this boot at most max_age_ns before
//! now_ns (node clock); otherwise an error saying why not (missing, another boot, too old,
//! not readable).
Result<Sender::TimelineMemo> read_timeline_memo(const std::string& spool_dir, std::int64_t now_ns,
                                                std::int64_t max_age_ns);
//! Writes it (replacing the last by a rename, so a crash leaves one whole file).
Status write_timeline_memo(const std::string& spool_dir, const Sender::TimelineMemo& memo,
                           std::int64_t now_ns);

}  // namespace tl::capture
