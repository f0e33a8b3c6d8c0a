#include "tl/mixer/recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "tl/common/realtime.h"
#include "tl/common/units.h"
#include "tl/mixer/drift_tracker.h"
#include "tl/mixer/take_conform.h"
#include "tl/protocol/opus_payload.h"
#include "tl/protocol/pcm.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tl::mixer {
namespace {
constexpr std::size_t kMaxGuessRanges = 10000;
constexpr std::int64_t kHeaderRefreshNs = 250'000'000;  // a killed mixer's files read to within 0.5 s
constexpr std::int64_t kWriteBlockFrames = 4096;        // frames a track writes at once while recording
constexpr std::int64_t kStopGraceNs = 300'000'000;       // wait this long past latency for stragglers
constexpr std::int64_t kStopTimeoutNs = 3'000'000'000;   // finish even if the mix stalls
constexpr std::int64_t kBackfillBaseNs = 5'000'000'000;  // nodes answer from disk: allow this
constexpr std::int64_t kBackfillMaxNs = 45'000'000'000;  // under tlctl's 60 s wait for record stop
constexpr std::uint32_t kFetchMaxFrames = 48000u * 60u;  // one FetchAudio asks for at most this
constexpr std::int64_t kExactPeriodNs = 500'000'000;   // how often a take asks Opus nodes for their exact audio
constexpr std::int64_t kExactMaxFrames = 48000 * 5;     // and how much at most per node at once

bool valid_take_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string default_take_name() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "take-%Y%m%d-%H%M%S", &tm);
  return buf;
}

double to_dbfs(double v) {
  return gain_to_db(v, -150.0);
}
}  // namespace

//! A take's .alive file: where the take had got to, rewritten in place four times a
//! second. Never truncated: on ext4 a truncate waits for the file's data to reach the
//! disk, and a busy disk held the recorder (and so its queues) for seconds.
class AliveFile {
 public:
  AliveFile() = default;
  explicit AliveFile(const fs::path& path) : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) {}
  ~AliveFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  AliveFile(const AliveFile&) = delete;
  AliveFile& operator=(const AliveFile&) = delete;
  //! The session position, as one fixed-width line (what `>>` reads back).
  void write(MediaTime position) const noexcept {
    if (fd_ < 0) return;
    std::array<char, 24> line{};
    const int n = std::snprintf(line.data(), line.size(), "%20lld\n", static_cast<long long>(position));
    // A failed write costs only how far a crashed take is known to reach.
    if (n <= 0 || ::pwrite(fd_, line.data(), static_cast<std::size_t>(n), 0) < 0) return;
  }

 private:
  int fd_ = -1;
};

struct Recorder::Take {
  std::string name;
  fs::path dir;
  std::unique_ptr<AliveFile> alive;
  MediaTime start = 0;
  MediaTime stop = INT64_MAX;  // set when stopping
  std::int64_t stop_requested_ns = 0;
  StoppedFn on_stopped;
  std::unique_ptr<TrackWriter> mix;
  // [node id][channel]
  std::array<std::vector<std::unique_ptr<TrackWriter>>, kMaxNodes + 1> tracks;
  std::array<std::uint64_t, kMaxNodes + 1> concealed_at_start{};
  std::int64_t last_header_ns = 0;
  std::int64_t mix_end = 0;  // take-relative end of mix audio received
  // Where mix.wav holds concealed audio (take-relative, merged, at most kMaxGuessRanges).
  std::vector<TrackWriter::Gap> mix_guessed;
  std::uint64_t mix_guessed_frames = 0;
  std::array<std::unique_ptr<DriftTracker>, kMaxNodes + 1> drift;
  std::array<std::vector<std::pair<MediaTime, double>>, kMaxNodes + 1> node_anchors;  // from NodeReports
  struct Conformed {
    double drift_ppm = 0.0;         // the drift the conform applied (+: node slow)
    double measured_drift_ppm = 0.0;  // what the arrivals alone showed (same sign)
    double reported_drift_ppm = std::numeric_limits<double>::quiet_NaN();  // the node's own (+: fast)
    double drift_samples = 0.0;
    bool resampled = false;
    double clock_offset_ms = 0.0;
    double shift = 0.0;  // samples the conform moved the track from where the live mix played it
    std::int64_t raw_first_sample = -1;  // where raw/ starts: the packets' stamps, as the live mix played it
  };
  std::map<std::string, Conformed> conformed;  // by track file
  // What the live mix concealed of each track (by file): runs in its node's media time.
  struct LiveConcealed {
    std::vector<std::pair<MediaTime, MediaTime>> runs;  // [from, to), merged
    bool exact = true;       // every run was read sample for sample (repeatable offline)
    bool truncated = false;  // more runs than kept
  };
  std::map<std::string, LiveConcealed> live_concealed;
  // Backfill after stopping: what was asked of each node, and how it went.
  struct Fetch {
    std::uint16_t node = 0;
    MediaTime from = 0;
    std::uint32_t frames = 0;
    bool done = false;
    std::uint32_t not_in_spool = 0;
    std::string failure;
  };
  bool backfilling = false;
  std::int64_t backfill_deadline_ns = 0;
  // Per node: the end of the furthest audio heard, past the stop too (a gap just
  // before the stop is then a loss, not the end of the node's audio).
  std::array<MediaTime, kMaxNodes + 1> heard_until = [] {
    std::array<MediaTime, kMaxNodes + 1> a{};
    a.fill(INT64_MIN);
    return a;
  }();
  std::vector<Fetch> fetches;
  bool recovered = false;  // completed by a later mixer (recover_take)
  // While recording: the exact samples behind an Opus node's decoded audio are
  // fetched from its spool as the take goes (take-relative: asked up to here).
  std::array<std::int64_t, kMaxNodes + 1> exact_asked{};
  std::int64_t next_exact_ns = 0;
  // The mixer's state as the take began and every change after it, for automation.json.
  MixSetup mix_setup;  // the mix as the take began
  struct Change {
    MediaTime position = 0;  // as mix.wav places it (session samples)
    std::string state;       // the target's StripState after the change, JSON
  };
  std::vector<Change> automation;
};

