#pragma once
//! printf into a string, and the words tlctl prints for a switch.

#include <cstddef>
#include <cstdio>
#include <string>

namespace tl::ctl {

//! snprintf into a string of any length.
template <typename... Args>
std::string fmt(const char* format, Args... args) {
  char buf[256];
  const int n = std::snprintf(buf, sizeof buf, format, args...);
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(big.data(), big.size(), format, args...);
  big.resize(static_cast<std::size_t>(n));
  return big;
}

inline std::string on_off(bool on) {
  return on ? "on" : "off";
}

}  // namespace tl::ctl
