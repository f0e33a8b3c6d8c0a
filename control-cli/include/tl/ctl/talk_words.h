#pragma once
//! tlctl talk's words: the request from the command line, and the mixer's answer as text.
//! Pure functions: no I/O.

#include <optional>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"

namespace tl::ctl {

//! tlctl talk [TO... | off] [--source SOURCE] [--level DB] [--dim DB]: nothing asks who
//! talks; "off" stops SOURCE (no --source: every voice); node names and "monitor" are where
//! SOURCE talks (it must be given: NODE/CH, device or file:PATH). The levels are checked
//! against the ranges the mixer checks.
Result<tl::proto::TalkRequest> parse_talk(const std::vector<std::string>& words, const std::string& source,
                                          std::optional<double> level_db, std::optional<double> dim_db);

//! "singer/1 talks to booth, monitor at +0.0 dB, the programme -20.0 dB under it, 2.1 s", a
//! line per voice; "nobody talks" without one.
std::string format_talk(const tl::proto::TalkState& s);

}  // namespace tl::ctl
