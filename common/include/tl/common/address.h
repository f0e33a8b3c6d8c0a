#pragma once
//! host:port parsing for command-line options.

#include <cstdint>
#include <string>

#include "tl/common/result.h"

namespace tl {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

//! Parses "host:port", "[v6]:port". Errors name the bad part.
Result<HostPort> parse_host_port(const std::string& text);

}  // namespace tl
