#include "tl/ctl/command_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "tl/common/clock.h"
#include "tl/ctl/format.h"
#include "tl/ctl/live.h"
#include "tl/ctl/strip_format.h"
#include "tl/ctl/suggest.h"
#include "tl/ctl/talk_words.h"
#include "tl/ctl/transport_words.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {
namespace {

using tl::proto::Envelope;

constexpr int kRecordStopTimeoutMs = 60000;  // closing a take may wait for spool patches

// ---- requests

//! A request with an empty body ("nodes" sends ListNodes).
template <auto MutableBody>
void ask(const Invocation&, Envelope& env) {
  (env.*MutableBody)();
}

tl::proto::SetChannel* channel_change(const Invocation& inv, Envelope& env) {
  auto* change = env.mutable_set_channel();
  change->set_target(inv.target.str());
  return change;
}

void strip_request(const Invocation& inv, Envelope& env) {
  *env.mutable_set_strip() = inv.strip;
}

void transport_request(const Invocation& inv, Envelope& env, tl::proto::TransportRequest::Action action) {
  auto* t = env.mutable_transport();
  t->set_action(action);
  if (inv.position_given) *t->mutable_position() = inv.position;
}

void scene_request(Envelope& env, const char* action, const std::string& name) {
  env.mutable_scene_request()->set_action(action);
  env.mutable_scene_request()->set_name(name);
}

// ---- renderings

//! The reply's body through its format function.
template <auto Body, auto Format>
std::string show(const Invocation&, const Envelope& reply, double) {
  return Format((reply.*Body)());
}

std::string show_nodes(const Invocation& inv, const Envelope& reply, double) {
  return format_nodes(reply.node_list(), inv.verbose);
}

std::string show_pong(const Invocation& inv, const Envelope& reply, double rtt_ms) {
  return format_pong(inv.mixer_text, reply.pong(), rtt_ms);
}

std::string show_watch_header(const Invocation& inv, const Envelope& reply, double) {
  const auto& s = reply.mixer_status();
  std::string line = "watching " + inv.mixer_text + " (tl-mixer " + s.version() + ", " +
                     std::to_string(s.sample_rate()) + " Hz, ";
  line += s.recording() ? "recording " + s.take_name() : std::string("not recording");
  return line + (inv.levels ? ", with levels" : "") + "); Ctrl-C to stop\n";
}

std::string show_meters_start(const Invocation&, const Envelope&, double) {
  return "meters\n";
}

constexpr auto show_channel = show<&Envelope::channel_state, format_channel_state>;
constexpr auto show_transport = show<&Envelope::transport_state, format_transport>;
constexpr auto show_talk = show<&Envelope::talk_state, format_talk>;
constexpr auto show_backing = show<&Envelope::backing_list, format_backing_list>;
constexpr auto show_record_stopped = show<&Envelope::record_stopped, format_record_stopped>;
constexpr auto show_strip = show<&Envelope::strip_state, format_strip_state>;
constexpr auto show_scene = show<&Envelope::scene_reply, format_scene_reply>;

// ---- checks of what the slots leave to a command

Status strip_change(Invocation& inv, const RawValues& raw, StripKind kind, const std::string& target) {
  auto change = parse_strip_args(raw.words, kind);
  if (!change) return Error{change.error()};
  inv.strip = change.value();
  inv.strip.set_target(target);
  return Status::success();
}

Status check_strip(Invocation& inv, const RawValues& raw) {
  return strip_change(inv, raw, StripKind::Channel, inv.target.str());
}

Status check_master(Invocation& inv, const RawValues& raw) {
  return strip_change(inv, raw, StripKind::Master, "master");
}

Status check_bus(Invocation& inv, const RawValues& raw) {
  const std::string& bus = raw.name;
  const bool named = bus.size() >= 3 && (bus.rfind("bus", 0) == 0 || bus.rfind("fx", 0) == 0);
  if (!named) return Error{"bad bus '" + bus + "': bus1-bus8 (groups), fx1 (reverb) or fx2 (delay)"};
  return strip_change(inv, raw, StripKind::Bus, bus);
}

//! "=-3" (a negative value handed over as a bare value) or "-3": the number.
Result<float> signed_number(const std::string& text) {
  return parse_number(text.starts_with("=") ? text.substr(1) : text);
}

//! `tlctl latency NODE min=MS max=MS | reset`: 0 (or "-") leaves a bound to the mixer.
Result<tl::proto::SetLatency> parse_latency_args(const std::vector<std::string>& words) {
  tl::proto::SetLatency r;
  const std::string usage = " (expected min=MS and/or max=MS, or reset)";
  if (words.size() == 1 && words[0] == "reset") {
    r.set_reset(true);
    return r;
  }
  constexpr protocol::Range bounds = protocol::kLatencyBoundMs;
  bool any = false;
  for (const std::string& w : words) {
    const auto eq = w.find('=');
    const std::string key = eq == std::string::npos ? w : w.substr(0, eq);
    if (eq == std::string::npos || (key != "min" && key != "max")) {
      return Error{"bad latency setting '" + w + "'" + usage};
    }
    const std::string text = w.substr(eq + 1);
    double ms = 0.0;
    if (text != "-") {
      auto v = parse_number(text.size() > 2 && text.ends_with("ms") ? text.substr(0, text.size() - 2) : text);
      if (!v || !bounds.contains(v.value())) {
        return Error{fmt::format("bad latency {} '{}': {}-{} ms", key, text, bounds.lo, bounds.hi)};
      }
      ms = v.value();
    }
    (key == "min" ? r.set_min_ms(ms) : r.set_max_ms(ms));
    any = true;
  }
  if (!any) return Error{"latency needs a setting" + usage};
  if (r.min_ms() > 0.0 && r.max_ms() > 0.0 && r.min_ms() > r.max_ms())
    return Error{"latency min is above max"};
  return r;
}

//! `tlctl cue NODE on | off | show | me DB | level SOURCE DB | limit DBTP`.
Result<tl::proto::SetCue> parse_cue_args(const std::vector<std::string>& words) {
  tl::proto::SetCue r;
  const std::string usage = " (expected on, off, show, me DB, level SOURCE DB, or limit DBTP)";
  const std::string verb = words.empty() ? "show" : words[0];
  const auto level = [&](const std::string& text) -> Status {
    constexpr protocol::Range levels = protocol::kCueLevelDb;
    // "off": the lowest level, which is silence (a cabled or open-mic node's own input).
    auto v = text == "off" ? Result<float>(static_cast<float>(levels.lo)) : signed_number(text);
    if (!v || !levels.contains(v.value())) {
      return Error{fmt::format("bad cue level '{}': off ({}) to {:+} dB", text, levels.lo, levels.hi)};
    }
    r.set_level_db(v.value());
    return Status::success();
  };
  if (verb == "show" && words.size() <= 1) {
    r.set_action(tl::proto::SetCue::SHOW);
  } else if ((verb == "on" || verb == "off") && words.size() == 1) {
    r.set_action(verb == "on" ? tl::proto::SetCue::ON : tl::proto::SetCue::OFF);
  } else if ((verb == "me" && words.size() == 2) || (verb == "level" && words.size() == 3)) {
    r.set_action(tl::proto::SetCue::LEVEL);
    r.set_source(verb == "me" ? "me" : words[1]);
    if (auto ok = level(words.back()); !ok) return Error{ok.error()};
  } else if (verb == "limit" && words.size() == 2) {
    constexpr protocol::Range limits = protocol::kCueLimitDbtp;
    auto v = signed_number(words[1]);
    if (!v || !limits.contains(v.value())) {
      return Error{fmt::format("bad cue limit '{}': {} to {} dBTP", words[1], limits.lo, limits.hi)};
    }
    r.set_action(tl::proto::SetCue::LIMIT);
    r.set_limit_dbtp(v.value());
  } else {
    constexpr std::string_view verbs[] = {"on", "off", "show", "me", "level", "limit"};
    const bool known = std::find(std::begin(verbs), std::end(verbs), verb) != std::end(verbs);
    return Error{"bad cue command '" + verb + "'" + (known ? "" : did_you_mean(verb, verbs)) + usage};
  }
  return r;
}

Status check_latency(Invocation& inv, const RawValues& raw) {
  auto range = parse_latency_args(raw.words);
  if (!range) return Error{range.error()};
  inv.latency = range.value();
  inv.latency.set_node(raw.name);
  return Status::success();
}

Status check_cue(Invocation& inv, const RawValues& raw) {
  auto cue = parse_cue_args(raw.words);
  if (!cue) return Error{cue.error()};
  inv.cue = cue.value();
  inv.cue.set_node(raw.name);
  return Status::success();
}

Status check_tempo(Invocation& inv, const RawValues& raw) {
  auto tempo = parse_tempo(raw.words);
  if (!tempo) return Error{tempo.error()};
  inv.tempo = tempo.value();
  return Status::success();
}

Status check_punch(Invocation& inv, const RawValues& raw) {
  auto punch = parse_punch(raw.words);
  if (!punch) return Error{punch.error()};
  inv.punch = punch.value();
  return Status::success();
}

Status check_loop(Invocation& inv, const RawValues& raw) {
  auto loop = parse_loop(raw.words);
  if (!loop) return Error{loop.error()};
  inv.loop = loop.value();
  return Status::success();
}

Status check_click(Invocation& inv, const RawValues& raw) {
  auto click = parse_click(raw.words);
  if (!click) return Error{click.error()};
  inv.click = click.value();
  return Status::success();
}

Status check_talk(Invocation& inv, const RawValues& raw) {
  const auto given = [](bool g, double v) { return g ? std::optional<double>(v) : std::nullopt; };
  auto talk = parse_talk(raw.words, inv.talk_source, given(inv.talk_level_given, inv.talk_level_db),
                         given(inv.talk_dim_given, inv.talk_dim_db));
  if (!talk) return Error{talk.error()};
  inv.talk = talk.value();
  return Status::success();
}

// ---- the table

const Arg kChannelArg{"target", "NODE/CHANNEL", Slot::Channel, true};
const Arg kChannelFrom1Arg{"target", "NODE/CHANNEL, channel from 1", Slot::Channel, true};
const Arg kStateArg{"state", "on (default) or off", Slot::State};
const Arg kStripWordsArg{"args", "section and values", Slot::Words, true};
const Arg kSceneNameArg{"name", "scene name", Slot::SceneName, true};
constexpr std::string_view kPositionHelp =
    "timeline position: samples (96000), seconds (2.5s) or m:ss.fff (1:30.5)";
const Arg kPositionArg{"position", kPositionHelp, Slot::Position};

const Arg kGlobalOptions[] = {
    {"--mixer", "mixer control address HOST:PORT (default: $TRACKLINK_MIXER, else 127.0.0.1:7400)",
     Slot::Mixer},
    {"--token-file", "file holding the control token (default: $TRACKLINK_TOKEN)", Slot::TokenFile},
    {"--json", "print each reply or event as one JSON object per line", Slot::Json},
    {"--timeout-ms", "connect and reply timeout in ms (default 5000; record stop: 60000 unless given)",
     Slot::TimeoutMs},
    {"-v,--verbose", "more detail (per-channel lines in nodes)", Slot::Verbose},
};

const CommandGroup kGroups[] = {
    {"record", "start or stop a take, recover one a stopped mixer left, or arm a punch"},
    {"backing", "backing tracks: files played into the mix and every cue mix on the transport timeline"},
    {"scene", "save, recall or list mixer scenes (every strip and the master)"},
    {"take", "work on a closed take on the mixer's machine: master it"},
};

const std::vector<CommandSpec>& table() {
  static const std::vector<CommandSpec> rows = {
      {.command = Command::Nodes,
       .name = "nodes",
       .help = "list capture nodes: state, counters, latency (-v: channels)",
       .request = ask<&Envelope::mutable_list_nodes>,
       .reply = Envelope::kNodeList,
       .render = show_nodes},
      {.command = Command::RecordStart,
       .group = "record",
       .name = "start",
       .help = "start recording; prints the take name first",
       .args = {{"--take", "take name (default: take-YYYYmmdd-HHMMSS, chosen by the mixer)", Slot::Take}},
       .request = [](const auto& inv, auto& e) { e.mutable_record_start()->set_take_name(inv.take); },
       .reply = Envelope::kRecordStarted,
       .render = show<&Envelope::record_started, format_record_started>},
      {.command = Command::RecordStop,
       .group = "record",
       .name = "stop",
       .help = "stop recording; prints the take and a line per track",
       .request = ask<&Envelope::mutable_record_stop>,
       .reply = Envelope::kRecordStopped,
       .render = show_record_stopped,
       .reply_timeout_ms = kRecordStopTimeoutMs},
      {.command = Command::RecordRecover,
       .group = "record",
       .name = "recover",
       .help = "complete a take a stopped mixer left unfinished, from its files and its nodes' spools",
       .args = {{"take", "the unfinished take (tlctl takes)", Slot::Take, true},
                {"--skip-absent",
                 "close the tracks of nodes not connected as their files hold them (what they miss is "
                 "listed, with the reason) instead of waiting for them",
                 Slot::SkipAbsent}},
       .request =
           [](const auto& inv, auto& e) {
             e.mutable_record_recover()->set_take_name(inv.take);
             e.mutable_record_recover()->set_skip_absent(inv.skip_absent);
           },
       .reply = Envelope::kRecordStopped,
       .render = show_record_stopped,
       .reply_timeout_ms = kRecordStopTimeoutMs},
      {.command = Command::RecordPunch,
       .group = "record",
       .name = "punch",
       .help = "arm a punch for the takes that start from now: FROM TO [NODE...] (timeline positions; "
               "nodes: the armed ones, default every node) | off. A take still records every input whole; "
               "each pass of the transport through the range is also cut from the armed tracks into "
               "TAKE/punch-N/, with 10 ms fades outside the range (take.json lists the passes)",
       .args = {{"args", "FROM TO [NODE...], or off", Slot::Words, true}},
       .check = check_punch,
       .request = [](const auto& inv, auto& e) { *e.mutable_transport() = inv.punch; },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::Takes,
       .name = "takes",
       .help = "list finished takes",
       .request = ask<&Envelope::mutable_list_takes>,
       .reply = Envelope::kTakeList,
       .render = show<&Envelope::take_list, format_takes>},
      {.command = Command::Status,
       .name = "status",
       .help = "mixer status",
       .request = ask<&Envelope::mutable_get_status>,
       .reply = Envelope::kMixerStatus,
       .render = show<&Envelope::mixer_status, format_status>},
      {.command = Command::Gain,
       .name = "gain",
       .help = "set a channel's gain in dB (negative values welcome)",
       .args = {kChannelFrom1Arg, {"db", "gain in dB, e.g. -6", Slot::GainDb, true}},
       .request = [](const auto& inv, auto& e) { channel_change(inv, e)->set_gain_db(inv.value); },
       .reply = Envelope::kChannelState,
       .render = show_channel},
      {.command = Command::Pan,
       .name = "pan",
       .help = "set a channel's pan, -1 (left) .. 1 (right)",
       .args = {kChannelArg, {"pan", "-1 .. 1", Slot::Pan, true}},
       .request = [](const auto& inv, auto& e) { channel_change(inv, e)->set_pan(inv.value); },
       .reply = Envelope::kChannelState,
       .render = show_channel},
      {.command = Command::Mute,
       .name = "mute",
       .help = "mute a channel (or 'off' to unmute)",
       .args = {kChannelArg, kStateArg},
       .request = [](const auto& inv, auto& e) { channel_change(inv, e)->set_mute(inv.on); },
       .reply = Envelope::kChannelState,
       .render = show_channel},
      {.command = Command::Unmute,
       .name = "unmute",
       .help = "unmute a channel",
       .args = {kChannelArg},
       .request = [](const auto& inv, auto& e) { channel_change(inv, e)->set_mute(false); },
       .reply = Envelope::kChannelState,
       .render = show_channel},
      {.command = Command::Solo,
       .name = "solo",
       .help = "solo a channel (or 'off')",
       .args = {kChannelArg, kStateArg},
       .request = [](const auto& inv, auto& e) { channel_change(inv, e)->set_solo(inv.on); },
       .reply = Envelope::kChannelState,
       .render = show_channel},
      {.command = Command::Unsolo,
       .name = "unsolo",
       .help = "unsolo a channel",
       .args = {kChannelArg},
       .request = [](const auto& inv, auto& e) { channel_change(inv, e)->set_solo(false); },
       .reply = Envelope::kChannelState,
       .render = show_channel},
      {.command = Command::Watch,
       .name = "watch",
       .help = "print events (node changes, faults, takes; --levels: meters) until Ctrl-C",
       .args = {{"--levels", "also level events, about 10 per second", Slot::Levels},
                {"--count", "stop after N events", Slot::Count},
                {"--seconds", "stop after S seconds", Slot::Seconds}},
       .request =
           [](const Invocation& inv, Envelope& e) {
             e.mutable_subscribe()->set_levels(inv.levels);
             e.mutable_subscribe()->set_nodes(true);
           },
       .reply = Envelope::kMixerStatus,
       .render = show_watch_header,
       .after_reply = watch_events},
      {.command = Command::Ping,
       .name = "ping",
       .help = "round trip time and the mixer's session clock",
       .request = [](const auto&, auto& e) { e.mutable_ping()->set_client_time_ns(monotonic_ns()); },
       .reply = Envelope::kPong,
       .render = show_pong},
      {.command = Command::Strip,
       .name = "strip",
       .help =
           "set or show a channel strip: trim DB | phase on|off | delay 1.5ms|SAMPLES | hpf FREQ [slope=24] "
           "| lpf 12k | eq BAND freq=2.5k gain=-3 q=1.2 [type=peak] | comp threshold=-18 ratio=4 attack=10 "
           "release=120 makeup=3 knee=6 [detect=rms] [sc-hpf=100] | gate threshold=-50 range=-40 ... | "
           "SECTION off | show",
       .args = {kChannelFrom1Arg, kStripWordsArg},
       .check = check_strip,
       .request = strip_request,
       .reply = Envelope::kStripState,
       .render = show_strip,
       .negative_words = true},
      {.command = Command::Master,
       .name = "master",
       .help =
           "set or show the master chain: limiter on ceiling=-1 [release=80] | comp ... | eq BAND ... | show",
       .args = {kStripWordsArg},
       .check = check_master,
       .request = strip_request,
       .reply = Envelope::kStripState,
       .render = show_strip,
       .negative_words = true},
      {.command = Command::Bus,
       .name = "bus",
       .help =
           "set or show a group bus (bus1-bus8: a strip joins one with 'strip N/C route bus3') or an effect "
           "return (fx1 reverb, fx2 tempo delay, fed by 'strip N/C send 1|2 level=-10 [pre=on]'): fader DB | "
           "mute on|off | eq BAND ... | comp ... | reverb decay=2.5 predelay=20 damping=6k level=0 (fx1) | "
           "delay bpm=120 division=1/8d feedback=0.4 [damping=4k] [pingpong=on] (fx2) | show",
       .args = {{"target", "bus1-bus8, fx1 or fx2", Slot::Name, true}, kStripWordsArg},
       .check = check_bus,
       .request = strip_request,
       .reply = Envelope::kStripState,
       .render = show_strip,
       .negative_words = true},
      {.command = Command::Meters,
       .name = "meters",
       .help = "live meters: channel peak/rms/gain reduction, master peak, true peak, LUFS",
       .args = {{"--count", "stop after N refreshes", Slot::Count},
                {"--interval-ms", "refresh interval (default 100)", Slot::IntervalMs}},
       .request = ask<&Envelope::mutable_get_status>,
       .reply = Envelope::kMixerStatus,
       .render = show_meters_start,
       .instead = poll_meters},
      {.command = Command::SceneSave,
       .group = "scene",
       .name = "save",
       .help = "save the whole mixer state as NAME",
       .args = {kSceneNameArg},
       .request = [](const auto& inv, auto& e) { scene_request(e, "save", inv.scene_name); },
       .reply = Envelope::kSceneReply,
       .render = show_scene},
      {.command = Command::SceneRecall,
       .group = "scene",
       .name = "recall",
       .help = "apply scene NAME (changes are smoothed)",
       .args = {kSceneNameArg},
       .request = [](const auto& inv, auto& e) { scene_request(e, "recall", inv.scene_name); },
       .reply = Envelope::kSceneReply,
       .render = show_scene},
      {.command = Command::SceneList,
       .group = "scene",
       .name = "list",
       .help = "list saved scenes",
       .request = [](const auto& inv, auto& e) { scene_request(e, "list", inv.scene_name); },
       .reply = Envelope::kSceneReply,
       .render = show_scene},
      {.command = Command::Latency,
       .name = "latency",
       .help =
           "bound the play-out delay a node asks for: NODE min=MS max=MS (0 or -: the mixer's) | NODE reset. "
           "The mix follows the neediest node; a max keeps a node on a bad link from holding the others back "
           "(its late audio is concealed live, and still recorded)",
       .args = {{"node", "node name", Slot::Name, true},
                {"args", "min=MS max=MS, or reset", Slot::Words, true}},
       .check = check_latency,
       .request = [](const auto& inv, auto& e) { *e.mutable_set_latency() = inv.latency; },
       .reply = Envelope::kLatencyState,
       .render = show<&Envelope::latency_state, format_latency_state>},
      {.command = Command::Cue,
       .name = "cue",
       .help =
           "a node's personal cue mix, streamed back to it (tl-capture --cue): NODE on | off | show | me DB "
           "(its own sound, 'more me') | level SOURCE DB (another node). Levels are -60 (off) to +12 dB "
           "against the mix's faders and pans",
       .args = {{"node", "the listening node", Slot::Name, true},
                {"args", "on, off, show, me DB, level SOURCE DB, limit DBTP (its limiter's ceiling)",
                 Slot::Words}},
       .check = check_cue,
       .request = [](const auto& inv, auto& e) { *e.mutable_set_cue() = inv.cue; },
       .reply = Envelope::kCueState,
       .render = show<&Envelope::cue_state, format_cue_state>,
       .negative_words = true},
      {.command = Command::TakeMaster,
       .group = "take",
       .name = "master",
       .help =
           "master a closed take on the mixer's machine, as tl-master would: its tracks mixed through their "
           "strips and automation, the mix to a delivery preset, into TAKE/master/PRESET.wav (an earlier "
           "master is kept: PRESET-2.wav ...). Waits with a progress line; one job at a time",
       .args = {{"take", "a closed take (tlctl takes)", Slot::Take, true},
                {"--preset", "a delivery preset: streaming (default), apple, ebu-r128, atsc-a85, cd or vinyl",
                 Slot::Preset},
                {"--target", "integrated loudness to reach, LUFS, over the preset's (-40 to -5)",
                 Slot::Target},
                {"--no-wait", "start it and return; follow it with --status", Slot::NoWait},
                {"--status", "how the take's job goes (or went); starts nothing", Slot::StatusOnly}},
       .request =
           [](const Invocation& inv, Envelope& e) {
             auto* m = e.mutable_master_take();
             m->set_take_name(inv.take);
             m->set_preset(inv.preset);
             if (inv.target_given) m->set_target_lufs(inv.target_lufs);
             m->set_status_only(inv.status_only);
           },
       .reply = Envelope::kMasterTakeState,
       .render = show<&Envelope::master_take_state, format_master_take>,
       .instead = follow_master},
      {.command = Command::Play,
       .name = "play",
       .help =
           "play the transport from POSITION, or from where it stands: backing tracks play in place on the "
           "timeline (0 is the song's start)",
       .args = {kPositionArg},
       .request = [](const auto& inv,
                     auto& e) { transport_request(inv, e, tl::proto::TransportRequest::PLAY); },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::Stop,
       .name = "stop",
       .help = "stop the transport where it is (recording goes on: tlctl record stop ends a take)",
       .request = [](const auto& inv,
                     auto& e) { transport_request(inv, e, tl::proto::TransportRequest::STOP); },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::Locate,
       .name = "locate",
       .help = "move the transport to POSITION; playing goes on from there",
       .args = {{"position", kPositionHelp, Slot::Position, true}},
       .request = [](const auto& inv,
                     auto& e) { transport_request(inv, e, tl::proto::TransportRequest::LOCATE); },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::Transport,
       .name = "transport",
       .help = "where the transport is, playing or not, its backing tracks' underruns",
       .request = [](const auto& inv,
                     auto& e) { transport_request(inv, e, tl::proto::TransportRequest::STATUS); },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::Tempo,
       .name = "tempo",
       .help = "the song's tempo: BPM (20-400) and beats a bar (1-16, default 4); bar.beat positions (5.1) "
               "and the click follow it; beat 1 of bar 1 is timeline 0",
       .args = {{"args", "BPM [BEATS]", Slot::Words, true}},
       .check = check_tempo,
       .request = [](const auto& inv, auto& e) { *e.mutable_tempo() = inv.tempo; },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::Click,
       .name = "click",
       .help = "a metronome in every cue mix on the beats of the timeline while the transport plays, never "
               "in the main mix or a take: on | off | level DB (-60 to 0 dBFS, its peak; turns it on) | "
               "count-in BARS (0 to 8: each play starts that many bars early, clicking, on or off)",
       .args = {{"args", "on, off, level DB, count-in BARS; nothing: how it stands", Slot::Words}},
       .check = check_click,
       .request = [](const auto& inv, auto& e) { *e.mutable_click() = inv.click; },
       .reply = Envelope::kTransportState,
       .render = show_transport,
       .negative_words = true},
      {.command = Command::Loop,
       .name = "loop",
       .help = "loop the transport: FROM TO (timeline positions, a quarter second apart at least) | off; "
               "from the next play or locate before TO it plays FROM..TO lap after lap, the backing tracks "
               "and the click with it. A take recorded while it loops keeps each lap, cut from every node's "
               "tracks into TAKE/punch-N/ (a punch armed with record punch instead: its passes)",
       .args = {{"args", "FROM TO, or off; nothing: how the transport stands", Slot::Words}},
       .check = check_loop,
       .request = [](const auto& inv, auto& e) { *e.mutable_transport() = inv.loop; },
       .reply = Envelope::kTransportState,
       .render = show_transport},
      {.command = Command::BackingAdd,
       .group = "backing",
       .name = "add",
       .help = "play a WAV, FLAC or AIFF file (on the mixer's machine) in the mix and every cue mix, on "
               "strips of "
               "its own named NAME/1, NAME/2 ... (gain, pan, mute, solo, strip, cue levels); another rate is "
               "resampled; a stereo file starts panned left and right",
       .args = {{"path", "the file, as the mixer's machine sees it", Slot::Path, true},
                {"--at", "where its first frame lies on the timeline (default 0)", Slot::At},
                {"--name", "its name (default: the file's name without extension)", Slot::BackingName}},
       .request =
           [](const auto& inv, auto& e) {
             auto* b = e.mutable_backing();
             b->set_action(tl::proto::BackingRequest::ADD);
             // A relative path is the operator's, from where tlctl runs (the mixer's
             // working folder is not theirs); a mixer on another machine needs its own.
             std::error_code ec;
             const auto absolute = std::filesystem::absolute(inv.path, ec);
             b->set_path(ec ? inv.path : absolute.string());
             b->set_name(inv.backing_name);
             *b->mutable_at() = inv.at;
           },
       .reply = Envelope::kBackingList,
       .render = show_backing},
      {.command = Command::BackingList,
       .group = "backing",
       .name = "list",
       .help = "the backing tracks: channels, length, place on the timeline, file rate, underruns",
       .request = [](const auto&,
                     auto& e) { e.mutable_backing()->set_action(tl::proto::BackingRequest::LIST); },
       .reply = Envelope::kBackingList,
       .render = show_backing},
      {.command = Command::BackingRemove,
       .group = "backing",
       .name = "remove",
       .help = "take a backing track out of the mix from the next block (its strips stay for a later add)",
       .args = {{"name", "the track (tlctl backing list)", Slot::BackingName, true}},
       .request =
           [](const auto& inv, auto& e) {
             e.mutable_backing()->set_action(tl::proto::BackingRequest::REMOVE);
             e.mutable_backing()->set_name(inv.backing_name);
           },
       .reply = Envelope::kBackingList,
       .render = show_backing},
      {.command = Command::Talk,
       .name = "talk",
       .help =
           "talkback: --source talks into the cue mix of each node named (monitor: the mixer's monitor "
           "output), the programme under it dimmed, never into the main mix or a take; talk off [--source] "
           "stops it (or every voice); nothing: who talks. Up to 4 voices at once, one a source. A source "
           "is NODE/CH (a talkback mic, before its fader and mute: mute it in the main mix), device (the "
           "operator's mic on a node named talkback: tl-capture --name talkback --source device) or "
           "file:PATH (a file on the mixer's machine, played once, up to 2 minutes)",
       .args = {{"args", "nodes and/or monitor to talk to; off; nothing: who talks", Slot::Words},
                {"--source", "who talks: NODE/CH, device or file:PATH", Slot::TalkSource},
                {"--level", "the voice's gain, -60 to +12 dB (default 0)", Slot::TalkLevel},
                {"--dim", "the programme's gain under it, -60 to 0 dB (default -20)", Slot::TalkDim}},
       .check = check_talk,
       .request =
           [](const auto& inv, auto& e) {
             tl::proto::TalkRequest talk = inv.talk;
             // A relative file is the operator's, from where tlctl runs (as for backing add).
             constexpr std::string_view kFile = "file:";
             if (talk.source().starts_with(kFile)) {
               std::error_code ec;
               const auto absolute = std::filesystem::absolute(talk.source().substr(kFile.size()), ec);
               if (!ec) talk.set_source(std::string(kFile) + absolute.string());
             }
             *e.mutable_talk() = talk;
           },
       .reply = Envelope::kTalkState,
       .render = show_talk},
  };
  return rows;
}

}  // namespace

