#include "tl/mixer/take_report.h"

#include <algorithm>
#include <system_error>

#include "tl/mixer/take_folder.h"
#include "tl/mixer/track_writer.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

//! What both reports say of a track: its file, where it starts, its levels, what it
//! lost, what came back and what is still missing (the list leaves out the rest).
void summarise(const TakeTrack& t, proto::TrackSummary& s) {
  s.set_file(t.file);
  s.set_node(t.node);
  s.set_channel(t.channel);
  s.set_first_sample(t.first_sample);
  s.set_frames(t.frames);
  s.set_peak_dbfs(t.peak_dbfs);
  s.set_rms_dbfs(t.rms_dbfs);
  s.set_lost_samples(t.lost_samples);
  s.set_recovered_samples(t.recovered_samples);
  for (const TakeRange& m : t.missing) {
    auto* r = s.add_missing();
    r->set_from(m.from);
    r->set_frames(static_cast<std::uint64_t>(m.frames));
  }
  s.set_missing_reason(t.missing_reason);
  if (t.timeline_sample) s.set_timeline_sample(*t.timeline_sample);
  if (t.compensation_samples) s.set_compensation_samples(*t.compensation_samples);
}

//! A take the mixer did not close (it was killed, or the machine went down): what
//! its files hold, as any reader sees them (headers are refreshed while recording).
void describe_unfinished(const fs::path& dir, std::uint32_t rate, proto::RecordStopped& t) {
  t.set_state(TakeManifest::kUnfinished);
  std::int64_t longest = 0;
  for (const TakeFile& f : take_files(dir)) {
    const std::int64_t frames = track_file_frames(f.path.string());
    if (frames < 0) continue;
    auto* s = t.add_tracks();
    s->set_file(f.path.filename().string());
    s->set_node(f.node);
    s->set_channel(f.channel);
    s->set_frames(static_cast<std::uint64_t>(frames));
    longest = std::max(longest, frames);
  }
  t.set_frames(static_cast<std::uint64_t>(longest));
  t.set_seconds(static_cast<double>(longest) / rate);
}

}  // namespace

proto::RecordStopped stopped_take(const TakeManifest& manifest, const fs::path& dir) {
  proto::RecordStopped summary;
  summary.set_take_name(manifest.take);
  summary.set_path(dir.string());
  summary.set_start_sample(manifest.start_sample);
  summary.set_frames(manifest.frames);
  summary.set_seconds(manifest.seconds);
  summary.set_state(manifest.state);
  summary.set_complete(manifest.complete);
  summary.set_tracks_conforming(static_cast<std::uint32_t>(manifest.tracks_conforming()));
  if (manifest.punch) {
    summary.mutable_punch()->set_from(manifest.punch->from);
    summary.mutable_punch()->set_to(manifest.punch->to);
    for (const std::string& n : manifest.punch->nodes) summary.mutable_punch()->add_nodes(n);
    summary.set_punch_passes(static_cast<std::uint32_t>(manifest.punch->passes.size()));
  }
  // Every node's track, then the mix (it has nothing recovered or missing: left unset).
  const auto add = [&](const TakeTrack& t) {
    auto* s = summary.add_tracks();
    summarise(t, *s);
    s->set_concealed_samples(t.concealed_samples);
    s->set_clipped_samples(t.clipped_samples);
  };
  for (const TakeTrack& t : manifest.tracks) add(t);
  if (manifest.mix) {
    add(*manifest.mix);
    // The mix of a take that went on through a mixer restart misses the time it was down.
    auto* mix = summary.mutable_tracks(summary.tracks_size() - 1);
    if (mix->lost_samples() != 0 && mix->missing_reason().empty() && !manifest.mixer_down.empty()) {
      mix->set_missing_reason(
          "no mixer was running then (take.json mixer_down); tl-render mixes the take again from its tracks");
    }
  }
  return summary;
}

std::vector<proto::RecordStopped> list_takes(const fs::path& record_dir, const std::string& recording) {
  std::vector<proto::RecordStopped> out;
  std::error_code ec;
  if (!fs::is_directory(record_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(record_dir, ec)) {
    const auto manifest = TakeManifest::read(entry.path());
    if (!manifest) continue;
    const TakeManifest& m = manifest.value();
    proto::RecordStopped t;
    t.set_take_name(m.take.empty() ? entry.path().filename().string() : m.take);
    t.set_path(entry.path().string());
    t.set_start_sample(m.start_sample);
    t.set_frames(m.frames);
    t.set_seconds(m.seconds);
    if (!m.closed()) {
      if (t.take_name() == recording) continue;  // being recorded now
      describe_unfinished(entry.path(), m.sample_rate != 0 ? m.sample_rate : 48000u, t);
      out.push_back(std::move(t));
      continue;
    }
    t.set_state(m.state);
    t.set_complete(m.complete);
    t.set_tracks_conforming(static_cast<std::uint32_t>(m.tracks_conforming()));
    for (const TakeTrack& tr : m.tracks) summarise(tr, *t.add_tracks());
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.take_name() < b.take_name(); });
  return out;
}

}  // namespace tl::mixer
