#pragma once
//! The capture node's local spool: every captured sample, on disk, by media time.
//!
//! The live path may lose packets; the recording may not. The spool keeps what
//! the node captured for the length of the session (bounded by --spool-max, in
//! bytes or seconds) so that the mixer can ask for any range again: NACKs while
//! the take runs, a backfill when it stops, and after either side restarts.
//!
//! Layout: <dir>/seg-<first media time>.tlsp, each a 32-byte header ("TLSPOOL1",
//! channels, rate, bytes per sample) then fixed-size records [media_ts i64 BE]
//! [frames u16 BE][flags u16 BE][frames x channels samples, big-endian PCM as on
//! the wire]. A record torn by a crash is ignored when the spool is reopened.
//!
//! Used from one non-real-time thread (the sender). Not thread-safe.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {

struct SpoolConfig {
  std::string dir;  // created if missing
  std::uint32_t channels = 1;
  std::uint32_t sample_rate = 48000;
  protocol::SampleFormat format = protocol::SampleFormat::Pcm24;
  std::uint64_t max_bytes = 0;    // 0: no byte bound
  double max_seconds = 0.0;       // 0: no time bound
  double segment_seconds = 60.0;  // a new file at least this often
};

//! Calls fn(first, count) for each run of consecutive frames marked in have (as
//! Spool::read marks them); stops early, returning false, when fn returns false.
template <typename Fn>
bool for_each_run(std::span<const std::uint8_t> have, Fn&& fn) {
  for (std::size_t i = 0; i < have.size();) {
    if (have[i] == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < have.size() && have[j] != 0) ++j;
    if (!fn(i, j - i)) return false;
    i = j;
  }
  return true;
}

class Spool {
 public:
  //! Opens (and indexes what is already there) or creates the spool directory.
  static Result<std::unique_ptr<Spool>> open(const SpoolConfig& config);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  //! Appends one block: interleaved wire-format samples for all channels.
  Status append(MediaTime media_ts, std::uint16_t frames, std::uint16_t flags,
                std::span<const std::uint8_t> samples);

  //! Copies the wire-format samples of [from, from + frames) into out (frames x
  //! channels x bytes per sample) and marks in have[i] which frames were found.
  //! Returns how many frames were found.
  std::size_t read(MediaTime from, std::uint32_t frames, std::span<std::uint8_t> out,
                   std::span<std::uint8_t> have);

  //! Flushes buffered writes to the kernel (call about once a second).
  void flush();

  //! The media time range held: [first, end). first == end when empty.
  MediaTime first() const noexcept;
  MediaTime end() const noexcept;
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::size_t segments() const noexcept { return segments_.size(); }
  std::uint64_t dropped_segments() const noexcept { return dropped_segments_; }

 private:
  struct Run {  // contiguous records of equal size inside one segment
    MediaTime first_ts = 0;
    std::uint16_t frames = 0;  // per record
    std::uint64_t records = 0;
    std::uint64_t offset = 0;  // file offset of the first record
  };
  struct Segment {
    std::string path;
    MediaTime first_ts = 0;
    std::uint64_t bytes = 0;
    std::vector<Run> runs;
  };

  explicit Spool(SpoolConfig config);
  Status start_segment(MediaTime first_ts);
  Status index_segment(const std::string& path);
  void enforce_bounds();
  std::size_t record_bytes(std::uint16_t frames) const noexcept;

  SpoolConfig config_;
  std::size_t frame_bytes_ = 0;
  std::vector<Segment> segments_;
  std::FILE* writer_ = nullptr;
  std::FILE* reader_ = nullptr;
  std::string reader_path_;
  std::uint64_t bytes_ = 0;
  std::uint64_t dropped_segments_ = 0;
};

}  // namespace tl::capture
