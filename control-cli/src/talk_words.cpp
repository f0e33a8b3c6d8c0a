#include "tl/ctl/talk_words.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tl/protocol/names.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {

Result<tl::proto::TalkRequest> parse_talk(const std::vector<std::string>& words, const std::string& source,
                                          std::optional<double> level_db, std::optional<double> dim_db) {
  tl::proto::TalkRequest r;
  if (words.empty()) {
    if (!source.empty() || level_db || dim_db)
      return Error{"talk to whom? name nodes (their cue mixes) or monitor, or say talk off"};
    return r;  // STATUS
  }
  if (words.size() == 1 && words[0] == "off") {
    if (level_db || dim_db) return Error{"talk off takes no --level or --dim"};
    r.set_action(tl::proto::TalkRequest::OFF);
    r.set_source(source);
    return r;
  }
  for (const std::string& w : words) {
    if (w == "off") return Error{"talk off stands alone: talk off [--source SOURCE]"};
    if (w != "monitor" && !protocol::valid_node_name(w))
      return Error{fmt::format("'{}' is not a node name or monitor", w)};
    r.add_to(w);
  }
  if (source.empty()) return Error{"talk needs --source: NODE/CH (a node's channel), device or file:PATH"};
  r.set_action(tl::proto::TalkRequest::TALK);
  r.set_source(source);
  constexpr protocol::Range level = protocol::kTalkLevelDb, dim = protocol::kTalkDimDb;
  if (level_db) {
    if (!level.contains(*level_db))
      return Error{fmt::format("bad --level {:g}: {:g} to {:+g} dB", *level_db, level.lo, level.hi)};
    r.set_level_db(static_cast<float>(*level_db));
  }
  if (dim_db) {
    if (!dim.contains(*dim_db))
      return Error{fmt::format("bad --dim {:g}: {:g} to {:g} dB", *dim_db, dim.lo, dim.hi)};
    r.set_dim_db(static_cast<float>(*dim_db));
  }
  return r;
}

std::string format_talk(const tl::proto::TalkState& s) {
  if (s.lines().empty()) return "nobody talks\n";
  std::string out;
  for (const tl::proto::TalkLineState& l : s.lines()) {
    out += fmt::format("{} talks to {} at {:+.1f} dB, the programme {:.1f} dB under it, {:.1f} s", l.source(),
                       fmt::join(l.to(), ", "), l.level_db(), l.dim_db(), l.talked_seconds());
    if (l.seconds() > 0.0) out += fmt::format(" of {:.1f} s", l.seconds());
    out += "\n";
  }
  return out;
}

}  // namespace tl::ctl
