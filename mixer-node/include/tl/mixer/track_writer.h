#pragma once
//! Writes one mono track of a take by timeline position.
//!
//! Audio may arrive out of order: it is held in a window of recent frames and
//! written to disk in order once old enough (flush_until). Frames that never
//! arrived are written as silence and remembered as gaps; audio that arrives for
//! a gap later (a late retransmission, the take-end backfill from the node's
//! spool) is written into the file in place and counted as recovered. A gap
//! counts as lost once audio resumes after it; silence after the node's last
//! audio (it stopped or the take ended) is not a loss. The file is 24-bit
//! RF64 that downgrades to plain BWF WAV while under 4 GiB, with the take's
//! start in the bext time reference; its header is refreshed periodically so
//! the file stays readable after a crash.

#include <sndfile.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"

namespace tl::mixer {

//! The file of a node's input channel (0-based) in a take: "<node>-<channel + 1>.wav".
inline std::string track_file_name(const std::string& node, std::uint32_t channel) {
  return node + "-" + std::to_string(channel + 1) + ".wav";
}

//! How long a take's mix.wav (and a render of it) fades in and out at its cut points.
inline constexpr double kMixEdgeFadeSeconds = 0.002;

struct TrackFileInfo {
  std::uint32_t sample_rate = 48000;
  std::uint32_t channels = 1;    // 1 for tracks, 2 for the mix
  MediaTime time_reference = 0;  // bext: session sample of the take's first frame
  std::string description;       // bext description (truncated to 256 chars)
};

//! How a node's track file of a take describes itself (the recorder's file and the
//! conform's rewrite of it carry the same): mono, the take's start as bext time reference.
inline TrackFileInfo node_track_info(const std::string& take, const std::string& node, std::uint32_t channel,
                                     std::uint32_t sample_rate, MediaTime start) {
  return {.sample_rate = sample_rate,
          .channels = 1,
          .time_reference = start,
          .description = "tracklink " + take + " " + node + "/" + std::to_string(channel + 1)};
}

//! A take's audio file read back whole: samples interleaved, full scale 1.0 (24-bit
//! samples come back exactly).
struct TrackAudio {
  std::uint32_t sample_rate = 0;
  std::uint32_t channels = 0;
  std::vector<float> samples;
  std::int64_t frames() const noexcept {
    return channels == 0 ? 0 : static_cast<std::int64_t>(samples.size() / channels);
  }
};
Result<TrackAudio> read_track_file(const std::string& path);
//! Frames in a take's audio file from its header (-1 when it cannot be read).
std::int64_t track_file_frames(const std::string& path);
//! Rewrites the BWF time reference in the bext chunk of a closed WAV or RF64 file in
//! place (its 8 bytes, nothing else). Errors: no such file, not a WAV, no bext chunk.
Status set_time_reference(const std::string& path, std::uint64_t samples);

//! A take's mono audio file read a stretch at a time (a track longer than memory).
class TrackReader {
 public:
  static Result<std::unique_ptr<TrackReader>> open(const std::string& path);
  ~TrackReader();
  TrackReader(const TrackReader&) = delete;
  TrackReader& operator=(const TrackReader&) = delete;

  std::int64_t frames() const noexcept { return frames_; }
  //! Frames [from, from + out.size()), as read_track_file() gives them; outside the
  //! file, silence.
  Status read(std::int64_t from, std::span<float> out);

 private:
  TrackReader(SNDFILE* file, std::int64_t frames, std::string path)
      : file_(file), frames_(frames), path_(std::move(path)) {}
  SNDFILE* file_;
  std::int64_t frames_;
  std::string path_;
  std::vector<std::int32_t> ints_;
};

class TrackWriter {
 public:
  //! Opens path for writing. window_frames bounds how far out of order audio may arrive.
  static Result<std::unique_ptr<TrackWriter>> open(const std::string& path, const TrackFileInfo& info,
                                                   std::uint32_t window_frames);
  //! Reopens a file a stopped mixer left (the take was not closed) to go on writing
  //! at its end. Its levels are read back; with find_gaps, every run of digital
  //! silence of a packet or more after its first audio counts as a gap (the recorder
  //! did not live to remember which silences were missing audio), so the node's
  //! spool is asked for it: real silence comes back the same.
  static Result<std::unique_ptr<TrackWriter>> resume(const std::string& path, std::uint32_t window_frames,
                                                     bool find_gaps);
  ~TrackWriter();
  TrackWriter(const TrackWriter&) = delete;
  TrackWriter& operator=(const TrackWriter&) = delete;

  //! Fades the file in over its first `frames` frames and out over its last (raised
  //! cosine): a take cut out of a running mix starts and ends without a step (a click,
  //! and a true-peak overshoot in any meter that starts from silence). For the mix,
  //! which is written in order; never for a track (its samples are the node's, exactly).
  //! Before the first frame is written, or on a resumed file (it fades out at finish()).
  void set_edge_fade(std::uint32_t frames);

  //! Every frame written so far holds a stand-in (see put()): one provisional gap
  //! from the first audio to the head, for the node's spool to replace.
  void mark_provisional();

