#include "tl/mixer/mixer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>

#include "tl/common/realtime.h"
#include "tl/mixer/engine_post.h"
#include "tl/mixer/session_epoch.h"
#include "tl/protocol/auth.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {
namespace {
constexpr auto kTick = std::chrono::milliseconds(100);

MediaTime latency_frames(const MixerConfig& c) {
  return std::clamp(ms_to_frames(c.latency_ms, c.sample_rate), ms_to_frames(c.latency_min_ms, c.sample_rate),
                    ms_to_frames(c.latency_max_ms, c.sample_rate));
}

std::uint32_t jitter_capacity(const MixerConfig& c) {
  // Room for the longest play-out delay plus a second of early or bursty arrivals.
  return static_cast<std::uint32_t>(ms_to_frames(c.latency_max_ms, c.sample_rate)) + c.sample_rate;
}
}  // namespace

Mixer::Mixer(MixerConfig config)
    : config_(std::move(config)),
      clock_(config_.sample_rate, session_epoch(config_.record_dir)),
      registry_(RegistryConfig{.sample_rate = config_.sample_rate,
                               .jitter_capacity_frames = jitter_capacity(config_),
                               .mix_queue_packets = 4096}),
      to_recorder_(packet_ring_bytes(32768)),  // a second of 256 channels in 48-frame packets
      // 10 s of the mix: the recorder thread also writes the files, and a busy disk can hold it.
      mix_to_recorder_(static_cast<std::size_t>(10 * config_.sample_rate / kMaxMixChunk) + 64),
      concealed_to_recorder_(65536),
      engine_(
          registry_, mix_to_recorder_,
          MixConfig{.sample_rate = config_.sample_rate,
                    .max_block_frames = 4096,
                    .latency_frames = latency_frames(config_),
                    .latency_min_frames = ms_to_frames(config_.latency_min_ms, config_.sample_rate),
                    .latency_max_frames = ms_to_frames(config_.latency_max_ms, config_.sample_rate),
                    .adaptive = config_.latency_min_ms < config_.latency_max_ms && !device_clocked(config_),
                    .latency_margin_seconds = config_.latency_margin_ms / 1000.0,
                    .latency_hold_seconds = config_.latency_hold_s},
          &concealed_to_recorder_),
      backing_(registry_, engine_, config_.sample_rate),
      recorder_(registry_, clock_, to_recorder_, mix_to_recorder_,
                RecorderConfig{.record_dir = config_.record_dir, .latency_frames = latency_frames(config_)},
                &concealed_to_recorder_),
      nodes_(registry_, clock_, engine_),
      automation_([this] { return recorder_.recording() || take_starting_; }),
      desk_(registry_, engine_, automation_, config_.sample_rate),
      cues_(registry_, engine_),
      scenes_(std::filesystem::path(config_.record_dir) / "scenes"),
      desk_journal_(config_.record_dir),
      signals_(io_, SIGINT, SIGTERM),
      ticker_(io_),
      transport_(io_, engine_, backing_, config_.sample_rate, [this] { recorder_.note_backing_changed(); }),
      talk_(registry_, engine_, config_.sample_rate, device_clocked(config_)) {}

Mixer::~Mixer() {
  mastering_.stop();
  if (driver_) driver_->stop();
  recorder_.stop();
  backing_.stop();
}

std::uint16_t Mixer::port() const {
  return server_ ? server_->port() : 0;
}

