#pragma once
//! What every PLplot picture of the library does around its drawing (private).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "tl/common/result.h"

namespace tl::mastering {

//! PLplot ends the process when it cannot open its file: open it first, so the reason
//! comes back as an error.
inline Status can_write_picture(const std::string& path) {
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fclose(f);
    return {};
  }
  return Error{"cannot write the picture '" + path + "': " + std::string(std::strerror(errno))};
}

//! After plend(): a file with something in it.
inline Status picture_written(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 || ec)
    return Error{"the picture '" + path + "' came out empty"};
  return {};
}

}  // namespace tl::mastering