Recorder::Recorder(NodeRegistry& registry, const SessionClock& clock, SpscRing<PacketSlot>& packets,
                   SpscRing<MixChunk>& mix, RecorderConfig config, SpscRing<ConcealedRun>* concealed)
    : registry_(registry),
      clock_(clock),
      packets_(packets),
      mix_(mix),
      concealed_(concealed),
      config_(std::move(config)) {
  scratch_.resize(protocol::kMaxPayloadBytes);
  channel_.resize(protocol::kMaxFrames);
  latency_.store(config_.latency_frames, std::memory_order_relaxed);
}

Recorder::~Recorder() {
  stop();
}

int Recorder::start(bool realtime) {
  running_.store(true);
  thread_ = std::thread([this] { run(); });
  return realtime ? rt::set_realtime_priority(thread_, kPriority) : 0;
}

void Recorder::stop() {
  if (!thread_.joinable()) return;
  running_.store(false);
  wake_.notify_all();
  thread_.join();
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
    take_->automation.push_back({.position = position, .state = std::move(state)});
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
      break;
    }
    if (!busy) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(5), [this] { return !commands_.empty(); });
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
    done(Error{"bad take name '" + name + "': use 1-64 of A-Z a-z 0-9 - _ ."});
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
  take->mix_setup = std::move(setup);
  take_ = std::move(take);
  for (std::uint16_t id = 1; id <= registry_.highest_id(); ++id) {
    if (const NodeSlot* slot = registry_.by_id(id)) ensure_tracks(*slot);
  }
  {
    std::lock_guard lock(mutex_);
    take_name_ = name;
  }
  take_start_.store(take_->start);
  recording_.store(true, std::memory_order_release);
  write_manifest("recording", nullptr);
  spdlog::info("recording take '{}' in {} from session sample {}", name, dir.string(), take_->start);

  proto::RecordStarted started;
  started.set_take_name(name);
  started.set_path(dir.string());
  started.set_start_sample(take_->start);
  done(started);
}

namespace {
//! The WAV files of a take's folder, sorted: mix.wav (node "mix", channel 0) and
//! <node>-<channel>.wav (node names may hold '-': the channel follows the last one).
struct TakeFile {
  fs::path path;
  std::string node;
  std::uint32_t channel = 0;  // from 1; 0 for the mix or a name without one
};
std::vector<TakeFile> take_files(const fs::path& dir) {
  std::vector<TakeFile> files;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    if (f.path().extension() != ".wav") continue;
    const std::string stem = f.path().stem().string();
    const auto dash = stem.rfind('-');
    TakeFile t{.path = f.path(), .node = stem.substr(0, dash)};
    if (stem != "mix" && dash != std::string::npos) {
      t.channel = static_cast<std::uint32_t>(std::max(0, std::atoi(stem.c_str() + dash + 1)));
    }
    files.push_back(std::move(t));
  }
  std::sort(files.begin(), files.end(), [](const TakeFile& a, const TakeFile& b) { return a.path < b.path; });
  return files;
}
}  // namespace

void Recorder::recover_take(std::string name, StoppedFn done) {
  post([this, name = std::move(name), done = std::move(done)] { recover(name, done); });
}

