#include "tl/mixer/backing_tracks.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tl/protocol/names.h"

namespace fs = std::filesystem;

namespace tl::mixer {

struct BackingTracks::Entry {
  // Fixed at creation.
  std::string name;
  std::unique_ptr<BackingTrack> track;
  NodeSlot* slot = nullptr;
  std::uint32_t channels = 0;

  // The request: io writes, the reader reads, under mutex_.
  fs::path path;
  std::uint64_t file_id = 0;  // a new one on every add: the reader opens the file again
  std::uint32_t file_rate = 0;
  MediaTime frames = 0;  // at the session rate
  MediaTime at = 0;      // timeline position of its first frame
  bool enabled = false;
  std::uint64_t generation = 0;
  MediaTime from = 0;  // straight timeline position the generation reads from
  TimelineLoop loop;   // the generation's loop: how the straight timeline folds

  // The reader's own.
  std::unique_ptr<BackingFile> file;
  std::uint64_t open_id = 0;
  std::uint64_t reading = 0;  // the generation its ring is being filled for
  bool fresh = true;          // the file was just opened: start its read
  MediaTime next = 0;         // straight timeline position of the next chunk
  bool done = false;
  int pushed = 0;  // chunks of this generation so far

  std::atomic<std::uint64_t> ready{0};  // reader writes: the generation read ahead for

  void close() {
    if (file) file->close();
  }
};

BackingTracks::BackingTracks(NodeRegistry& registry, const MixEngine& engine, std::uint32_t rate)
    : registry_(registry), engine_(engine), rate_(rate) {}

BackingTracks::~BackingTracks() {
  stop();
}

void BackingTracks::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { run(); });
}

void BackingTracks::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& e : entries_) e->close();
}

namespace {

proto::BackingTrack describe(const fs::path& path, const std::string& name, std::uint32_t channels,
                             MediaTime frames, std::uint32_t file_rate, MediaTime at) {
  proto::BackingTrack t;
  t.set_name(name);
  t.set_path(path.string());
  t.set_channels(channels);
  t.set_frames(frames);
  t.set_file_rate(file_rate);
  t.set_at(at);
  return t;
}

}  // namespace

