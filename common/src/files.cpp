#include "tl/common/files.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tl {

namespace fs = std::filesystem;

Status replace_file(const fs::path& path, const fs::path& tmp, std::string_view text) {
  std::error_code ec;
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      const int why = errno;
      if (fs::is_regular_file(tmp, ec)) fs::remove(tmp, ec);  // a half-written copy helps nobody
      return Error{"cannot write " + path.string() +
                   (why != 0 ? ": " + std::string(std::strerror(why)) : "") +
                   " (the last one written stays)"};
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) return Error{"cannot write " + path.string() + ": " + ec.message()};
  return Status::success();
}

std::string boot_id() {
  std::string id;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> id;
  return id;
}

}  // namespace tl
