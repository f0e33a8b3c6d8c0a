#include "tl/mixer/take_bwf.h"

#include <string>

#include "tl/mixer/track_writer.h"

namespace tl::mixer {

Status stamp_timeline(const std::filesystem::path& take_dir, const TakeManifest& m) {
  std::string failed;
  const auto stamp = [&](const std::string& file, std::int64_t timeline) {
    const Status s =
        set_time_reference((take_dir / file).string(), bwf_time_reference(timeline, m.sample_rate));
    if (s) return;
    if (!failed.empty()) failed += "; ";
    failed += s.error();
  };
  if (m.mix && m.mix->timeline_sample) stamp(m.mix->file, *m.mix->timeline_sample);
  for (const TakeTrack& t : m.tracks) {
    if (t.timeline_sample) stamp(t.file, *t.timeline_sample);
    // raw/ on its own (not one file with the track): where its stamps put it.
    if (t.conform && !t.conform->raw_file.empty() && !t.conform->linked && t.raw_timeline_sample)
      stamp(t.conform->raw_file, *t.raw_timeline_sample);
  }
  if (!failed.empty()) return Error{failed};
  return Status::success();
}

}  // namespace tl::mixer
