#include "tl/mixer/take_manifest.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tl/common/files.h"
#include "tl/mixer/json_fields.h"
#include "tl/mixer/take_folder.h"
#include "tl/protocol/names.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tl::mixer {
namespace {

json ranges_json(const std::vector<TakeRange>& ranges) {
  json out = json::array();
  for (const TakeRange& r : ranges) out.push_back({{"from", r.from}, {"frames", r.frames}});
  return out;
}

json track_json(const TakeTrack& t, bool is_mix) {
  json j = {{"file", t.file},
            {"node", t.node},
            {"channel", t.channel},
            {"first_sample", t.first_sample},
            {"frames", t.frames},
            {"peak_dbfs", t.peak_dbfs},
            {"rms_dbfs", t.rms_dbfs},
            {"lost_samples", t.lost_samples},
            {"concealed_samples", t.concealed_samples},
            {"clipped_samples", t.clipped_samples}};
  if (!is_mix) {
    j["recovered_samples"] = t.recovered_samples;
    j["missing"] = ranges_json(t.missing);
    if (!t.missing_reason.empty()) j["missing_reason"] = t.missing_reason;
    j["complete"] = t.complete;
  } else if (!t.missing_reason.empty()) {  // mix.wav the disk refused
    j["missing"] = ranges_json(t.missing);
    j["missing_reason"] = t.missing_reason;
    j["complete"] = false;
  }
  if (t.live_concealed) {
    j["live_concealed"] = ranges_json(t.live_concealed->runs);
    if (!t.live_concealed->exact) j["live_concealed_exact"] = false;
    if (!t.live_concealed->complete) j["live_concealed_complete"] = false;
  }
  if (t.timeline_sample) j["timeline_sample"] = *t.timeline_sample;
  if (t.compensation_samples) j["compensation_samples"] = *t.compensation_samples;
  if (t.compensation_changed) j["compensation_changed"] = true;
  if (t.raw_timeline_sample) j["raw_timeline_sample"] = *t.raw_timeline_sample;
  if (t.node_id != 0) j["node_id"] = t.node_id;
  if (!t.live_codec.empty()) j["live_codec"] = t.live_codec;
  if (t.conform) {
    const TakeTrack::Conform& c = *t.conform;
    if (!c.raw_file.empty()) j["raw_file"] = c.raw_file;
    if (!c.raw_edge.empty()) j["raw_edge"] = c.raw_edge;
    j["drift_ppm"] = c.drift_ppm;
    j["measured_drift_ppm"] = c.measured_drift_ppm;
    if (c.reported_drift_ppm) j["reported_drift_ppm"] = *c.reported_drift_ppm;
    j["drift_samples"] = c.drift_samples;
    j["conform"] = c.resampled ? "resampled" : "copy";
    j["moved_samples"] = c.moved_samples;
    if (c.raw_first_sample >= 0) j["raw_first_sample"] = c.raw_first_sample;
    j["raw_linked"] = c.linked;
    j["clock_offset_ms"] = c.clock_offset_ms;
    if (c.pending) {
      j["conform_pending"] = true;
      json map = json::array();
      for (const dsp::ConformAnchor& a : c.map) map.push_back({a.node_index, a.session_pos});
      j["conform_map"] = std::move(map);
    }
  }
  if (is_mix) j["concealed"] = ranges_json(t.concealed);
  return j;
}

json punch_json(const TakePunch& p) {
  json j = {{"from", p.from}, {"to", p.to}, {"fade_samples", p.fade_samples}, {"nodes", p.nodes}};
  if (p.pending) j["pending"] = true;
  if (p.from_loop) j["from_loop"] = true;
  if (!p.error.empty()) j["error"] = p.error;
  j["passes"] = json::array();
  for (const TakePunch::Pass& pass : p.passes) {
    j["passes"].push_back({{"pass", pass.number},
                           {"folder", pass.folder},
                           {"mix_sample", pass.mix_sample},
                           {"frames", pass.frames},
                           {"complete", pass.complete},
                           {"timeline_sample", p.from - p.fade_samples},
                           {"files", pass.files}});
  }
  return j;
}

TakePunch read_punch(JsonFields& f) {
  TakePunch p;
  f.get("from", p.from);
  f.get("to", p.to);
  f.get("fade_samples", p.fade_samples);
  f.get("nodes", p.nodes);
  f.get("pending", p.pending);
  f.get("from_loop", p.from_loop);
  f.get("error", p.error);
  if (p.to <= p.from) f.reject("to", "is not after from");
  f.each("passes", [&](JsonFields& pf) {
    TakePunch::Pass pass;
    pf.get("pass", pass.number);
    pf.get("folder", pass.folder);
    pf.get("mix_sample", pass.mix_sample);
    pf.get("frames", pass.frames);
    pf.get("complete", pass.complete);
    pf.get("files", pass.files);
    // A folder name from the file is joined to the take's path: one plain name only.
    if (!protocol::valid_file_name(pass.folder)) pf.reject("folder", "is not a plain folder name");
    p.passes.push_back(std::move(pass));
  });
  return p;
}

json manifest_json(const TakeManifest& m) {
  json j;
  j["format"] = TakeManifest::kFormat;
  j["take"] = m.take;
  j["state"] = m.state;
  j["sample_rate"] = m.sample_rate;
  j["start_sample"] = m.start_sample;
  j["latency_frames"] = m.latency_frames;
  if (m.recovered_after_mixer_stop) j["recovered_after_mixer_stop"] = true;
  if (m.session_epoch_ns != 0) j["session_epoch_ns"] = m.session_epoch_ns;
  if (!m.mixer_down.empty()) j["mixer_down"] = ranges_json(m.mixer_down);
  if (m.punch) j["punch"] = punch_json(*m.punch);
  if (m.bwf_song_start != 0) j["bwf_song_start"] = m.bwf_song_start;
  j["tracks"] = json::array();
  if (m.closed()) {
    j["frames"] = m.frames;
    j["seconds"] = m.seconds;
    for (const TakeTrack& t : m.tracks) j["tracks"].push_back(track_json(t, false));
    if (m.mix) j["mix"] = track_json(*m.mix, true);
    j["complete"] = m.complete;
  }
  return j;
}

void read_ranges(JsonFields& f, const char* key, std::vector<TakeRange>& out) {
  f.each(key, [&](JsonFields& r) {
    TakeRange range;
    r.get("from", range.from);
    r.get("frames", range.frames);
    out.push_back(range);
  });
}

TakeTrack read_track(JsonFields& f) {
  TakeTrack t;
  f.get("file", t.file);
  f.get("node", t.node);
  f.get("channel", t.channel);
  f.get("first_sample", t.first_sample);
  f.get("frames", t.frames);
  f.get("peak_dbfs", t.peak_dbfs);
  f.get("rms_dbfs", t.rms_dbfs);
  f.get("lost_samples", t.lost_samples);
  f.get("concealed_samples", t.concealed_samples);
  f.get("clipped_samples", t.clipped_samples);
  f.get("recovered_samples", t.recovered_samples);
  read_ranges(f, "missing", t.missing);
  f.get("missing_reason", t.missing_reason);
  f.get("complete", t.complete);
  f.get("timeline_sample", t.timeline_sample);
  f.get("compensation_samples", t.compensation_samples);
  f.get("compensation_changed", t.compensation_changed);
  f.get("raw_timeline_sample", t.raw_timeline_sample);
  if (f.has("live_concealed")) {
    TakeTrack::LiveConcealed lc;
    read_ranges(f, "live_concealed", lc.runs);
    f.get("live_concealed_exact", lc.exact);
    f.get("live_concealed_complete", lc.complete);
    t.live_concealed = std::move(lc);
  }
  f.get("node_id", t.node_id);
  f.get("live_codec", t.live_codec);
  if (f.has("raw_file") || f.has("conform")) {
    TakeTrack::Conform c;
    f.get("raw_file", c.raw_file);
    f.get_samples("raw_edge", c.raw_edge);
    f.get("drift_ppm", c.drift_ppm);
    f.get("measured_drift_ppm", c.measured_drift_ppm);
    if (f.has("reported_drift_ppm")) f.get("reported_drift_ppm", c.reported_drift_ppm.emplace());
    f.get("drift_samples", c.drift_samples);
    std::string how = "copy";
    f.get("conform", how);
    if (how != "copy" && how != "resampled") f.reject("conform", "is not \"copy\" or \"resampled\"");
    c.resampled = how == "resampled";
    f.get("moved_samples", c.moved_samples);
    f.get("raw_first_sample", c.raw_first_sample);
    f.get("raw_linked", c.linked);
    f.get("clock_offset_ms", c.clock_offset_ms);
    f.get("conform_pending", c.pending);
    f.each_pair("conform_map", [&](double node_index, double session_pos) {
      c.map.push_back({.node_index = node_index, .session_pos = session_pos});
    });
    if (c.pending && c.map.empty()) f.reject("conform_map", "is missing for a pending conform");
    if (c.raw_file.empty() && (c.raw_edge.empty() || c.resampled)) {
      f.reject("raw_file", "is missing (only a whole-sample move, with its raw_edge, keeps one file)");
    }
    t.conform = std::move(c);
  }
  read_ranges(f, "concealed", t.concealed);
  return t;
}

}  // namespace