void Recorder::recover(const std::string& name, const StoppedFn& done) {
  if (take_) {
    done(Error{"take '" + take_->name + "' is being recorded: recover '" + name + "' once it stops"});
    return;
  }
  if (!valid_take_name(name)) {
    done(Error{"bad take name '" + name + "': use 1-64 of A-Z a-z 0-9 - _ ."});
    return;
  }
  const fs::path dir = fs::path(config_.record_dir) / name;
  std::ifstream in(dir / "take.json");
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    done(Error{"no take '" + name + "' in " + config_.record_dir + " (tlctl takes lists them)"});
    return;
  }
  if (j.value("state", "") == "complete") {
    done(Error{"take '" + name + "' is complete: nothing to recover"});
    return;
  }
  auto take = std::make_unique<Take>();
  take->name = name;
  take->dir = dir;
  take->start = j.value("start_sample", MediaTime{0});
  take->recovered = true;
  // Its tracks, by the nodes now connected under the same names.
  std::vector<std::string> absent;
  std::int64_t length = 0;
  for (const TakeFile& f : take_files(dir)) {
    const bool is_mix = f.node == "mix";
    auto writer = TrackWriter::resume(f.path.string(), config_.window_frames, !is_mix);
    if (!writer) {
      done(Error{writer.error()});
      return;
    }
    length = std::max(length, writer.value()->head());
    if (is_mix) {
      take->mix = std::move(writer.value());
      continue;
    }
    NodeSlot* slot = registry_.by_name(f.node);
    if (slot == nullptr || f.channel < 1 || f.channel > slot->channels) {
      absent.push_back(f.node);
      continue;
    }
    // An Opus node's track may hold decoded audio where the dead recorder had not yet
    // fetched the exact samples: all of it is asked for again.
    if (slot->format == protocol::SampleFormat::Opus) writer.value()->mark_provisional();
    auto& tracks = take->tracks[slot->id];
    tracks.resize(slot->channels);
    tracks[f.channel - 1] = std::move(writer.value());
    take->concealed_at_start[slot->id] = slot->concealed.load(std::memory_order_relaxed);
  }
  if (!absent.empty()) {
    std::sort(absent.begin(), absent.end());
    absent.erase(std::unique(absent.begin(), absent.end()), absent.end());
    std::string names;
    for (const auto& n : absent) names += (names.empty() ? "'" : ", '") + n + "'";
    done(Error{"take '" + name + "' has tracks of node(s) not connected: " + names +
               "; start them again with the same --name (and --spool-dir) and retry"});
    return;
  }
  if (!take->mix) {
    done(Error{"take '" + name + "' has no mix.wav: not a take tracklink recorded"});
    return;
  }
  // Where the take had got to when its mixer stopped (the files lag it a little).
  MediaTime alive = 0;
  std::ifstream(dir / ".alive") >> alive;
  length = std::max<std::int64_t>(length, alive - take->start);
  take->stop = take->start + length;
  take->stop_requested_ns = clock_.now_ns();
  take->on_stopped = done;
  take->mix_end = length;
  // Every track ran to the end of the take: silence in it is missing audio.
  for (auto& tracks : take->tracks) {
    for (auto& t : tracks) {
      if (!t) continue;
      t->flush_until(length);
      t->note_audio_until(length);
    }
  }
  take_ = std::move(take);
  {
    std::lock_guard lock(mutex_);
    take_name_ = name;
  }
  take_start_.store(take_->start);
  recording_.store(true, std::memory_order_release);
  spdlog::info("recovering take '{}': {:.1f} s, completing it from the node spools", name,
               static_cast<double>(length) / clock_.rate());
  if (!start_backfill(length)) finalize();
}

void Recorder::ensure_tracks(const NodeSlot& slot) {
  auto& tracks = take_->tracks[slot.id];
  if (!tracks.empty()) return;
  take_->concealed_at_start[slot.id] = slot.concealed.load(std::memory_order_relaxed);
  tracks.resize(slot.channels);
  for (std::uint32_t c = 0; c < slot.channels; ++c) {
    const std::string file = track_file_name(slot.name, c);
    TrackFileInfo info{
        .sample_rate = clock_.rate(),
        .channels = 1,
        .time_reference = take_->start,
        .description = "tracklink " + take_->name + " " + slot.name + "/" + std::to_string(c + 1)};
    auto writer = TrackWriter::open((take_->dir / file).string(), info, config_.window_frames);
    if (!writer) {
      spdlog::error("take '{}': {} — this track is not recorded; check disk space and permissions",
                    take_->name, writer.error());
      continue;
    }
    tracks[c] = std::move(writer.value());
  }
}

