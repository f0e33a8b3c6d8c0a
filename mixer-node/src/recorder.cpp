#include "tl/mixer/recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "tl/common/realtime.h"
#include "tl/common/units.h"
#include "tl/mixer/take.h"
#include "tl/mixer/take_bwf.h"
#include "tl/mixer/take_close.h"
#include "tl/mixer/take_folder.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_report.h"
#include "tl/protocol/pcm.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {
constexpr std::int64_t kHeaderRefreshNs = 250'000'000;  // a killed mixer's files read to within 0.5 s
// .alive: a later mixer completes a killed take up to it from the spools. One pwrite of
// a fixed-width line: cheap enough to keep the completed take within 50 ms of the kill.
constexpr std::int64_t kAliveRefreshNs = 20'000'000;
// automation.json is rewritten (aside, then renamed) at most this often while changes come.
constexpr std::int64_t kAutomationJournalNs = 100'000'000;
constexpr std::int64_t kWriteBlockFrames = 4096;        // frames a track writes at once while recording
constexpr std::int64_t kStopGraceNs = 300'000'000;      // wait this long past latency for stragglers
constexpr std::int64_t kStopTimeoutNs = 3'000'000'000;  // finish even if the mix stalls
constexpr std::int64_t kExactPeriodNs = 500'000'000;    // Opus nodes are asked for exact audio this often
}  // namespace

Recorder::Recorder(NodeRegistry& registry, const SessionClock& clock, PacketRing& packets,
                   SpscRing<MixChunk>& mix, RecorderConfig config, SpscRing<ConcealedRun>* concealed)
    : registry_(registry),
      clock_(clock),
      packets_(packets),
      mix_(mix),
      concealed_(concealed),
      config_(std::move(config)) {
  latency_.store(config_.latency_frames, std::memory_order_relaxed);
}

Recorder::~Recorder() {
  stop();
}

int Recorder::start(bool realtime) {
  running_.store(true);
  conformer_.start();
  conformer_.resume(config_.record_dir);
  thread_ = std::thread([this] { run(); });
  return realtime ? rt::set_realtime_priority(thread_, kPriority) : 0;
}

void Recorder::stop() {
  if (!thread_.joinable()) return;
  running_.store(false);
  wake_.notify_all();
  thread_.join();
  conformer_.finish();
}

void Recorder::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::move(fn));
  }
  wake_.notify_all();
}

void Recorder::start_take(std::string name, MixSetup mix, StartedFn done) {
  post([this, name = std::move(name), mix = std::move(mix), done = std::move(done)]() mutable {
    begin(name, std::move(mix), done);
  });
}

void Recorder::note_automation(MediaTime position, std::string state) {
  post([this, position, state = std::move(state)]() mutable {
    if (!take_ || take_->recovered || position >= take_->stop) return;
    take_->automation.changes.push_back({.position = position, .state = std::move(state)});
    take_->automation_dirty = true;  // journaled by service_take
  });
}

void Recorder::note_transport(TakeAutomation::TransportMark mark) {
  post([this, mark] {
    transport_ = mark;
    if (!take_ || take_->recovered || mark.position >= take_->stop) return;
    take_->automation.transport.push_back(mark);
    take_->automation_dirty = true;
  });
}

void Recorder::note_backing_changed() {
  post([this] {
    if (!take_ || take_->recovered || take_->stop != INT64_MAX) return;
    take_->automation.backing_changed = true;
    take_->automation_dirty = true;
  });
}

void Recorder::stop_take(StoppedFn done) {
  const std::int64_t now = clock_.now_ns();
  post([this, now, done = std::move(done)] {
    if (!take_ || take_->stop != INT64_MAX) {
      done(Error{take_ ? "the take is already stopping" : "not recording"});
      return;
    }
    take_->stop = clock_.to_samples(now);
    take_->stop_requested_ns = now;
    take_->on_stopped = done;
  });
}

