#pragma once
//! Small text helpers shared by the programs' parsers and messages.

#include <algorithm>
#include <cctype>
#include <string>

namespace tl {

//! s with its ASCII letters in lower case (other bytes as they are).
inline std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace tl
