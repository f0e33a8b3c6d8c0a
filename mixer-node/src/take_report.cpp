#include "tl/mixer/take_report.h"

#include <sndfile.h>

#include <algorithm>
#include <system_error>

#include "tl/mixer/take_folder.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

void add_missing(const TakeTrack& t, proto::TrackSummary& s) {
  for (const TakeRange& m : t.missing) {
    auto* r = s.add_missing();
    r->set_from(m.from);
    r->set_frames(static_cast<std::uint64_t>(m.frames));
  }
}

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

proto::RecordStopped stopped_take(const TakeManifest& manifest, const fs::path& dir) {
  proto::RecordStopped summary;
  summary.set_take_name(manifest.take);
  summary.set_path(dir.string());
  summary.set_start_sample(manifest.start_sample);
  summary.set_frames(manifest.frames);
  summary.set_seconds(manifest.seconds);
  for (const TakeTrack& t : manifest.tracks) {
    auto* s = summary.add_tracks();
    s->set_file(t.file);
    s->set_node(t.node);
    s->set_channel(t.channel);
    s->set_first_sample(t.first_sample);
    s->set_frames(t.frames);
    s->set_peak_dbfs(t.peak_dbfs);
    s->set_rms_dbfs(t.rms_dbfs);
    s->set_lost_samples(t.lost_samples);
    s->set_concealed_samples(t.concealed_samples);
    s->set_clipped_samples(t.clipped_samples);
    s->set_recovered_samples(t.recovered_samples);
    add_missing(t, *s);
    s->set_missing_reason(t.missing_reason);
  }
  if (manifest.mix) {
    const TakeTrack& mix = *manifest.mix;
    auto* m = summary.add_tracks();
    m->set_file(mix.file);
    m->set_node(mix.node);
    m->set_channel(mix.channel);
    m->set_first_sample(mix.first_sample);
    m->set_frames(mix.frames);
    m->set_peak_dbfs(mix.peak_dbfs);
    m->set_rms_dbfs(mix.rms_dbfs);
    m->set_lost_samples(mix.lost_samples);
    m->set_clipped_samples(mix.clipped_samples);
    m->set_concealed_samples(mix.concealed_samples);
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
    t.set_state(TakeManifest::kComplete);
    t.set_complete(m.complete);
    for (const TakeTrack& tr : m.tracks) {
      auto* s = t.add_tracks();
      s->set_file(tr.file);
      s->set_node(tr.node);
      s->set_channel(tr.channel);
      s->set_first_sample(tr.first_sample);
      s->set_frames(tr.frames);
      s->set_peak_dbfs(tr.peak_dbfs);
      s->set_rms_dbfs(tr.rms_dbfs);
      s->set_lost_samples(tr.lost_samples);
      s->set_recovered_samples(tr.recovered_samples);
      s->set_missing_reason(tr.missing_reason);
      add_missing(tr, *s);
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.take_name() < b.take_name(); });
  return out;
}

}  // namespace tl::mixer