void Recorder::note_anchor(std::uint16_t node_id, MediaTime media_ts, double session_pos) {
  if (node_id == 0 || node_id > kMaxNodes) return;
  post([this, node_id, media_ts, session_pos] {
    if (take_) take_->node_anchors[node_id].emplace_back(media_ts, session_pos);
  });
}

void Recorder::note_compensation(std::uint16_t node_id, NodeCompensation c) {
  if (node_id == 0 || node_id > kMaxNodes) return;
  post([this, node_id, c] {
    if (compensation_[node_id] == c) return;
    compensation_[node_id] = c;
    if (!take_ || take_->recovered || take_->stop != INT64_MAX) return;
    // A node that joined as the take began says how it is placed at its first report:
    // that is the take's. A known figure that changes is noted as a change.
    if (take_->compensation[node_id].known()) {
      take_->compensation_changed[node_id] = true;
    } else {
      take_->compensation[node_id] = c;
    }
  });
}

void Recorder::note_timeline_start(std::uint16_t node_id, MediaTime media_ts) {
  if (node_id == 0 || node_id > kMaxNodes) return;
  post([this, node_id, media_ts] {
    if (!take_ || media_ts >= take_->stop) return;
    auto& tracks = take_->tracks[node_id];
    for (auto& t : tracks) {
      if (t) t->expect_from(std::max<MediaTime>(media_ts, take_->start) - take_->start);
    }
  });
}

std::string Recorder::take_name() const {
  std::lock_guard lock(mutex_);
  return take_name_;
}

double Recorder::take_seconds() const noexcept {
  if (!recording()) return 0.0;
  return static_cast<double>(clock_.now_samples() - take_start_.load()) / clock_.rate();
}

void Recorder::run() {
  for (;;) {
    std::deque<std::function<void()>> commands;
    {
      std::unique_lock lock(mutex_);
      commands.swap(commands_);
    }
    for (auto& c : commands) c();
    const bool busy = drain_packets() | drain_mix() | drain_concealed();
    if (take_) service_take();
    if (!unsaved_.empty() && clock_.now_ns() >= next_save_ns_) save_closed_takes(false);
    if (!running_.load()) {
      if (take_) {
        // Shutting down mid-take: stop now and finish every file.
        if (take_->stop == INT64_MAX) {
          take_->stop = clock_.now_samples();
          take_->stop_requested_ns = clock_.now_ns();
          take_->on_stopped = [](Result<proto::RecordStopped>) {};
        }
        continue;  // keep draining until service_take() finalizes
      }
      if (!unsaved_.empty()) save_closed_takes(true);
      break;
    }
    if (!busy) {
      // Between takes only the mix comes (its ring holds 10 s) and a command wakes us:
      // waking 200 times a second for it cost 0.3% of a core.
      const auto nap = std::chrono::milliseconds(take_ ? 5 : 50);
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, nap, [this] { return !commands_.empty(); });
    }
  }
}

