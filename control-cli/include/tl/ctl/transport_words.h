#pragma once
//! The transport's and the backing tracks' words in tlctl: positions on the timeline as
//! the operator writes them, and the mixer's answers as text. Pure functions: no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"

namespace tl::ctl {

//! A timeline position: samples ("96000"), seconds ("2.5s"), or minutes and seconds
//! ("1:30", "0:02.250"; hours too: "1:02:03.5"). The mixer turns seconds into samples at
//! its rate. Errors name what was written and the forms that are understood.
Result<tl::proto::TimelinePosition> parse_position(std::string_view text);

//! "1:02.345" (minutes:seconds, milliseconds) of `samples` at `rate`; "-" without a rate.
std::string format_position(std::int64_t samples, std::uint32_t rate);

//! "playing at 0:12.345 (sample 592560)", the backing tracks and their underruns.
std::string format_transport(const tl::proto::TransportState& s);

//! The request's message, then a table NAME CH LENGTH AT RATE UNDERRUNS PATH.
std::string format_backing_list(const tl::proto::BackingList& list);

}  // namespace tl::ctl
