#include "tl/mixer/mixer.h"

#include <limits>

#include <spdlog/spdlog.h>

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "tl/common/realtime.h"
#include "tl/common/version.h"
#include "tl/mixer/strip_control.h"
#include "tl/protocol/auth.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {
namespace {
constexpr auto kTick = std::chrono::milliseconds(100);

MediaTime ms_to_frames(double ms, std::uint32_t rate) {
  return static_cast<MediaTime>(std::llround(ms * rate / 1000.0));
}
double frames_to_ms(MediaTime frames, std::uint32_t rate) {
  return static_cast<double>(frames) * 1000.0 / rate;
}

MediaTime latency_frames(const MixerConfig& c) {
  return std::clamp(ms_to_frames(c.latency_ms, c.sample_rate), ms_to_frames(c.latency_min_ms, c.sample_rate),
                    ms_to_frames(c.latency_max_ms, c.sample_rate));
}

std::uint32_t jitter_capacity(const MixerConfig& c) {
  // Room for the longest play-out delay plus a second of early or bursty arrivals.
  return static_cast<std::uint32_t>(ms_to_frames(c.latency_max_ms, c.sample_rate)) + c.sample_rate;
}

//! A node's own bound on the play-out delay it asks for, ms (0: the mixer's).
double own_bound_ms(const std::atomic<std::int64_t>& frames, std::uint32_t rate) {
  const std::int64_t v = frames.load(std::memory_order_relaxed);
  return v < 0 ? 0.0 : frames_to_ms(v, rate);
}

bool device_clocked(const MixerConfig& c) {
  return !c.monitor.empty() || c.monitor_default;
}

//! The session clock's epoch: a mixer restarted on the same record directory (same
//! boot) goes on with the timeline it left, so a take it did not finish and the
//! nodes' spools (keyed by session position) still line up. A new boot, or a new
//! directory, starts a new timeline now.
std::int64_t session_epoch(const std::string& record_dir) {
  std::string boot;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
  const std::filesystem::path path = std::filesystem::path(record_dir) / ".tracklink-session";
  std::string saved_boot;
  std::int64_t saved_epoch = 0;
  std::ifstream(path) >> saved_boot >> saved_epoch;
  const std::int64_t now = monotonic_ns();
  if (!boot.empty() && saved_boot == boot && saved_epoch > 0 && saved_epoch <= now) {
    spdlog::info("session timeline goes on from the last mixer on {} ({:.1f} s old)", record_dir,
                 static_cast<double>(now - saved_epoch) / 1e9);
    return saved_epoch;
  }
  std::error_code ec;
  std::filesystem::create_directories(record_dir, ec);
  std::ofstream(path) << (boot.empty() ? "unknown" : boot) << ' ' << now << '\n';
  return now;
}

float dbfs(float v) {
  return static_cast<float>(gain_to_db(v, -150.0));
}
}  // namespace

Mixer::Mixer(MixerConfig config)
    : config_(std::move(config)),
      clock_(config_.sample_rate, session_epoch(config_.record_dir)),
      registry_(RegistryConfig{.sample_rate = config_.sample_rate,
                               .jitter_capacity_frames = jitter_capacity(config_),
                               .mix_queue_packets = 4096}),
      to_recorder_(32768),  // a second of 256 channels in 48-frame packets
      // 10 s of the mix: the recorder thread also writes the files, and a busy disk can hold it.
      mix_to_recorder_(static_cast<std::size_t>(10 * config_.sample_rate / kMaxMixChunk) + 64),
      concealed_to_recorder_(65536),
      engine_(registry_, mix_to_recorder_,
              MixConfig{.sample_rate = config_.sample_rate,
                        .max_block_frames = 4096,
                        .latency_frames = latency_frames(config_),
                        .latency_min_frames = ms_to_frames(config_.latency_min_ms, config_.sample_rate),
                        .latency_max_frames = ms_to_frames(config_.latency_max_ms, config_.sample_rate),
                        .adaptive = config_.latency_min_ms < config_.latency_max_ms && !device_clocked(config_),
                        .latency_margin_seconds = config_.latency_margin_ms / 1000.0,
                        .latency_hold_seconds = config_.latency_hold_s},
              &concealed_to_recorder_),
      recorder_(registry_, clock_, to_recorder_, mix_to_recorder_,
                RecorderConfig{.record_dir = config_.record_dir, .latency_frames = latency_frames(config_)},
                &concealed_to_recorder_),
      signals_(io_, SIGINT, SIGTERM),
      ticker_(io_) {}

