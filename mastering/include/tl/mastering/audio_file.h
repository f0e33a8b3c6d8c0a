#pragma once
//! Streamed audio files for mastering: WAV, FLAC or AIFF of any common rate and depth in,
//! the same family out, read and written a block at a time (memory does not grow with
//! a file's length). Through libsndfile.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tl/common/result.h"

namespace tl::mastering {

//! Frames a pass over a file reads (and writes) at once.
inline constexpr std::size_t kFileBlock = 4096;

struct AudioInfo {
  std::string path;
  std::uint32_t rate = 0;
  std::uint32_t channels = 0;
  std::int64_t frames = 0;
  int format = 0;  //!< libsndfile SF_FORMAT_* (container | subtype)
};

//! The subtype's name for a report ("PCM 24-bit", "float"...).
std::string subtype_name(int format);

class AudioReader {
 public:
  //! Opens path; the error names the file and why (missing, not audio, truncated...).
  static Result<std::unique_ptr<AudioReader>> open(const std::string& path);
  ~AudioReader();
  AudioReader(const AudioReader&) = delete;
  AudioReader& operator=(const AudioReader&) = delete;

  const AudioInfo& info() const noexcept { return info_; }
  //! Reads up to interleaved.size() / channels frames; the frames read (0 at the end).
  std::size_t read(std::span<float> interleaved);
  //! Back to the first frame, for another pass.
  Status rewind();
  //! On to frame `frame` (from the first), skipping what is between.
  Status seek(std::int64_t frame);

 private:
  AudioReader(void* file, AudioInfo info) : file_(file), info_(std::move(info)) {}
  void* file_;  // SNDFILE*
  AudioInfo info_;
};

class AudioWriter {
 public:
  //! Creates path (which must not exist) in the container of format, with its subtype.
  static Result<std::unique_ptr<AudioWriter>> create(const std::string& path, std::uint32_t rate,
                                                     std::uint32_t channels, int format);
  ~AudioWriter();
  AudioWriter(const AudioWriter&) = delete;
  AudioWriter& operator=(const AudioWriter&) = delete;

  //! Interleaved floats (full scale 1.0; libsndfile rounds them to the subtype).
  Status write(std::span<const float> interleaved);
  //! Flushes and closes; the error says when the disk refused the file.
  Status close();

 private:
  AudioWriter(void* file, std::string path, std::uint32_t channels)
      : file_(file), path_(std::move(path)), channels_(channels) {}
  void* file_;  // SNDFILE*
  std::string path_;
  std::uint32_t channels_;
};

}  // namespace tl::mastering