Result<BackingTracks::Added> BackingTracks::add(const fs::path& path, std::string name, MediaTime at) {
  if (at < 0) return Error{"a backing track's position must be 0 or later (the song's start)"};
  BackingFile probe(name, rate_);
  if (const Status s = probe.open(path); !s) return Error{s.error() + " (on the mixer's machine)"};
  const std::uint32_t channels = probe.channels();
  const std::uint32_t file_rate = probe.file_rate();
  const MediaTime frames = probe.frames();
  probe.close();
  if (channels == 0 || channels > kMaxBackingChannels) {
    return Error{"'" + path.string() + "' has " + std::to_string(channels) +
                 " channels; a backing track has 1-" + std::to_string(kMaxBackingChannels)};
  }
  if (frames <= 0) return Error{"'" + path.string() + "' holds no audio"};
  if (name.empty()) name = path.stem().string();
  if (!protocol::valid_node_name(name)) {
    return Error{"bad backing track name '" + name + "': use 1-32 of A-Z a-z 0-9 - _ . (--name NAME)"};
  }

  std::unique_lock lock(mutex_);
  auto found = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e->name == name; });
  Entry* e = nullptr;
  bool fresh = false;
  if (found != entries_.end()) {
    e = found->get();
    if (e->enabled) {
      // The same file at the same place again (a walkthrough followed twice, a restarted
      // mixer that took it back): nothing to do.
      std::error_code ec1, ec2;
      if (e->at == at && fs::weakly_canonical(e->path, ec1) == fs::weakly_canonical(path, ec2) && !ec1 &&
          !ec2)
        return Added{.track = describe(e->path, name, e->channels, e->frames, e->file_rate, e->at),
                     .slot = e->slot,
                     .already = true};
      return Error{"backing track '" + name + "' is already in the session (remove it first)"};
    }
    if (e->channels != channels) {
      return Error{"'" + name + "' was a backing track of " + std::to_string(e->channels) +
                   " channel(s) and keeps its strips; add this file under another --name"};
    }
  } else {
    auto made = std::make_unique<Entry>();
    made->name = name;
    made->channels = channels;
    made->file = std::make_unique<BackingFile>(name, rate_);
    made->track =
        std::make_unique<BackingTrack>(engine_.transport(), channels, engine_.config().max_block_frames);
    auto slot = registry_.add_source(name, channels, *made->track);
    if (!slot) return Error{slot.error()};
    made->slot = slot.value();
    e = made.get();
    entries_.push_back(std::move(made));
    fresh = true;
  }
  e->path = path;
  ++e->file_id;
  e->file_rate = file_rate;
  e->frames = frames;
  e->at = at;
  e->enabled = true;
  // Joins the read that plays: a tenth of a second ahead of the transport, so it comes in
  // on time and in place. Stopped, the next play reads it with the others.
  e->generation = generation_;
  e->from = engine_.transport_playing() ? engine_.transport_linear() + rate_ / 10 : prepared_at_;
  e->loop = prepared_loop_;
  e->track->want(generation_, e->file_id, at, at + frames, true);
  lock.unlock();
  wake_.notify_all();
  spdlog::info("backing track '{}' added: {} ({} ch, {} Hz, {:.2f} s) at timeline {}", name, path.string(),
               channels, file_rate, static_cast<double>(frames) / rate_, at);
  return Added{
      .track = describe(path, name, channels, frames, file_rate, at), .slot = e->slot, .fresh = fresh};
}

Status BackingTracks::remove(const std::string& name) {
  std::unique_lock lock(mutex_);
  auto found = std::find_if(entries_.begin(), entries_.end(),
                            [&](const auto& e) { return e->name == name && e->enabled; });
  if (found == entries_.end()) return Error{"no backing track '" + name + "' (tlctl backing list)"};
  Entry& e = **found;
  e.enabled = false;
  e.track->want(generation_, e.file_id, e.at, e.at + e.frames, false);
  lock.unlock();
  wake_.notify_all();
  spdlog::info("backing track '{}' removed (its strips stay for a later add)", name);
  return {};
}

proto::BackingList BackingTracks::list() const {
  proto::BackingList out;
  out.set_sample_rate(rate_);
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (!e->enabled) continue;
    *out.add_tracks() = describe(e->path, e->name, e->channels, e->frames, e->file_rate, e->at);
    out.mutable_tracks(out.tracks_size() - 1)->set_underruns(e->track->underruns());
  }
  return out;
}

std::vector<TakeAutomation::Backing> BackingTracks::for_take() const {
  std::vector<TakeAutomation::Backing> out;
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (!e->enabled) continue;
    out.push_back({.name = e->name,
                   .path = e->path.string(),
                   .node_id = e->slot->id,
                   .channels = e->channels,
                   .at = e->at,
                   .frames = e->frames});
  }
  return out;
}

std::uint64_t BackingTracks::prepare(MediaTime position, TimelineLoop loop) {
  std::unique_lock lock(mutex_);
  ++generation_;
  prepared_at_ = position;
  prepared_loop_ = loop;
  for (auto& e : entries_) {
    e->generation = generation_;
    e->from = position;
    e->loop = loop;
    e->track->want(generation_, e->file_id, e->at, e->at + e->frames, e->enabled);
  }
  lock.unlock();
  wake_.notify_all();
  return generation_;
}

bool BackingTracks::ready(std::uint64_t generation) const {
  std::lock_guard lock(mutex_);
  return std::all_of(entries_.begin(), entries_.end(), [&](const auto& e) {
    return !e->enabled || e->ready.load(std::memory_order_acquire) >= generation;
  });
}