Status Mixer::start() {
  protocol::init_crypto();
  std::error_code ec;
  const auto address = asio::ip::make_address(config_.listen_host, ec);
  if (ec) return Error{"bad listen address '" + config_.listen_host + "': " + ec.message()};
  try {
    server_ = std::make_unique<ControlServer>(io_, asio::ip::tcp::endpoint(address, config_.listen_port),
                                              config_.token, *this);
    // The socket is read once per mix block: the mix takes what arrived once a block anyway.
    const auto block = std::chrono::microseconds(
        std::clamp<std::int64_t>(1'000'000LL * config_.block_frames / config_.sample_rate, 250, 5'000));
    receiver_ =
        std::make_unique<AudioReceiver>(io_, asio::ip::udp::endpoint(address, server_->port()), registry_,
                                        clock_, to_recorder_, AudioReceiver::Config{.poll_period = block});
    receiver_->set_play_out_delay([this] { return engine_.latency_frames(); });
    receiver_->set_record_gate([this] { return recorder_.wants_packets(); });
  } catch (const std::system_error& e) {
    return Error{"cannot listen on " + config_.listen_host + ":" + std::to_string(config_.listen_port) +
                 ": " + e.code().message() + " (another tl-mixer running? pick another --listen port)"};
  }
  // The recorder's backfill asks a node for audio over its control connection.
  recorder_.set_fetcher([this](std::uint16_t node_id, MediaTime from, std::uint32_t frames) {
    asio::post(io_, [this, node_id, from, frames] { fetch_from_node(node_id, from, frames); });
  });
  recorder_realtime_error_ = recorder_.start(config_.realtime);
  // A take the last mixer was recording in this session goes on (unless --no-resume):
  // the nodes kept their timelines and spools, so record stop makes it whole.
  const std::optional<std::string> resumed = config_.resume_takes ? recorder_.resumable_take() : std::nullopt;
  if (resumed) recorder_.resume_take(*resumed);
  for (const std::string& take : recorder_.mark_unfinished_takes(resumed.value_or(""))) {
    spdlog::warn(
        "take {} was not finished: a mixer stopped while recording it. Its files are readable as they "
        "are (tlctl takes lists it as unfinished); the node spools still hold its audio",
        take);
  }
  const std::optional<proto::Scene> last = desk_journal_.load();
  if (last) {
    // The master and buses now; each node's strips when it registers (handle_register).
    proto::SceneReply reply;
    if (auto s = desk_.recall(*last, "last desk", reply); !s) spdlog::warn("the last desk: {}", s.error());
    spdlog::info("desk restored from {} (saved {}): master, buses; {} channel strip(s) as their nodes join",
                 desk_journal_.path().string(), last->saved_at(), last->strips_size());
  }
  if (device_clocked(config_)) {
    driver_ = std::make_unique<DeviceMixDriver>(engine_, clock_, config_.block_frames, config_.monitor,
                                                config_.audio_api);
  } else {
    driver_ = std::make_unique<TimerMixDriver>(engine_, clock_, config_.block_frames);
  }
  if (auto s = driver_->start(); !s) return s;
  backing_.start();
  if (last && last->has_transport()) {
    for (const std::string& name : transport_.restore(last->transport())) restore_strips(name);
  }
  setup_realtime();

  signals_.async_wait([this](std::error_code e, int sig) {
    if (!e) {
      spdlog::info("signal {}: shutting down", sig);
      stop();
    }
  });
  ticker_.expires_after(kTick);
  ticker_.async_wait([this](std::error_code e) {
    if (!e) tick();
  });
  const double start_ms = frames_to_ms(engine_.latency_frames(), config_.sample_rate);
  const std::string latency = engine_.config().adaptive
                                  ? fmt::format("{:.1f} ms play-out delay (adapts within {:.1f}-{:.1f} ms)",
                                                start_ms, config_.latency_min_ms, config_.latency_max_ms)
                                  : fmt::format("{:.1f} ms play-out delay (fixed{})", start_ms,
                                                device_clocked(config_) ? ": the device clocks the mix" : "");
  spdlog::info(
      "tl-mixer listening on {}:{} (control TCP, audio UDP), {} Hz, {}-frame blocks, {}, clock {}, "
      "recording to {}",
      config_.listen_host, server_->port(), config_.sample_rate, config_.block_frames, latency,
      driver_->describe(), config_.record_dir);
  return Status::success();
}

void Mixer::setup_realtime() {
  // The io thread receives the audio: a packet it is slow to take is late for the mix.
  // (start() and run() share the calling thread, which becomes the io thread.)
  rt::RealtimeReport report{.threads = "mix thread " + std::to_string(TimerMixDriver::kPriority) +
                                       ", receive (io) thread " + std::to_string(kIoPriority) +
                                       ", recorder thread " + std::to_string(Recorder::kPriority)};
  if (!config_.realtime) {
    spdlog::info("real-time scheduling not asked for (--no-realtime)");
    realtime_refused_ = "off (--no-realtime)";
    return;
  }
  if (!device_clocked(config_)) report.priority_error = driver_->realtime_error();
  if (!rt::try_set_realtime_priority(kIoPriority) && report.priority_error == 0)
    report.priority_error = EPERM;
  if (report.priority_error == 0) report.priority_error = recorder_realtime_error_;
  report.memory_error = rt::lock_memory();
  if (report.priority_error == 0 && report.memory_error == 0) {
    spdlog::info("{}", rt::describe(report));
  } else {
    spdlog::warn("{}", rt::describe(report));
  }
  if (report.priority_error != 0) realtime_refused_ = std::strerror(report.priority_error);
}

void Mixer::run() {
  io_.run();
  // Finish any take before the threads go, with the mix still running so that
  // mix.wav reaches the stop position too; the recorder closes every file.
  if (recorder_.recording()) {
    spdlog::info("finishing take '{}' before exit", recorder_.take_name());
    auto done = std::make_shared<std::promise<void>>();
    recorder_.stop_take([done](Result<proto::RecordStopped>) { done->set_value(); });
    done->get_future().wait_for(std::chrono::seconds(10));
  }
  if (driver_) driver_->stop();
  recorder_.stop();
}

void Mixer::stop() {
  asio::post(io_, [this] {
    ticker_.cancel();
    signals_.cancel();
    if (server_) server_->close_all();
    io_.stop();
  });
}

void Mixer::tick() {
  ++ticks_;
  const std::int64_t now = clock_.now_ns();
  registry_.for_each([&](NodeSlot& slot) {
    const auto state = registry_.state_of(slot, now);
    if (slot.fed_frames() || state == slot.reported_state) return;
    slot.reported_state = state;
    const char* what = state == proto::NODE_STREAMING ? "streaming"
                       : state == proto::NODE_GONE
                           ? "gone (control connection closed; tracks kept for a rejoin)"
                       : slot.last_heard_ns < 0 ? "waiting for its first audio"
                                                : "silent (no audio for over 1 s: check the node)";
    spdlog::info("node '{}' (id {}) is now {}", slot.name, slot.id, what);
    proto::Envelope ev;
    nodes_.fill(slot, *ev.mutable_event()->mutable_node(), now);
    broadcast(ev, true, false);
  });
  proto::Envelope levels;
  *levels.mutable_event()->mutable_levels() = nodes_.list();
  broadcast(levels, false, true);
  follow_latency();
  collect_applied_changes();
  desk_journal_.save_if_changed(desk_.changes() + cues_.changes() + transport_.changes() + transport_moves_,
                                now, [this] {
                                  proto::Scene scene = desk_.scene("last desk");
                                  cues_.fill(scene);
                                  *scene.mutable_transport() = transport_.setup();
                                  return scene;
                                });

  if (now - last_status_log_ns_ >= 10'000'000'000LL) {
    last_status_log_ns_ = now;
    spdlog::info(
        "status: {} nodes, {:.1f} ms play-out delay, {} mix blocks, {} overruns, {} clipped, {} bad "
        "packets{}",
        registry_.highest_id(), frames_to_ms(engine_.latency_frames(), config_.sample_rate), engine_.blocks(),
        driver_->overruns(), engine_.clipped(), receiver_->counters().total_rejected(),
        recorder_.recording() ? ", recording '" + recorder_.take_name() + "'" : std::string());
    const proto::MixerStatus st = status();
    if (recorder_.recording() && st.record_free_bytes() > 0 && st.record_minutes_left() < 10.0) {
      spdlog::warn("the disk holding {} has {:.1f} minutes left at {} channels: stop the take, or free space",
                   config_.record_dir, st.record_minutes_left(), st.record_channels());
    }
  }
  ticker_.expires_after(kTick);
  ticker_.async_wait([this](std::error_code e) {
    if (!e) tick();
  });
}

void Mixer::fetch_from_node(std::uint16_t node_id, MediaTime from, std::uint32_t frames) {
  NodeSlot* slot = registry_.by_id(node_id);
  ControlSession* session = nullptr;
  server_->for_each([&](ControlSession& s) {
    if (slot != nullptr && s.node == slot && s.open()) session = &s;
  });
  if (session == nullptr) {
    recorder_.backfill_failed(
        node_id, from, frames,
        "node '" + (slot ? slot->name : std::to_string(node_id)) +
            "' was not connected when the take stopped; its spool still holds the audio "
            "(see capture-node/README.md)");
    return;
  }
  proto::Envelope fetch;
  fetch.mutable_fetch_audio()->set_from(from);
  fetch.mutable_fetch_audio()->set_frames(frames);
  session->reply(0, std::move(fetch));
}

void Mixer::broadcast(const proto::Envelope& event, bool nodes, bool levels) {
  server_->for_each([&](ControlSession& s) {
    if ((nodes && s.subscribed_nodes) || (levels && s.subscribed_levels)) s.reply(0, event);
  });
}

void Mixer::on_request(const std::shared_ptr<ControlSession>& s, const proto::Envelope& req) {
  const std::uint64_t id = req.request_id();
  proto::Envelope reply;
  switch (req.body_case()) {
    case proto::Envelope::kRegisterNode:
      handle_register(s, id, req.register_node());
      return;
    case proto::Envelope::kListNodes:
      *reply.mutable_node_list() = nodes_.list();
      break;
    case proto::Envelope::kGetStatus:
      *reply.mutable_mixer_status() = status();
      break;
    case proto::Envelope::kSetChannel:
      desk_.set_channel(s, id, req.set_channel());
      return;
    case proto::Envelope::kSetStrip:
      desk_.set_strip(s, id, req.set_strip());
      return;
    case proto::Envelope::kSceneRequest:
      handle_scene(s, id, req.scene_request());
      return;
    case proto::Envelope::kSetCue:
      cues_.set_cue(s, id, req.set_cue());
      return;
    case proto::Envelope::kSetLatency:
      handle_set_latency(s, id, req.set_latency());
      return;
    case proto::Envelope::kRecordStart:
    case proto::Envelope::kRecordStop:
    case proto::Envelope::kRecordRecover:
      handle_record(s, id, req);
      return;
    case proto::Envelope::kMasterTake:
      handle_master_take(s, id, req.master_take());
      return;
    case proto::Envelope::kTransport:
      transport_.request(s, id, req.transport());
      return;
    case proto::Envelope::kTempo:
      transport_.tempo(s, id, req.tempo());
      return;
    case proto::Envelope::kClick:
      transport_.click(s, id, req.click());
      return;
    case proto::Envelope::kBacking:
      transport_.backing(s, id, req.backing());
      return;
    case proto::Envelope::kTalk:
      talk_.request(*s, id, req.talk());
      return;
    case proto::Envelope::kListTakes: {
      auto* list = reply.mutable_take_list();
      for (auto& t : recorder_.list_takes()) *list->add_takes() = std::move(t);
      list->set_recording(recorder_.take_name());
      break;
    }
    case proto::Envelope::kSubscribe:
      s->subscribed_levels = req.subscribe().levels();
      s->subscribed_nodes = req.subscribe().nodes();
      *reply.mutable_mixer_status() = status();
      break;
    case proto::Envelope::kNodeReport:
      if (s->node == nullptr) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, "node reports come from registered capture nodes");
        return;
      }
      s->node->report = req.node_report();
      s->node->reported_drift_exchanges.store(req.node_report().media_drift_exchanges(),
                                              std::memory_order_relaxed);
      s->node->reported_drift_ppm.store(req.node_report().has_media_drift()
                                            ? static_cast<float>(req.node_report().media_drift_ppm())
                                            : std::numeric_limits<float>::quiet_NaN(),
                                        std::memory_order_relaxed);
      if (req.node_report().has_timeline()) {
        recorder_.note_timeline_start(s->node->id, req.node_report().timeline_start());
      }
      if (req.node_report().has_anchor()) {
        recorder_.note_anchor(s->node->id, req.node_report().anchor_media_ts(),
                              req.node_report().anchor_session_pos());
      }
      recorder_.note_compensation(
          s->node->id, NodeCompensation{.play_delay = req.node_report().has_cue_play_delay_frames()
                                                          ? req.node_report().cue_play_delay_frames()
                                                          : -1,
                                        .round_trip = req.node_report().has_round_trip_frames()
                                                          ? req.node_report().round_trip_frames()
                                                          : -1});
      return;  // a notification: no reply
    case proto::Envelope::kAudioData:
      if (s->node == nullptr) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, "audio data comes from registered capture nodes");
        return;
      }
      recorder_.backfill(s->node->id, req.audio_data());
      return;  // an answer to FetchAudio: no reply
    case proto::Envelope::kPing:
      reply.mutable_pong()->set_client_time_ns(req.ping().client_time_ns());
      reply.mutable_pong()->set_session_time_ns(clock_.now_ns());
      break;
    default:
      s->send_error(id, proto::ErrorReply::BAD_REQUEST, "this mixer does not serve that request");
      return;
  }
  s->reply(id, std::move(reply));
}