std::size_t TakeManifest::tracks_conforming() const {
  return static_cast<std::size_t>(std::count_if(
      tracks.begin(), tracks.end(), [](const TakeTrack& t) { return t.conform && t.conform->pending; }));
}

Result<TakeManifest> TakeManifest::read(const fs::path& take_dir) {
  const fs::path path = take_dir / "take.json";
  std::ifstream in(path);
  if (!in) return Error{"no take.json in " + take_dir.string() + " (not a take folder?)"};
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{path.string() + " is not valid JSON"};
  TakeManifest m;
  std::string error;
  JsonFields f(j, "", error);
  std::string format = kFormat;
  f.get("format", format);
  if (format != kFormat) f.reject("format", std::string("is not ") + kFormat);
  f.get("take", m.take);
  f.get("state", m.state);
  f.get("sample_rate", m.sample_rate);
  f.get("start_sample", m.start_sample);
  f.get("latency_frames", m.latency_frames);
  f.get("recovered_after_mixer_stop", m.recovered_after_mixer_stop);
  f.get("session_epoch_ns", m.session_epoch_ns);
  read_ranges(f, "mixer_down", m.mixer_down);
  f.get("frames", m.frames);
  f.get("seconds", m.seconds);
  f.get("complete", m.complete);
  // Takes written before "incomplete" existed said "complete" beside "complete": false.
  if (m.state == kComplete && !m.complete && f.has("complete")) m.state = kIncomplete;
  f.each("tracks", [&](JsonFields& t) { m.tracks.push_back(read_track(t)); });
  if (f.has("mix")) {
    JsonFields mix = f.object("mix");
    m.mix = read_track(mix);
  }
  f.get("bwf_song_start", m.bwf_song_start);
  if (f.has("punch")) {
    JsonFields punch = f.object("punch");
    m.punch = read_punch(punch);
  }
  if (!error.empty()) return Error{path.string() + ": " + error};
  return m;
}

Status TakeManifest::write(const fs::path& take_dir) const {
  return replace_file(take_dir / "take.json", take_dir / "take.json.tmp",
                      manifest_json(*this).dump(2) + '\n');
}

}  // namespace tl::mixer