Mixer::~Mixer() {
  if (driver_) driver_->stop();
  recorder_.stop();
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
    receiver_ = std::make_unique<AudioReceiver>(io_, asio::ip::udp::endpoint(address, server_->port()),
                                                registry_, clock_, to_recorder_,
                                                AudioReceiver::Config{.poll_period = block});
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
  for (const std::string& take : recorder_.unfinished_takes()) {
    spdlog::warn("take {} was not finished: a mixer stopped while recording it. Its files are readable as they "
                 "are (tlctl takes lists it as unfinished); the node spools still hold its audio",
                 take);
  }
  if (device_clocked(config_)) {
    driver_ = std::make_unique<DeviceMixDriver>(engine_, clock_, config_.block_frames, config_.monitor,
                                                config_.audio_api);
  } else {
    driver_ = std::make_unique<TimerMixDriver>(engine_, clock_, config_.block_frames);
  }
  if (auto s = driver_->start(); !s) return s;
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
  const std::string latency =
      engine_.config().adaptive
          ? fmt::format("{:.1f} ms play-out delay (adapts within {:.1f}-{:.1f} ms)", start_ms, config_.latency_min_ms,
                        config_.latency_max_ms)
          : fmt::format("{:.1f} ms play-out delay (fixed{})", start_ms,
                        device_clocked(config_) ? ": the device clocks the mix" : "");
  spdlog::info("tl-mixer listening on {}:{} (control TCP, audio UDP), {} Hz, {}-frame blocks, {}, clock {}, "
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
  if (!rt::try_set_realtime_priority(kIoPriority) && report.priority_error == 0) report.priority_error = EPERM;
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
  for (std::uint16_t id = 1; id <= registry_.highest_id(); ++id) {
    NodeSlot* slot = registry_.by_id(id);
    if (slot == nullptr) continue;
    const auto state = registry_.state_of(*slot, now);
    if (state != slot->reported_state) {
      slot->reported_state = state;
      const char* what = state == proto::NODE_STREAMING ? "streaming"
                         : state == proto::NODE_GONE
                             ? "gone (control connection closed; tracks kept for a rejoin)"
                         : slot->last_heard_ns < 0 ? "waiting for its first audio"
                                                   : "silent (no audio for over 1 s: check the node)";
      spdlog::info("node '{}' (id {}) is now {}", slot->name, slot->id, what);
      proto::Envelope ev;
      fill_node(*slot, *ev.mutable_event()->mutable_node(), now);
      broadcast(ev, true, false);
    }
  }
  proto::Envelope levels;
  *levels.mutable_event()->mutable_levels() = node_list();
  broadcast(levels, false, true);
  follow_latency();
  collect_applied_changes();

  if (now - last_status_log_ns_ >= 10'000'000'000LL) {
    last_status_log_ns_ = now;
    spdlog::info("status: {} nodes, {:.1f} ms play-out delay, {} mix blocks, {} overruns, {} clipped, {} bad "
                 "packets{}",
                 registry_.highest_id(), frames_to_ms(engine_.latency_frames(), config_.sample_rate),
                 engine_.blocks(), driver_->overruns(), engine_.clipped(),
                 receiver_->counters().total_rejected(),
                 recorder_.recording() ? ", recording '" + recorder_.take_name() + "'" : std::string());
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

void Mixer::fill_node(const NodeSlot& slot, proto::NodeInfo& n, std::int64_t now) const {
  n.set_node_id(slot.id);
  n.set_name(slot.name);
  n.set_channels(slot.channels);
  n.set_sample_rate(slot.sample_rate);
  n.set_frames_per_packet(slot.frames_per_packet);
  n.set_format(slot.format == protocol::SampleFormat::Pcm16  ? proto::FORMAT_PCM16
               : slot.format == protocol::SampleFormat::F32  ? proto::FORMAT_F32
               : slot.format == protocol::SampleFormat::Opus ? proto::FORMAT_OPUS
                                                             : proto::FORMAT_PCM24);
  if (slot.opus) {
    const OpusLive::Counters& o = slot.opus->counters();
    n.set_opus_plc_samples(o.concealed_samples);
    n.set_opus_fec_samples(o.fec_samples);
    n.set_opus_late_packets(o.late_packets);
    n.set_opus_held_packets(o.held_packets);
  }
  n.set_source(slot.source);
  n.set_cue_on(slot.cue_on);
  n.set_cue_output(slot.report.cue_output());
  n.set_cue_latency_ms(slot.report.cue_latency_ms());
  n.set_cue_packets(slot.report.cue_packets());
  n.set_cue_underruns(slot.report.cue_underruns());
  n.set_state(registry_.state_of(slot, now));
  n.set_last_heard_s(slot.last_heard_ns < 0 ? -1.0 : static_cast<double>(now - slot.last_heard_ns) / 1e9);
  n.set_packets(slot.packets);
  std::uint64_t lost = slot.lost_before;
  if (slot.seq_started) {
    const std::uint64_t expected = static_cast<std::uint32_t>(slot.highest_seq - slot.first_seq) + 1ull;
    if (expected > slot.seq_received) lost += expected - slot.seq_received;
  }
  n.set_lost(lost);
  n.set_loss_pct(slot.packets + lost == 0
                     ? 0.0
                     : 100.0 * static_cast<double>(lost) / static_cast<double>(slot.packets + lost));
  n.set_late(slot.late.load(std::memory_order_relaxed));
  n.set_bad(slot.bad);
  n.set_transit_ms(slot.transit_count == 0 ? 0.0
                                           : slot.transit_sum_ms / static_cast<double>(slot.transit_count));
  n.set_latency_ms(frames_to_ms(engine_.latency_frames(), config_.sample_rate));
  n.set_need_ms(slot.need_ms.load(std::memory_order_relaxed));
  n.set_latency_min_ms(own_bound_ms(slot.latency_min_frames, config_.sample_rate));
  n.set_latency_max_ms(own_bound_ms(slot.latency_max_frames, config_.sample_rate));
  n.set_concealed_samples(slot.concealed.load(std::memory_order_relaxed));
  n.set_concealed_blocks(slot.concealed_blocks.load(std::memory_order_relaxed));
  n.set_need_p999_ms(slot.usual_need_ms.load(std::memory_order_relaxed));
  n.set_connects(slot.connects);
  n.set_host(slot.host);
  n.set_pid(slot.pid);
  n.set_sync_state(slot.report.sync_state());
  n.set_offset_ms(slot.report.offset_ms());
  n.set_rtt_ms(slot.report.rtt_ms());
  n.set_drift_ppm(slot.report.drift_ppm());
  n.set_node_frames_dropped(slot.report.frames_dropped());
  n.set_varispeed_ppm(slot.varispeed_ppm.load(std::memory_order_relaxed));
  n.set_live_drift_ppm(slot.drift_ppm.load(std::memory_order_relaxed));
  n.set_margin_ms(slot.margin_ms.load(std::memory_order_relaxed));
  n.set_jitter_ms(slot.jitter_ms.load(std::memory_order_relaxed));
  n.set_nacks_sent(slot.nacks_sent);
  n.set_retransmits(slot.retransmits);
  for (std::uint32_t c = 0; c < slot.channels; ++c) {
    auto* ci = n.add_channel_info();
    const StripSettings& s = slot.strips[c];
    ci->set_channel(c + 1);
    ci->set_gain_db(s.gain_db);
    ci->set_pan(s.pan);
    ci->set_mute(s.mute);
    ci->set_solo(s.solo);
    ci->set_peak_dbfs(dbfs(slot.levels[c].peak.load(std::memory_order_relaxed)));
    ci->set_rms_dbfs(dbfs(slot.levels[c].rms.load(std::memory_order_relaxed)));
    ci->set_comp_gr_db(s.dsp.comp_on ? slot.levels[c].comp_gr_db.load(std::memory_order_relaxed) : 0.0f);
    ci->set_gate_db(s.dsp.gate_on ? slot.levels[c].gate_db.load(std::memory_order_relaxed) : 0.0f);
  }
}

proto::NodeList Mixer::node_list() const {
  proto::NodeList list;
  const std::int64_t now = clock_.now_ns();
  auto& registry = const_cast<NodeRegistry&>(registry_);
  for (std::uint16_t id = 1; id <= registry.highest_id(); ++id) {
    if (const NodeSlot* slot = registry.by_id(id)) fill_node(*slot, *list.add_nodes(), now);
  }
  list.set_session_time_ns(now);
  return list;
}

proto::MixerStatus Mixer::status() const {
  proto::MixerStatus s;
  s.set_version(std::string(kTracklinkVersion));
  s.set_sample_rate(config_.sample_rate);
  s.set_block_frames(config_.block_frames);
  s.set_clock(driver_ ? driver_->describe() : "none");
  s.set_latency_ms(frames_to_ms(engine_.latency_frames(), config_.sample_rate));
  s.set_latency_min_ms(config_.latency_min_ms);
  s.set_latency_max_ms(config_.latency_max_ms);
  s.set_latency_adaptive(engine_.config().adaptive);
  s.set_latency_wanted_ms(frames_to_ms(engine_.latency_wanted(), config_.sample_rate));
  s.set_recording(recorder_.recording());
  s.set_take_name(recorder_.take_name());
  s.set_take_seconds(recorder_.take_seconds());
  s.set_mix_blocks(engine_.blocks());
  s.set_mix_overruns(driver_ ? driver_->overruns() : 0);
  s.set_concealed_blocks(engine_.concealed_blocks());
  s.set_concealed_frames(engine_.concealed_frames());
  if (const DurationHistogram* wake = driver_ ? driver_->wake_lateness() : nullptr) {
    s.set_mix_wake_p999_ms(wake->quantile_ms(0.999));
    s.set_mix_wake_max_ms(wake->max_ms());
  }
  s.set_latency_margin_ms(config_.latency_margin_ms);
  s.set_latency_hold_s(config_.latency_hold_s);
  s.set_realtime(realtime_refused_);
  s.set_clipped_samples(engine_.clipped());
  s.set_bad_packets(receiver_ ? receiver_->counters().total_rejected() : 0);
  s.set_record_dropped((receiver_ ? receiver_->counters().record_dropped : 0) + engine_.record_dropped() +
                       engine_.concealed_dropped());
  s.set_record_dir(config_.record_dir);
  s.set_uptime_s(static_cast<double>(clock_.now_ns()) / 1e9);
  const MasterMeters m = engine_.master_meters();
  s.set_master_peak_dbfs(m.peak_dbfs);
  s.set_master_true_peak_dbtp(m.true_peak_dbtp);
  s.set_master_momentary_lufs(m.momentary_lufs);
  s.set_master_short_term_lufs(m.short_term_lufs);
  s.set_master_integrated_lufs(m.integrated_lufs);
  s.set_master_limiter_gr_db(master_.limiter_on ? m.limiter_gr_db : 0.0f);
  s.set_master_comp_on(master_.bus.comp_on);
  s.set_master_comp_gr_db(master_.bus.comp_on ? m.comp_gr_db : 0.0f);
  for (std::size_t b = 0; b < kBuses; ++b) {
    auto* level = s.add_buses();
    level->set_name(bus_name(b));
    level->set_peak_dbfs(dbfs(engine_.bus_peak(b)));
    level->set_mute(buses_[b].bus.mute);
  }
  s.set_master_limiter_on(master_.limiter_on);
  return s;
}

void Mixer::on_request(const std::shared_ptr<ControlSession>& s, const proto::Envelope& req) {
  const std::uint64_t id = req.request_id();
  proto::Envelope reply;
  switch (req.body_case()) {
    case proto::Envelope::kRegisterNode:
      handle_register(s, id, req.register_node());
      return;
    case proto::Envelope::kListNodes:
      *reply.mutable_node_list() = node_list();
      break;
    case proto::Envelope::kGetStatus:
      *reply.mutable_mixer_status() = status();
      break;
    case proto::Envelope::kSetChannel:
      handle_set_channel(s, id, req.set_channel());
      return;
    case proto::Envelope::kSetStrip:
      handle_set_strip(s, id, req.set_strip());
      return;
    case proto::Envelope::kSceneRequest:
      handle_scene(s, id, req.scene_request());
      return;
    case proto::Envelope::kSetCue:
      handle_set_cue(s, id, req.set_cue());
      return;
    case proto::Envelope::kSetLatency:
      handle_set_latency(s, id, req.set_latency());
      return;
    case proto::Envelope::kRecordStart:
    case proto::Envelope::kRecordStop:
    case proto::Envelope::kRecordRecover:
      handle_record(s, id, req);
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
  s->reply(id, std::move(reply));
  if (r.wants_cue() && !slot->cue_on) {
    if (auto on = set_cue_on(*slot, true); !on) spdlog::warn("node '{}' asked for a cue mix: {}", slot->name, on.error());
  }
}

Status Mixer::set_cue_on(NodeSlot& slot, bool on) {
  if (on && slot.cue < 0) {
    std::array<bool, kMaxCues> taken{};
    for (std::uint16_t nid = 1; nid <= registry_.highest_id(); ++nid) {
      const NodeSlot* other = registry_.by_id(nid);
      if (other != nullptr && other->cue >= 0) taken[static_cast<std::size_t>(other->cue)] = true;
    }
    const auto free = std::find(taken.begin(), taken.end(), false);
    if (free == taken.end()) {
      return Error{"every one of the " + std::to_string(kMaxCues) + " cue mixes is taken (turn one off)"};
    }
    slot.cue = static_cast<int>(free - taken.begin());
    // Published to the mix thread by the command queue, before the command that uses it.
    if (!slot.cue_out) slot.cue_out = std::make_unique<SpscRing<CueChunk>>(256);
    slot.cue_levels_db.fill(0.0f);
  }
  if (slot.cue < 0) return Status::success();
  const MixCommand cmd{.kind = MixCommand::Kind::CueOn,
                       .node = slot.id,
                       .value = on ? 1.0f : 0.0f,
                       .bus = static_cast<std::uint8_t>(slot.cue)};
  if (!engine_.post(cmd)) return Error{"mix engine command queue is full; try again"};
  if (on) post_cue_limit(slot);
  slot.cue_on = on;
  if (!on) slot.cue = -1;  // its cue goes back to the pool (levels start again at 0 dB)
  spdlog::info("node '{}': cue mix {}", slot.name, on ? "on" : "off");
  return Status::success();
}

bool Mixer::post_cue_limit(const NodeSlot& slot) {
  return engine_.post(MixCommand{.kind = MixCommand::Kind::CueLimit,
                                 .node = slot.id,
                                 .value = slot.cue_limit_dbtp,
                                 .bus = static_cast<std::uint8_t>(slot.cue)});
}

void Mixer::handle_set_cue(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetCue& r) {
  NodeSlot* slot = registry_.by_name(r.node());
  if (slot == nullptr) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND, "no node named '" + r.node() + "' (see tlctl nodes)");
    return;
  }
  switch (r.action()) {
    case proto::SetCue::ON:
    case proto::SetCue::OFF:
      if (auto done = set_cue_on(*slot, r.action() == proto::SetCue::ON); !done) {
        s->send_error(id, proto::ErrorReply::CONFLICT, done.error());
        return;
      }
      break;
    case proto::SetCue::LEVEL: {
      if (!slot->cue_on) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST,
                      "node '" + slot->name + "' has no cue mix on (tlctl cue " + slot->name + " on)");
        return;
      }
      const NodeSlot* source = r.source().empty() || r.source() == "me" ? slot : registry_.by_name(r.source());
      if (source == nullptr) {
        s->send_error(id, proto::ErrorReply::NOT_FOUND, "no node named '" + r.source() + "' (see tlctl nodes)");
        return;
      }
      if (!protocol::kCueLevelDb.contains(r.level_db())) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, "a cue level is -60 (off) to +12 dB");
        return;
      }
      const MixCommand cmd{.kind = MixCommand::Kind::CueLevel,
                           .node = slot->id,
                           .value = r.level_db() <= -60.0f ? 0.0f : db_to_gain(r.level_db()),
                           .bus = static_cast<std::uint8_t>(slot->cue),
                           .source = source->id};
      if (!engine_.post(cmd)) {
        s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; try again");
        return;
      }
      slot->cue_levels_db[source->id] = r.level_db();
      spdlog::info("node '{}': {} at {:+.1f} dB in its cue mix, set by {}", slot->name,
                   source == slot ? "its own sound" : "'" + source->name + "'", r.level_db(), s->who());
      break;
    }
    case proto::SetCue::LIMIT:
      if (!protocol::kCueLimitDbtp.contains(r.limit_dbtp())) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, "a cue limit is -40 to 0 dBTP");
        return;
      }
      slot->cue_limit_dbtp = r.limit_dbtp();
      if (slot->cue >= 0 && !post_cue_limit(*slot)) {
        s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; try again");
        return;
      }
      spdlog::info("node '{}': cue limiter ceiling {:.1f} dBTP, set by {}", slot->name, r.limit_dbtp(), s->who());
      break;
    default: break;
  }
  proto::Envelope reply;
  auto* state = reply.mutable_cue_state();
  state->set_node(slot->name);
  state->set_on(slot->cue_on);
  state->set_limit_dbtp(slot->cue_limit_dbtp);
  for (std::uint16_t nid = 1; nid <= registry_.highest_id(); ++nid) {
    const NodeSlot* source = registry_.by_id(nid);
    if (source == nullptr || !slot->cue_on || slot->cue_levels_db[nid] == 0.0f) continue;
    auto* level = state->add_levels();
    level->set_source(source->name);
    level->set_level_db(slot->cue_levels_db[nid]);
  }
  state->set_output(slot->report.cue_output());
  state->set_latency_ms(slot->report.cue_latency_ms());
  state->set_packets(slot->report.cue_packets());
  state->set_underruns(slot->report.cue_underruns());
  s->reply(id, std::move(reply));
}