bool Recorder::drain_packets() {
  bool any = false;
  for (int budget = 0; budget < 4096; ++budget) {
    PacketSlot* p = packets_.front();
    if (p == nullptr) break;
    any = true;
    protocol::PacketHeader h;
    std::span<const std::uint8_t> payload;
    const auto err = protocol::parse(std::span<const std::uint8_t>(p->data.data(), p->size), h, payload);
    NodeSlot* slot = registry_.by_id(h.node_id);
    if (take_ && err == protocol::DecodeError::Ok && slot != nullptr &&
        protocol::bytes_per_sample(h.format) != 0) {
      if (!take_->recovered) ensure_tracks(*slot);
      take_->heard_until[slot->id] =
          std::max<MediaTime>(take_->heard_until[slot->id], h.media_ts + h.frame_count);
      const MediaTime begin = std::max(h.media_ts, take_->start);
      const MediaTime end = std::min<MediaTime>(h.media_ts + h.frame_count, take_->stop);
      if (begin < end) {
        // Decoded Opus stands in until the node's exact samples come from its spool.
        const bool lossy = (h.flags & protocol::kFlagLossy) != 0;
        const bool guess = protocol::is_guess(h.flags);
        if (h.type == protocol::PacketType::Audio && h.first_channel == 0 && !guess) {
          auto& tracker = take_->drift[slot->id];
          if (!tracker) tracker = std::make_unique<DriftTracker>(clock_.rate());
          tracker->add(h.media_ts, h.frame_count, p->arrival_ns,
                       (h.flags & protocol::kFlagDiscontinuity) != 0);
        }
        const std::size_t n = static_cast<std::size_t>(h.frame_count) * h.channel_count;
        protocol::unpack_pcm(payload, h.format, std::span<float>(scratch_.data(), n));
        const auto skip = static_cast<std::size_t>(begin - h.media_ts);
        const auto count = static_cast<std::size_t>(end - begin);
        for (std::uint32_t c = 0; c < h.channel_count; ++c) {
          auto& tracks = take_->tracks[slot->id];
          const std::uint32_t channel = h.first_channel + c;
          if (channel >= tracks.size() || !tracks[channel]) continue;
          for (std::size_t i = 0; i < count; ++i) channel_[i] = scratch_[(skip + i) * h.channel_count + c];
          tracks[channel]->put(begin - take_->start, std::span<const float>(channel_.data(), count), lossy);
        }
      }
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
    if (!take_ || take_->recovered || run.from + run.frames <= take_->start || run.from >= take_->stop) continue;
    const NodeSlot* slot = registry_.by_id(run.node);
    if (slot == nullptr) continue;
    Take::LiveConcealed& lc = take_->live_concealed[track_file_name(slot->name, run.channel)];
    lc.exact = lc.exact && run.exact;
    const MediaTime to = run.from + run.frames;
    if (!lc.runs.empty() && lc.runs.back().second >= run.from) {
      lc.runs.back().second = std::max(lc.runs.back().second, to);
    } else if (lc.runs.size() < kMaxGuessRanges) {
      lc.runs.emplace_back(run.from, to);
    } else {
      lc.truncated = true;
    }
  }
  return any;
}

bool Recorder::drain_mix() {
  bool any = false;
  std::array<float, 2 * kMaxMixChunk> interleaved{};
  for (int budget = 0; budget < 4096; ++budget) {
    MixChunk* chunk = mix_.front();
    if (chunk == nullptr) break;
    any = true;
    if (take_) {
      const MediaTime begin = std::max(chunk->position, take_->start);
      const MediaTime end = std::min<MediaTime>(chunk->position + chunk->frames, take_->stop);
      if (begin < end) {
        const auto skip = static_cast<std::size_t>(begin - chunk->position);
        const auto count = static_cast<std::size_t>(end - begin);
        for (std::size_t i = 0; i < count; ++i) {
          interleaved[2 * i] = chunk->left[skip + i];
          interleaved[2 * i + 1] = chunk->right[skip + i];
        }
        take_->mix->put(begin - take_->start, std::span<const float>(interleaved.data(), 2 * count));
        if (chunk->concealed != 0) note_guess(*take_, begin - take_->start, end - take_->start, chunk->concealed);
      }
      take_->mix_end = std::max<std::int64_t>(take_->mix_end, chunk->position + chunk->frames - take_->start);
    }
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
  const std::int64_t block = stopping ? 0 : kWriteBlockFrames;
  for (auto& tracks : take_->tracks) {
    for (auto& t : tracks) {
      if (t && flush_to - t->head() >= block) t->flush_until(flush_to);
    }
  }
  const std::int64_t mix_to = std::min(flush_to, take_->mix_end);
  if (mix_to - take_->mix->head() >= block) take_->mix->flush_until(mix_to);
  if (now_ns - take_->last_header_ns > kHeaderRefreshNs) {
    take_->last_header_ns = now_ns;
    // Where the take had got to, for a later mixer to complete it from if this one dies.
    if (!stopping && take_->alive) take_->alive->write(now);
    for (auto& tracks : take_->tracks) {
      for (auto& t : tracks) {
        if (t) t->update_header();
      }
    }
    take_->mix->update_header();
  }
  if (!stopping && !take_->recovered && now_ns >= take_->next_exact_ns) {
    take_->next_exact_ns = now_ns + kExactPeriodNs;
    fetch_exact_audio();
  }
  if (stopping && take_->backfilling) {
    const bool answered = std::all_of(take_->fetches.begin(), take_->fetches.end(),
                                      [](const Take::Fetch& f) { return f.done; });
    if (answered || now_ns >= take_->backfill_deadline_ns || !running_.load()) finalize();
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

void Recorder::run_to_end(const Take& take, std::uint16_t node_id, TrackWriter& track, std::int64_t length) {
  track.flush_until(length);
  // Heard past a gap (even past the stop): the gap is a loss, not the end of its audio.
  if (take.heard_until[node_id] != INT64_MIN) {
    track.note_audio_until(std::min<std::int64_t>(take.heard_until[node_id] - take.start, length));
  }
}

void Recorder::fetch_exact_audio() {
  Take& take = *take_;
  if (!fetch_) return;
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    // One request in flight per node: TCP paces the rest.
    const bool busy = std::any_of(take.fetches.begin(), take.fetches.end(),
                                  [&](const Take::Fetch& f) { return f.node == id && !f.done; });
    if (busy) continue;
    // What is written to disk as a stand-in since the last request, every channel's, from the first.
    std::int64_t from = INT64_MAX, to = take.exact_asked[id];
    for (const auto& t : tracks) {
      if (!t) continue;
      for (const auto& g : t->lost_gaps()) {
        if (!g.provisional || g.to <= take.exact_asked[id]) continue;
        from = std::min(from, std::max(g.from, take.exact_asked[id]));
        to = std::max(to, g.to);
      }
    }
    if (from >= to) continue;
    to = std::min(to, from + kExactMaxFrames);
    take.exact_asked[id] = to;
    take.fetches.push_back({.node = id, .from = take.start + from, .frames = static_cast<std::uint32_t>(to - from)});
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
    // Every channel's gaps, merged: a node resends whole frames (every channel).
    std::vector<TrackWriter::Gap> gaps;
    for (auto& t : tracks) {
      if (!t) continue;
      run_to_end(take, id, *t, length);
      for (const auto& g : t->lost_gaps()) gaps.push_back(g);
    }
    if (gaps.empty()) continue;
    std::sort(gaps.begin(), gaps.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
    std::vector<TrackWriter::Gap> merged;
    for (const auto& g : gaps) {
      if (!merged.empty() && g.from <= merged.back().to) {
        merged.back().to = std::max(merged.back().to, g.to);
      } else {
        merged.push_back(g);
      }
    }
    ++nodes;
    for (const auto& g : merged) {
      for (std::int64_t at = g.from; at < g.to; at += kFetchMaxFrames) {
        const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(g.to - at, kFetchMaxFrames));
        take.fetches.push_back({.node = id, .from = take.start + at, .frames = n});
        missing += n;
      }
    }
  }
  const bool pending = std::any_of(take.fetches.begin(), take.fetches.end(), [](const Take::Fetch& f) { return !f.done; });
  if ((missing == 0 && !pending) || !fetch_) return false;
  const auto missing_s = static_cast<double>(missing) / clock_.rate();
  take.backfill_deadline_ns =
      clock_.now_ns() +
      std::min(kBackfillMaxNs, kBackfillBaseNs + static_cast<std::int64_t>(missing_s * 2e9));
  spdlog::info("take '{}': {:.3f} s of audio missing from {} node(s) in {} range(s); asking their spools",
               take.name, missing_s, nodes, take.fetches.size());
  write_manifest("backfilling", nullptr);
  for (const auto& f : take.fetches) fetch_(f.node, f.from, f.frames);
  return true;
}

void Recorder::backfill(std::uint16_t node_id, proto::AudioData data) {
  post([this, node_id, data = std::move(data)] { apply_backfill(node_id, data); });
}

void Recorder::backfill_failed(std::uint16_t node_id, MediaTime from, std::uint32_t frames,
                               std::string reason) {
  post([this, node_id, from, frames, reason = std::move(reason)] {
    if (!take_) return;
    for (auto& f : take_->fetches) {
      if (f.node == node_id && f.from == from && f.frames == frames && !f.done) {
        f.done = true;
        f.failure = reason;
      }
    }
  });
}

void Recorder::apply_backfill(std::uint16_t node_id, const proto::AudioData& data) {
  if (!take_ || node_id == 0 || node_id > kMaxNodes) return;
  Take& take = *take_;
  if (data.last()) {
    for (auto& f : take.fetches) {
      if (f.node == node_id && f.from == data.request_from() && f.frames == data.request_frames() &&
          !f.done) {
        f.done = true;
        f.not_in_spool = data.not_in_spool();
      }
    }
    return;
  }
  auto& tracks = take.tracks[node_id];
  // Resent audio comes in the format the node registered with, and nothing else.
  const NodeSlot* slot = registry_.by_id(node_id);
  const auto format = slot != nullptr && data.format() != proto::FORMAT_UNSPECIFIED
                          ? wire_format(data.format())
                          : protocol::SampleFormat::None;
  if (slot != nullptr && format != protocol::spool_format(slot->format)) {
    spdlog::warn("take '{}': a backfill answer from node {} is not in the format it registered with; ignored",
                 take.name, node_id);
    return;
  }
  const std::size_t bps = protocol::bytes_per_sample(format);
  const std::size_t samples = static_cast<std::size_t>(data.frames()) * data.channels();
  if (bps == 0 || data.channels() != tracks.size() || data.samples().size() != samples * bps ||
      samples == 0) {
    spdlog::warn(
        "take '{}': a backfill answer from node {} does not fit its tracks ({} channels, {} bytes); ignored",
        take.name, node_id, data.channels(), data.samples().size());
    return;
  }
  std::vector<float> interleaved(samples);
  protocol::unpack_pcm(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.samples().data()),
                                    data.samples().size()),
      format, interleaved);
  // Only what lies inside the take.
  const MediaTime begin = std::max<MediaTime>(data.from(), take.start);
  const MediaTime end = std::min<MediaTime>(data.from() + data.frames(), take.stop);
  if (begin >= end) return;
  const auto skip = static_cast<std::size_t>(begin - data.from());
  const auto count = static_cast<std::size_t>(end - begin);
  std::vector<float> channel(count);
  for (std::uint32_t c = 0; c < tracks.size(); ++c) {
    if (!tracks[c]) continue;
    for (std::size_t i = 0; i < count; ++i) channel[i] = interleaved[(skip + i) * data.channels() + c];
    tracks[c]->put(begin - take.start, channel);
  }
}

void Recorder::write_automation(const Take& take) const {
  // Every change in the order the mix applied it (the engine reports them in block
  // order); one made before the take's first frame (while it was starting) applies
  // from its start.
  json doc;
  doc["take"] = take.name;
  doc["sample_rate"] = clock_.rate();
  doc["start_sample"] = take.start;
  doc["about"] =
      "The mix as the take began ('initial', a scene), then each change from the mix.wav frame it first "
      "applies to ('offset'; 'position' in session samples): the whole state of its target after the change. "
      "Gains, pans and filter settings glide over 20 ms from there, as live.";
  doc["mix"] = {{"block_frames", take.mix_setup.block_frames},
                {"block_origin", take.mix_setup.block_origin},
                {"lookahead_frames", take.mix_setup.lookahead}};
  doc["initial"] = json::parse(take.mix_setup.scene, nullptr, false);
  json changes = json::array();
  for (const Take::Change& c : take.automation) {
    json state = json::parse(c.state, nullptr, false);
    if (state.is_discarded()) continue;
    changes.push_back({{"position", c.position},
                       {"offset", std::max<MediaTime>(c.position - take.start, 0)},
                       {"target", state.value("target", std::string())},
                       {"state", std::move(state)}});
  }
  doc["changes"] = std::move(changes);
  const fs::path path = take.dir / "automation.json";
  std::ofstream out(path, std::ios::trunc);
  out << doc.dump(1) << "\n";
  if (!out) spdlog::error("take '{}': cannot write {}", take.name, path.string());
}

//! Why a node's tracks are still missing audio after the backfill, for the operator.
std::string Recorder::missing_reason(const Take& take, std::uint16_t node_id) const {
  bool asked = false, late = false;
  std::uint64_t not_held = 0;
  std::string failure;
  for (const auto& f : take.fetches) {
    if (f.node != node_id) continue;
    asked = true;
    if (!f.failure.empty()) failure = f.failure;
    if (!f.done) late = true;
    not_held += f.not_in_spool;
  }
  if (!failure.empty()) return failure;
  if (!asked) return running_.load() ? "no backfill was possible" : "the mixer was shutting down; not asked";
  if (not_held != 0) {
    return "the node's spool no longer holds " + std::to_string(not_held) +
           " of the missing samples (its --spool-max is too small, or it ran with --spool-dir none)";
  }
  if (late) return "the node did not answer the backfill in time";
  return "the node resent it, but it did not fit the take";
}

void Recorder::finalize() {
  Take& take = *take_;
  const std::int64_t length = take.stop - take.start;
  proto::RecordStopped summary;
  summary.set_take_name(take.name);
  summary.set_path(take.dir.string());
  summary.set_start_sample(take.start);
  summary.set_frames(static_cast<std::uint64_t>(std::max<std::int64_t>(length, 0)));
  summary.set_seconds(static_cast<double>(length) / clock_.rate());

  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    const NodeSlot* slot = registry_.by_id(id);
    const std::uint64_t concealed =
        slot ? slot->concealed.load(std::memory_order_relaxed) - take.concealed_at_start[id] : 0;
    for (std::uint32_t c = 0; c < tracks.size(); ++c) {
      if (!tracks[c]) continue;
      TrackWriter& t = *tracks[c];
      run_to_end(take, id, t, length);
      t.finish(length);
      auto* s = summary.add_tracks();
      s->set_file(track_file_name(slot->name, c));
      s->set_node(slot->name);
      s->set_channel(c + 1);
      s->set_first_sample(t.first_offset() < 0 ? -1 : take.start + t.first_offset());
      s->set_frames(static_cast<std::uint64_t>(length));
      s->set_peak_dbfs(to_dbfs(t.peak()));
      s->set_rms_dbfs(to_dbfs(t.rms()));
      s->set_lost_samples(t.lost_frames());
      s->set_concealed_samples(concealed / std::max<std::uint32_t>(1, slot->channels));
      s->set_clipped_samples(t.clipped_samples());
      s->set_recovered_samples(t.recovered_frames());
      for (const auto& g : t.lost_gaps()) {
        auto* m = s->add_missing();
        m->set_from(take.start + g.from);
        m->set_frames(static_cast<std::uint64_t>(g.to - g.from));
      }
      if (t.lost_frames() != 0) {
        std::string why = missing_reason(take, id);
        if (t.provisional_frames() != 0) {
          why = std::to_string(t.provisional_frames()) +
                " of them hold its live Opus audio, not its exact samples; " + why;
        }
        s->set_missing_reason(why);
      }
    }
  }
  take.mix->finish(length);
  conform_tracks(take, length);
  for (auto& t : *summary.mutable_tracks()) {
    // A track the conform moved starts where its samples now stand; raw/ stays where its
    // stamps put it.
    const auto c = take.conformed.find(t.file());
    if (c != take.conformed.end() && t.first_sample() >= 0) {
      c->second.raw_first_sample = t.first_sample();
      t.set_first_sample(
          std::max<std::int64_t>(take.start, t.first_sample() + static_cast<std::int64_t>(std::lround(c->second.shift))));
    }
  }
  if (!take.recovered) write_automation(take);
  auto* m = summary.add_tracks();
  m->set_file("mix.wav");
  m->set_node("mix");
  m->set_channel(0);
  m->set_first_sample(take.start);
  m->set_frames(static_cast<std::uint64_t>(length));
  m->set_peak_dbfs(to_dbfs(take.mix->peak()));
  m->set_rms_dbfs(to_dbfs(take.mix->rms()));
  m->set_lost_samples(take.mix->lost_frames());
  m->set_clipped_samples(take.mix->clipped_samples());
  m->set_concealed_samples(take.mix_guessed_frames);

  if (take.backfilling && !take.fetches.empty()) {
    std::uint64_t recovered = 0, lost = 0;
    for (const auto& t : summary.tracks()) {
      recovered += t.recovered_samples();
      if (t.node() != "mix") lost += t.lost_samples();
    }
    const auto answered =
        std::count_if(take.fetches.begin(), take.fetches.end(), [](const auto& f) { return f.done; });
    spdlog::info(
        "take '{}': backfill answered {} of {} request(s); {} samples recovered in all, {} still missing",
        take.name, answered, take.fetches.size(), recovered, lost);
  }
  write_manifest("complete", &summary);
  spdlog::info("take '{}' complete: {:.1f} s, {} tracks + mix.wav in {}", take.name, summary.seconds(),
               summary.tracks_size() - 1, take.dir.string());
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

void Recorder::conform_tracks(Take& take, std::int64_t length) {
  // Each node's raw tracks go to raw/; the session-aligned ones are written from
  // its measured timestamp map (a plain copy under one sample of drift).
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    const NodeSlot* slot = registry_.by_id(id);
    std::vector<dsp::ConformAnchor> anchors;
    double drift = 0.0, measured = 0.0, covered = 0.0;
    const double reported = slot->reported_drift_ppm.load(std::memory_order_relaxed);
    if (take.drift[id]) {
      for (const auto& s : take.drift[id]->stretches(reported)) {
        drift += s.drift * static_cast<double>(s.end - s.first);
        measured += s.measured * static_cast<double>(s.end - s.first);
        covered += static_cast<double>(s.end - s.first);
        if (s.drift != s.measured) {
          spdlog::info("take '{}': {}'s arrivals showed {:+.1f} ppm, its own report {:+.1f} ppm: conformed at {:+.1f} ppm",
                       take.name, slot->name, -1e6 * s.measured, reported, -1e6 * s.drift);
        }
      }
      anchors = take.drift[id]->anchors(take.start, reported);
      place_by_node_anchors(anchors, take.node_anchors[id], take.start, clock_.rate());
    }
    if (anchors.empty()) anchors.push_back({.node_index = 0.0, .session_pos = 0.0});
    for (std::uint32_t c = 0; c < tracks.size(); ++c) {
      if (!tracks[c]) continue;
      const std::string file = track_file_name(slot->name, c);
      TrackFileInfo info{
          .sample_rate = clock_.rate(),
          .channels = 1,
          .time_reference = take.start,
          .description = "tracklink " + take.name + " " + slot->name + "/" + std::to_string(c + 1)};
      auto outcome = conform_track_file(take.dir, file, anchors, length, info);
      if (!outcome) {
        spdlog::error("take '{}': conform of {} failed: {}; the raw track is kept", take.name, file,
                      outcome.error());
        continue;
      }
      take.conformed[file] = Take::Conformed{.drift_ppm = covered > 0.0 ? 1e6 * drift / covered : 0.0,
                                             .measured_drift_ppm = covered > 0.0 ? 1e6 * measured / covered : 0.0,
                                             .reported_drift_ppm = reported,
                                             .drift_samples = outcome->drift_samples,
                                             .resampled = outcome->resampled,
                                             .clock_offset_ms = slot->report.offset_ms(),
                                             .shift = outcome->shift};
      if (outcome->resampled) {
        spdlog::info("take '{}': {} conformed from raw/ ({:.1f} samples of drift, {:+.1f} ppm)", take.name,
                     file, outcome->drift_samples, take.conformed[file].drift_ppm);
      }
    }
  }
}

