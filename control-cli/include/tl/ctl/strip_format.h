#pragma once
//! tlctl's channel-strip, master and meters commands: argument parsing ("eq 2 freq=2.5k
//! gain=-3"), the SetStrip request, and the text shown for StripState and meters.

#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"

namespace tl::ctl {

//! Parses "SECTION [BAND] [VALUE] [on|off] [key=value ...]" for `tlctl strip TARGET ...`
//! (master = false) or `tlctl master ...` (master = true) into a SetStrip (target left empty).
//! Frequencies take a k suffix (2.5k), times an optional ms suffix, detect=peak|rms,
//! type=low-shelf|peak|high-shelf. Errors name the unknown key or the allowed range.
//! What a strip command acts on: a channel strip, the master chain, or a bus (bus1-8, fx1-2).
enum class StripKind { Channel, Master, Bus };
Result<tl::proto::SetStrip> parse_strip_args(const std::vector<std::string>& words, StripKind kind);

//! Every parameter of a strip (or the master chain), one section per line.
std::string format_strip_state(const tl::proto::StripState& state);

//! One refresh of the meters view: a line per channel (peak, rms, gain reduction) and the master meters.
std::string format_meters(const tl::proto::NodeList& nodes, const tl::proto::MixerStatus& status);

//! The answer to scene save, recall or list.
std::string format_scene_reply(const tl::proto::SceneReply& reply);

}  // namespace tl::ctl
