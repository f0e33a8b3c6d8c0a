#include "tl/mixer/take_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <utility>

namespace fs = std::filesystem;

namespace tl::mixer {

std::string bad_take_name_message(const std::string& name) {
  return "bad take name '" + name + "': use 1-64 of A-Z a-z 0-9 - _ .";
}

std::string default_take_name() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "take-%Y%m%d-%H%M%S", &tm);
  return buf;
}

std::vector<TakeFile> take_files(const fs::path& dir) {
  std::vector<TakeFile> files;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    if (f.path().extension() != ".wav") continue;
    const std::string stem = f.path().stem().string();
    const auto dash = stem.rfind('-');
    TakeFile t{.path = f.path(), .node = stem.substr(0, dash)};
    if (stem != "mix" && dash != std::string::npos) {
      t.channel = static_cast<std::uint32_t>(std::max(0, std::atoi(stem.c_str() + dash + 1)));
    }
    files.push_back(std::move(t));
  }
  std::sort(files.begin(), files.end(), [](const TakeFile& a, const TakeFile& b) { return a.path < b.path; });
  return files;
}

AliveFile::AliveFile(const fs::path& path)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) {}

AliveFile::~AliveFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AliveFile::write(MediaTime position) const noexcept {
  if (fd_ < 0) return;
  std::array<char, 24> line{};
  const int n = std::snprintf(line.data(), line.size(), "%20lld\n", static_cast<long long>(position));
  if (n <= 0 || ::pwrite(fd_, line.data(), static_cast<std::size_t>(n), 0) < 0) return;
}

void AliveFile::mark_stopped(MediaTime position) const noexcept {
  if (fd_ < 0) return;
  std::array<char, 24> line{};  // as long as write()'s line: written over it in place
  const int n = std::snprintf(line.data(), line.size(), "%19lld!\n", static_cast<long long>(position));
  if (n <= 0 || ::pwrite(fd_, line.data(), static_cast<std::size_t>(n), 0) < 0) return;
}

MediaTime AliveFile::read(const fs::path& path) {
  MediaTime position = 0;
  std::ifstream(path) >> position;
  return position;
}

bool AliveFile::stopped(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in >> std::ws, line);
  return !line.empty() && line.back() == '!';
}

Status check_record_dir(const fs::path& dir, std::uint64_t min_free) {
  std::error_code ec;
  // A missing folder is made; anything in the way (a file, here or above) is named.
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec) && !fs::is_directory(p, ec)) {
      std::string message = "'";  // appended: GCC 12 -O3 warns on "'" + ... (bug 105329)
      message += p.string() + "' is not a folder";
      if (p != dir) message += " (it is on the path to '" + dir.string() + "')";
      return Error{std::move(message)};
    }
    if (p == p.parent_path()) break;
  }
  if (fs::create_directories(dir, ec); ec)
    return Error{"cannot create '" + dir.string() + "': " + ec.message()};
  const fs::path probe = dir / ".tracklink-write-test";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot write in '" + dir.string() + "': " + std::strerror(errno)};
  const bool wrote = ::write(fd, "ok\n", 3) == 3;
  const int saved = errno;
  ::close(fd);
  fs::remove(probe, ec);
  if (!wrote) return Error{"cannot write in '" + dir.string() + "': " + std::strerror(saved)};
  const auto space = fs::space(dir, ec);
  if (!ec && space.available < min_free) {
    return Error{"the disk holding '" + dir.string() + "' has " + std::to_string(space.available >> 20) +
                 " MiB free, less than the " + std::to_string(min_free >> 20) +
                 " MiB a take needs to start (64 channels fill about 530 MiB a minute)"};
  }
  return Status::success();
}

double record_minutes_left(std::uint64_t free_bytes, std::uint32_t channels, std::uint32_t sample_rate) {
  const double bytes_per_minute = (static_cast<double>(channels) + 2.0) * 3.0 * sample_rate * 60.0;
  return static_cast<double>(free_bytes) / bytes_per_minute;
}

bool sync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace tl::mixer
