#include "tl/mixer/take_conform.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

namespace fs = std::filesystem;

namespace tl::mixer {
void place_by_node_anchors(std::vector<dsp::ConformAnchor>& map,
                           const std::vector<std::pair<MediaTime, double>>& reported, MediaTime origin,
                           std::uint32_t sample_rate) {
  for (std::size_t i = 0; i + 1 < map.size(); i += 2) {
    dsp::ConformAnchor& a = map[i];
    dsp::ConformAnchor& b = map[i + 1];
    std::vector<double> shifts;
    for (const auto& [ts, pos] : reported) {
      const double index = static_cast<double>(ts - origin);
      if (index < a.node_index || index >= b.node_index) continue;
      const double mapped = a.session_pos + (index - a.node_index) * (b.session_pos - a.session_pos) /
                                                (b.node_index - a.node_index);
      shifts.push_back(pos - static_cast<double>(origin) - mapped);
    }
    if (shifts.size() < 3) continue;
    std::nth_element(shifts.begin(), shifts.begin() + static_cast<std::ptrdiff_t>(shifts.size() / 2),
                     shifts.end());
    const double shift = shifts[shifts.size() / 2];
    if (std::fabs(shift) > 0.5 * sample_rate) continue;
    a.session_pos += shift;
    b.session_pos += shift;
  }
}

Result<ConformOutcome> conform_track_file(const fs::path& take_dir, const std::string& file,
                                          std::span<const dsp::ConformAnchor> anchors, std::int64_t frames,
                                          const TrackFileInfo& info) {
  std::error_code ec;
  fs::create_directories(take_dir / "raw", ec);
  const fs::path raw_path = take_dir / "raw" / file;
  fs::rename(take_dir / file, raw_path, ec);
  if (ec) return Error{"cannot move " + file + " to raw/: " + ec.message()};

  // A copy that moves nothing would write the raw file again, byte for byte (same header,
  // same samples): the track is then raw/'s file itself, a second name for it. A long
  // take's stop does not copy gigabytes, and the disk holds each track once.
  const dsp::ConformResult plan = dsp::plan_conform(anchors, 0, static_cast<std::size_t>(frames));
  if (plan.copied && plan.shift == 0.0 && track_file_frames(raw_path.string()) == frames) {
    fs::create_hard_link(raw_path, take_dir / file, ec);
    if (!ec) return ConformOutcome{.drift_samples = plan.drift_samples, .linked = true};
    spdlog::warn("cannot link {} to raw/ ({}): writing it again", file, ec.message());
  }

  auto raw = read_track_file(raw_path.string());
  if (!raw) return Error{raw.error()};

  const dsp::ConformResult r = dsp::conform(raw->samples, anchors, 0, static_cast<std::size_t>(frames));
  auto writer = TrackWriter::open((take_dir / file).string(), info, 4096);
  if (!writer) return Error{writer.error()};
  for (std::size_t at = 0; at < r.samples.size(); at += 4096) {
    const std::size_t n = std::min<std::size_t>(4096, r.samples.size() - at);
    (*writer)->put(static_cast<std::int64_t>(at), std::span<const float>(r.samples.data() + at, n));
    (*writer)->flush_until(static_cast<std::int64_t>(at + n));
  }
  (*writer)->finish(frames);
  return ConformOutcome{.resampled = !r.copied, .drift_samples = r.drift_samples, .shift = r.shift};
}

void conform_take(Take& take, std::int64_t length, NodeRegistry& registry, std::uint32_t sample_rate) {
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    const NodeSlot* slot = registry.by_id(id);
    std::vector<dsp::ConformAnchor> anchors;
    double drift = 0.0, measured = 0.0, covered = 0.0;
    const double reported = slot->reported_drift_ppm.load(std::memory_order_relaxed);
    if (take.drift[id]) {
      for (const auto& s : take.drift[id]->stretches(reported)) {
        drift += s.drift * static_cast<double>(s.end - s.first);
        measured += s.measured * static_cast<double>(s.end - s.first);
        covered += static_cast<double>(s.end - s.first);
        if (s.drift != s.measured) {
          spdlog::info(
              "take '{}': {}'s arrivals showed {:+.1f} ppm, its own report {:+.1f} ppm: "
              "conformed at {:+.1f} ppm",
              take.name, slot->name, -1e6 * s.measured, reported, -1e6 * s.drift);
        }
      }
      anchors = take.drift[id]->anchors(take.start, reported);
      place_by_node_anchors(anchors, take.node_anchors[id], take.start, sample_rate);
    }
    if (anchors.empty()) anchors.push_back({.node_index = 0.0, .session_pos = 0.0});
    for (std::uint32_t c = 0; c < tracks.size(); ++c) {
      if (!tracks[c]) continue;
      const std::string file = track_file_name(slot->name, c);
      TrackFileInfo info{
          .sample_rate = sample_rate,
          .channels = 1,
          .time_reference = take.start,
          .description = "tracklink " + take.name + " " + slot->name + "/" + std::to_string(c + 1)};
      auto outcome = conform_track_file(take.dir, file, anchors, length, info);
      if (!outcome) {
        spdlog::error("take '{}': conform of {} failed: {}; the raw track is kept", take.name, file,
                      outcome.error());
        continue;
      }
      const TakeTrack::Conform& done = take.conformed[file] = TakeTrack::Conform{
          .raw_file = "raw/" + file,
          .drift_ppm = covered > 0.0 ? 1e6 * drift / covered : 0.0,
          .measured_drift_ppm = covered > 0.0 ? 1e6 * measured / covered : 0.0,
          .reported_drift_ppm = std::isfinite(reported) ? std::optional(reported) : std::nullopt,
          .drift_samples = outcome->drift_samples,
          .resampled = outcome->resampled,
          .moved_samples = outcome->shift,
          .linked = outcome->linked,
          .clock_offset_ms = slot->report.offset_ms()};
      if (outcome->resampled) {
        spdlog::info("take '{}': {} conformed from raw/ ({:.1f} samples of drift, {:+.1f} ppm)", take.name,
                     file, outcome->drift_samples, done.drift_ppm);
      }
    }
  }
}

}  // namespace tl::mixer