void Mixer::handle_register(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                            const proto::RegisterNode& r) {
  if (s->node != nullptr) {
    s->send_error(id, proto::ErrorReply::CONFLICT,
                  "this connection already registered node '" + s->node->name + "'");
    return;
  }
  const protocol::SessionKey key = protocol::make_session_key();
  auto result = registry_.register_node(r, key);
  if (!result) {
    spdlog::warn("refused node registration from {}: {}", s->peer(), result.error());
    s->send_error(id, proto::ErrorReply::CONFLICT, result.error());
    return;
  }
  NodeSlot* slot = result.value();
  s->node = slot;
  const bool rejoined = slot->connects > 1;
  // A node (started again) says how its audio is placed in its own reports: until then, not known.
  recorder_.note_compensation(slot->id, NodeCompensation{});
  spdlog::info("node '{}' (id {}) {}: {} ch, {} Hz, {} frames/packet, source {}, from {}", slot->name,
               slot->id, rejoined ? "rejoined" : "registered", slot->channels, slot->sample_rate,
               slot->frames_per_packet, slot->source, s->peer());
  proto::Envelope reply;
  auto* rr = reply.mutable_register_reply();
  rr->set_node_id(slot->id);
  rr->set_session_key(std::string(key.begin(), key.end()));
  rr->set_sample_rate(config_.sample_rate);
  rr->set_audio_port(receiver_->port());
  rr->set_session_time_ns(clock_.now_ns());
  rr->set_rejoined(rejoined);
  rr->set_session_epoch_ns(clock_.epoch_ns());
  rr->set_max_payload_bytes(static_cast<std::uint32_t>(protocol::kMaxPayloadBytes));
  s->reply(id, std::move(reply));
  restore_strips(slot->name);
  if (r.wants_cue() && !slot->cue_on) {
    if (auto on = cues_.set_on(*slot, true); !on)
      spdlog::warn("node '{}' asked for a cue mix: {}", slot->name, on.error());
  }
  // The cue mixes of the last desk that this node completes (as listener or source).
  cues_.restore(desk_journal_.pending_cues());
}

