#pragma once
//! Wires a capture node: source -> queue -> sender, and the control connection.

#include <atomic>
#include <string>

#include "tl/capture/options.h"
#include "tl/capture/sender.h"
#include "tl/common/result.h"
#include "tl/protocol/control_client.h"

namespace tl::capture {

//! Connects, authenticates and registers. Errors carry the mixer's message
//! (wrong token, rate mismatch, ...).
Result<Registration> register_node(protocol::ControlClient& client, const CaptureOptions& options,
                                   int channels, const std::string& token);

//! Runs the node until stop becomes true, --duration is reached, or a fatal error.
//! Returns the process exit code: 0 clean stop, 1 fatal (mixer unreachable or refused,
//! device failed), 2 the file source does not fit the options (rate, channels) or is unreadable.
int run_capture_node(const CaptureOptions& options, const std::string& token, const std::atomic<bool>& stop);

}  // namespace tl::capture
