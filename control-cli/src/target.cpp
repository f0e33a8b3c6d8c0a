#include "tl/ctl/target.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "tl/common/text.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {
Result<Target> parse_target(const std::string& text) {
  const std::string usage =
      "bad channel target '" + text + "': expected NODE/CHANNEL with a channel counted from 1, e.g. room-a/1";
  const auto slash = text.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return Error{usage};
  Target t;
  t.node = text.substr(0, slash);
  if (std::any_of(t.node.begin(), t.node.end(), [](unsigned char c) { return std::isspace(c) != 0; })) {
    return Error{usage};
  }
  const std::string ch = text.substr(slash + 1);
  if (!std::all_of(ch.begin(), ch.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return Error{usage};
  }
  unsigned long value = 0;
  const auto [ptr, ec] = std::from_chars(ch.data(), ch.data() + ch.size(), value);
  if (ec != std::errc{} || ptr != ch.data() + ch.size() || value == 0 || value > 65535) {
    return Error{"bad channel number '" + ch + "' in '" + text + "': channels count from 1"};
  }
  t.channel = static_cast<std::uint32_t>(value);
  return t;
}

Result<bool> parse_switch(const std::string& text) {
  const std::string s = ascii_lower(text);
  if (s == "on" || s == "true" || s == "yes" || s == "1") return true;
  if (s == "off" || s == "false" || s == "no" || s == "0") return false;
  return Error{"expected on or off, got '" + text + "'"};
}

Result<float> parse_number(const std::string& text, bool allow_minus_inf) {
  if (allow_minus_inf && ascii_lower(text) == "-inf") return protocol::kGainDb.lo;
  std::string s = text;
  if (!s.empty() && s.front() == '+') s.erase(0, 1);
  float value = 0.0f;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(value)) {
    return Error{"expected a number, got '" + text + "'"};
  }
  return value;
}

bool is_negative_number(const std::string& token) {
  if (token.size() < 2 || token.front() != '-') return false;
  if (ascii_lower(token) == "-inf") return true;
  const char c = token[1];
  if (std::isdigit(static_cast<unsigned char>(c)) != 0) return true;
  return c == '.' && token.size() > 2 && std::isdigit(static_cast<unsigned char>(token[2])) != 0;
}

}  // namespace tl::ctl