void Mixer::handle_set_channel(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                               const proto::SetChannel& r) {
  auto target = resolve_target(registry_, r.target());
  if (!target) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND, target.error());
    return;
  }
  auto [slot, channel] = target.value();
  StripSettings& strip = slot->strips[channel];
  MixCommand cmd{.node = slot->id, .channel = static_cast<std::uint16_t>(channel)};
  switch (r.change_case()) {
    case proto::SetChannel::kGainDb:
      if (!protocol::kGainDb.contains(r.gain_db())) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, "gain must be between -150 and +24 dB");
        return;
      }
      strip.gain_db = r.gain_db();
      cmd.kind = MixCommand::Kind::Gain;
      cmd.value = r.gain_db() <= -150.0f ? 0.0f : db_to_gain(r.gain_db());
      break;
    case proto::SetChannel::kPan:
      if (!protocol::kPan.contains(r.pan())) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, "pan must be between -1 (left) and 1 (right)");
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
  cmd.id = automation_id();
  if (!engine_.post(cmd)) {
    s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; try again");
    return;
  }
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
  proto::NodeInfo info;
  fill_node(*slot, info, clock_.now_ns());
  *state->mutable_info() = info.channel_info(static_cast<int>(channel));
  s->reply(id, std::move(reply));
}

