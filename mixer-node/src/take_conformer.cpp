#include "tl/mixer/take_conformer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <system_error>
#include <utility>
#include <vector>

#include "tl/mixer/take_bwf.h"
#include "tl/mixer/take_conform.h"
#include "tl/mixer/take_folder.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_punch.h"
#include "tl/mixer/track_writer.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

//! The most samples a whole-sample move may push out of the take and still keep one file
//! (take.json holds them): 0.1 s. Clock estimates move a track by a sample or two.
constexpr std::int64_t kMaxEdgeSamples = 4800;

//! A track moved by whole samples is raw/'s samples exactly, moved: instead of a second
//! copy, take.json keeps the few the move pushed out of the take (raw_edge) and raw/ can
//! go. True when it can (a resample, or a track of another length, keeps raw/).
bool keep_one_file(const fs::path& take_dir, std::int64_t frames, TakeTrack::Conform& c) {
  const std::int64_t moved = std::llround(c.moved_samples);
  if (c.resampled || moved == 0 || std::llabs(moved) > kMaxEdgeSamples) return false;
  auto raw = TrackReader::open((take_dir / c.raw_file).string());
  if (!raw || (*raw)->frames() != frames) return false;
  std::vector<float> edge(static_cast<std::size_t>(std::llabs(moved)));
  c.moved_samples = static_cast<double>(moved);
  c.raw_edge.resize(edge.size());  // raw_edge_at() reads its size
  if (!(*raw)->read(c.raw_edge_at(frames), edge)) {
    c.raw_edge.clear();
    return false;
  }
  for (std::size_t i = 0; i < edge.size(); ++i) {
    c.raw_edge[i] = static_cast<std::int32_t>(std::lround(static_cast<double>(edge[i]) * 8388608.0));
  }
  c.raw_file.clear();
  return true;
}

//! What a mixer stopped mid-conform can leave: a half-written <file>.part, and raw/'s
//! file of a track take.json already keeps once (killed between the two steps).
void remove_leftovers(const fs::path& take_dir, const TakeManifest& m) {
  std::error_code ec;
  for (const TakeTrack& t : m.tracks) {
    fs::remove(take_dir / (t.file + ".part"), ec);
    if (t.conform && t.conform->raw_file.empty() && !t.conform->raw_edge.empty())
      fs::remove(take_dir / "raw" / t.file, ec);
  }
}

}  // namespace

Conformer::~Conformer() {
  stop();
}

void Conformer::start() {
  // The default logger made here, not first on the conformer thread (a race TSan reports).
  (void)spdlog::default_logger();
  stop_.store(false);
  thread_ = std::thread([this] { run(); });
}

void Conformer::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Conformer::finish(std::chrono::seconds max_wait) {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mutex_);
    if (busy_ != 0) spdlog::info("finishing the conform of {} take(s) before stopping", busy_);
    if (!wake_.wait_for(lock, max_wait, [&] { return busy_ == 0; })) {
      spdlog::warn("{} take(s) still conforming after {} s: left for the next mixer on this record dir",
                   busy_, max_wait.count());
    }
  }
  stop();
}

void Conformer::add(fs::path take_dir) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(take_dir));
    ++busy_;
  }
  wake_.notify_all();
}

std::size_t Conformer::resume(const fs::path& record_dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(record_dir, ec)) {
    const auto m = TakeManifest::read(entry.path());
    if (!m || m->state != TakeManifest::kConforming) continue;
    spdlog::info("take '{}': {} track(s) left to conform by the last mixer; going on", m->take,
                 m->tracks_conforming());
    add(entry.path());
    ++n;
  }
  return n;
}

void Conformer::run() {
  for (;;) {
    fs::path dir;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_.load() || !queue_.empty(); });
      if (stop_.load()) return;
      dir = queue_.front();
      queue_.pop_front();
    }
    const auto done = conform_take_files(dir, &stop_);
    if (!done) spdlog::error("take in {}: {}", dir.string(), done.error());
    {
      std::lock_guard lock(mutex_);
      --busy_;
    }
    wake_.notify_all();
  }
}

Result<bool> Conformer::conform_take_files(const fs::path& take_dir, const std::atomic<bool>* stop) {
  auto read = TakeManifest::read(take_dir);
  if (!read) return Error{read.error()};
  TakeManifest& m = read.value();
  if (m.state != TakeManifest::kConforming) return true;
  const auto began = std::chrono::steady_clock::now();
  remove_leftovers(take_dir, m);
  const std::size_t total = m.tracks_conforming();
  std::size_t written = 0;
  for (TakeTrack& t : m.tracks) {
    if (!t.conform || !t.conform->pending) continue;
    TakeTrack::Conform& c = *t.conform;
    const TrackFileInfo info = node_track_info(m.take, t.node, t.channel - 1, m.sample_rate, m.start_sample);
    auto wrote =
        write_conformed_track(take_dir, t.file, c.map, static_cast<std::int64_t>(m.frames), info, stop);
    if (wrote && !*wrote) {
      spdlog::info("take '{}': stopped with {} of {} track(s) conformed; the next mixer goes on", m.take,
                   written, total);
      return false;
    }
    std::string drop;  // raw/'s file, once take.json no longer names it
    if (!wrote) {
      // The track as recorded, at its stamps, rather than none: raw/ goes back in its place.
      spdlog::error("take '{}': conform of {} failed ({}); the track is left as recorded", m.take, t.file,
                    wrote.error());
      std::error_code ec;
      fs::rename(take_dir / c.raw_file, take_dir / t.file, ec);
      if (t.first_sample >= 0 && c.raw_first_sample >= 0) t.first_sample = c.raw_first_sample;
      t.conform.reset();
    } else {
      c.pending = false;
      c.map.clear();
      if (keep_one_file(take_dir, static_cast<std::int64_t>(m.frames), c)) drop = "raw/" + t.file;
    }
    ++written;
    if (written < total || !drop.empty()) {
      if (const Status s = m.write(take_dir); !s) return Error{s.error()};
    }
    if (!drop.empty() && sync_path(take_dir / "take.json")) {
      std::error_code ec;
      fs::remove(take_dir / drop, ec);
    }
  }
  if (m.punch && m.punch->pending) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return false;
    const Status punched = write_punch_files(take_dir, m);
    if (!punched) {
      spdlog::error("take '{}': its punch passes were not written: {}", m.take, punched.error());
      m.punch->pending = false;
      m.punch->error = punched.error();
    } else {
      spdlog::info("take '{}': {} punch pass(es) of timeline {}..{} written", m.take, m.punch->passes.size(),
                   m.punch->from, m.punch->to);
    }
  }
  if (const Status stamped = stamp_timeline(take_dir, m); !stamped)
    spdlog::error("take '{}': BWF time references not set: {}", m.take, stamped.error());
  m.state = TakeManifest::closed_state(m.complete);
  if (const Status s = m.write(take_dir); !s) return Error{s.error()};
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  spdlog::info("take '{}' {}: {} track(s) conformed in {:.1f} s", m.take, m.state, written, seconds);
  return true;
}

}  // namespace tl::mixer
