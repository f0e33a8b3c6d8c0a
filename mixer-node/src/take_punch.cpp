#include "tl/mixer/take_punch.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "tl/mixer/take_bwf.h"
#include "tl/mixer/take_folder.h"
#include "tl/mixer/track_writer.h"

namespace fs = std::filesystem;

namespace tl::mixer {

std::vector<TakePunch::Pass> find_punch_passes(const TakeAutomation& automation, MediaTime take_start,
                                               MediaTime take_stop, std::int64_t from, std::int64_t to) {
  std::vector<TakePunch::Pass> passes;
  const auto& marks = automation.transport;
  for (std::size_t i = 0; i < marks.size() && passes.size() < kMaxPunchPasses; ++i) {
    const TakeAutomation::TransportMark& m = marks[i];
    if (!m.playing) continue;
    // The mark holds from its position to the next one's (or the take's end).
    const MediaTime ends = i + 1 < marks.size() ? std::min(marks[i + 1].position, take_stop) : take_stop;
    const TimelineLoop& loop = m.loop;
    // A pass at straight timeline position l (where the timeline is `from`); false once
    // the mark no longer holds there.
    const auto pass_at = [&](MediaTime l) {
      const MediaTime at = m.position + (l - m.timeline);  // where the mix played `from`
      if (at >= ends) return false;
      if (at < std::max(m.position, take_start)) return true;  // before the take or the mark
      const std::int64_t frames = std::min({to - from, ends - at, loop.until_wrap(l)});
      const auto number = static_cast<std::uint32_t>(passes.size() + 1);
      passes.push_back({.number = number,
                        .folder = "punch-" + std::to_string(number),
                        .mix_sample = at,
                        .frames = frames,
                        .complete = frames == to - from});
      return passes.size() < kMaxPunchPasses;
    };
    // Straight on to the loop's end (or for good), then once a lap while it loops.
    if (from >= m.timeline && (!loop.on() || from < loop.to) && !pass_at(from)) continue;
    if (!loop.on() || from < loop.from || from >= loop.to) continue;
    for (MediaTime l = loop.to + (from - loop.from); pass_at(l); l += loop.length()) {
    }
  }
  return passes;
}

namespace {

constexpr std::int64_t kPunchChunk = 65536;  // frames read and written at a time

//! Raised-cosine gain of frame i of a fade-in n frames long (its mirror fades out): with
//! the complementary fade of the track under it, the two sum to one.
float fade_in_gain(std::int64_t i, std::int64_t n) {
  const double s = std::sin(0.5 * std::numbers::pi * (static_cast<double>(i) + 0.5) / static_cast<double>(n));
  return static_cast<float>(s * s);
}

//! One pass of one track: file frames [first, first + out.size()) of `track`, faded at
//! both ends and silent after `played` frames of the range (a pass cut short).
Status write_pass_file(const fs::path& track, const fs::path& out_path, std::int64_t first, std::int64_t fade,
                       std::int64_t played, const TrackFileInfo& info, std::int64_t frames) {
  auto reader = TrackReader::open(track.string());
  if (!reader) return Error{reader.error()};
  const fs::path part = out_path.string() + ".part";
  auto writer = TrackWriter::open(part.string(), info, static_cast<std::uint32_t>(kPunchChunk));
  if (!writer) return Error{writer.error()};
  // Heard: the range played plus both handles; a pass cut short ends with its own fade.
  const std::int64_t heard = std::min(frames, fade + played + fade);
  std::vector<float> chunk(kPunchChunk);
  for (std::int64_t at = 0; at < frames; at += kPunchChunk) {
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(kPunchChunk, frames - at));
    const std::span<float> part_of(chunk.data(), n);
    if (const Status s = (*reader)->read(first + at, part_of); !s) {
      (*writer).reset();
      std::error_code ec;
      fs::remove(part, ec);  // no half-written pass left in punch-N/
      return s;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::int64_t f = at + static_cast<std::int64_t>(k);
      if (f >= heard) {
        part_of[k] = 0.0f;
      } else if (f < fade) {
        part_of[k] *= fade_in_gain(f, fade);
      } else if (f >= heard - fade) {
        part_of[k] *= fade_in_gain(heard - 1 - f, fade);
      }
    }
    (*writer)->put(at, part_of);
    (*writer)->flush_until(at + static_cast<std::int64_t>(n));
  }
  (*writer)->finish(frames);
  const std::string refused = (*writer)->write_error();
  (*writer).reset();
  std::error_code ec;
  if (!refused.empty() || track_file_frames(part.string()) != frames || !sync_path(part)) {
    fs::remove(part, ec);
    return Error{refused.empty() ? out_path.string() + " is not whole (disk full or failing?)"
                                 : out_path.string() + ": the disk refused it (" + refused + ")"};
  }
  fs::rename(part, out_path, ec);
  if (ec) return Error{"cannot rename " + part.string() + ": " + ec.message()};
  return Status::success();
}

}  // namespace

Status write_punch_files(const fs::path& take_dir, TakeManifest& m) {
  if (!m.punch) return Status::success();
  TakePunch& punch = *m.punch;
  const std::int64_t fade = punch.fade_samples;
  const std::int64_t frames = punch.to - punch.from + 2 * fade;
  std::string failed;  // every track that could not be cut, the others written
  for (TakePunch::Pass& pass : punch.passes) {
    pass.files.clear();
    std::error_code ec;
    fs::create_directories(take_dir / pass.folder, ec);
    if (ec) return Error{"cannot create " + (take_dir / pass.folder).string() + ": " + ec.message()};
    for (const TakeTrack& t : m.tracks) {
      if (!punch.armed(t.node) || !t.timeline_sample || !m.mix || !m.mix->timeline_sample) continue;
      // File frame k of a node track was played against mix position start + k - offset,
      // offset being its compensation and its conform's move (what its timeline_sample
      // holds back from the mix's).
      const std::int64_t offset = *m.mix->timeline_sample - *t.timeline_sample;
      const std::int64_t first = pass.mix_sample - fade - m.start_sample + offset;
      TrackFileInfo info =
          node_track_info(m.take, t.node, t.channel - 1, m.sample_rate,
                          static_cast<MediaTime>(bwf_time_reference(punch.from - fade, m.sample_rate)));
      info.description += " punch " + std::to_string(pass.number);
      const std::string file = pass.folder + "/" + t.file;
      const Status s =
          write_pass_file(take_dir / t.file, take_dir / file, first, fade, pass.frames, info, frames);
      if (!s) {
        if (!failed.empty()) failed += "; ";
        failed += file + ": " + s.error();
        continue;
      }
      pass.files.push_back(file);
    }
    (void)sync_path(take_dir / pass.folder);
  }
  punch.pending = false;
  if (!failed.empty()) return Error{failed};
  return Status::success();
}

}  // namespace tl::mixer
