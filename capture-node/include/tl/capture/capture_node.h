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
//! (wrong token, rate mismatch, ...). not_up (when given) is set when the mixer could
//! not be reached at all (not resolved, nothing listening, no greeting): worth waiting for,
//! unlike a mixer that answered and refused.
Result<Registration> register_node(protocol::ControlClient& client, const CaptureOptions& options,
                                   int channels, const std::string& token, bool* not_up = nullptr);

//! The first registration of a node that may have started before its mixer: retries
//! while the mixer is not up, with a back-off from 0.25 s to at most 5 s, saying once
//! that it waits and every 30 s that it still does. Gives up after
//! options.wait_for_mixer_s (0: never) or when stop is set (then the error is empty).
Result<Registration> wait_for_mixer(protocol::ControlClient& client, const CaptureOptions& options,
                                    int channels, const std::string& token, const std::atomic<bool>& stop);

//! Runs the node until stop becomes true, --duration is reached, or a fatal error.
//! Returns the process exit code: 0 clean stop, 1 fatal (mixer unreachable or refused,
//! device failed), 2 the file source does not fit the options (rate, channels) or is unreadable.
int run_capture_node(const CaptureOptions& options, const std::string& token, const std::atomic<bool>& stop);

}  // namespace tl::capture
