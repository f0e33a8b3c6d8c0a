#pragma once
//! Writes one mono track of a take by timeline position.
//!
//! Audio may arrive out of order: it is held in a window of recent frames and
//! written to disk in order once old enough (flush_until). Frames that never
//! arrived are written as silence and counted as lost. The file is 24-bit
//! RF64 that downgrades to plain BWF WAV while under 4 GiB, with the take's
//! start in the bext time reference; its header is refreshed periodically so
//! the file stays readable after a crash.

#include <sndfile.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tl/common/result.h"
#include "tl/common/units.h"

namespace tl::mixer {

struct TrackFileInfo {
  std::uint32_t sample_rate = 48000;
  std::uint32_t channels = 1;          // 1 for tracks, 2 for the mix
  MediaTime time_reference = 0;        // bext: session sample of the take's first frame
  std::string description;             // bext description (truncated to 256 chars)
};

class TrackWriter {
 public:
  //! Opens path for writing. window_frames bounds how far out of order audio may arrive.
  static Result<std::unique_ptr<TrackWriter>> open(const std::string& path, const TrackFileInfo& info,
                                                   std::uint32_t window_frames);
  ~TrackWriter();
  TrackWriter(const TrackWriter&) = delete;
  TrackWriter& operator=(const TrackWriter&) = delete;

  //! Places frames at take-relative offset (interleaved when channels > 1).
  //! Frames before the flushed head are counted late and dropped; frames beyond
  //! the window force a flush first.
  void put(std::int64_t offset, std::span<const float> interleaved);

  //! Writes every frame before offset to disk (missing frames as silence).
  void flush_until(std::int64_t offset);

  //! Refreshes the file header so a crash leaves a readable file.
  void update_header();

  //! Flushes to exactly total_frames and closes the file.
  void finish(std::int64_t total_frames);

  std::int64_t head() const noexcept { return head_; }
  std::int64_t first_offset() const noexcept { return first_offset_; }
  std::uint64_t lost_frames() const noexcept { return lost_; }
  std::uint64_t late_frames() const noexcept { return late_; }
  std::uint64_t clipped_samples() const noexcept { return clipped_; }
  double peak() const noexcept { return peak_; }
  double rms() const noexcept;

 private:
  TrackWriter(SNDFILE* file, std::uint32_t channels, std::uint32_t window_frames);
  void write_run(std::int64_t until);

  SNDFILE* file_;
  std::uint32_t channels_;
  std::uint32_t window_;
  std::uint32_t mask_;
  std::unique_ptr<float[]> samples_;         // [window][channels]
  std::unique_ptr<std::uint8_t[]> present_;  // [window]
  std::unique_ptr<std::int32_t[]> out_;      // conversion buffer
  std::int64_t head_ = 0;                    // frames written to disk
  std::int64_t first_offset_ = -1;           // first frame that ever arrived
  std::uint64_t lost_ = 0, late_ = 0, clipped_ = 0;
  std::uint64_t pending_gap_ = 0;           // missing frames not yet followed by audio
  double peak_ = 0.0, sum_sq_ = 0.0;
  std::uint64_t counted_ = 0;
  bool closed_ = false;
};

}  // namespace tl::mixer
