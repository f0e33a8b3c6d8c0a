#include "tl/mixer/session_epoch.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tl/common/clock.h"
#include "tl/common/files.h"

namespace tl::mixer {
namespace {
constexpr const char* kSessionFile = ".tracklink-session";
}  // namespace

SavedSession parse_session_file(std::string_view text) {
  SavedSession saved;
  std::istringstream in{std::string(text)};
  in >> saved.boot >> saved.epoch_ns;
  return saved;
}

std::string format_session_file(const std::string& boot, std::int64_t epoch_ns) {
  return (boot.empty() ? "unknown" : boot) + ' ' + std::to_string(epoch_ns) + '\n';
}

std::optional<std::int64_t> resumed_epoch(const SavedSession& saved, const std::string& boot,
                                          std::int64_t now_ns) {
  if (boot.empty() || saved.boot != boot || saved.epoch_ns <= 0 || saved.epoch_ns > now_ns)
    return std::nullopt;
  return saved.epoch_ns;
}

std::int64_t session_epoch(const std::string& record_dir, const std::string& boot, std::int64_t now_ns) {
  const std::filesystem::path path = std::filesystem::path(record_dir) / kSessionFile;
  std::stringstream text;
  if (std::ifstream f(path); f) text << f.rdbuf();
  if (const auto epoch = resumed_epoch(parse_session_file(text.str()), boot, now_ns)) {
    spdlog::info("session timeline goes on from the last mixer on {} ({:.1f} s old)", record_dir,
                 static_cast<double>(now_ns - *epoch) / 1e9);
    return *epoch;
  }
  std::error_code ec;
  std::filesystem::create_directories(record_dir, ec);
  std::ofstream(path) << format_session_file(boot, now_ns);
  return now_ns;
}

std::int64_t session_epoch(const std::string& record_dir) {
  return session_epoch(record_dir, boot_id(), monotonic_ns());
}

}  // namespace tl::mixer
