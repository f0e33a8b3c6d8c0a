#include "tl/mixer/take_conform.h"

#include <algorithm>
#include <cmath>
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

}  // namespace tl::mixer
