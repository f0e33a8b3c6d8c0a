#pragma once
//! The project's network-test safety rule: tools send only to loopback.

#include <string>

#include "tl/common/result.h"

namespace tl::netem {

//! True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool is_loopback_host(const std::string& host);

//! Used for --forward and --listen (replies go to whoever sends there).
//! Fails unless host is a numeric loopback address ("localhost" counts as
//! 127.0.0.1) or allow_nonlocal is set (then any numeric address passes).
//! action names the use in the message ("forward to", "listen on").
Status check_forward_target(const std::string& host, bool allow_nonlocal, const char* action = "forward to");

}  // namespace tl::netem
