#include "tl/mixer/take_recovery.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tl/mixer/take_folder.h"

namespace fs = std::filesystem;

namespace tl::mixer {

namespace {

//! Every WAV file of the take in dir reopened at its end: mix.wav as take.mix, each track
//! handed to `track` (file, writer). The longest file's length, or the first error.
template <typename TrackFn>
Result<std::int64_t> reopen_files(const fs::path& dir, std::uint32_t window_frames, Take& take,
                                  TrackFn&& track) {
  std::int64_t length = 0;
  for (const TakeFile& f : take_files(dir)) {
    const bool is_mix = f.node == "mix";
    auto writer = TrackWriter::resume(f.path.string(), window_frames, !is_mix);
    if (!writer) return Error{writer.error()};
    length = std::max(length, writer.value()->head());
    if (is_mix) {
      take.mix = std::move(writer.value());
    } else {
      track(f, std::move(writer.value()));
    }
  }
  if (!take.mix) return Error{"take '" + take.name + "' has no mix.wav: not a take tracklink recorded"};
  return length;
}

std::unique_ptr<Take> take_in(const fs::path& dir, const TakeManifest& manifest) {
  auto take = std::make_unique<Take>();
  take->name = dir.filename().string();
  take->dir = dir;
  take->start = manifest.start_sample;
  if (manifest.punch) {
    take->punch = manifest.punch;
    take->punch->passes.clear();  // found again as it closes
  }
  return take;
}

}  // namespace

Result<std::unique_ptr<Take>> reopen_take(const fs::path& dir, const TakeManifest& manifest,
                                          NodeRegistry& registry, std::uint32_t window_frames,
                                          bool skip_absent) {
  auto take = take_in(dir, manifest);
  const std::string& name = take->name;
  take->recovered = true;
  // Its tracks, by the nodes now connected under the same names.
  std::vector<std::string> absent;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> narrower;  // node: (its channels, track)
  auto reopened =
      reopen_files(dir, window_frames, *take, [&](const TakeFile& f, std::unique_ptr<TrackWriter> writer) {
        NodeSlot* slot = registry.by_name(f.node);
        if (slot == nullptr || f.channel < 1 || f.channel > slot->channels) {
          if (slot != nullptr && f.channel > slot->channels) {
            auto& [channels, highest] = narrower[f.node];
            channels = slot->channels;
            highest = std::max(highest, f.channel);
          } else {
            absent.push_back(f.node);
          }
          if (skip_absent && f.channel >= 1) {
            // Closed as the file holds it (close_take says what it misses, and why).
            auto& tracks = take->waiting[f.node];
            if (tracks.size() < f.channel) tracks.resize(f.channel);
            tracks[f.channel - 1] = std::move(writer);
          }
          return;
        }
        // An Opus node's track may hold decoded audio where the dead recorder had not yet
        // fetched the exact samples: all of it is asked for again.
        if (slot->format == protocol::SampleFormat::Opus) writer->mark_provisional();
        auto& tracks = take->tracks[slot->id];
        tracks.resize(slot->channels);
        tracks[f.channel - 1] = std::move(writer);
        take->concealed_at_start[slot->id] = slot->concealed.load(std::memory_order_relaxed);
      });
  if (!reopened) return Error{reopened.error()};
  std::int64_t length = reopened.value();
  if ((!absent.empty() || !narrower.empty()) && !skip_absent) {
    std::sort(absent.begin(), absent.end());
    absent.erase(std::unique(absent.begin(), absent.end()), absent.end());
    std::string names;
    for (const auto& n : absent) names += (names.empty() ? "'" : ", '") + n + "'";
    // A node connected with fewer channels than it recorded is there, just not all of it.
    std::string what = names.empty() ? "" : "tracks of node(s) not connected: " + names;
    for (const auto& [node, shape] : narrower) {
      const auto [channels, track] = shape;
      what +=
          (what.empty() ? "" : "; ") + ("node '" + node + "' connected with " + std::to_string(channels) +
                                        " channel(s), but the take has its track " + std::to_string(track) +
                                        " (--channels " + std::to_string(track) + ")");
    }
    return Error{"take '" + name + "' has " + what +
                 "; start them again with the same --name (and --spool-dir) and retry, or recover "
                 "without them (--skip-absent: their tracks kept as they are, what they miss listed)"};
  }
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
  auto take = take_in(dir, manifest);
  take->mixer_down = manifest.mixer_down;
  // Each track waits, by its node's name, for that node to be heard again.
  auto reopened =
      reopen_files(dir, window_frames, *take, [&](const TakeFile& f, std::unique_ptr<TrackWriter> writer) {
        if (f.channel < 1) return;
        auto& tracks = take->waiting[f.node];
        if (tracks.size() < f.channel) tracks.resize(f.channel);
        tracks[f.channel - 1] = std::move(writer);
      });
  if (!reopened) return Error{reopened.error()};
  const std::int64_t length = reopened.value();
  // mix.wav fades out at the take's end as a take that never stopped would.
  take->mix->set_edge_fade(static_cast<std::uint32_t>(kMixEdgeFadeSeconds * manifest.sample_rate));
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
