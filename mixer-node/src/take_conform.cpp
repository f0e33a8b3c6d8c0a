#include "tl/mixer/take_conform.h"

#include <vector>

namespace fs = std::filesystem;

namespace tl::mixer {

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