std::uint64_t BackingTracks::underruns() const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& e : entries_) n += e->track->underruns();
  return n;
}

std::size_t BackingTracks::size() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const auto& e) { return e->enabled; }));
}

void BackingTracks::run() {
  while (!stop_.load()) {
    bool busy = false;
    for (std::size_t i = 0;; ++i) {
      Entry* e = nullptr;
      {
        std::lock_guard lock(mutex_);
        if (i >= entries_.size()) break;
        e = entries_[i].get();
      }
      busy = fill(*e) || busy;
    }
    if (!busy) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(5), [&] { return stop_.load(); });
    }
  }
}

bool BackingTracks::fill(Entry& e) {
  fs::path path;
  std::uint64_t file_id = 0, generation = 0;
  MediaTime from = 0, at = 0, frames = 0;
  TimelineLoop loop;
  bool enabled = false;
  {
    std::lock_guard lock(mutex_);
    path = e.path;
    file_id = e.file_id;
    generation = e.generation;
    from = e.from;
    loop = e.loop;
    at = e.at;
    frames = e.frames;
    enabled = e.enabled;
  }
  if (!enabled) {
    e.close();
    e.open_id = 0;
    return false;
  }
  if (e.open_id != file_id) {
    e.open_id = file_id;
    e.fresh = true;
    if (const Status s = e.file->open(path); !s) {
      spdlog::error("backing track '{}': {}", e.name, s.error());
    } else if (e.file->channels() != e.channels) {
      spdlog::error("backing track '{}': {} changed on disk (now {} channels)", e.name, path.string(),
                    e.file->channels());
      e.close();
    }
  }
  if (!e.file->is_open()) {
    e.ready.store(generation, std::memory_order_release);  // nothing to wait for: it plays silence
    return false;
  }
  if (e.fresh || e.reading != generation) {
    e.fresh = false;
    e.reading = generation;
    e.next = from;
    e.done = false;
    e.pushed = 0;
    e.file->restart();
  }
  if (e.done) return false;
  bool any = false;
  const MediaTime end = at + frames;
  for (int k = 0; k < 8 && !e.done; ++k) {
    // Where the straight position lies on the timeline, and how far on the loop folds it.
    const MediaTime t = loop.at(e.next);
    const MediaTime lap = loop.until_wrap(e.next);
    if (t < at && at - t < lap) {  // before the track: on to its first frame
      e.next += at - t;
      any = true;
      continue;
    }
    if (t < at || t >= end) {
      // Past it in this lap: on to the next lap, which starts at the loop's from, unless
      // no lap ever comes back into the track.
      if (lap == INT64_MAX || loop.from >= end || loop.to <= at) {
        e.done = true;
        break;
      }
      e.next += lap;
      any = true;
      continue;
    }
    // Up to the read-ahead; a new read's first chunks go in whatever the ring holds.
    if (e.track->chunks().size() >= kBackingReadAhead && e.pushed >= kBackingReady) break;
    BackingChunk* c = e.track->chunks().begin_write();
    if (c == nullptr) break;
    // A chunk ends at the track's end or where the loop folds back: the next one reads
    // from the loop's from (a read that does not go on from the last, as a render's).
    const auto want =
        static_cast<std::uint32_t>(std::min({static_cast<MediaTime>(kBackingChunkFrames), end - t, lap}));
    const std::uint32_t got = e.file->read(t - at, c->samples.data(), want);
    if (got == 0) {
      e.done = true;  // the file ended early or cannot be read: silence after it
      break;
    }
    c->generation = generation;
    c->file = file_id;
    c->from = e.next;
    c->frames = got;
    e.track->chunks().commit_write();
    e.next += got;
    ++e.pushed;
    any = true;
  }
  if (e.done || e.pushed >= kBackingReady) e.ready.store(generation, std::memory_order_release);
  return any;
}

}  // namespace tl::mixer
