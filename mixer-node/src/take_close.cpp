#include "tl/mixer/take_close.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tl/common/units.h"
#include "tl/mixer/take_bwf.h"
#include "tl/mixer/take_conform.h"
#include "tl/mixer/take_punch.h"

namespace tl::mixer {
namespace {

double to_dbfs(double v) {
  return gain_to_db(v, -150.0);
}

//! A file the disk refused: that comes first in why its end is missing.
void note_write_error(const TrackWriter& w, MediaTime start, TakeTrack& t) {
  if (w.write_error().empty()) return;
  std::string why = "the disk refused the file (" + w.write_error() + ")";
  if (w.failed_at() >= 0) why += " from session sample " + std::to_string(start + w.failed_at()) + " on";
  // What else is said of the losses holds only for those before the disk filled.
  const auto gaps = w.lost_gaps();
  const bool disk_only = gaps.size() == 1 && w.failed_at() >= 0 && gaps.front().from == w.failed_at();
  t.missing_reason = t.missing_reason.empty() || disk_only ? why : why + "; before that: " + t.missing_reason;
}

//! Each node track written out to length and closed, as take.json lists it.
std::vector<TakeTrack> close_tracks(Take& take, std::int64_t length, NodeRegistry& registry,
                                    bool shutting_down) {
  std::vector<TakeTrack> out;
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    const NodeSlot* slot = registry.by_id(id);
    const std::uint64_t concealed =
        slot ? slot->concealed.load(std::memory_order_relaxed) - take.concealed_at_start[id] : 0;
    for (std::uint32_t c = 0; c < tracks.size(); ++c) {
      if (!tracks[c]) continue;
      TrackWriter& t = *tracks[c];
      take.run_to_end(id, t, length);
      t.finish(length);
      TakeTrack track{.file = track_file_name(slot->name, c),
                      .node = slot->name,
                      .channel = c + 1,
                      .first_sample = t.first_offset() < 0 ? -1 : take.start + t.first_offset(),
                      .frames = static_cast<std::uint64_t>(length),
                      .peak_dbfs = to_dbfs(t.peak()),
                      .rms_dbfs = to_dbfs(t.rms()),
                      .lost_samples = t.lost_frames(),
                      .concealed_samples = concealed / std::max<std::uint32_t>(1, slot->channels),
                      .clipped_samples = t.clipped_samples(),
                      .recovered_samples = t.recovered_frames()};
      for (const auto& g : t.lost_gaps()) {
        track.missing.push_back({.from = take.start + g.from, .frames = g.to - g.from});
      }
      if (t.lost_frames() != 0) {
        track.missing_reason = take.backfill.missing_reason(id, shutting_down);
        if (t.provisional_frames() != 0) {
          track.missing_reason = std::to_string(t.provisional_frames()) +
                                 " of them hold its live Opus audio, not its exact samples; " +
                                 track.missing_reason;
        }
      }
      note_write_error(t, take.start, track);
      track.complete = track.lost_samples == 0;
      out.push_back(std::move(track));
    }
  }
  return out;
}

//! What the conform, the live mix and the registry know of a closed node track.
void describe_track(const Take& take, NodeRegistry& registry, TakeTrack& t) {
  if (const auto c = take.conformed.find(t.file); c != take.conformed.end()) {
    t.conform = c->second;
    // A track the conform moved starts where its samples now stand; raw/ stays where its
    // stamps put it.
    if (t.first_sample >= 0) {
      t.conform->raw_first_sample = t.first_sample;
      t.first_sample = std::max<std::int64_t>(
          take.start, t.first_sample + static_cast<std::int64_t>(std::lround(c->second.moved_samples)));
    }
  }
  if (const auto lc = take.live_concealed.find(t.file); lc != take.live_concealed.end()) {
    // Where the live mix concealed this input (its node's media time, as raw/ holds it):
    // tl-render --as-live leaves the same frames out and conceals them the same way.
    TakeTrack::LiveConcealed live{.exact = lc->second.exact(), .complete = lc->second.complete()};
    for (const auto& [from, to] : lc->second.runs()) live.runs.push_back({.from = from, .frames = to - from});
    t.live_concealed = std::move(live);
  }
  if (const NodeSlot* slot = registry.by_name(t.node); slot != nullptr) {
    // The live mix summed its nodes in id order: a render that repeats it sums the same way.
    t.node_id = slot->id;
    // The live mix played decoded Opus; raw/ holds the exact samples.
    if (slot->format == protocol::SampleFormat::Opus) t.live_codec = "opus";
  }
}

}  // namespace

