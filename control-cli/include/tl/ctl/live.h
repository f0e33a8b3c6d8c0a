#pragma once
//! tlctl's live views, which keep printing until Ctrl-C or their --count or --seconds:
//! watch (pushed events) and meters (a refreshing poll).

#include <iosfwd>

#include "tl/ctl/commands.h"

namespace tl::protocol {
class ControlClient;
}

namespace tl::ctl {

//! Makes Ctrl-C and SIGTERM end a live view cleanly (exit 0) instead of killing tlctl.
void install_stop_handler();

//! `tlctl watch` after its subscription's reply: one line (or JSON object) per event.
int watch_events(const Invocation& inv, protocol::ControlClient& client, std::ostream& out,
                 std::ostream& err);

//! `tlctl meters`: polls the node list and the mixer status every interval and redraws
//! (or prints a JSON line per refresh).
int poll_meters(const Invocation& inv, protocol::ControlClient& client, std::ostream& out, std::ostream& err);

//! `tlctl take master`: starts the job (or asks how it goes) and, unless --no-wait or
//! --status, follows it to its end with a progress line on stderr; prints its last state.
//! Exit 1 when it failed or stopped.
int follow_master(const Invocation& inv, protocol::ControlClient& client, std::ostream& out,
                  std::ostream& err);

}  // namespace tl::ctl