void Mixer::handle_set_latency(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                               const proto::SetLatency& r) {
  NodeSlot* slot = registry_.by_name(r.node());
  if (slot == nullptr) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND, "no node named '" + r.node() + "' (see tlctl nodes)");
    return;
  }
  const auto bad = [&](const std::string& what) { s->send_error(id, proto::ErrorReply::BAD_REQUEST, what); };
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
  const auto bound = [](double ms) { return ms > 0.0 ? fmt::format("{:.1f} ms", ms) : std::string("the mixer's"); };
  spdlog::info("node '{}': play-out delay range min {}, max {}, set by {}", slot->name, bound(state->min_ms()),
               bound(state->max_ms()), s->who());
  s->reply(id, std::move(reply));
}

void Mixer::follow_latency() {
  const MediaTime now = engine_.latency_frames();
  recorder_.set_latency(now);
  const std::int64_t now_ns = clock_.now_ns();
  // Log a move of 2 ms and a fifth or more, at most every 5 s (it follows a jittery link).
  const MediaTime moved = std::llabs(now - logged_latency_);
  if (logged_latency_ >= 0 && (moved < ms_to_frames(2.0, config_.sample_rate) || 5 * moved < logged_latency_)) return;
  if (logged_latency_ >= 0 && now_ns - latency_log_ns_ < 5'000'000'000LL) return;
  if (logged_latency_ >= 0) {
    const NodeSlot* neediest = nullptr;
    for (std::uint16_t id = 1; id <= registry_.highest_id(); ++id) {
      const NodeSlot* slot = registry_.by_id(id);
      if (slot != nullptr && (neediest == nullptr || slot->need_ms.load() > neediest->need_ms.load())) neediest = slot;
    }
    spdlog::info("play-out delay now {:.1f} ms{}", frames_to_ms(now, config_.sample_rate),
                 neediest != nullptr && neediest->need_ms.load() >= 0.0f
                     ? fmt::format(" (node '{}' needs {:.1f} ms for 99% of its packets)", neediest->name,
                                   neediest->need_ms.load())
                     : std::string());
  }
  logged_latency_ = now;
  latency_log_ns_ = now_ns;
}

void Mixer::handle_set_strip(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                             const proto::SetStrip& r) {
  const bool show = r.section() == "show";
  const std::string& who = s->who();
  proto::Envelope reply;
  auto* state = reply.mutable_strip_state();
  if (r.target() == "master") {
    if (!show) {
      dsp::MasterParams next = master_;
      auto change = apply_master_change(next, r);
      if (!change) {
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, change.error());
        return;
      }
      MixCommand cmd{.kind = MixCommand::Kind::Master, .id = automation_id()};
      cmd.master = next;
      if (!engine_.post(cmd)) {
        s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; try again");
        return;
      }
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
        s->send_error(id, proto::ErrorReply::BAD_REQUEST, change.error());
        return;
      }
      const std::uint32_t change_id = automation_id();
      if (!post_bus(b, next, change_id)) {
        s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; try again");
        return;
      }
      buses_[b] = next;
      remember_bus(change_id, b);
      spdlog::info("{} set by {}", change.value(), who);
    }
    fill_bus_state(buses_[b], b, *state);
    state->set_peak_dbfs(dbfs(engine_.bus_peak(b)));
    s->reply(id, std::move(reply));
    return;
  }
  auto target = resolve_target(registry_, r.target());
  if (!target) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND, target.error());
    return;
  }
  auto [slot, channel] = target.value();
  StripSettings& strip = slot->strips[channel];
  if (!show) {
    dsp::StripParams next = strip.dsp;
    auto change = apply_strip_change(next, r, config_.sample_rate, registry_.config().max_delay_samples);
    if (!change) {
      s->send_error(id, proto::ErrorReply::BAD_REQUEST, change.error());
      return;
    }
    MixCommand cmd{.kind = MixCommand::Kind::Strip,
                   .id = automation_id(),
                   .node = slot->id,
                   .channel = static_cast<std::uint16_t>(channel)};
    cmd.strip = next;
    if (!engine_.post(cmd)) {
      s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; try again");
      return;
    }
    strip.dsp = next;
    remember_strip(cmd.id, *slot, channel);
    spdlog::info("{} set by {}", change.value(), who);
  }
  fill_strip(*slot, channel, *state);
  s->reply(id, std::move(reply));
}

