#include "tl/mixer/take_conform.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "tl/mixer/take_folder.h"

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

Result<ConformOutcome> start_track_conform(const fs::path& take_dir, const std::string& file,
                                           std::span<const dsp::ConformAnchor> anchors, std::int64_t frames) {
  std::error_code ec;
  fs::create_directories(take_dir / "raw", ec);
  const fs::path raw_path = take_dir / "raw" / file;
  fs::rename(take_dir / file, raw_path, ec);
  if (ec) return Error{"cannot move " + file + " to raw/: " + ec.message()};

  const dsp::ConformResult plan = dsp::plan_conform(anchors, 0, static_cast<std::size_t>(frames));
  ConformOutcome outcome{.resampled = !plan.copied, .drift_samples = plan.drift_samples, .shift = plan.shift};
  // A copy that moves nothing would write the raw file again, byte for byte (same header,
  // same samples): the track is then raw/'s file itself, a second name for it. A long
  // take's stop does not copy gigabytes, and the disk holds each track once.
  if (plan.copied && plan.shift == 0.0 && track_file_frames(raw_path.string()) == frames) {
    fs::create_hard_link(raw_path, take_dir / file, ec);
    if (!ec) {
      outcome.linked = true;
      return outcome;
    }
    spdlog::warn("cannot link {} to raw/ ({}): writing it again", file, ec.message());
  }
  outcome.pending = true;
  return outcome;
}

Result<bool> write_conformed_track(const fs::path& take_dir, const std::string& file,
                                   std::span<const dsp::ConformAnchor> anchors, std::int64_t frames,
                                   const TrackFileInfo& info, const std::atomic<bool>* stop) {
  auto raw = TrackReader::open((take_dir / "raw" / file).string());
  if (!raw) return Error{raw.error()};
  const fs::path part = take_dir / (file + ".part");
  // Room for the new file (24-bit mono) and a margin: a full disk must not cut it short.
  std::error_code space_ec;
  const auto space = fs::space(take_dir, space_ec);
  const auto needs = static_cast<std::uintmax_t>(frames) * 3u + (64u << 20);
  if (!space_ec && space.available < needs) {
    return Error{"not enough disk to write it (" + std::to_string(needs >> 20) + " MiB needed, " +
                 std::to_string(space.available >> 20) + " MiB free)"};
  }
  const dsp::ConformResult plan = dsp::plan_conform(anchors, 0, static_cast<std::size_t>(frames));
  auto writer = TrackWriter::open(part.string(), info, kConformStretch);
  if (!writer) return Error{writer.error()};
  const auto discard = [&] {
    (*writer).reset();
    std::error_code ec;
    fs::remove(part, ec);
  };
  std::vector<float> window, out(kConformStretch);
  for (std::int64_t at = 0; at < frames; at += kConformStretch) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      discard();
      return false;
    }
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(kConformStretch, frames - at));
    const dsp::RawRange need = dsp::raw_needed(anchors, plan, at, n);
    window.resize(static_cast<std::size_t>(need.last - need.first));
    if (const Status s = (*raw)->read(need.first, window); !s) {
      discard();
      return Error{s.error()};
    }
    const std::span<float> stretch(out.data(), n);
    dsp::conform_into(window, need.first, anchors, plan, at, stretch);
    (*writer)->put(at, stretch);
    (*writer)->flush_until(at + static_cast<std::int64_t>(n));
  }
  (*writer)->finish(frames);
  const std::string refused = (*writer)->write_error();
  (*writer).reset();
  // Whole, and on the disk, before it takes the track's name (and raw/ may go).
  if (!refused.empty() || track_file_frames(part.string()) != frames || !sync_path(part)) {
    std::error_code ec;
    fs::remove(part, ec);
    return Error{refused.empty() ? "the written file is not whole (disk full or failing?)"
                                 : "the disk refused it (" + refused + ")"};
  }
  std::error_code ec;
  fs::rename(part, take_dir / file, ec);
  if (ec) return Error{"cannot rename " + part.string() + ": " + ec.message()};
  (void)sync_path(take_dir);
  return true;
}

void conform_take(Take& take, std::int64_t length, NodeRegistry& registry, std::uint32_t sample_rate) {
  for (std::uint16_t id = 1; id <= kMaxNodes; ++id) {
    auto& tracks = take.tracks[id];
    if (tracks.empty()) continue;
    const NodeSlot* slot = registry.by_id(id);
    std::vector<dsp::ConformAnchor> anchors;
    double drift = 0.0, measured = 0.0, covered = 0.0;
    // The node's report overrules the arrivals where they disagree (the one-way path can
    // slow under load; two-way sync cannot), but only a report fitted over 30 s of
    // exchanges: one over a few seconds is a few ppm of noise (a node on the mixer's own
    // clock reported -8.2 ppm 5 s in, and its track was resampled). An older node that
    // does not say how many is believed as before.
    constexpr std::uint64_t kSettledExchanges = 300;
    const std::uint64_t exchanges = slot->reported_drift_exchanges.load(std::memory_order_relaxed);
    const double reported = exchanges != 0 && exchanges < kSettledExchanges
                                ? std::numeric_limits<double>::quiet_NaN()
                                : slot->reported_drift_ppm.load(std::memory_order_relaxed);
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
      auto outcome = start_track_conform(take.dir, file, anchors, length);
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
          .clock_offset_ms = slot->report.offset_ms(),
          .pending = outcome->pending,
          .map = outcome->pending ? anchors : std::vector<dsp::ConformAnchor>{}};
      if (outcome->resampled) {
        spdlog::info("take '{}': {} to be conformed from raw/ ({:.1f} samples of drift, {:+.1f} ppm)",
                     take.name, file, outcome->drift_samples, done.drift_ppm);
      }
    }
  }
}

}  // namespace tl::mixer