void Mixer::restore_strips(const std::string& name) {
  const proto::Scene mine = desk_journal_.for_node(name);
  if (mine.strips_size() == 0) return;
  proto::SceneReply restored;
  if (auto st = desk_.recall(mine, "last desk", restored); !st) {
    spdlog::warn("'{}': its strips from the last desk: {}", name, st.error());
  } else {
    spdlog::info("'{}': {} channel strip(s) restored from the last desk", name, restored.channels());
  }
}

void Mixer::handle_set_latency(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                               const proto::SetLatency& r) {
  NodeSlot* slot = registry_.by_name(r.node());
  if (slot == nullptr) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND, "no node named '" + r.node() + "' (see tlctl nodes)");
    return;
  }
  const auto bad = [&](const std::string& what) { s->send_error(id, proto::ErrorReply::BAD_VALUE, what); };
  if (!r.reset()) {
    const double lo = r.min_ms(), hi = r.max_ms();
    if (!protocol::kLatencyBoundMs.contains(lo) || !protocol::kLatencyBoundMs.contains(hi)) {
      return bad("latency min and max are milliseconds, 0-1000 (0: the mixer's)");
    }
    if (lo > 0.0 && hi > 0.0 && lo > hi) return bad("latency min is above max");
    slot->latency_min_frames.store(lo > 0.0 ? ms_to_frames(lo, config_.sample_rate) : -1);
    slot->latency_max_frames.store(hi > 0.0 ? ms_to_frames(hi, config_.sample_rate) : -1);
  } else {
    slot->latency_min_frames.store(-1);
    slot->latency_max_frames.store(-1);
  }
  proto::Envelope reply;
  auto* state = reply.mutable_latency_state();
  state->set_node(slot->name);
  state->set_min_ms(own_bound_ms(slot->latency_min_frames, config_.sample_rate));
  state->set_max_ms(own_bound_ms(slot->latency_max_frames, config_.sample_rate));
  state->set_need_ms(slot->need_ms.load(std::memory_order_relaxed));
  state->set_latency_ms(frames_to_ms(engine_.latency_frames(), config_.sample_rate));
  const auto bound = [](double ms) {
    return ms > 0.0 ? fmt::format("{:.1f} ms", ms) : std::string("the mixer's");
  };
  spdlog::info("node '{}': play-out delay range min {}, max {}, set by {}", slot->name,
               bound(state->min_ms()), bound(state->max_ms()), s->who());
  s->reply(id, std::move(reply));
}