void Recorder::begin(const std::string& requested, MixSetup setup, const StartedFn& done) {
  if (take_) {
    done(Error{"already recording take '" + take_->name + "'"});
    return;
  }
  std::string name = requested.empty() ? default_take_name() : requested;
  if (!valid_take_name(name)) {
    done(Error{bad_take_name_message(name)});
    return;
  }
  std::error_code ec;
  fs::create_directories(config_.record_dir, ec);
  fs::path dir = fs::path(config_.record_dir) / name;
  if (requested.empty()) {
    for (int n = 2; fs::exists(dir); ++n)
      dir = fs::path(config_.record_dir) / (name + "-" + std::to_string(n));
    name = dir.filename().string();
  } else if (fs::exists(dir)) {
    done(Error{"take '" + name + "' already exists in " + config_.record_dir + ": choose another name"});
    return;
  }
  if (!fs::create_directory(dir, ec)) {
    done(Error{"cannot create take directory '" + dir.string() + "': " + ec.message()});
    return;
  }

  auto take = std::make_unique<Take>();
  take->name = name;
  take->dir = dir;
  take->alive = std::make_unique<AliveFile>(dir / ".alive");
  // Packets are queued for the recorder from here on, before the start is taken: any
  // audio from the start on was captured after it, so it arrives after this.
  wants_packets_.store(true, std::memory_order_release);
  take->start = clock_.now_samples();
  TrackFileInfo info{.sample_rate = clock_.rate(),
                     .channels = 2,
                     .time_reference = take->start,
                     .description = "tracklink " + name + " mix"};
  auto mix = TrackWriter::open((dir / "mix.wav").string(), info, config_.window_frames);
  if (!mix) {
    wants_packets_.store(false, std::memory_order_release);
    done(Error{mix.error()});
    return;
  }
  take->mix = std::move(mix.value());
  take->mix->set_edge_fade(static_cast<std::uint32_t>(kMixEdgeFadeSeconds * clock_.rate()));
  take->last_header_ns = clock_.now_ns();
  take->automation = TakeAutomation{.take = name,
                                    .sample_rate = clock_.rate(),
                                    .start_sample = take->start,
                                    .mix = {.block_frames = setup.block_frames,
                                            .block_origin = setup.block_origin,
                                            .lookahead_frames = setup.lookahead},
                                    .initial = std::move(setup.scene),
                                    .transport = {transport_},
                                    .backing = std::move(setup.backing)};
  take->compensation = compensation_;
  take->punch = std::move(setup.punch);
  take_ = std::move(take);
  for (const std::uint16_t id : setup.nodes) {
    if (const NodeSlot* slot = registry_.by_id(id))
      take_->open_tracks(*slot, clock_.rate(), config_.window_frames);
  }
  {
    std::lock_guard lock(mutex_);
    take_name_ = name;
  }
  take_start_.store(take_->start);
  recording_.store(true, std::memory_order_release);
  write_manifest(manifest(TakeManifest::kRecording));
  if (const Status s = take_->automation.write(dir); !s) spdlog::error("take '{}': {}", name, s.error());
  spdlog::info("recording take '{}' in {} from session sample {}", name, dir.string(), take_->start);

  proto::RecordStarted started;
  started.set_take_name(name);
  started.set_path(dir.string());
  started.set_start_sample(take_->start);
  done(started);
}

bool Recorder::drain_packets() {
  bool any = false;
  for (int budget = 0; budget < 4096; ++budget) {
    PacketSlot* p = packets_.front();
    if (p == nullptr) break;
    any = true;
    protocol::PacketHeader h;
    std::span<const std::uint8_t> payload;
    const auto err = protocol::parse(p->datagram(), h, payload);
    NodeSlot* slot = registry_.by_id(h.node_id);
    if (take_ && err == protocol::DecodeError::Ok && slot != nullptr &&
        protocol::bytes_per_sample(h.format) != 0) {
      if (!take_->recovered) take_->open_tracks(*slot, clock_.rate(), config_.window_frames);
      take_->put_packet(h, payload, p->arrival_ns, *slot, clock_.rate());
    }
    packets_.pop();
  }
  return any;
}

bool Recorder::drain_concealed() {
  if (concealed_ == nullptr) return false;
  bool any = false;
  ConcealedRun run;
  for (int budget = 0; budget < 4096 && concealed_->try_pop(run); ++budget) {
    any = true;
    if (!take_ || take_->recovered) continue;
    const NodeSlot* slot = registry_.by_id(run.node);
    if (slot == nullptr) continue;
    take_->put_concealed(run, track_file_name(slot->name, run.channel));
  }
  return any;
}

bool Recorder::drain_mix() {
  bool any = false;
  for (int budget = 0; budget < 4096; ++budget) {
    MixChunk* chunk = mix_.front();
    if (chunk == nullptr) break;
    any = true;
    if (take_) take_->put_mix(*chunk);
    mix_.pop();
  }
  return any;
}

