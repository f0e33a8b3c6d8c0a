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

//! Parses "host:port", "[v6]:port". Errors name the bad part. Port 0 (let the
//! system choose) is accepted only when allow_any_port is set.
Result<HostPort> parse_host_port(const std::string& text, bool allow_any_port = false);

}  // namespace tl