void Mixer::follow_latency() {
  const MediaTime now = engine_.latency_frames();
  recorder_.set_latency(now);
  const std::int64_t now_ns = clock_.now_ns();
  // Log a move of 2 ms and a fifth or more, at most every 5 s (it follows a jittery link).
  const MediaTime moved = std::llabs(now - logged_latency_);
  if (logged_latency_ >= 0 && (moved < ms_to_frames(2.0, config_.sample_rate) || 5 * moved < logged_latency_))
    return;
  if (logged_latency_ >= 0 && now_ns - latency_log_ns_ < 5'000'000'000LL) return;
  if (logged_latency_ >= 0) {
    const NodeSlot* neediest = nullptr;
    registry_.for_each([&](const NodeSlot& slot) {
      if (neediest == nullptr || slot.need_ms.load() > neediest->need_ms.load()) neediest = &slot;
    });
    spdlog::info("play-out delay now {:.1f} ms{}", frames_to_ms(now, config_.sample_rate),
                 neediest != nullptr && neediest->need_ms.load() >= 0.0f
                     ? fmt::format(" (node '{}' needs {:.1f} ms for 99% of its packets)", neediest->name,
                                   neediest->need_ms.load())
                     : std::string());
  }
  logged_latency_ = now;
  latency_log_ns_ = now_ns;
}

proto::MixerStatus Mixer::status() const {
  return mixer_status(MixerParts{.config = config_,
                                 .clock = clock_,
                                 .engine = engine_,
                                 .recorder = recorder_,
                                 .driver = driver_.get(),
                                 .receiver = receiver_.get(),
                                 .master = desk_.master(),
                                 .buses = desk_.buses(),
                                 .realtime_refused = realtime_refused_,
                                 .registry = registry_});
}

void Mixer::collect_applied_changes() {
  AppliedChange a;
  while (engine_.next_applied(a)) {
    // The block's position is where mix.wav has it: mix chunks are placed back by the
    // master chain's look-ahead, so the input at a position lands at that position.
    if (auto after = automation_.applied(a.id)) recorder_.note_automation(a.position, std::move(*after));
  }
  automation_.forget_unreported();
  TransportMark m;
  while (engine_.next_transport_mark(m)) {
    ++transport_moves_;  // the desk journal saves where it now stands
    recorder_.note_transport(
        {.position = m.position,
         .playing = m.transport.playing,
         .timeline = m.transport.playing ? m.transport.linear(m.position) : m.transport.at(m.position),
         .loop = m.transport.loop});
  }
}

void Mixer::on_closed(ControlSession& session) {
  if (session.node == nullptr) return;
  session.node->control_connected = false;
  spdlog::info("node '{}' (id {}) disconnected; its tracks stay and it may rejoin under the same name",
               session.node->name, session.node->id);
  session.node = nullptr;
}

}  // namespace tl::mixer