void Recorder::service_take() {
  const std::int64_t now_ns = clock_.now_ns();
  const MediaTime now = clock_.to_samples(now_ns);
  // Audio older than the play-out delay plus a quarter second is not going to arrive
  // in order any more: write it out so the files grow steadily (and a crash loses
  // little). Later audio for a gap is still patched in place.
  const MediaTime lag = latency_.load(std::memory_order_relaxed) + clock_.rate() / 4;
  std::int64_t flush_to = now - lag - take_->start;
  const bool stopping = take_->stop != INT64_MAX;
  const std::int64_t length = stopping ? take_->stop - take_->start : INT64_MAX;
  flush_to = std::min(flush_to, length);
  // In large blocks (a write per track every ~85 ms, not one per pass), except at the stop.
  take_->flush(flush_to, stopping ? 0 : kWriteBlockFrames);
  if (now_ns - take_->last_header_ns > kHeaderRefreshNs) {
    take_->last_header_ns = now_ns;
    take_->update_headers();
  }
  if (take_->automation_dirty && now_ns - take_->last_automation_ns >= kAutomationJournalNs) {
    // automation.json as the take goes: a killed mixer's take keeps every change made
    // before the last write (a scene recall's many changes are written together).
    take_->automation_dirty = false;
    take_->last_automation_ns = now_ns;
    if (const Status s = take_->automation.write(take_->dir); !s)
      spdlog::error("take '{}': {}", take_->name, s.error());
  }
  if (!stopping && take_->alive && now_ns - take_->last_alive_ns >= kAliveRefreshNs) {
    // Where the take had got to, for a later mixer to complete it from if this one dies.
    take_->last_alive_ns = now_ns;
    take_->alive->write(now);
  }
  if (!stopping && !take_->recovered && now_ns >= take_->next_exact_ns) {
    take_->next_exact_ns = now_ns + kExactPeriodNs;
    fetch_exact_audio();
  }
  if (stopping && take_->backfilling) {
    if (take_->backfill.all_answered() || now_ns >= take_->backfill_deadline_ns || !running_.load())
      finalize();
    return;
  }
  if (stopping) {
    const std::int64_t waited = now_ns - take_->stop_requested_ns;
    const std::int64_t needed = clock_.to_ns(latency_.load(std::memory_order_relaxed)) + kStopGraceNs;
    const bool mix_done = take_->mix_end >= length;
    if ((waited >= needed && mix_done) || waited >= needed + kStopTimeoutNs) {
      // Every live packet up to the stop is in: the rest (backfill, the conform of every
      // track, which takes seconds for hundreds of tracks) needs no more.
      wants_packets_.store(false, std::memory_order_release);
      // Shutting down: no node is asked (the mixer's io thread is gone).
      if (!running_.load() || !start_backfill(length)) finalize();
    }
  }
}

void Recorder::fetch_exact_audio() {
  Take& take = *take_;
  if (!fetch_) return;
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    // One request in flight per node: TCP paces the rest.
    if (take.backfill.waiting_for(id)) continue;
    // What is written to disk as a stand-in since the last request, every channel's.
    std::vector<TrackWriter::Gap> gaps;
    for (const auto& t : tracks) {
      if (!t) continue;
      for (const auto& g : t->gaps_to_fetch()) gaps.push_back(g);
    }
    const auto [from, to] = stand_in_range(gaps, take.exact_asked[id], Backfill::kMaxStandInFrames);
    if (from >= to) continue;
    take.exact_asked[id] = to;
    take.backfill.ask(id, take.start + from, static_cast<std::uint32_t>(to - from));
    fetch_(id, take.start + from, static_cast<std::uint32_t>(to - from));
  }
}

