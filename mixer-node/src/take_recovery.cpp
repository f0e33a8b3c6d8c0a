#include "tl/mixer/take_recovery.h"

#include <algorithm>
#include <string>
#include <vector>

#include "tl/mixer/take_folder.h"

namespace fs = std::filesystem;

namespace tl::mixer {

Result<std::unique_ptr<Take>> reopen_take(const fs::path& dir, const TakeManifest& manifest,
                                          NodeRegistry& registry, std::uint32_t window_frames) {
  const std::string name = dir.filename().string();
  auto take = std::make_unique<Take>();
  take->name = name;
  take->dir = dir;
  take->start = manifest.start_sample;
  take->recovered = true;
  // Its tracks, by the nodes now connected under the same names.
  std::vector<std::string> absent;
  std::int64_t length = 0;
  for (const TakeFile& f : take_files(dir)) {
    const bool is_mix = f.node == "mix";
    auto writer = TrackWriter::resume(f.path.string(), window_frames, !is_mix);
    if (!writer) return Error{writer.error()};
    length = std::max(length, writer.value()->head());
    if (is_mix) {
      take->mix = std::move(writer.value());
      continue;
    }
    NodeSlot* slot = registry.by_name(f.node);
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
    return Error{"take '" + name + "' has tracks of node(s) not connected: " + names +
                 "; start them again with the same --name (and --spool-dir) and retry"};
  }
  if (!take->mix) return Error{"take '" + name + "' has no mix.wav: not a take tracklink recorded"};
  // Where the take had got to when its mixer stopped (the files lag it a little).
  length = std::max<std::int64_t>(length, AliveFile::read(dir / ".alive") - take->start);
  take->stop = take->start + length;
  take->mix_end = length;
  // Every track ran to the end of the take: silence in it is missing audio.
  for (auto& tracks : take->tracks) {
    for (auto& t : tracks) {
      if (!t) continue;
      t->flush_until(length);
      t->note_audio_until(length);
    }
  }
  return take;
}

Result<std::unique_ptr<Take>> resume_take(const fs::path& dir, const TakeManifest& manifest, std::int64_t now,
                                          std::uint32_t window_frames) {
  auto take = std::make_unique<Take>();
  take->name = dir.filename().string();
  take->dir = dir;
  take->start = manifest.start_sample;
  take->mixer_down = manifest.mixer_down;
  std::int64_t length = 0;
  for (const TakeFile& f : take_files(dir)) {
    const bool is_mix = f.node == "mix";
    auto writer = TrackWriter::resume(f.path.string(), window_frames, !is_mix);
    if (!writer) return Error{writer.error()};
    length = std::max(length, writer.value()->head());
    if (is_mix) {
      take->mix = std::move(writer.value());
      continue;
    }
    if (f.channel < 1) continue;
    auto& tracks = take->waiting[f.node];
    if (tracks.size() < f.channel) tracks.resize(f.channel);
    tracks[f.channel - 1] = std::move(writer.value());
  }
  if (!take->mix) return Error{"take '" + take->name + "' has no mix.wav: not a take tracklink recorded"};
  // Audio was expected up to where the take had got to: silence before it is missing.
  const std::int64_t reached = std::max<std::int64_t>(length, AliveFile::read(dir / ".alive") - take->start);
  for (auto& [node, tracks] : take->waiting) {
    for (auto& t : tracks) {
      if (t) t->note_audio_until(reached);
    }
  }
  if (now > reached) take->mixer_down.push_back({.from = take->start + reached, .frames = now - reached});
  take->mix_end = reached;
  auto automation = TakeAutomation::read(dir);
  if (automation) take->automation = std::move(automation.value());
  take->automation.take = take->name;
  take->automation.sample_rate = manifest.sample_rate;
  take->automation.start_sample = manifest.start_sample;
  take->alive = std::make_unique<AliveFile>(dir / ".alive");
  return take;
}

}  // namespace tl::mixer
