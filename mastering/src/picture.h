#pragma once
//! What every PLplot picture of the library does around its drawing (private).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <plplot.h>

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

//! Colour map 0's first two entries, the same in every picture.
inline constexpr PLINT kPaper = 0, kInk = 1;

//! PLplot's cairo PNG driver on path at width x height, white paper and black ink (then
//! the caller's own colours with plscol0, then plinit).
inline void start_picture(const std::string& path, int width, int height) {
  plsdev("pngcairo");
  plsfnam(path.c_str());
  const std::string geometry = std::to_string(width) + "x" + std::to_string(height);
  plsetopt("geometry", geometry.c_str());
  plscol0(kPaper, 255, 255, 255);
  plscol0(kInk, 0, 0, 0);
}

//! A name in its line's colour.
struct Key {
  PLINT colour;
  std::string text;
};

//! Keys along the top edge of the current plot, spaced by their lengths (about 1% of the
//! width a character at this size).
inline void draw_keys(const std::vector<Key>& keys) {
  plschr(0.0, 0.8);
  double at = 0.0;
  for (const Key& k : keys) {
    plcol0(k.colour);
    plmtex("t", 0.6, at, 0.0, k.text.c_str());
    at += 0.0105 * static_cast<double>(k.text.size()) + 0.04;
  }
  plschr(0.0, 1.0);
}

//! After plend(): a file with something in it.
inline Status picture_written(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 || ec)
    return Error{"the picture '" + path + "' came out empty"};
  return {};
}

}  // namespace tl::mastering