proto::Scene Mixer::current_scene(const std::string& name) const {
  proto::Scene scene;
  scene.set_name(name);
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  scene.set_saved_at(stamp);
  for (std::uint16_t nid = 1; nid <= registry_.highest_id(); ++nid) {
    const NodeSlot* slot = const_cast<NodeRegistry&>(registry_).by_id(nid);
    if (slot == nullptr) continue;
    for (std::uint32_t c = 0; c < slot->channels; ++c) fill_strip(*slot, c, *scene.add_strips());
  }
  fill_master_state(master_, *scene.mutable_master());
  for (std::size_t b = 0; b < kBuses; ++b) fill_bus_state(buses_[b], b, *scene.add_buses());
  return scene;
}

namespace {
std::string to_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, print).ok()) return "{}";
  return out;
}
}  // namespace

std::uint32_t Mixer::automation_id() {
  if (!recorder_.recording() && !take_starting_) return 0;
  const std::uint32_t id = next_change_id_++;
  if (next_change_id_ == 0) next_change_id_ = 1;
  return id;
}

void Mixer::remember_strip(std::uint32_t id, const NodeSlot& slot, std::uint32_t channel) {
  if (id == 0) return;
  proto::StripState after;
  fill_strip(slot, channel, after);
  pending_changes_[id] = to_json(after);
}

