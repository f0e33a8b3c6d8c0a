#pragma once
//! Numbers as text for the library's messages and reports (private to tl_mastering).

#include <cstdio>
#include <string>
#include <string_view>

namespace tl::mastering {

//! v with `digits` digits after the point ("-14.00").
inline std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// 'text', appended piece by piece (GCC 12 at -O3 warns falsely on "'" + std::string).
inline std::string in_quotes(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '\'';
  q += s;
  q += '\'';
  return q;
}

}  // namespace tl::mastering
