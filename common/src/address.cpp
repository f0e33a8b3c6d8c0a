#include "tl/common/address.h"

#include <charconv>

namespace tl {

Result<HostPort> parse_host_port(const std::string& text, bool allow_any_port) {
  HostPort hp;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{"bad address '" + text + "': expected [v6-address]:port"};
    }
    hp.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return Error{"bad address '" + text + "': expected host:port"};
    }
    hp.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(port_text.data(), end, value);
  if (ec != std::errc{} || ptr != end || (value == 0 && !allow_any_port) || value > 65535) {
    return Error{"bad port '" + port_text + "' in '" + text + "': expected 1-65535"};
  }
  hp.port = static_cast<std::uint16_t>(value);
  return hp;
}

}  // namespace tl
