#include "tl/mixer/cue_mixes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <string>

#include "tl/mixer/engine_post.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {
namespace {
//! The ceiling of a node's cue limiter, for the engine.
MixCommand cue_limit_command(const NodeSlot& slot) {
  return MixCommand{.kind = MixCommand::Kind::CueLimit,
                    .node = slot.id,
                    .value = slot.cue_limit_dbtp,
                    .bus = static_cast<std::uint8_t>(slot.cue)};
}
}  // namespace

std::optional<int> free_cue(const NodeRegistry& registry) {
  std::array<bool, kMaxCues> taken{};
  registry.for_each([&](const NodeSlot& other) {
    if (other.cue >= 0) taken[static_cast<std::size_t>(other.cue)] = true;
  });
  const auto free = std::find(taken.begin(), taken.end(), false);
  if (free == taken.end()) return std::nullopt;
  return static_cast<int>(free - taken.begin());
}

Status CueMixes::set_on(NodeSlot& slot, bool on) {
  if (on && slot.cue < 0) {
    const std::optional<int> free = free_cue(registry_);
    if (!free) {
      return Error{"every one of the " + std::to_string(kMaxCues) + " cue mixes is taken (turn one off)"};
    }
    slot.cue = *free;
    // Published to the mix thread by the command queue, before the command that uses it.
    if (!slot.cue_out) slot.cue_out = std::make_unique<SpscRing<CueChunk>>(256);
    slot.cue_levels_db.fill(0.0f);
  }
  if (slot.cue < 0) return Status::success();
  const MixCommand cmd{.kind = MixCommand::Kind::CueOn,
                       .node = slot.id,
                       .value = on ? 1.0f : 0.0f,
                       .bus = static_cast<std::uint8_t>(slot.cue)};
  if (auto posted = post_change(engine_, cmd); !posted) return posted;
  if (on) (void)engine_.post(cue_limit_command(slot));  // refused: that cue keeps the ceiling it had
  slot.cue_on = on;
  ++changes_;
  if (!on) slot.cue = -1;  // its cue goes back to the pool (levels start again at 0 dB)
  spdlog::info("node '{}': cue mix {}", slot.name, on ? "on" : "off");
  return Status::success();
}

void CueMixes::set_cue(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetCue& r) {
  NodeSlot* slot = registry_.by_name(r.node());
  if (slot == nullptr) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND, "no node named '" + r.node() + "' (see tlctl nodes)");
    return;
  }
  switch (r.action()) {
    case proto::SetCue::ON:
    case proto::SetCue::OFF:
      if (auto done = set_on(*slot, r.action() == proto::SetCue::ON); !done) {
        s->send_error(id, proto::ErrorReply::CONFLICT, done.error());
        return;
      }
      break;
    case proto::SetCue::LEVEL: {
      if (!slot->cue_on && !slot->wants_cue) {
        s->send_error(id, proto::ErrorReply::CONFLICT,
                      "node '" + slot->name +
                          "' has no cue mix on and plays none (start its tl-capture with " +
                          "--cue, or turn one on: tlctl cue " + slot->name + " on)");
        return;
      }
      const NodeSlot* source =
          r.source().empty() || r.source() == "me" ? slot : registry_.by_name(r.source());
      if (source == nullptr) {
        s->send_error(id, proto::ErrorReply::NOT_FOUND,
                      "no node named '" + r.source() + "' (see tlctl nodes)");
        return;
      }
      if (!protocol::kCueLevelDb.contains(r.level_db())) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, "a cue level is -60 (off) to +12 dB");
        return;
      }
      // A node that plays a cue mix gets it back on when a level is set for it: the operator
      // means it to be heard (it was turned off, or every cue was taken when it joined).
      if (auto set = set_level(*slot, *source, r.level_db()); !set) {
        s->send_error(id, proto::ErrorReply::CONFLICT, set.error());
        return;
      }
      spdlog::info("node '{}': {} at {:+.1f} dB in its cue mix, set by {}", slot->name,
                   source == slot ? "its own sound" : "'" + source->name + "'", r.level_db(), s->who());
      break;
    }
    case proto::SetCue::LIMIT:
      if (!protocol::kCueLimitDbtp.contains(r.limit_dbtp())) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, "a cue limit is -40 to 0 dBTP");
        return;
      }
      slot->cue_limit_dbtp = r.limit_dbtp();
      ++changes_;
      if (slot->cue >= 0 && !post_or_answer(engine_, *s, id, cue_limit_command(*slot))) return;
      spdlog::info("node '{}': cue limiter ceiling {:.1f} dBTP, set by {}", slot->name, r.limit_dbtp(),
                   s->who());
      break;
    default:
      break;
  }
  proto::Envelope reply;
  auto* state = reply.mutable_cue_state();
  state->set_node(slot->name);
  state->set_on(slot->cue_on);
  state->set_limit_dbtp(slot->cue_limit_dbtp);
  registry_.for_each([&](const NodeSlot& source) {
    if (!slot->cue_on || slot->cue_levels_db[source.id] == 0.0f) return;
    auto* level = state->add_levels();
    level->set_source(source.name);
    level->set_level_db(slot->cue_levels_db[source.id]);
  });
  state->set_output(slot->report.cue_output());
  state->set_latency_ms(slot->report.cue_latency_ms());
  state->set_packets(slot->report.cue_packets());
  state->set_underruns(slot->report.cue_underruns());
  s->reply(id, std::move(reply));
}