void Recorder::write_manifest(const char* state, const proto::RecordStopped* summary) {
  const Take& take = *take_;
  json j;
  j["format"] = "tracklink-take/1";
  j["take"] = take.name;
  j["state"] = state;
  j["sample_rate"] = clock_.rate();
  j["start_sample"] = take.start;
  j["latency_frames"] = latency_.load(std::memory_order_relaxed);
  if (take.recovered) j["recovered_after_mixer_stop"] = true;
  j["tracks"] = json::array();
  if (summary != nullptr) {
    j["frames"] = summary->frames();
    j["seconds"] = summary->seconds();
    bool complete = true;
    for (const auto& t : summary->tracks()) {
      json tj = {{"file", t.file()},
                 {"node", t.node()},
                 {"channel", t.channel()},
                 {"first_sample", t.first_sample()},
                 {"frames", t.frames()},
                 {"peak_dbfs", t.peak_dbfs()},
                 {"rms_dbfs", t.rms_dbfs()},
                 {"lost_samples", t.lost_samples()},
                 {"concealed_samples", t.concealed_samples()},
                 {"clipped_samples", t.clipped_samples()}};
      if (t.node() != "mix") {
        tj["recovered_samples"] = t.recovered_samples();
        json missing = json::array();
        for (const auto& m : t.missing()) missing.push_back({{"from", m.from()}, {"frames", m.frames()}});
        tj["missing"] = missing;
        if (!t.missing_reason().empty()) tj["missing_reason"] = t.missing_reason();
      }
      if (const auto lc = take.live_concealed.find(t.file()); lc != take.live_concealed.end()) {
        // Where the live mix concealed this input (its node's media time, as raw/ holds it):
        // tl-render --as-live leaves the same frames out and conceals them the same way.
        json runs = json::array();
        for (const auto& [from, to] : lc->second.runs) runs.push_back({{"from", from}, {"frames", to - from}});
        tj["live_concealed"] = runs;
        if (!lc->second.exact) tj["live_concealed_exact"] = false;  // read through the varispeed
        if (lc->second.truncated) tj["live_concealed_complete"] = false;
      }
      if (const NodeSlot* slot = registry_.by_name(t.node()); slot != nullptr) {
        // The live mix summed its nodes in id order: a render that repeats it sums the same way.
        tj["node_id"] = slot->id;
        if (slot->format == protocol::SampleFormat::Opus) {
          tj["live_codec"] = "opus";  // the live mix played decoded Opus, raw/ holds the exact samples
        }
      }
      if (const auto c = take.conformed.find(t.file()); c != take.conformed.end()) {
        tj["raw_file"] = "raw/" + t.file();
        tj["drift_ppm"] = c->second.drift_ppm;
        tj["measured_drift_ppm"] = c->second.measured_drift_ppm;
        if (std::isfinite(c->second.reported_drift_ppm)) tj["reported_drift_ppm"] = c->second.reported_drift_ppm;
        tj["drift_samples"] = c->second.drift_samples;
        tj["conform"] = c->second.resampled ? "resampled" : "copy";
        tj["moved_samples"] = c->second.shift;
        if (c->second.raw_first_sample >= 0) tj["raw_first_sample"] = c->second.raw_first_sample;
        tj["clock_offset_ms"] = c->second.clock_offset_ms;
      }
      if (t.node() == "mix") {
        json guessed = json::array();
        for (const auto& g : take.mix_guessed) guessed.push_back({{"from", take.start + g.from}, {"frames", g.to - g.from}});
        tj["concealed"] = guessed;  // session samples: where the live mix holds a guess
        j["mix"] = tj;
      } else {
        tj["complete"] = t.lost_samples() == 0;
        complete = complete && t.lost_samples() == 0;
        j["tracks"].push_back(tj);
      }
    }
    j["complete"] = complete;
  }
  const fs::path path = take.dir / "take.json";
  const fs::path tmp = take.dir / "take.json.tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << '\n';
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) spdlog::error("take '{}': cannot write {}: {}", take.name, path.string(), ec.message());
}