void Mixer::remember_master(std::uint32_t id) {
  if (id == 0) return;
  proto::StripState after;
  fill_master_state(master_, after);
  pending_changes_[id] = to_json(after);
}

void Mixer::remember_bus(std::uint32_t id, std::size_t bus) {
  if (id == 0) return;
  proto::StripState after;
  fill_bus_state(buses_[bus], bus, after);
  pending_changes_[id] = to_json(after);
}

void Mixer::collect_applied_changes() {
  AppliedChange a;
  while (engine_.next_applied(a)) {
    const auto it = pending_changes_.find(a.id);
    if (it == pending_changes_.end()) continue;
    // The block's position is where mix.wav has it: mix chunks are placed back by the
    // master chain's look-ahead, so the input at a position lands at that position.
    recorder_.note_automation(a.position, std::move(it->second));
    pending_changes_.erase(it);
  }
  // Changes the engine never reported (its ring was full): dropped after a while.
  while (pending_changes_.size() > 4096) pending_changes_.erase(pending_changes_.begin());
}

bool Mixer::post_bus(std::size_t index, const BusSettings& settings, std::uint32_t id) {
  for (const MixCommand& c : bus_commands(index, settings, id)) {
    if (!engine_.post(c)) return false;
  }
  return true;
}

void Mixer::fill_strip(const NodeSlot& slot, std::uint32_t channel, proto::StripState& state) const {
  state.set_target(slot.name + "/" + std::to_string(channel + 1));
  fill_strip_state(slot.strips[channel].dsp, config_.sample_rate, state);
  proto::NodeInfo info;
  fill_node(slot, info, clock_.now_ns());
  *state.mutable_channel() = info.channel_info(static_cast<int>(channel));
  state.mutable_gate()->set_gain_db(state.channel().gate_db());
  state.mutable_comp()->set_gain_reduction_db(state.channel().comp_gr_db());
}