Status CueMixes::set_level(NodeSlot& listener, const NodeSlot& source, float level_db) {
  if (!listener.cue_on) {
    if (auto on = set_on(listener, true); !on) return on;
  }
  const MixCommand cmd{.kind = MixCommand::Kind::CueLevel,
                       .node = listener.id,
                       .value = level_db <= protocol::kCueLevelDb.lo ? 0.0f : db_to_gain(level_db),
                       .bus = static_cast<std::uint8_t>(listener.cue),
                       .source = source.id};
  if (auto posted = post_change(engine_, cmd); !posted) return posted;
  listener.cue_levels_db[source.id] = level_db;
  ++changes_;
  return Status::success();
}

void CueMixes::fill(proto::Scene& scene) const {
  registry_.for_each([&](const NodeSlot& listener) {
    const bool set = listener.cue_on || listener.cue_limit_dbtp != kCueCeilingDbtp;
    if (!set) return;
    proto::CueState& cue = *scene.add_cues();
    cue.set_node(listener.name);
    cue.set_on(listener.cue_on);
    cue.set_limit_dbtp(listener.cue_limit_dbtp);
    registry_.for_each([&](const NodeSlot& source) {
      if (!listener.cue_on || listener.cue_levels_db[source.id] == 0.0f) return;
      auto* level = cue.add_levels();
      level->set_source(source.name);
      level->set_level_db(listener.cue_levels_db[source.id]);
    });
  });
}

void CueMixes::restore(google::protobuf::RepeatedPtrField<proto::CueState>& kept) {
  for (auto cue = kept.begin(); cue != kept.end();) {
    NodeSlot* listener = registry_.by_name(cue->node());
    if (listener == nullptr) {
      ++cue;
      continue;
    }
    if (protocol::kCueLimitDbtp.contains(cue->limit_dbtp()) &&
        listener->cue_limit_dbtp != cue->limit_dbtp()) {
      listener->cue_limit_dbtp = cue->limit_dbtp();
      if (listener->cue >= 0) (void)engine_.post(cue_limit_command(*listener));
      ++changes_;
    }
    cue->set_limit_dbtp(1.0f);  // applied (out of the ceiling's range)
    if (cue->on() && !listener->cue_on) {
      if (auto on = set_on(*listener, true); !on) {
        spdlog::warn("node '{}': its cue mix from the last desk: {}", listener->name, on.error());
      }
    }
    cue->set_on(false);  // applied
    auto* levels = cue->mutable_levels();
    for (auto level = levels->begin(); level != levels->end();) {
      const NodeSlot* source = registry_.by_name(level->source());
      if (source == nullptr || !protocol::kCueLevelDb.contains(level->level_db())) {
        ++level;
        continue;
      }
      if (auto set = set_level(*listener, *source, level->level_db()); !set) {
        spdlog::warn("node '{}': '{}' in its cue mix from the last desk: {}", listener->name, source->name,
                     set.error());
      } else {
        spdlog::info("node '{}': '{}' at {:+.1f} dB in its cue mix, from the last desk", listener->name,
                     source->name, level->level_db());
      }
      level = levels->erase(level);
    }
    cue = levels->empty() ? kept.erase(cue) : cue + 1;
  }
}

}  // namespace tl::mixer