TakeManifest close_take(Take& take, std::int64_t length, TakeManifest manifest, NodeRegistry& registry,
                        bool shutting_down) {
  manifest.frames = static_cast<std::uint64_t>(std::max<std::int64_t>(length, 0));
  manifest.seconds = static_cast<double>(length) / manifest.sample_rate;
  manifest.tracks = close_tracks(take, length, registry, shutting_down);
  // Tracks of a resumed take whose node never came back, or of a recovered one whose node
  // was not connected (--skip-absent): kept as their files hold them, and said so.
  const std::string why = take.recovered ? "' was not connected when the take was recovered (--skip-absent); "
                                           "its spool may still hold the audio"
                                         : "' did not rejoin after the mixer restarted; its spool still "
                                           "holds the audio";
  for (auto& [node, tracks] : take.waiting) {
    // A recovered take's node that was there with fewer channels than it had recorded.
    const NodeSlot* there = take.recovered ? registry.by_name(node) : nullptr;
    const std::string node_why =
        there == nullptr ? why
                         : "' was connected with " + std::to_string(there->channels) +
                               " channel(s) when the take was recovered (--skip-absent); its spool may still "
                               "hold the audio";
    for (std::size_t c = 0; c < tracks.size(); ++c) {
      if (!tracks[c]) continue;
      TrackWriter& w = *tracks[c];
      // Audio was due to the end: every silence in it (found when it was reopened) and the
      // rest after its file's end are missing.
      w.note_audio_until(length);
      w.finish(length);
      TakeTrack t{.file = track_file_name(node, static_cast<std::uint32_t>(c)),
                  .node = node,
                  .channel = static_cast<std::uint32_t>(c + 1),
                  .first_sample = w.first_offset() < 0 ? -1 : take.start + w.first_offset(),
                  .frames = static_cast<std::uint64_t>(length),
                  .peak_dbfs = to_dbfs(w.peak()),
                  .rms_dbfs = to_dbfs(w.rms()),
                  .lost_samples = w.lost_frames(),
                  .complete = w.lost_frames() == 0};
      for (const auto& g : w.lost_gaps())
        t.missing.push_back({.from = take.start + g.from, .frames = g.to - g.from});
      if (!t.complete) t.missing_reason = "node '" + node + node_why;
      note_write_error(w, take.start, t);
      manifest.tracks.push_back(std::move(t));
    }
  }
  take.waiting.clear();
  take.mix->finish(length);
  conform_take(take, length, registry, manifest.sample_rate);
  manifest.complete = true;
  for (TakeTrack& t : manifest.tracks) {
    describe_track(take, registry, t);
    manifest.complete = manifest.complete && t.complete;
  }
  TakeTrack mix{.file = "mix.wav",
                .node = "mix",
                .channel = 0,
                .first_sample = take.start,
                .frames = static_cast<std::uint64_t>(length),
                .peak_dbfs = to_dbfs(take.mix->peak()),
                .rms_dbfs = to_dbfs(take.mix->rms()),
                .lost_samples = take.mix->lost_frames(),
                .concealed_samples = take.mix_concealed.frames(),
                .clipped_samples = take.mix->clipped_samples()};
  if (!take.mix->write_error().empty()) {
    for (const auto& g : take.mix->lost_gaps())
      mix.missing.push_back({.from = take.start + g.from, .frames = g.to - g.from});
  }
  note_write_error(*take.mix, take.start, mix);
  // The mix misses the time the mixer was down (mixer_down says so; no spool holds it):
  // only a file the disk refused makes the take incomplete.
  mix.complete = take.mix->write_error().empty();
  manifest.complete = manifest.complete && mix.complete;
  // Session samples: where the live mix holds a guess.
  for (const auto& [from, to] : take.mix_concealed.ranges()) {
    mix.concealed.push_back({.from = take.start + from, .frames = to - from});
  }
  manifest.mix = std::move(mix);
  // Where each file lies on the transport timeline. Every file starts at the take's start;
  // a node's audio at media time m was played against mix position m - compensation, and
  // the conform moved its file by moved_samples from where its stamps put it.
  if (const std::optional<MediaTime> timeline = take.automation.placement(take.start)) {
    manifest.mix->timeline_sample = timeline;
    manifest.bwf_song_start = static_cast<std::int64_t>(bwf_time_reference(0, manifest.sample_rate));
    for (TakeTrack& t : manifest.tracks) {
      double at = static_cast<double>(*timeline);
      MediaTime compensation = 0;
      if (t.node_id != 0 && take.compensation[t.node_id].known()) {
        compensation = take.compensation[t.node_id].frames();
        t.compensation_samples = compensation;
        t.compensation_changed = take.compensation_changed[t.node_id];
        if (t.conform) t.raw_timeline_sample = *timeline - compensation;
      }
      if (t.conform) at -= t.conform->moved_samples;
      t.timeline_sample = std::llround(at - static_cast<double>(compensation));
    }
  }
  if (manifest.punch) {
    // Its files are cut once the session-aligned tracks are written (the conformer's).
    TakePunch& punch = *manifest.punch;
    punch.passes = find_punch_passes(take.automation, take.start, take.start + length, punch.from, punch.to);
    punch.pending = !punch.passes.empty() && manifest.mix->timeline_sample.has_value();
  }
  return manifest;
}

}  // namespace tl::mixer
