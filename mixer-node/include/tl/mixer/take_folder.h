#pragma once
//! A take's folder on disk: its name, its WAV files, and `.alive`, where a take being
//! recorded had got to (what a later mixer completes it up to if this one dies).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/protocol/names.h"

namespace tl::mixer {

//! 1-64 of A-Z a-z 0-9 - _ . (not "." or ".."): a name that stays inside the record dir.
using protocol::valid_take_name;
//! What the operator is told when a name is not valid.
std::string bad_take_name_message(const std::string& name);
//! "take-YYYYMMDD-HHMMSS" (UTC, now).
std::string default_take_name();

//! Least free space a record folder must have for tl-mixer to start: a minute of 64
//! channels of 24-bit audio at 48 kHz is about 530 MiB; below 256 MiB a take is short-lived.
inline constexpr std::uint64_t kMinRecordSpaceBytes = 256ull << 20;
//! Makes sure takes can be written under dir, creating it when missing: a folder, writable
//! (a file is created and removed there), on a disk with at least min_free bytes free.
//! The error says what is wrong, for the operator.
Status check_record_dir(const std::filesystem::path& dir, std::uint64_t min_free = kMinRecordSpaceBytes);

//! Puts a file's (or a folder's) contents on the disk (fsync): before the only other copy
//! of its audio goes. False when it cannot.
bool sync_path(const std::filesystem::path& path);

//! Minutes of recording free_bytes hold at `channels` inputs: each a mono 24-bit track, plus
//! the stereo 24-bit mix.wav (a track that needs no resampling is stored once).
double record_minutes_left(std::uint64_t free_bytes, std::uint32_t channels, std::uint32_t sample_rate);

//! A WAV file of a take's folder: mix.wav (node "mix", channel 0) or <node>-<channel>.wav
//! (node names may hold '-': the channel follows the last one).
struct TakeFile {
  std::filesystem::path path;
  std::string node;
  std::uint32_t channel = 0;  //!< from 1; 0 for the mix or a name without one
};
//! The WAV files directly in dir, sorted by path.
std::vector<TakeFile> take_files(const std::filesystem::path& dir);

//! A take's .alive file: where the take had got to, rewritten in place every 20 ms.
//! Never truncated: on ext4 a truncate waits for the file's data to reach the
//! disk, and a busy disk held the recorder (and so its queues) for seconds.
class AliveFile {
 public:
  explicit AliveFile(const std::filesystem::path& path);
  ~AliveFile();
  AliveFile(const AliveFile&) = delete;
  AliveFile& operator=(const AliveFile&) = delete;
  //! The session position, as one fixed-width line. A failed write costs only how far a
  //! crashed take is known to reach.
  void write(MediaTime position) const noexcept;
  //! The take was stopped at position: said in place (no new disk space), so a take whose
  //! take.json the disk refused is not taken for one still recording.
  void mark_stopped(MediaTime position) const noexcept;
  //! The position a take's .alive holds (0 when none).
  static MediaTime read(const std::filesystem::path& path);
  //! True when it was marked stopped.
  static bool stopped(const std::filesystem::path& path);

 private:
  int fd_ = -1;
};

}  // namespace tl::mixer
