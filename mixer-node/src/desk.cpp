#include "tl/mixer/desk.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tl/mixer/engine_post.h"
#include "tl/mixer/node_status.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {

void Desk::set_channel(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                       const proto::SetChannel& r) {
  const auto target = channel_or_answer(*s, id, r.target());
  if (!target) return;
  auto [slot, channel] = *target;
  StripSettings& strip = slot->strips[channel];
  MixCommand cmd{.node = slot->id, .channel = static_cast<std::uint16_t>(channel)};
  switch (r.change_case()) {
    case proto::SetChannel::kGainDb:
      if (!protocol::kGainDb.contains(r.gain_db())) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, "gain must be between -150 and +24 dB");
        return;
      }
      strip.gain_db = r.gain_db();
      cmd.kind = MixCommand::Kind::Gain;
      cmd.value = r.gain_db() <= protocol::kGainDb.lo ? 0.0f : db_to_gain(r.gain_db());
      break;
    case proto::SetChannel::kPan:
      if (!protocol::kPan.contains(r.pan())) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, "pan must be between -1 (left) and 1 (right)");
        return;
      }
      strip.pan = r.pan();
      cmd.kind = MixCommand::Kind::Pan;
      cmd.value = r.pan();
      break;
    case proto::SetChannel::kMute:
      strip.mute = r.mute();
      cmd.kind = MixCommand::Kind::Mute;
      cmd.value = r.mute() ? 1.0f : 0.0f;
      break;
    case proto::SetChannel::kSolo:
      strip.solo = r.solo();
      cmd.kind = MixCommand::Kind::Solo;
      cmd.value = r.solo() ? 1.0f : 0.0f;
      break;
    default:
      s->send_error(id, proto::ErrorReply::BAD_REQUEST, "set-channel needs gain, pan, mute or solo");
      return;
  }
  cmd.id = automation_.next_id();
  if (!post_or_answer(engine_, *s, id, cmd)) return;
  remember_strip(cmd.id, *slot, channel);
  spdlog::info("{}: {} set by {}", r.target(),
               cmd.kind == MixCommand::Kind::Gain   ? fmt::format("gain {:.1f} dB", strip.gain_db)
               : cmd.kind == MixCommand::Kind::Pan  ? fmt::format("pan {:.2f}", strip.pan)
               : cmd.kind == MixCommand::Kind::Mute ? std::string(strip.mute ? "mute on" : "mute off")
                                                    : std::string(strip.solo ? "solo on" : "solo off"),
               s->who());
  proto::Envelope reply;
  auto* state = reply.mutable_channel_state();
  state->set_node(slot->name);
  fill_channel_info(*slot, channel, *state->mutable_info());
  s->reply(id, std::move(reply));
}

void Desk::set_strip(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetStrip& r) {
  const bool show = r.section() == "show";
  const std::string& who = s->who();
  proto::Envelope reply;
  auto* state = reply.mutable_strip_state();
  if (r.target() == "master") {
    if (!show) {
      dsp::MasterParams next = master_;
      auto change = apply_master_change(next, r);
      if (!change) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, change.error());
        return;
      }
      MixCommand cmd{.kind = MixCommand::Kind::Master, .id = automation_.next_id()};
      cmd.master = next;
      if (!post_or_answer(engine_, *s, id, cmd)) return;
      master_ = next;
      remember_master(cmd.id);
      spdlog::info("{} set by {}", change.value(), who);
    }
    fill_master_state(master_, *state);
    const MasterMeters m = engine_.master_meters();
    state->set_limiter_gr_db(master_.limiter_on ? m.limiter_gr_db : 0.0f);
    state->mutable_comp()->set_gain_reduction_db(master_.bus.comp_on ? m.comp_gr_db : 0.0f);
    s->reply(id, std::move(reply));
    return;
  }
  if (r.target().starts_with("bus") || r.target().starts_with("fx")) {
    auto index = bus_index(r.target());
    if (!index) {
      s->send_error(id, proto::ErrorReply::NOT_FOUND, index.error());
      return;
    }
    const std::size_t b = index.value();
    if (!show) {
      BusSettings next = buses_[b];
      auto change = apply_bus_change(next, b, r);
      if (!change) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, change.error());
        return;
      }
      const std::uint32_t change_id = automation_.next_id();
      if (!post_or_answer(engine_, *s, id, bus_commands(b, next, change_id))) return;
      buses_[b] = next;
      remember_bus(change_id, b);
      spdlog::info("{} set by {}", change.value(), who);
    }
    fill_bus_state(buses_[b], b, *state);
    state->set_peak_dbfs(meter_dbfs(engine_.bus_peak(b)));
    s->reply(id, std::move(reply));
    return;
  }
  const auto target = channel_or_answer(*s, id, r.target());
  if (!target) return;
  auto [slot, channel] = *target;
  StripSettings& strip = slot->strips[channel];
  if (!show) {
    dsp::StripParams next = strip.dsp;
    auto change = apply_strip_change(next, r, sample_rate_, registry_.config().max_delay_samples);
    if (!change) {
      s->send_error(id, proto::ErrorReply::BAD_VALUE, change.error());
      return;
    }
    MixCommand cmd{.kind = MixCommand::Kind::Strip,
                   .id = automation_.next_id(),
                   .node = slot->id,
                   .channel = static_cast<std::uint16_t>(channel)};
    cmd.strip = next;
    if (!post_or_answer(engine_, *s, id, cmd)) return;
    strip.dsp = next;
    remember_strip(cmd.id, *slot, channel);
    spdlog::info("{} set by {}", change.value(), who);
  }
  fill_strip(*slot, channel, *state);
  s->reply(id, std::move(reply));
}