void Recorder::note_guess(Take& take, std::int64_t from, std::int64_t to, std::uint32_t frames) {
  // Chunk granularity: the whole chunk is marked, its count of concealed frames kept exact.
  take.mix_guessed_frames += frames;
  auto& ranges = take.mix_guessed;
  if (!ranges.empty() && ranges.back().to >= from) {
    ranges.back().to = std::max(ranges.back().to, to);
  } else if (ranges.size() < kMaxGuessRanges) {
    ranges.push_back({from, to});
  } else {
    ranges.back().to = to;  // past the cap the last range stretches
  }
}

namespace {
//! A take the mixer did not close (it was killed, or the machine went down): what
//! its files hold, as any reader sees them (headers are refreshed while recording).
void describe_unfinished(const fs::path& dir, std::uint32_t rate, proto::RecordStopped& t) {
  t.set_state("unfinished");
  std::int64_t longest = 0;
  for (const TakeFile& f : take_files(dir)) {
    SF_INFO info{};
    SNDFILE* file = sf_open(f.path.string().c_str(), SFM_READ, &info);
    if (file == nullptr) continue;
    sf_close(file);
    auto* s = t.add_tracks();
    s->set_file(f.path.filename().string());
    s->set_node(f.node);
    s->set_channel(f.channel);
    s->set_frames(static_cast<std::uint64_t>(info.frames));
    longest = std::max<std::int64_t>(longest, info.frames);
  }
  t.set_frames(static_cast<std::uint64_t>(longest));
  t.set_seconds(static_cast<double>(longest) / rate);
}
}  // namespace

