#include "tl/ctl/commands.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "tl/common/clock.h"
#include "tl/common/token.h"
#include "tl/ctl/format.h"
#include "tl/ctl/strip_format.h"
#include "tl/protocol/control_client.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {
namespace {

using tl::proto::Envelope;
using Millis = std::chrono::milliseconds;

constexpr int kRecordStopTimeoutMs = 60000;  // closing a take may wait for spool patches

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked poll returns so the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

//! Values given as positional strings, checked after CLI11 has parsed.
struct RawValues {
  std::string target;
  std::string value;
  std::string state;
  std::vector<std::string> words;  //!< strip/master: section and values
};

//! `tlctl latency NODE min=MS max=MS | reset`: 0 (or "-") leaves a bound to the mixer.
Result<tl::proto::SetLatency> parse_latency_args(const std::vector<std::string>& words) {
  tl::proto::SetLatency r;
  const std::string usage = " (expected min=MS and/or max=MS, or reset)";
  if (words.size() == 1 && words[0] == "reset") {
    r.set_reset(true);
    return r;
  }
  bool any = false;
  for (const std::string& w : words) {
    const auto eq = w.find('=');
    const std::string key = eq == std::string::npos ? w : w.substr(0, eq);
    if (eq == std::string::npos || (key != "min" && key != "max")) return Error{"bad latency setting '" + w + "'" + usage};
    const std::string text = w.substr(eq + 1);
    double ms = 0.0;
    if (text != "-") {
      auto v = parse_number(text.size() > 2 && text.ends_with("ms") ? text.substr(0, text.size() - 2) : text);
      if (!v || !protocol::kLatencyBoundMs.contains(v.value())) {
        return Error{"bad latency " + key + " '" + text + "': 0-1000 ms"};
      }
      ms = v.value();
    }
    (key == "min" ? r.set_min_ms(ms) : r.set_max_ms(ms));
    any = true;
  }
  if (!any) return Error{"latency needs a setting" + usage};
  if (r.min_ms() > 0.0 && r.max_ms() > 0.0 && r.min_ms() > r.max_ms()) return Error{"latency min is above max"};
  return r;
}

//! `tlctl cue NODE on | off | show | me DB | level SOURCE DB | limit DBTP`.
Result<tl::proto::SetCue> parse_cue_args(const std::vector<std::string>& words) {
  tl::proto::SetCue r;
  const std::string usage = " (expected on, off, show, me DB, level SOURCE DB, or limit DBTP)";
  const std::string verb = words.empty() ? "show" : words[0];
  const auto level = [&](const std::string& text) -> Status {
    auto v = parse_number(text.starts_with("=") ? text.substr(1) : text);
    if (!v || !protocol::kCueLevelDb.contains(v.value())) {
      return Error{"bad cue level '" + text + "': -60 (off) to +12 dB"};
    }
    r.set_level_db(v.value());
    return Status::success();
  };
  if (verb == "show" && words.size() <= 1) {
    r.set_action(tl::proto::SetCue::SHOW);
  } else if ((verb == "on" || verb == "off") && words.size() == 1) {
    r.set_action(verb == "on" ? tl::proto::SetCue::ON : tl::proto::SetCue::OFF);
  } else if (verb == "me" && words.size() == 2) {
    r.set_action(tl::proto::SetCue::LEVEL);
    r.set_source("me");
    if (auto ok = level(words[1]); !ok) return Error{ok.error()};
  } else if (verb == "level" && words.size() == 3) {
    r.set_action(tl::proto::SetCue::LEVEL);
    r.set_source(words[1]);
    if (auto ok = level(words[2]); !ok) return Error{ok.error()};
  } else if (verb == "limit" && words.size() == 2) {
    auto v = parse_number(words[1].starts_with("=") ? words[1].substr(1) : words[1]);
    if (!v || !protocol::kCueLimitDbtp.contains(v.value())) {
      return Error{"bad cue limit '" + words[1] + "': -40 to 0 dBTP"};
    }
    r.set_action(tl::proto::SetCue::LIMIT);
    r.set_limit_dbtp(v.value());
  } else {
    return Error{"bad cue command '" + verb + "'" + usage};
  }
  return r;
}

Result<Invocation> finish(Invocation inv, const RawValues& raw) {
  auto hp = parse_host_port(inv.mixer_text);
  if (!hp) return Error{"bad --mixer '" + inv.mixer_text + "': " + hp.error()};
  inv.mixer = hp.value();
  switch (inv.command) {
    case Command::Gain:
    case Command::Pan:
    case Command::Mute:
    case Command::Solo: {
      auto t = parse_target(raw.target);
      if (!t) return Error{t.error()};
      inv.target = t.value();
      break;
    }
    default: break;
  }
  if (inv.command == Command::Gain) {
    auto v = parse_number(raw.value, true);
    if (!v) return Error{"bad gain: " + v.error() + " (dB, e.g. -6 or 3.5; -inf for silence)"};
    inv.value = v.value();
  }
  if (inv.command == Command::Pan) {
    auto v = parse_number(raw.value);
    if (!v) return Error{"bad pan: " + v.error() + " (-1 left .. 1 right)"};
    if (!protocol::kPan.contains(v.value())) {
      return Error{"bad pan '" + raw.value + "': pan must be between -1 (left) and 1 (right)"};
    }
    inv.value = v.value();
  }
  if (inv.command == Command::Strip || inv.command == Command::Master || inv.command == Command::Bus) {
    std::string target = "master";
    StripKind kind = StripKind::Master;
    if (inv.command == Command::Strip) {
      auto t = parse_target(raw.target);
      if (!t) return Error{t.error()};
      inv.target = t.value();
      target = inv.target.str();
      kind = StripKind::Channel;
    }
    if (inv.command == Command::Bus) {
      const bool named = raw.target.size() >= 3 && (raw.target.rfind("bus", 0) == 0 || raw.target.rfind("fx", 0) == 0);
      if (!named) return Error{"bad bus '" + raw.target + "': bus1-bus8 (groups), fx1 (reverb) or fx2 (delay)"};
      target = raw.target;
      kind = StripKind::Bus;
    }
    auto change = parse_strip_args(raw.words, kind);
    if (!change) return Error{change.error()};
    inv.strip = change.value();
    inv.strip.set_target(target);
  }
  if (inv.command == Command::Latency) {
    auto range = parse_latency_args(raw.words);
    if (!range) return Error{range.error()};
    inv.latency = range.value();
    inv.latency.set_node(raw.target);
  }
  if (inv.command == Command::Cue) {
    auto cue = parse_cue_args(raw.words);
    if (!cue) return Error{cue.error()};
    inv.cue = cue.value();
    inv.cue.set_node(raw.target);
  }
  if ((inv.command == Command::Mute || inv.command == Command::Solo) && !raw.state.empty()) {
    auto s = parse_switch(raw.state);
    if (!s) return Error{"bad state: " + s.error()};
    inv.on = inv.on && s.value();  // "unmute x on" stays an unmute
  }
  return inv;
}

bool timed_out(const std::string& message) { return message.rfind("timed out", 0) == 0; }

Envelope::BodyCase expected_reply(Command c) {
  switch (c) {
    case Command::Nodes: return Envelope::kNodeList;
    case Command::RecordStart: return Envelope::kRecordStarted;
    case Command::RecordStop:
    case Command::RecordRecover: return Envelope::kRecordStopped;
    case Command::Takes: return Envelope::kTakeList;
    case Command::Status: return Envelope::kMixerStatus;
    case Command::Gain:
    case Command::Pan:
    case Command::Mute:
    case Command::Solo: return Envelope::kChannelState;
    case Command::Watch: return Envelope::kMixerStatus;
    case Command::Ping: return Envelope::kPong;
    case Command::Strip:
    case Command::Master:
    case Command::Bus: return Envelope::kStripState;
    case Command::Meters: return Envelope::kMixerStatus;
    case Command::Scene: return Envelope::kSceneReply;
    case Command::Latency: return Envelope::kLatencyState;
    case Command::Cue: return Envelope::kCueState;
  }
  return Envelope::BODY_NOT_SET;
}

int watch(const Invocation& inv, protocol::ControlClient& client, std::ostream& out, std::ostream& err) {
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

//! `tlctl meters`: polls the node list and the mixer status every interval and redraws
//! (or prints a JSON line per refresh) until Ctrl-C or --count refreshes.
int meters(const Invocation& inv, protocol::ControlClient& client, std::ostream& out, std::ostream& err) {
  const bool tty = &out == &std::cout && isatty(1) != 0;
  std::uint64_t printed = 0;
  const Millis timeout(inv.timeout_ms);
  while (g_stop == 0 && (inv.count == 0 || printed < inv.count)) {
    Envelope nodes_req;
    nodes_req.mutable_list_nodes();
    auto nodes = client.call(std::move(nodes_req), timeout);
    Envelope status_req;
    status_req.mutable_get_status();
    auto status = nodes ? client.call(std::move(status_req), timeout) : Result<Envelope>(Error{nodes.error()});
    if (!nodes || !status || !nodes->has_node_list() || !status->has_mixer_status()) {
      if (g_stop != 0) break;
      err << "tlctl: " << (!nodes ? nodes.error() : !status ? status.error() : "unexpected reply") << "\n";
      return kExitUnreachable;
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

}  // namespace

ParseOutcome parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Invocation inv;
  RawValues raw;
  const char* env_mixer = std::getenv("TRACKLINK_MIXER");
  inv.mixer_text = env_mixer != nullptr && *env_mixer != '\0' ? env_mixer : "127.0.0.1:7400";

  CLI::App app{"tlctl: the tracklink operator's client. Talks to tl-mixer over the control channel.", "tlctl"};
  app.fallthrough();  // global options may follow the subcommand
  app.require_subcommand(1);
  app.add_option("--mixer", inv.mixer_text, "mixer control address HOST:PORT (default: $TRACKLINK_MIXER, else 127.0.0.1:7400)");
  app.add_option("--token-file", inv.token_file, "file holding the control token (default: $TRACKLINK_TOKEN)");
  app.add_flag("--json", inv.json, "print each reply or event as one JSON object per line");
  auto* timeout = app.add_option("--timeout-ms", inv.timeout_ms, "connect and reply timeout in ms (default 5000; record stop: 60000 unless given)")
                      ->check(CLI::PositiveNumber);
  app.add_flag("-v,--verbose", inv.verbose, "more detail (per-channel lines in nodes)");

  auto* nodes = app.add_subcommand("nodes", "list capture nodes: state, counters, latency (-v: channels)");
  auto* record = app.add_subcommand("record", "start or stop a take");
  record->require_subcommand(1);
  auto* rec_start = record->add_subcommand("start", "start recording; prints the take name first");
  rec_start->add_option("--take", inv.take, "take name (default: take-YYYYmmdd-HHMMSS, chosen by the mixer)");
  auto* rec_stop = record->add_subcommand("stop", "stop recording; prints the take and a line per track");
  auto* rec_recover = record->add_subcommand(
      "recover", "complete a take a stopped mixer left unfinished, from its files and its nodes' spools");
  rec_recover->add_option("take", inv.take, "the unfinished take (tlctl takes)")->required();
  auto* takes = app.add_subcommand("takes", "list finished takes");
  auto* status = app.add_subcommand("status", "mixer status");
  auto* gain = app.add_subcommand("gain", "set a channel's gain in dB (negative values welcome)");
  gain->add_option("target", raw.target, "NODE/CHANNEL, channel from 1")->required();
  gain->add_option("db", raw.value, "gain in dB, e.g. -6")->required();
  auto* pan = app.add_subcommand("pan", "set a channel's pan, -1 (left) .. 1 (right)");
  pan->add_option("target", raw.target, "NODE/CHANNEL")->required();
  pan->add_option("pan", raw.value, "-1 .. 1")->required();
  auto* mute = app.add_subcommand("mute", "mute a channel (or 'off' to unmute)");
  mute->add_option("target", raw.target, "NODE/CHANNEL")->required();
  mute->add_option("state", raw.state, "on (default) or off");
  auto* unmute = app.add_subcommand("unmute", "unmute a channel");
  unmute->add_option("target", raw.target, "NODE/CHANNEL")->required();
  auto* solo = app.add_subcommand("solo", "solo a channel (or 'off')");
  solo->add_option("target", raw.target, "NODE/CHANNEL")->required();
  solo->add_option("state", raw.state, "on (default) or off");
  auto* unsolo = app.add_subcommand("unsolo", "unsolo a channel");
  unsolo->add_option("target", raw.target, "NODE/CHANNEL")->required();
  auto* watch_cmd = app.add_subcommand("watch", "print events (node changes, faults, takes; --levels: meters) until Ctrl-C");
  watch_cmd->add_flag("--levels", inv.levels, "also level events, about 10 per second");
  watch_cmd->add_option("--count", inv.count, "stop after N events");
  watch_cmd->add_option("--seconds", inv.seconds, "stop after S seconds")->check(CLI::PositiveNumber);
  auto* ping = app.add_subcommand("ping", "round trip time and the mixer's session clock");
  auto* strip = app.add_subcommand(
      "strip",
      "set or show a channel strip: trim DB | phase on|off | delay 1.5ms|SAMPLES | hpf FREQ [slope=24] | lpf 12k | "
      "eq BAND freq=2.5k gain=-3 q=1.2 [type=peak] | comp threshold=-18 ratio=4 attack=10 release=120 makeup=3 "
      "knee=6 [detect=rms] [sc-hpf=100] | gate threshold=-50 range=-40 ... | SECTION off | show");
  strip->add_option("target", raw.target, "NODE/CHANNEL, channel from 1")->required();
  strip->add_option("args", raw.words, "section and values")->required();
  auto* master = app.add_subcommand(
      "master", "set or show the master chain: limiter on ceiling=-1 [release=80] | comp ... | eq BAND ... | show");
  master->add_option("args", raw.words, "section and values")->required();
  auto* bus = app.add_subcommand(
      "bus",
      "set or show a group bus (bus1-bus8: a strip joins one with 'strip N/C route bus3') or an effect return (fx1 "
      "reverb, fx2 tempo delay, fed by 'strip N/C send 1|2 level=-10 [pre=on]'): fader DB | mute on|off | eq BAND ... "
      "| comp ... | reverb decay=2.5 predelay=20 damping=6k level=0 (fx1) | delay bpm=120 division=1/8d feedback=0.4 "
      "[damping=4k] [pingpong=on] (fx2) | show");
  bus->add_option("target", raw.target, "bus1-bus8, fx1 or fx2")->required();
  bus->add_option("args", raw.words, "section and values")->required();
  auto* meters_cmd = app.add_subcommand("meters", "live meters: channel peak/rms/gain reduction, master peak, true peak, LUFS");
  meters_cmd->add_option("--count", inv.count, "stop after N refreshes");
  auto* scene = app.add_subcommand("scene", "save, recall or list mixer scenes (every strip and the master)");
  scene->require_subcommand(1);
  auto* scene_save = scene->add_subcommand("save", "save the whole mixer state as NAME");
  scene_save->add_option("name", inv.scene_name, "scene name")->required();
  auto* scene_recall = scene->add_subcommand("recall", "apply scene NAME (changes are smoothed)");
  scene_recall->add_option("name", inv.scene_name, "scene name")->required();
  auto* scene_list = scene->add_subcommand("list", "list saved scenes");
  meters_cmd->add_option("--interval-ms", inv.interval_ms, "refresh interval (default 100)")->check(CLI::PositiveNumber);
  auto* latency = app.add_subcommand(
      "latency",
      "bound the play-out delay a node asks for: NODE min=MS max=MS (0 or -: the mixer's) | NODE reset. The mix "
      "follows the neediest node; a max keeps a node on a bad link from holding the others back (its late audio is "
      "concealed live, and still recorded)");
  latency->add_option("node", raw.target, "node name")->required();
  latency->add_option("args", raw.words, "min=MS max=MS, or reset")->required();
  auto* cue = app.add_subcommand(
      "cue",
      "a node's personal cue mix, streamed back to it (tl-capture --cue): NODE on | off | show | me DB (its own "
      "sound, 'more me') | level SOURCE DB (another node). Levels are -60 (off) to +12 dB against the mix's "
      "faders and pans");
  cue->add_option("node", raw.target, "the listening node")->required();
  cue->add_option("args", raw.words, "on, off, show, me DB, level SOURCE DB, limit DBTP (its limiter's ceiling)");

  // strip/master values may be negative ("trim -3"): hand them over as "=-3" (a bare value)
  // so they never look like options.
  std::vector<std::string> given = args;
  for (std::size_t i = 0; i < given.size(); ++i) {
    if (given[i] == "strip" || given[i] == "master" || given[i] == "bus" || given[i] == "cue") {
      for (std::size_t j = i + 1; j < given.size(); ++j) {
        if (is_negative_number(given[j])) given[j] = "=" + given[j];
      }
      break;
    }
    if (given[i].empty() || given[i][0] != '-') break;  // another subcommand
    if (given[i] == "--mixer" || given[i] == "--token-file" || given[i] == "--timeout-ms") ++i;
  }
  std::vector<std::string> reversed = protect_negative_numbers(given);
  std::reverse(reversed.begin(), reversed.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return {std::nullopt, code == 0 ? kExitOk : kExitUsage};
  }
  inv.timeout_given = timeout->count() > 0;

  if (nodes->parsed()) inv.command = Command::Nodes;
  if (rec_start->parsed()) inv.command = Command::RecordStart;
  if (rec_stop->parsed()) inv.command = Command::RecordStop;
  if (rec_recover->parsed()) inv.command = Command::RecordRecover;
  if (takes->parsed()) inv.command = Command::Takes;
  if (status->parsed()) inv.command = Command::Status;
  if (gain->parsed()) inv.command = Command::Gain;
  if (pan->parsed()) inv.command = Command::Pan;
  if (mute->parsed() || unmute->parsed()) inv.command = Command::Mute;
  if (solo->parsed() || unsolo->parsed()) inv.command = Command::Solo;
  if (unmute->parsed() || unsolo->parsed()) inv.on = false;
  if (watch_cmd->parsed()) inv.command = Command::Watch;
  if (ping->parsed()) inv.command = Command::Ping;
  if (strip->parsed()) inv.command = Command::Strip;
  if (master->parsed()) inv.command = Command::Master;
  if (bus->parsed()) inv.command = Command::Bus;
  if (meters_cmd->parsed()) inv.command = Command::Meters;
  if (latency->parsed()) inv.command = Command::Latency;
  if (cue->parsed()) inv.command = Command::Cue;
  if (scene->parsed()) {
    inv.command = Command::Scene;
    inv.scene_action = scene_save->parsed() ? "save" : scene_recall->parsed() ? "recall" : "list";
  }
  (void)scene_list;

  auto done = finish(std::move(inv), raw);
  if (!done) {
    err << "tlctl: " << done.error() << "\nRun with --help for more information.\n";
    return {std::nullopt, kExitUsage};
  }
  return {std::move(done.value()), kExitOk};
}

tl::proto::Envelope build_request(const Invocation& inv) {
  Envelope env;
  switch (inv.command) {
    case Command::Nodes: env.mutable_list_nodes(); break;
    case Command::RecordStart: env.mutable_record_start()->set_take_name(inv.take); break;
    case Command::RecordStop: env.mutable_record_stop(); break;
    case Command::RecordRecover: env.mutable_record_recover()->set_take_name(inv.take); break;
    case Command::Takes: env.mutable_list_takes(); break;
    case Command::Status: env.mutable_get_status(); break;
    case Command::Gain:
      env.mutable_set_channel()->set_target(inv.target.str());
      env.mutable_set_channel()->set_gain_db(inv.value);
      break;
    case Command::Pan:
      env.mutable_set_channel()->set_target(inv.target.str());
      env.mutable_set_channel()->set_pan(inv.value);
      break;
    case Command::Mute:
      env.mutable_set_channel()->set_target(inv.target.str());
      env.mutable_set_channel()->set_mute(inv.on);
      break;
    case Command::Solo:
      env.mutable_set_channel()->set_target(inv.target.str());
      env.mutable_set_channel()->set_solo(inv.on);
      break;
    case Command::Watch:
      env.mutable_subscribe()->set_levels(inv.levels);
      env.mutable_subscribe()->set_nodes(true);
      break;
    case Command::Ping: env.mutable_ping()->set_client_time_ns(monotonic_ns()); break;
    case Command::Strip:
    case Command::Master:
    case Command::Bus: *env.mutable_set_strip() = inv.strip; break;
    case Command::Meters: env.mutable_get_status(); break;
    case Command::Scene:
      env.mutable_scene_request()->set_action(inv.scene_action);
      env.mutable_scene_request()->set_name(inv.scene_name);
      break;
    case Command::Latency: *env.mutable_set_latency() = inv.latency; break;
    case Command::Cue: *env.mutable_set_cue() = inv.cue; break;
  }
  return env;
}

const google::protobuf::Message* body_message(const tl::proto::Envelope& env) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  const auto* reflection = env.GetReflection();
  const auto* field = reflection->GetOneofFieldDescriptor(env, oneof);
  if (field == nullptr) return nullptr;
  return &reflection->GetMessage(env, field);
}

std::string render_reply(const Invocation& inv, const tl::proto::Envelope& reply, double rtt_ms) {
  if (reply.body_case() != expected_reply(inv.command)) return {};
  if (inv.json) return to_json(*body_message(reply)) + "\n";
  switch (inv.command) {
    case Command::Nodes: return format_nodes(reply.node_list(), inv.verbose);
    case Command::RecordStart: return format_record_started(reply.record_started());
    case Command::RecordStop:
    case Command::RecordRecover: return format_record_stopped(reply.record_stopped());
    case Command::Takes: return format_takes(reply.take_list());
    case Command::Status: return format_status(reply.mixer_status());
    case Command::Gain:
    case Command::Pan:
    case Command::Mute:
    case Command::Solo: return format_channel_state(reply.channel_state());
    case Command::Watch: {
      const auto& s = reply.mixer_status();
      std::string line = "watching " + inv.mixer_text + " (tl-mixer " + s.version() + ", " +
                         std::to_string(s.sample_rate()) + " Hz, ";
      line += s.recording() ? "recording " + s.take_name() : std::string("not recording");
      return line + (inv.levels ? ", with levels" : "") + "); Ctrl-C to stop\n";
    }
    case Command::Ping: return format_pong(inv.mixer_text, reply.pong(), rtt_ms);
    case Command::Strip:
    case Command::Master:
    case Command::Bus: return format_strip_state(reply.strip_state());
    case Command::Meters: return "meters\n";
    case Command::Scene: return format_scene_reply(reply.scene_reply());
    case Command::Latency: return format_latency_state(reply.latency_state());
    case Command::Cue: return format_cue_state(reply.cue_state());
  }
  return {};
}

int run(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto token = load_token(inv.token_file);
  if (!token) {
    err << "tlctl: " << token.error() << "\n";
    return kExitUnreachable;
  }
  const Millis timeout(inv.timeout_ms);
  protocol::ControlClient client;
  if (auto s = client.connect(inv.mixer.host, inv.mixer.port, token.value(), tl::proto::CLIENT_CONTROL, "tlctl",
                              timeout);
      !s) {
    err << "tlctl: " << s.error() << "\n";
    return kExitUnreachable;
  }
  if (inv.command == Command::Watch || inv.command == Command::Meters) install_stop_handler();
  if (inv.command == Command::Meters) return meters(inv, client, out, err);

  Millis call_timeout = timeout;
  if ((inv.command == Command::RecordStop || inv.command == Command::RecordRecover) && !inv.timeout_given) {
    call_timeout = Millis(kRecordStopTimeoutMs);
  }
  Envelope request = build_request(inv);
  const std::int64_t sent = monotonic_ns();
  auto reply = client.call(std::move(request), call_timeout);
  const double rtt_ms = static_cast<double>(monotonic_ns() - sent) / 1e6;
  if (!reply) {
    err << "tlctl: " << reply.error() << "\n";
    // An ErrorReply leaves the connection open; a lost connection or silence does not count as an answer.
    return client.connected() && !timed_out(reply.error()) ? kExitMixerError : kExitUnreachable;
  }
  const std::string text = render_reply(inv, reply.value(), rtt_ms);
  if (text.empty()) {
    const auto* body = body_message(reply.value());
    err << "tlctl: unexpected reply from the mixer: "
        << (body != nullptr ? body->GetDescriptor()->name() : std::string("empty envelope")) << "\n";
    return kExitMixerError;
  }
  // watch --json prints only events; its human header says what is being watched.
  if (!(inv.command == Command::Watch && inv.json)) out << text << std::flush;
  if (inv.command == Command::Watch) return watch(inv, client, out, err);
  return kExitOk;
}

int tlctl_main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  ParseOutcome parsed = parse_command_line(args, std::cout, std::cerr);
  if (!parsed.invocation) return parsed.exit_code;
  return run(*parsed.invocation, std::cout, std::cerr);
}

}  // namespace tl::ctl