namespace {
bool valid_scene_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}
}  // namespace

void Mixer::handle_scene(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                         const proto::SceneRequest& r) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(config_.record_dir) / "scenes";
  const std::string& who = s->who();
  proto::Envelope reply;
  auto* out = reply.mutable_scene_reply();
  out->set_action(r.action());
  out->set_name(r.name());
  if (r.action() == "list") {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    for (auto& n : names) out->add_scenes(std::move(n));
    out->set_path(dir.string());
    s->reply(id, std::move(reply));
    return;
  }
  if (r.action() != "save" && r.action() != "recall") {
    s->send_error(id, proto::ErrorReply::BAD_REQUEST, "scene action must be save, recall or list");
    return;
  }
  if (!valid_scene_name(r.name())) {
    s->send_error(id, proto::ErrorReply::BAD_REQUEST,
                  "bad scene name '" + r.name() + "': use 1-64 of A-Z a-z 0-9 - _ . (not starting with .)");
    return;
  }
  const fs::path path = dir / (r.name() + ".json");
  out->set_path(path.string());
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;

  if (r.action() == "save") {
    const proto::Scene scene = current_scene(r.name());
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(scene, &json, print).ok()) {
      s->send_error(id, proto::ErrorReply::INTERNAL, "cannot encode the scene");
      return;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path tmp = dir / ("." + r.name() + ".json.tmp");
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << json << "\n";
      f.close();
      if (!f) {
        s->send_error(id, proto::ErrorReply::INTERNAL,
                      "cannot write " + tmp.string() + ": check the record dir");
        return;
      }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
      s->send_error(id, proto::ErrorReply::INTERNAL, "cannot write " + path.string() + ": " + ec.message());
      return;
    }
    out->set_channels(static_cast<std::uint32_t>(scene.strips_size()));
    spdlog::info("scene '{}' saved ({} strips, the buses and the master) to {} by {}", r.name(), scene.strips_size(),
                 path.string(), who);
    s->reply(id, std::move(reply));
    return;
  }

  // recall
  std::ifstream f(path);
  if (!f) {
    s->send_error(id, proto::ErrorReply::NOT_FOUND,
                  "no scene named '" + r.name() + "' (see tlctl scene list)");
    return;
  }
  std::stringstream text;
  text << f.rdbuf();
  proto::Scene scene;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &scene, parse).ok()) {
    s->send_error(id, proto::ErrorReply::BAD_REQUEST,
                  "scene file " + path.string() + " is not a valid scene");
    return;
  }
  std::uint32_t applied = 0;
  for (const auto& st : scene.strips()) {
    auto target = resolve_target(registry_, st.target());
    if (!target) {
      out->add_skipped(st.target());
      continue;
    }
    auto [slot, channel] = target.value();
    StripSettings& strip = slot->strips[channel];
    const std::vector<MixCommand> cmds = strip_commands(st, slot->id, static_cast<std::uint16_t>(channel),
                                                        config_.sample_rate, registry_.config().max_delay_samples,
                                                        automation_id());
    for (const MixCommand& c : cmds) {
      if (!engine_.post(c)) {
        s->send_error(
            id, proto::ErrorReply::INTERNAL,
            "mix engine command queue is full; scene '" + r.name() + "' only partly applied, recall again");
        return;
      }
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
    const MixCommand m = master_command(master_params_from_state(scene.master()), automation_id());
    if (!engine_.post(m)) {
      s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; recall again");
      return;
    }
    master_ = m.master;
    remember_master(m.id);
  }
  for (const auto& st : scene.buses()) {
    auto b = bus_index(st.target());
    if (!b) {
      out->add_skipped(st.target());
      continue;
    }
    const BusSettings settings = bus_settings_from_state(st);
    const std::uint32_t change = automation_id();
    if (!post_bus(b.value(), settings, change)) {
      s->send_error(id, proto::ErrorReply::INTERNAL, "mix engine command queue is full; recall again");
      return;
    }
    buses_[b.value()] = settings;
    remember_bus(change, b.value());
  }
  out->set_channels(applied);
  spdlog::info("scene '{}' recalled by {}: {} strips, the buses and the master applied{}", r.name(), who, applied,
               out->skipped_size() == 0
                   ? std::string()
                   : fmt::format(", {} skipped (node or channel not here)", out->skipped_size()));
  s->reply(id, std::move(reply));
}

void Mixer::handle_record(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                          const proto::Envelope& r) {
  std::weak_ptr<ControlSession> weak = s;
  if (r.has_record_start()) {
    // The mix as the take starts: automation.json's starting point (nothing can change
    // between this and the take's start: both run in order on their threads).
    Recorder::MixSetup mix{.scene = to_json(current_scene("take start")),
                           .block_frames = config_.block_frames,
                           .block_origin = engine_.position(),
                           .lookahead = engine_.master_latency()};
    take_starting_ = true;  // changes from now on are recorded, even before the take has begun
    recorder_.start_take(r.record_start().take_name(), std::move(mix), [this, weak, id](Result<proto::RecordStarted> result) {
      asio::post(io_, [this, weak, id, result = std::move(result)] {
        take_starting_ = false;
        auto session = weak.lock();
        proto::Envelope reply;
        if (!result) {
          if (session) session->send_error(id, proto::ErrorReply::CONFLICT, result.error());
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
      spdlog::info("take '{}': recovery asked by {}", r.record_recover().take_name(),
                   s->who());
      recorder_.recover_take(r.record_recover().take_name(), std::move(on_stopped));
    } else {
      recorder_.stop_take(std::move(on_stopped));
    }
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
