#include "tl/mixer/take_automation.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tl/common/files.h"
#include "tl/mixer/json_fields.h"
#include "tl/mixer/take_folder.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace tl::mixer {
namespace {
constexpr const char* kAbout =
    "The mix as the take began ('initial', a scene), then each change from the mix.wav frame it first "
    "applies to ('offset'; 'position' in session samples): the whole state of its target after the change. "
    "Gains, pans and filter settings glide over 20 ms from there, as live. 'transport': the transport in "
    "force as the take began, then each play, locate and stop: from 'position' on, the timeline "
    "(0: the song's start) runs on from 'timeline' while playing (a 'loop' takes it from its 'to' back to "
    "its 'from', lap after lap). 'backing': the backing tracks that played.";
}  // namespace

Status TakeAutomation::write(const fs::path& take_dir) const {
  json doc;
  doc["take"] = take;
  doc["sample_rate"] = sample_rate;
  doc["start_sample"] = start_sample;
  doc["about"] = kAbout;
  doc["mix"] = {{"block_frames", mix.block_frames},
                {"block_origin", mix.block_origin},
                {"lookahead_frames", mix.lookahead_frames}};
  json scene = json::parse(initial, nullptr, false);
  doc["initial"] = scene.is_discarded() ? json() : std::move(scene);
  json list = json::array();
  for (const Change& c : changes) {
    json state = json::parse(c.state, nullptr, false);
    if (state.is_discarded()) continue;
    const auto target = state.is_object() && state.contains("target") && state["target"].is_string()
                            ? state["target"].get<std::string>()
                            : std::string();
    list.push_back({{"position", c.position},
                    {"offset", std::max<MediaTime>(c.position - start_sample, 0)},
                    {"target", target},
                    {"state", std::move(state)}});
  }
  doc["changes"] = std::move(list);
  json marks = json::array();
  for (const TransportMark& m : transport) {
    json mark = {{"position", m.position},
                 {"offset", m.position - start_sample},
                 {"playing", m.playing},
                 {"timeline", m.timeline}};
    if (m.loop.on()) mark["loop"] = {{"from", m.loop.from}, {"to", m.loop.to}};
    marks.push_back(std::move(mark));
  }
  doc["transport"] = std::move(marks);
  json tracks = json::array();
  for (const Backing& b : backing) {
    tracks.push_back({{"name", b.name},
                      {"path", b.path},
                      {"node_id", b.node_id},
                      {"channels", b.channels},
                      {"at", b.at},
                      {"frames", b.frames}});
  }
  doc["backing"] = std::move(tracks);
  doc["backing_changed"] = backing_changed;
  // Whole or not at all: a mixer killed mid-write leaves the last whole journal.
  return replace_file(take_dir / "automation.json", take_dir / "automation.json.tmp", doc.dump(1) + "\n");
}

Result<TakeAutomation> TakeAutomation::read(const fs::path& take_dir) {
  const fs::path path = take_dir / "automation.json";
  std::ifstream in(path);
  if (!in) {
    return Error{"no automation.json in " + take_dir.string() +
                 " (a take writes it as it starts and after each change)"};
  }
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{path.string() + " is not valid JSON"};
  TakeAutomation a;
  std::string error;
  JsonFields f(j, "", error);
  f.get("take", a.take);
  f.get("sample_rate", a.sample_rate);
  f.get("start_sample", a.start_sample);
  JsonFields mix = f.object("mix");
  mix.get("block_frames", a.mix.block_frames);
  mix.get("block_origin", a.mix.block_origin);
  mix.get("lookahead_frames", a.mix.lookahead_frames);
  f.get_json("initial", a.initial);
  f.each("changes", [&](JsonFields& c) {
    Change change;
    c.get("position", change.position);
    if (!c.has("state")) c.reject("state", "is missing");
    c.get_json("state", change.state);
    a.changes.push_back(std::move(change));
  });
  f.each("transport", [&](JsonFields& m) {
    TransportMark mark;
    m.get("position", mark.position);
    m.get("playing", mark.playing);
    m.get("timeline", mark.timeline);
    if (m.has("loop")) {
      JsonFields loop = m.object("loop");
      loop.get("from", mark.loop.from);
      loop.get("to", mark.loop.to);
      if (!mark.loop.on() || mark.loop.from < 0)
        m.reject("loop", "is not a range of the timeline (from < to)");
    }
    a.transport.push_back(mark);
  });
  f.each("backing", [&](JsonFields& b) {
    Backing track;
    b.get("name", track.name);
    b.get("path", track.path);
    b.get("node_id", track.node_id);
    b.get("channels", track.channels);
    b.get("at", track.at);
    b.get("frames", track.frames);
    if (track.name.empty() || track.path.empty()) b.reject("name", "and path must be given");
    a.backing.push_back(std::move(track));
  });
  f.get("backing_changed", a.backing_changed);
  if (!error.empty()) return Error{path.string() + ": " + error};
  return a;
}

std::optional<MediaTime> TakeAutomation::placement(MediaTime first) const {
  if (auto t = timeline_at(first)) return t;
  for (const TransportMark& m : transport) {
    if (m.position > first && m.playing) return m.timeline - (m.position - first);
  }
  return std::nullopt;
}

std::optional<MediaTime> TakeAutomation::timeline_at(MediaTime p) const {
  const TransportMark* in_force = nullptr;
  for (const TransportMark& m : transport) {
    if (m.position > p) break;
    in_force = &m;
  }
  if (in_force == nullptr || !in_force->playing) return std::nullopt;
  return in_force->loop.at(in_force->timeline + (p - in_force->position));
}

}  // namespace tl::mixer