bool takes_value(const Arg& arg) {
  const bool flag = arg.slot == Slot::Json || arg.slot == Slot::Verbose || arg.slot == Slot::Levels ||
                    arg.slot == Slot::SkipAbsent || arg.slot == Slot::NoWait || arg.slot == Slot::StatusOnly;
  return arg.name.starts_with("-") && !flag;
}

std::string_view program_help() {
  return "tlctl: the tracklink operator's client. Talks to tl-mixer over the control channel.";
}

std::string_view exit_codes_help() {
  return "Exit codes (the same whichever side, tlctl or the mixer, found the error):\n"
         "  0  done\n"
         "  1  the mixer refused: an unknown node, channel, take or scene, not recording, every cue mix "
         "taken, ...\n"
         "  2  usage: an unknown command or word, a bad value, a value out of range\n"
         "  3  cannot reach the mixer: no token, connection refused or unanswered, access refused,\n"
         "     no reply in time, connection lost";
}

std::span<const Arg> global_options() {
  return kGlobalOptions;
}

std::span<const CommandGroup> command_groups() {
  return kGroups;
}

std::span<const CommandSpec> command_table() {
  return table();
}

const CommandSpec& command_spec(Command command) {
  const auto rows = command_table();
  const auto it =
      std::find_if(rows.begin(), rows.end(), [&](const CommandSpec& c) { return c.command == command; });
  if (it == rows.end()) std::abort();  // every Command has a row
  return *it;
}

}  // namespace tl::ctl
