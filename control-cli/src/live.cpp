#include "tl/ctl/live.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "tl/common/clock.h"
#include "tl/ctl/format.h"
#include "tl/ctl/strip_format.h"
#include "tl/protocol/control_client.h"

namespace tl::ctl {
namespace {

using tl::proto::Envelope;
using Millis = std::chrono::milliseconds;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

}  // namespace

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked poll returns so the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int watch_events(const Invocation& inv, protocol::ControlClient& client, std::ostream& out,
                 std::ostream& err) {
  const std::int64_t start = monotonic_ns();
  const std::int64_t deadline =
      inv.seconds > 0 ? start + static_cast<std::int64_t>(inv.seconds * 1e9) : INT64_MAX;
  std::uint64_t printed = 0;
  while (g_stop == 0 && (inv.count == 0 || printed < inv.count)) {
    const std::int64_t now = monotonic_ns();
    if (now >= deadline) break;
    const std::int64_t wait_ms = std::clamp<std::int64_t>((deadline - now) / 1'000'000, 1, 200);
    auto ev = client.next_event(Millis(wait_ms));
    if (!ev) {
      if (client.connected()) continue;  // a quiet moment, not a failure
      if (g_stop != 0) break;
      err << "tlctl: " << ev.error() << "\n";
      return kExitUnreachable;
    }
    if (inv.json) {
      const auto* body = body_message(ev.value());
      if (body == nullptr) continue;
      out << to_json(*body) << "\n";
    } else {
      if (!ev->has_event()) continue;
      char stamp[32];
      std::snprintf(stamp, sizeof stamp, "[%8.3f] ", static_cast<double>(monotonic_ns() - start) / 1e9);
      out << stamp << format_event(ev->event()) << "\n";
    }
    out.flush();
    ++printed;
  }
  return kExitOk;
}

int poll_meters(const Invocation& inv, protocol::ControlClient& client, std::ostream& out,
                std::ostream& err) {
  const bool tty = &out == &std::cout && isatty(1) != 0;
  std::uint64_t printed = 0;
  const Millis timeout(inv.timeout_ms);
  while (g_stop == 0 && (inv.count == 0 || printed < inv.count)) {
    Envelope nodes_req;
    nodes_req.mutable_list_nodes();
    auto nodes = client.call(std::move(nodes_req), timeout);
    Envelope status_req;
    status_req.mutable_get_status();
    auto status =
        nodes ? client.call(std::move(status_req), timeout) : Result<Envelope>(Error{nodes.error()});
    if (!nodes || !status || !nodes->has_node_list() || !status->has_mixer_status()) {
      if (g_stop != 0) break;
      err << "tlctl: " << (!nodes ? nodes.error() : !status ? status.error() : "unexpected reply") << "\n";
      return !nodes || !status ? exit_code_of_failed_call(client.last_refusal()) : kExitMixerError;
    }
    if (inv.json) {
      out << "{\"nodes\":" << to_json(nodes->node_list()) << ",\"status\":" << to_json(status->mixer_status())
          << "}\n";
    } else {
      if (tty) out << "\x1b[H\x1b[2J";
      out << format_meters(nodes->node_list(), status->mixer_status());
      if (!tty) out << "\n";
    }
    out.flush();
    ++printed;
    if (inv.count != 0 && printed >= inv.count) break;
    std::this_thread::sleep_for(Millis(inv.interval_ms));
  }
  return kExitOk;
}

int follow_master(const Invocation& inv, protocol::ControlClient& client, std::ostream& out,
                  std::ostream& err) {
  const Millis timeout(inv.timeout_ms);
  int code = kExitOk;
  const auto ask = [&](Envelope request) -> std::optional<tl::proto::MasterTakeState> {
    auto reply = client.call(std::move(request), timeout);
    if (reply && reply->has_master_take_state()) return reply->master_take_state();
    code = reply ? kExitMixerError : exit_code_of_failed_call(client.last_refusal());
    err << "tlctl: " << (reply ? std::string("unexpected reply from the mixer") : reply.error()) << "\n";
    if (code == kExitUsage) err << "Run with --help for more information.\n";
    return std::nullopt;
  };
  auto state = ask(build_request(inv));
  if (!state) return code;
  // The progress line: redrawn in place on a terminal, a line per stage and quarter otherwise.
  const bool tty = &err == &std::cerr && isatty(2) != 0;
  std::string shown;
  bool drawn = false;
  while (!inv.no_wait && !inv.status_only && state->state() == "running" && g_stop == 0) {
    const int quarter = static_cast<int>(state->progress() * 4.0);
    const std::string key = tty ? format_master_progress(*state) : state->stage() + std::to_string(quarter);
    if (key != shown) {
      err << (tty ? "\r\x1b[K" : "") << format_master_progress(*state) << (tty ? "" : "\n") << std::flush;
      shown = key;
      drawn = tty;
    }
    std::this_thread::sleep_for(Millis(250));
    Envelope poll;
    poll.mutable_master_take()->set_take_name(inv.take);
    poll.mutable_master_take()->set_status_only(true);
    auto next = ask(std::move(poll));
    if (!next) return code;
    state = std::move(next);
  }
  if (drawn) err << "\r\x1b[K" << std::flush;
  out << (inv.json ? to_json(*state) + "\n" : format_master_take(*state)) << std::flush;
  if (state->state() == "running" && !inv.no_wait && !inv.status_only) {
    err << "tlctl: the mixer goes on mastering; tlctl take master " << inv.take << " --status\n";
  }
  return state->state() == "failed" || state->state() == "stopped" ? kExitMixerError : kExitOk;
}

}  // namespace tl::ctl