std::vector<std::string> Recorder::unfinished_takes() const {
  std::vector<std::string> names;
  for (const auto& t : list_takes()) {
    if (t.state() == "unfinished") names.push_back(t.take_name() + fmt::format(" ({:.1f} s readable)", t.seconds()));
  }
  return names;
}

std::vector<proto::RecordStopped> Recorder::list_takes() const {
  std::vector<proto::RecordStopped> out;
  std::error_code ec;
  if (!fs::is_directory(config_.record_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(config_.record_dir, ec)) {
    const fs::path manifest = entry.path() / "take.json";
    if (!fs::is_regular_file(manifest, ec)) continue;
    std::ifstream in(manifest);
    const json j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    proto::RecordStopped t;
    t.set_take_name(j.value("take", entry.path().filename().string()));
    t.set_path(entry.path().string());
    t.set_start_sample(j.value("start_sample", std::int64_t{0}));
    t.set_frames(j.value("frames", std::uint64_t{0}));
    t.set_seconds(j.value("seconds", 0.0));
    const std::string state = j.value("state", "");
    if (state != "complete") {
      if (t.take_name() == take_name()) continue;  // being recorded now
      describe_unfinished(entry.path(), j.value("sample_rate", 48000u), t);
      out.push_back(std::move(t));
      continue;
    }
    t.set_state("complete");
    t.set_complete(j.value("complete", false));
    if (j.contains("tracks") && j["tracks"].is_array()) {
      for (const auto& tj : j["tracks"]) {
        if (!tj.is_object()) continue;
        auto* s = t.add_tracks();
        s->set_file(tj.value("file", ""));
        s->set_node(tj.value("node", ""));
        s->set_channel(tj.value("channel", 0u));
        s->set_first_sample(tj.value("first_sample", std::int64_t{-1}));
        s->set_frames(tj.value("frames", std::uint64_t{0}));
        s->set_peak_dbfs(tj.value("peak_dbfs", -150.0));
        s->set_rms_dbfs(tj.value("rms_dbfs", -150.0));
        s->set_lost_samples(tj.value("lost_samples", std::uint64_t{0}));
        s->set_recovered_samples(tj.value("recovered_samples", std::uint64_t{0}));
        s->set_missing_reason(tj.value("missing_reason", ""));
        if (tj.contains("missing") && tj["missing"].is_array()) {
          for (const auto& m : tj["missing"]) {
            if (!m.is_object()) continue;
            auto* r = s->add_missing();
            r->set_from(m.value("from", std::int64_t{0}));
            r->set_frames(m.value("frames", std::uint64_t{0}));
          }
        }
      }
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.take_name() < b.take_name(); });
  return out;
}

}  // namespace tl::mixer
