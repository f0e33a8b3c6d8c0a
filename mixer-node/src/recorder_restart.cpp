// The recorder and the takes a stopped mixer left: `record recover` completes one up to
// where its mixer stopped; at start-up the newest one of this session goes on
// (resume) and the others are marked unfinished. The take being recorded is
// recorder.cpp's.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <filesystem>

#include "tl/mixer/recorder.h"
#include "tl/mixer/take.h"
#include "tl/mixer/take_folder.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_recovery.h"

namespace fs = std::filesystem;

namespace tl::mixer {

void Recorder::recover_take(std::string name, bool skip_absent, StoppedFn done) {
  post([this, name = std::move(name), skip_absent, done = std::move(done)] {
    recover(name, skip_absent, done);
  });
}

void Recorder::recover(const std::string& name, bool skip_absent, const StoppedFn& done) {
  if (take_) {
    done(Error{"take '" + take_->name + "' is being recorded: recover '" + name + "' once it stops"});
    return;
  }
  if (!valid_take_name(name)) {
    done(Error{bad_take_name_message(name)});
    return;
  }
  if (std::any_of(unsaved_.begin(), unsaved_.end(), [&](const Unsaved& u) { return u.take == name; })) {
    done(Error{"take '" + name + "' is closed; its take.json waits for room on the disk (tried every 5 s)"});
    return;
  }
  const fs::path dir = fs::path(config_.record_dir) / name;
  const auto found = TakeManifest::read(dir);
  if (!found) {
    std::error_code ec;
    done(Error{fs::exists(dir / "take.json", ec)
                   ? "take '" + name + "' cannot be recovered: " + found.error()
                   : "no take '" + name + "' in " + config_.record_dir + " (tlctl takes lists them)"});
    return;
  }
  if (found->state == TakeManifest::kComplete) {
    done(Error{"take '" + name + "' is complete: nothing to recover"});
    return;
  }
  if (found->state == TakeManifest::kConforming) {
    done(Error{"take '" + name + "' is closed, its tracks still being conformed (" +
               std::to_string(found->tracks_conforming()) + " left): nothing to recover"});
    return;
  }
  if (found->closed()) {
    std::uint64_t missing = 0;
    for (const TakeTrack& t : found->tracks) missing += t.lost_samples;
    done(Error{"take '" + name + "' is incomplete (" + std::to_string(missing) +
               " samples missing; tlctl takes says where and why) but was closed by the mixer that "
               "recorded it: recover completes unfinished takes only"});
    return;
  }
  auto take = reopen_take(dir, found.value(), registry_, config_.window_frames, skip_absent);
  if (!take) {
    done(Error{take.error()});
    return;
  }
  take_ = std::move(take.value());
  take_->stop_requested_ns = clock_.now_ns();
  take_->on_stopped = done;
  const std::int64_t length = take_->stop - take_->start;
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

std::vector<std::string> Recorder::mark_unfinished_takes(const std::string& except) {
  std::vector<std::string> names;
  for (const auto& t : list_takes()) {
    if (t.state() != TakeManifest::kUnfinished || t.take_name() == except) continue;
    names.push_back(t.take_name() + fmt::format(" ({:.1f} s readable)", t.seconds()));
    auto m = TakeManifest::read(t.path());
    if (!m || m->state == TakeManifest::kUnfinished) continue;
    m->state = TakeManifest::kUnfinished;
    if (const Status s = m->write(t.path()); !s) spdlog::warn("take '{}': {}", t.take_name(), s.error());
  }
  return names;
}

std::optional<std::string> Recorder::resumable_take() const {
  std::optional<std::string> newest;
  MediaTime newest_start = INT64_MIN;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(config_.record_dir, ec)) {
    const auto m = TakeManifest::read(entry.path());
    if (!m || m->state != TakeManifest::kRecording || m->session_epoch_ns != clock_.epoch_ns()) continue;
    if (AliveFile::stopped(entry.path() / ".alive")) continue;  // stopped, its take.json refused by the disk
    if (m->start_sample > newest_start) {
      newest_start = m->start_sample;
      newest = entry.path().filename().string();
    }
  }
  return newest;
}

void Recorder::resume_take(std::string name) {
  post([this, name = std::move(name)] { resume(name); });
}

void Recorder::resume(const std::string& name) {
  if (take_) return;
  const fs::path dir = fs::path(config_.record_dir) / name;
  const auto found = TakeManifest::read(dir);
  if (!found) return;
  const std::int64_t now = clock_.now_samples() - found->start_sample;
  auto take = tl::mixer::resume_take(dir, found.value(), now, config_.window_frames);
  if (!take) {
    spdlog::error("take '{}' cannot go on: {}; `tlctl record recover {}` completes it", name, take.error(),
                  name);
    return;
  }
  // mix.wav is silent where no mixer ran: a render leaves that out of its comparison.
  for (const TakeRange& down : take.value()->mixer_down)
    take.value()->mix_concealed.note(down.from - found->start_sample,
                                     down.from + down.frames - found->start_sample,
                                     static_cast<std::uint32_t>(down.frames));
  const TakeRange last = take.value()->mixer_down.empty() ? TakeRange{} : take.value()->mixer_down.back();
  adopt(std::move(take.value()));
  write_manifest(manifest(TakeManifest::kRecording));
  spdlog::warn(
      "take '{}' goes on: its mixer stopped {:.2f} s into it and this one runs from {:.2f} s; its tracks "
      "go on as their nodes rejoin, and `record stop` fills the {:.2f} s between from their spools",
      name, static_cast<double>(last.from - take_->start) / clock_.rate(),
      static_cast<double>(last.from + last.frames - take_->start) / clock_.rate(),
      static_cast<double>(last.frames) / clock_.rate());
}

}  // namespace tl::mixer
