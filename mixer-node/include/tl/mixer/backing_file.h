#pragma once
//! A backing track's file, read at the session's rate from any frame: the one reader
//! that the live disk reader (BackingTracks) and a take's render (tl-render) share, so
//! both get the very same samples for the same sequence of reads.
//!
//! A file at the session's rate is read as it is. A file at another rate (mono or
//! stereo) goes through libsoxr (tl::mastering::Resampler). A read that goes on from the
//! last one continues the converter; any other read, or the first after restart(),
//! starts it again kWarmUp frames early on a session-rate frame that lies on a whole
//! input frame (where the two rates' sample grids meet) and drops the output before the
//! frame asked for: the converter's filter has filled by then, so a locate plays what
//! playing through would. Not for a real-time thread: it reads the disk and allocates.

#include <sndfile.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/mastering/resample.h"

namespace tl::mixer {

class BackingFile {
 public:
  //! Frames read before a restarted converter's output is used.
  static constexpr MediaTime kWarmUp = 2048;

  //! name: for the log lines of read errors; rate: the session's.
  BackingFile(std::string name, std::uint32_t rate) : name_(std::move(name)), rate_(rate) {}
  ~BackingFile() { close(); }
  BackingFile(const BackingFile&) = delete;
  BackingFile& operator=(const BackingFile&) = delete;

  //! Opens path; an error names it and libsndfile's reason. A file at another rate than
  //! the session's must be mono or stereo.
  Status open(const std::filesystem::path& path);
  void close() noexcept;
  bool is_open() const noexcept { return file_ != nullptr; }
  std::uint32_t channels() const noexcept { return channels_; }
  std::uint32_t file_rate() const noexcept { return file_rate_; }
  //! Its length at the session's rate.
  MediaTime frames() const noexcept { return frames_; }

  //! The next read starts the converter again (a new play or locate), as any read that
  //! does not go on from the last one does.
  void restart() noexcept { pending_from_ = -1; }
  //! Up to `frames` frames from session-rate file frame `file_frame` (>= 0) into out,
  //! interleaved; how many it read (fewer at the file's end, 0 when it cannot be read).
  std::uint32_t read(MediaTime file_frame, float* out, std::uint32_t frames);

 private:
  std::string name_;
  std::uint32_t rate_;
  SNDFILE* file_ = nullptr;
  std::uint32_t channels_ = 0;
  std::uint32_t file_rate_ = 0;
  MediaTime frames_ = 0;
  std::int64_t file_at_ = -1;       // file frame (its own rate) the next read returns
  mastering::Resampler resampler_;  // a file at another rate
  std::vector<float> pending_;      // resampled frames not yet read (interleaved)
  MediaTime pending_from_ = -1;     // session-rate file frame of pending_'s first
  bool finished_ = false;           // the converter has had the whole file
  std::vector<float> in_;
};

}  // namespace tl::mixer