bool Recorder::start_backfill(std::int64_t length) {
  Take& take = *take_;
  take.backfilling = true;
  std::uint64_t missing = 0;
  std::size_t nodes = 0;
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    std::vector<TrackWriter::Gap> gaps;
    for (auto& t : tracks) {
      if (!t) continue;
      take.run_to_end(id, *t, length);
      for (const auto& g : t->gaps_to_fetch()) gaps.push_back(g);
    }
    if (gaps.empty()) continue;
    ++nodes;
    for (const auto& [from, to] : backfill_ranges(std::move(gaps), Backfill::kMaxRequestFrames)) {
      take.backfill.ask(id, take.start + from, static_cast<std::uint32_t>(to - from));
      missing += static_cast<std::uint64_t>(to - from);
    }
  }
  if ((missing == 0 && take.backfill.all_answered()) || !fetch_) return false;
  take.backfill_deadline_ns = clock_.now_ns() + Backfill::wait_ns(missing, clock_.rate());
  spdlog::info("take '{}': {:.3f} s of audio missing from {} node(s) in {} range(s); asking their spools",
               take.name, static_cast<double>(missing) / clock_.rate(), nodes,
               take.backfill.requests().size());
  write_manifest(manifest(TakeManifest::kBackfilling));
  for (const auto& r : take.backfill.requests()) fetch_(r.node, r.from, r.frames);
  return true;
}

void Recorder::backfill(std::uint16_t node_id, proto::AudioData data) {
  post([this, node_id, data = std::move(data)] { apply_backfill(node_id, data); });
}

void Recorder::backfill_failed(std::uint16_t node_id, MediaTime from, std::uint32_t frames,
                               std::string reason) {
  post([this, node_id, from, frames, reason = std::move(reason)] {
    if (take_) take_->backfill.failed(node_id, from, frames, reason);
  });
}

void Recorder::apply_backfill(std::uint16_t node_id, const proto::AudioData& data) {
  if (!take_ || node_id == 0 || node_id > kMaxNodes) return;
  if (data.last()) {
    take_->backfill.answered(
        node_id, data.request_from(), data.request_frames(),
        {.not_in_spool = data.not_in_spool(), .evicted = data.evicted(), .no_spool = data.no_spool()});
    return;
  }
  take_->put_backfill(node_id, registry_.by_id(node_id), data);
}

void Recorder::finalize() {
  Take& take = *take_;
  TakeManifest m = close_take(take, take.stop - take.start, manifest(TakeManifest::kComplete), registry_,
                              !running_.load());
  // Tracks to move or resample are written on the conformer's thread: the stop answers now.
  const std::size_t conforming = m.tracks_conforming();
  const bool punching = m.punch && m.punch->pending;
  m.state = conforming != 0 || punching ? TakeManifest::kConforming : TakeManifest::closed_state(m.complete);
  // Every file is closed: their time references go on the timeline now, or once the
  // conformer has written the rest.
  if (conforming == 0 && !punching) {
    if (const Status s = stamp_timeline(take.dir, m); !s)
      spdlog::error("take '{}': BWF time references not set: {}", take.name, s.error());
  }
  if (take.backfilling && !take.backfill.requests().empty()) {
    std::uint64_t recovered = 0, lost = 0;
    for (const auto& t : m.tracks) {
      recovered += t.recovered_samples;
      lost += t.lost_samples;
    }
    spdlog::info(
        "take '{}': backfill answered {} of {} request(s); {} samples recovered in all, {} still missing",
        take.name, take.backfill.answered_count(), take.backfill.requests().size(), recovered, lost);
  }
  spdlog::info("take '{}' {}: {:.1f} s, {} tracks + mix.wav in {}", take.name, m.state, m.seconds,
               m.tracks.size(), take.dir.string());
  if (conforming != 0) {
    spdlog::info("take '{}': {} track(s) to conform in the background (tlctl takes shows how many are left)",
                 take.name, conforming);
  }
  const proto::RecordStopped summary = stopped_take(m, take.dir);
  // Said in place first: if the disk refuses take.json, no later mixer takes this take for
  // one still recording (it can be recovered up to here).
  if (take.alive) take.alive->mark_stopped(take.stop);
  {
    std::lock_guard lock(mutex_);
    unsaved_summaries_.push_back(summary);
  }
  unsaved_.push_back({.take = take.name,
                      .dir = take.dir,
                      .automation = take.recovered ? std::nullopt : std::optional(std::move(take.automation)),
                      .manifest = std::move(m),
                      .conform = conforming != 0 || punching});
  save_closed_takes(false);
  StoppedFn done = std::move(take.on_stopped);
  take_.reset();
  recording_.store(false, std::memory_order_release);
  wants_packets_.store(false, std::memory_order_release);
  {
    std::lock_guard lock(mutex_);
    take_name_.clear();
  }
  if (done) done(summary);
}