  //! Places frames at take-relative offset (interleaved when channels > 1).
  //! Frames before the flushed head fill the gaps they fall in (patched into the
  //! file) and are otherwise counted late and dropped (already written); frames
  //! beyond the window force a flush first.
  //!
  //! provisional: a stand-in for the exact samples (decoded Opus). It is written
  //! where nothing exact is, so the file plays, but its frames stay a gap (marked
  //! provisional) until exact audio replaces them; it never overwrites exact audio,
  //! and behind the head it is dropped.
  void put(std::int64_t offset, std::span<const float> interleaved, bool provisional = false);

  //! Audio is expected from offset on (the node's timeline began there): frames
  //! missing between it and the first that arrived are a gap, not a late start.
  void expect_from(std::int64_t offset);

  //! The node's audio went on to offset (it was heard there, e.g. past the take's
  //! end): a gap written before it is lost, not the silence after a node stopped.
  void note_audio_until(std::int64_t offset) noexcept { audio_end_ = std::max(audio_end_, offset); }

  //! A stretch of frames without the exact samples: [from, to), take-relative;
  //! written as silence, or (provisional) as a stand-in.
  struct Gap {
    std::int64_t from = 0, to = 0;
    bool provisional = false;
  };
  //! Gaps written so far that audio resumed after (the lost ones), oldest first.
  std::vector<Gap> lost_gaps() const;
  //! The lost gaps a resend could still fill: all but what follows failed_at().
  std::vector<Gap> gaps_to_fetch() const;
  //! Frames of lost gaps that hold a stand-in (decoded Opus), not silence.
  std::uint64_t provisional_frames() const noexcept;

  //! Writes every frame before offset to disk (missing frames as silence).
  void flush_until(std::int64_t offset);

  //! Refreshes the file header so a crash leaves a readable file.
  void update_header();

  //! Flushes to exactly total_frames and closes the file.
  void finish(std::int64_t total_frames);

  std::int64_t head() const noexcept { return head_; }
  std::int64_t first_offset() const noexcept { return first_offset_; }
  //! The frames of lost_gaps().
  std::uint64_t lost_frames() const;
  //! Late frames that found their place already written (duplicates): nothing lost.
  std::uint64_t late_frames() const noexcept { return late_; }
  //! Frames written into gaps after the fact.
  std::uint64_t recovered_frames() const noexcept { return recovered_; }
  std::uint64_t clipped_samples() const noexcept { return clipped_; }
  //! Why the file could not be written (disk full, I/O error), the first time it
  //! happened; empty while every write went through. From failed_at() on nothing more
  //! is written (a later write could land at the wrong place): those frames count as
  //! lost, with a gap of their own. A failed patch leaves its gap as it was.
  const std::string& write_error() const noexcept { return error_; }
  //! The first frame the file does not hold because a write failed (-1: none).
  std::int64_t failed_at() const noexcept { return failed_at_; }
  double peak() const noexcept { return peak_; }
  double rms() const noexcept;

 private:
  TrackWriter(SNDFILE* file, std::string path, std::uint32_t channels, std::uint32_t window_frames);
  void write_run(std::int64_t until);
  //! Converts, meters and writes n frames from ring index first at head_ (none past a failure).
  void store(std::size_t first, std::uint32_t n);
  //! Writes n frames at the file's position (frame at); false, with the error kept and
  //! logged, when they did not all go in.
  bool write_frames(std::int64_t at, const std::int32_t* ints, std::int64_t n);
  //! Writes frames [offset, offset + frames) that lie in gaps into the file.
  void patch(std::int64_t offset, std::span<const float> interleaved);
  //! Converts frames to the file's integers, counting clips and levels.
  void convert(const float* interleaved, std::uint32_t frames, std::int32_t* out);

  SNDFILE* file_;
  std::string path_;
  std::uint32_t channels_;
  std::uint32_t window_;
  std::uint32_t mask_;
  std::unique_ptr<float[]> samples_;         // [window][channels]
  std::unique_ptr<std::uint8_t[]> present_;  // [window]: 0 missing, 1 exact, 2 provisional
  std::unique_ptr<std::int32_t[]> out_;      // conversion buffer
  std::int64_t head_ = 0;                    // frames written to disk
  std::int64_t first_offset_ = -1;           // first frame that ever arrived
  std::uint64_t late_ = 0, clipped_ = 0, recovered_ = 0;
  std::vector<Gap> gaps_;            // written as silence, after the first audio, merged
  std::int64_t audio_end_ = 0;       // just past the last frame of audio written
  std::int64_t expected_from_ = -1;  // the node's timeline start, when known
  double peak_ = 0.0, sum_sq_ = 0.0;
  std::uint64_t counted_ = 0;
  bool closed_ = false;
  std::string error_;            // the first write that failed, why
  std::int64_t failed_at_ = -1;  // frames from here on are not in the file
  std::uint32_t fade_ = 0;       // edge fade, frames (0: none)
  std::vector<float> tail_;      // the last fade_ frames written, faded in where they were
  //! The fade's gain at frame i of its length (0 <= i < fade_): rising, raised cosine.
  float fade_gain(std::int64_t i) const noexcept;
};

}  // namespace tl::mixer