proto::Scene Desk::scene(const std::string& name) const {
  proto::Scene scene;
  scene.set_name(name);
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  scene.set_saved_at(stamp);
  registry_.for_each([&](const NodeSlot& slot) {
    for (std::uint32_t c = 0; c < slot.channels; ++c) fill_strip(slot, c, *scene.add_strips());
  });
  fill_master_state(master_, *scene.mutable_master());
  for (std::size_t b = 0; b < kBuses; ++b) fill_bus_state(buses_[b], b, *scene.add_buses());
  return scene;
}

Status Desk::recall(const proto::Scene& scene, const std::string& name, proto::SceneReply& out) {
  std::uint32_t applied = 0;
  for (const auto& st : scene.strips()) {
    auto target = resolve_target(registry_, st.target());
    if (!target) {
      out.add_skipped(st.target());
      continue;
    }
    auto [slot, channel] = target.value();
    StripSettings& strip = slot->strips[channel];
    const std::vector<MixCommand> cmds =
        strip_commands(st, slot->id, static_cast<std::uint16_t>(channel), sample_rate_,
                       registry_.config().max_delay_samples, automation_.next_id());
    if (auto posted = post_changes(engine_, cmds, "scene '" + name + "' only partly applied, recall again");
        !posted) {
      return posted;
    }
    const ChannelMix mix = channel_mix_from_state(st);
    strip.dsp = cmds.front().strip;
    strip.gain_db = mix.gain_db;
    strip.pan = mix.pan;
    strip.mute = mix.mute;
    strip.solo = mix.solo;
    remember_strip(cmds.front().id, *slot, channel);
    ++applied;
  }
  if (scene.has_master()) {
    const MixCommand m = master_command(master_params_from_state(scene.master()), automation_.next_id());
    if (auto posted = post_change(engine_, m, "recall again"); !posted) return posted;
    master_ = m.master;
    remember_master(m.id);
  }
  for (const auto& st : scene.buses()) {
    auto b = bus_index(st.target());
    if (!b) {
      out.add_skipped(st.target());
      continue;
    }
    const BusSettings settings = bus_settings_from_state(st);
    const std::uint32_t change = automation_.next_id();
    if (auto posted = post_changes(engine_, bus_commands(b.value(), settings, change), "recall again");
        !posted) {
      return posted;
    }
    buses_[b.value()] = settings;
    remember_bus(change, b.value());
  }
  out.set_channels(applied);
  return Status::success();
}

std::optional<std::pair<NodeSlot*, std::uint32_t>> Desk::channel_or_answer(ControlSession& s,
                                                                           std::uint64_t id,
                                                                           const std::string& target) {
  auto found = resolve_target(registry_, target);
  if (!found) {
    s.send_error(id, proto::ErrorReply::NOT_FOUND, found.error());
    return std::nullopt;
  }
  return found.value();
}

void Desk::fill_strip(const NodeSlot& slot, std::uint32_t channel, proto::StripState& state) const {
  state.set_target(slot.name + "/" + std::to_string(channel + 1));
  fill_strip_state(slot.strips[channel].dsp, sample_rate_, state);
  fill_channel_info(slot, channel, *state.mutable_channel());
  state.mutable_gate()->set_gain_db(state.channel().gate_db());
  state.mutable_comp()->set_gain_reduction_db(state.channel().comp_gr_db());
}

void Desk::remember_strip(std::uint32_t id, const NodeSlot& slot, std::uint32_t channel) {
  ++changes_;
  automation_.remember(id, [&](proto::StripState& after) { fill_strip(slot, channel, after); });
}

void Desk::remember_master(std::uint32_t id) {
  ++changes_;
  automation_.remember(id, [&](proto::StripState& after) { fill_master_state(master_, after); });
}

void Desk::remember_bus(std::uint32_t id, std::size_t bus) {
  ++changes_;
  automation_.remember(id, [&](proto::StripState& after) { fill_bus_state(buses_[bus], bus, after); });
}

}  // namespace tl::mixer