void Recorder::return_raw_files(const Unsaved& u) {
  // The tracks the close moved to raw/ for the conform go back beside mix.wav (a rename
  // needs no room): a later `record recover` reopens the take from its files.
  for (const TakeTrack& t : u.manifest.tracks) {
    if (!t.conform || !t.conform->pending || t.conform->raw_file.empty()) continue;
    std::error_code ec;
    if (!fs::exists(u.dir / t.file, ec)) fs::rename(u.dir / t.conform->raw_file, u.dir / t.file, ec);
    if (ec) spdlog::error("take '{}': cannot move {} back from raw/: {}", u.take, t.file, ec.message());
  }
}

void Recorder::save_closed_takes(bool last_try) {
  const std::int64_t now = clock_.now_ns();
  while (!unsaved_.empty()) {
    Unsaved& u = unsaved_.front();
    Status s = u.automation ? u.automation->write(u.dir) : Status::success();
    if (s) s = u.manifest.write(u.dir);
    if (!s) {
      // Said once per take (and at shutdown for every one left); its tracks are closed, and
      // the node spools still hold their audio.
      for (Unsaved& left : unsaved_) {
        if (left.logged && !last_try) continue;
        spdlog::error("take '{}': {}; {}", left.take, &left == &u ? s.error() : "not written either",
                      last_try ? "its take.json still says it was recording: on a disk with room, "
                                 "`tlctl record recover` completes it to its stop"
                               : "tried again every 5 s while the mixer runs");
        left.logged = true;
        if (last_try) return_raw_files(left);
      }
      next_save_ns_ = now + 5'000'000'000;
      return;
    }
    if (u.logged) spdlog::info("take '{}': take.json written now that the disk has room", u.take);
    u.automation.reset();
    if (u.conform) conformer_.add(u.dir);
    {
      std::lock_guard lock(mutex_);
      std::erase_if(unsaved_summaries_,
                    [&](const proto::RecordStopped& t) { return t.take_name() == u.take; });
    }
    unsaved_.pop_front();
  }
  next_save_ns_ = 0;
}

TakeManifest Recorder::manifest(const char* state) const {
  return TakeManifest{.take = take_->name,
                      .state = state,
                      .sample_rate = clock_.rate(),
                      .start_sample = take_->start,
                      .latency_frames = latency_.load(std::memory_order_relaxed),
                      .recovered_after_mixer_stop = take_->recovered,
                      .session_epoch_ns = clock_.epoch_ns(),
                      .mixer_down = take_->mixer_down,
                      .punch = take_->punch};
}

void Recorder::write_manifest(const TakeManifest& m) const {
  if (const Status s = m.write(take_->dir); !s) spdlog::error("take '{}': {}", take_->name, s.error());
}

void Recorder::adopt(std::unique_ptr<Take> take) {
  take_ = std::move(take);
  {
    std::lock_guard lock(mutex_);
    take_name_ = take_->name;
  }
  take_start_.store(take_->start);
  wants_packets_.store(true, std::memory_order_release);
  recording_.store(true, std::memory_order_release);
}

std::vector<proto::RecordStopped> Recorder::list_takes() const {
  std::vector<proto::RecordStopped> takes = tl::mixer::list_takes(config_.record_dir, take_name());
  // A closed take whose take.json the disk refused: what the stop said, not the old file.
  std::lock_guard lock(mutex_);
  for (const proto::RecordStopped& unsaved : unsaved_summaries_) {
    const auto on_disk = std::find_if(takes.begin(), takes.end(), [&](const proto::RecordStopped& t) {
      return t.take_name() == unsaved.take_name();
    });
    if (on_disk != takes.end()) *on_disk = unsaved;
  }
  return takes;
}

}  // namespace tl::mixer
