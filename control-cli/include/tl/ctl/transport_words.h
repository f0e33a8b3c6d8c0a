#pragma once
//! The transport's and the backing tracks' words in tlctl: positions on the timeline as
//! the operator writes them, and the mixer's answers as text. Pure functions: no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"

namespace tl::ctl {

//! A timeline position: samples ("96000"), seconds ("2.5s"), minutes and seconds
//! ("1:30", "0:02.250"; hours too: "1:02:03.5"), or BAR.BEAT ("5.1", from 1.1). The mixer
//! turns seconds into samples at its rate, bars and beats at its tempo. Errors name what
//! was written and the forms that are understood.
Result<tl::proto::TimelinePosition> parse_position(std::string_view text);

//! "1:02.345" (minutes:seconds, milliseconds) of `samples` at `rate`; "-" without a rate.
std::string format_position(std::int64_t samples, std::uint32_t rate);

//! "playing at 0:12.345 (sample 592560)", the backing tracks and their underruns.
std::string format_transport(const tl::proto::TransportState& s);

//! tlctl tempo BPM [BEATS]: BPM 20-400 (a decimal), BEATS a bar 1-16 (default 4; "3/4"
//! is read as 3).
Result<tl::proto::TempoRequest> parse_tempo(const std::vector<std::string>& words);
//! tlctl click [on | off | level DB | count-in BARS]: nothing asks how it stands.
Result<tl::proto::ClickRequest> parse_click(const std::vector<std::string>& words);

//! tlctl record punch FROM TO [NODE...] | off: positions as parse_position reads them,
//! TO after FROM when both are in the same form (the mixer checks the rest), node names.
Result<tl::proto::TransportRequest> parse_punch(const std::vector<std::string>& words);
//! tlctl loop [FROM TO | off]: nothing asks how the transport stands.
Result<tl::proto::TransportRequest> parse_loop(const std::vector<std::string>& words);

//! The request's message, then a table NAME CH LENGTH AT RATE UNDERRUNS PATH.
std::string format_backing_list(const tl::proto::BackingList& list);

}  // namespace tl::ctl
