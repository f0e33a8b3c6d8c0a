#pragma once
//! Numbers as text for the library's messages and reports (private to tl_mastering).

#include <cstdio>
#include <string>

namespace tl::mastering {

//! v with `digits` digits after the point ("-14.00").
inline std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace tl::mastering
