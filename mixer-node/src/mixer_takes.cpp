// The mixer's take, scene and mastering requests (tlctl record, scene, take master): the
// parts of Mixer that start, stop and recover takes and apply or keep the desk's scenes.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>
#include <string>

#include "tl/mixer/engine_post.h"
#include "tl/mixer/mixer.h"
#include "tl/protocol/names.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {

void Mixer::handle_scene(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                         const proto::SceneRequest& r) {
  const std::string& who = s->who();
  proto::Envelope reply;
  auto* out = reply.mutable_scene_reply();
  out->set_action(r.action());
  out->set_name(r.name());
  if (r.action() == "list") {
    for (auto& n : scenes_.list()) out->add_scenes(std::move(n));
    out->set_path(scenes_.dir().string());
    s->reply(id, std::move(reply));
    return;
  }
  if (r.action() != "save" && r.action() != "recall") {
    s->send_error(id, proto::ErrorReply::BAD_REQUEST, "scene action must be save, recall or list");
    return;
  }
  if (auto name = SceneStore::check_name(r.name()); !name) {
    s->send_error(id, proto::ErrorReply::BAD_VALUE, name.error());
    return;
  }
  const std::filesystem::path path = scenes_.path(r.name());
  out->set_path(path.string());

  if (r.action() == "save") {
    const proto::Scene scene = desk_.scene(r.name());
    if (auto saved = scenes_.save(r.name(), scene); !saved) {
      s->send_error(id, proto::ErrorReply::INTERNAL, saved.error());
      return;
    }
    out->set_channels(static_cast<std::uint32_t>(scene.strips_size()));
    spdlog::info("scene '{}' saved ({} strips, the buses and the master) to {} by {}", r.name(),
                 scene.strips_size(), path.string(), who);
    s->reply(id, std::move(reply));
    return;
  }

  // recall
  const auto scene = scenes_.load(r.name());
  if (!scene) {
    s->send_error(id, scenes_.saved(r.name()) ? proto::ErrorReply::BAD_REQUEST : proto::ErrorReply::NOT_FOUND,
                  scene.error());
    return;
  }
  if (auto recalled = desk_.recall(scene.value(), r.name(), *out); !recalled) {
    s->send_error(id, proto::ErrorReply::INTERNAL, recalled.error());
    return;
  }
  spdlog::info("scene '{}' recalled by {}: {} strips, the buses and the master applied{}", r.name(), who,
               out->channels(),
               out->skipped_size() == 0
                   ? std::string()
                   : fmt::format(", {} skipped (node or channel not here)", out->skipped_size()));
  s->reply(id, std::move(reply));
}

void Mixer::handle_master_take(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                               const proto::MasterTake& r) {
  proto::Envelope reply;
  if (r.status_only()) {
    *reply.mutable_master_take_state() = mastering_.state(r.take_name());
    s->reply(id, std::move(reply));
    return;
  }
  const auto takes = recorder_.list_takes();
  const auto take = std::find_if(takes.begin(), takes.end(), [&](const proto::RecordStopped& t) {
    return t.take_name() == r.take_name();
  });
  if (take == takes.end()) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND,
                  "no take named '" + r.take_name() + "' (see tlctl takes)");
    return;
  }
  if (take->state() != "complete" && take->state() != "incomplete") {
    s->send_error(id, proto::ErrorReply::CONFLICT,
                  "take '" + r.take_name() + "' is " + take->state() +
                      (take->state() == "unfinished" ? " (tlctl record recover completes it)"
                                                     : ": master it once it is closed (tlctl takes)"));
    return;
  }
  TakeMastering::Job job{.take = r.take_name(), .dir = take->path()};
  if (!r.preset().empty()) job.preset = r.preset();
  if (r.has_target_lufs()) job.target_lufs = r.target_lufs();
  auto started = mastering_.start(std::move(job));
  if (auto* refused = std::get_if<TakeMastering::Refusal>(&started)) {
    s->send_error(id, refused->code, refused->message);
    return;
  }
  *reply.mutable_master_take_state() = std::get<proto::MasterTakeState>(std::move(started));
  s->reply(id, std::move(reply));
}

void Mixer::handle_record(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                          const proto::Envelope& r) {
  std::weak_ptr<ControlSession> weak = s;
  if (r.has_record_start()) {
    // The mix as the take starts: automation.json's starting point (nothing can change
    // between this and the take's start: both run in order on their threads).
    Recorder::MixSetup mix{.scene = automation_json(desk_.scene("take start")),
                           .block_frames = config_.block_frames,
                           .block_origin = engine_.position(),
                           .lookahead = engine_.master_latency()};
    registry_.for_each([&mix](const NodeSlot& slot) {
      if (slot.control_connected) mix.nodes.push_back(slot.id);
    });
    mix.backing = backing_.for_take();
    mix.punch = transport_.punch_for_take();
    take_starting_ = true;  // changes from now on are recorded, even before the take has begun
    recorder_.start_take(r.record_start().take_name(), std::move(mix),
                         [this, weak, id](Result<proto::RecordStarted> result) {
                           asio::post(io_, [this, weak, id, result = std::move(result)] {
                             take_starting_ = false;
                             auto session = weak.lock();
                             proto::Envelope reply;
                             if (!result) {
                               if (session)
                                 session->send_error(id, proto::ErrorReply::CONFLICT, result.error());
                               return;
                             }
                             *reply.mutable_record_started() = result.value();
                             proto::Envelope ev;
                             *ev.mutable_event()->mutable_record_started() = result.value();
                             broadcast(ev, true, false);
                             if (session) session->reply(id, std::move(reply));
                           });
                         });
  } else {
    auto on_stopped = [this, weak, id](Result<proto::RecordStopped> result) {
      asio::post(io_, [this, weak, id, result = std::move(result)] {
        auto session = weak.lock();
        if (!result) {
          if (session) session->send_error(id, proto::ErrorReply::CONFLICT, result.error());
          return;
        }
        proto::Envelope reply;
        *reply.mutable_record_stopped() = result.value();
        proto::Envelope ev;
        *ev.mutable_event()->mutable_record_stopped() = result.value();
        broadcast(ev, true, false);
        if (session) session->reply(id, std::move(reply));
      });
    };
    if (r.has_record_recover()) {
      spdlog::info("take '{}': recovery asked by {}", r.record_recover().take_name(), s->who());
      recorder_.recover_take(r.record_recover().take_name(), r.record_recover().skip_absent(),
                             std::move(on_stopped));
    } else {
      recorder_.stop_take(std::move(on_stopped));
    }
  }
}

}  // namespace tl::mixer
