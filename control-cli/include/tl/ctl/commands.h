#pragma once
//! tlctl's command line and the requests it sends: parse, then run against a mixer. Each
//! command is one row of the command table (command_table.h): its words, help, arguments,
//! request, reply and rendering.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tl/common/address.h"
#include "tl/ctl/target.h"
#include "tl/protocol/control.pb.h"

namespace tl::ctl {

//! Exit codes of tlctl: one per kind of error, whichever side found it.
enum ExitCode : int {
  kExitOk = 0,
  kExitMixerError = 1,   //!< the mixer refused (unknown node, not recording, ...)
  kExitUsage = 2,        //!< an unknown word, a bad value, a value out of range
  kExitUnreachable = 3,  //!< cannot connect, no token, authentication refused, no answer
};

//! The exit code of a call the mixer did not answer with its reply: by the code of its
//! ErrorReply (a value it found bad is a usage error, as if tlctl had found it), or, with
//! no ErrorReply, kExitUnreachable (no reply in time, connection lost).
int exit_code_of_failed_call(std::optional<tl::proto::ErrorReply::Code> refusal);

//! Every tlctl command: one row each in the command table.
enum class Command {
  Nodes,
  RecordStart,
  RecordStop,
  RecordRecover,
  RecordPunch,
  Takes,
  Status,
  Gain,
  Pan,
  Mute,
  Unmute,
  Solo,
  Unsolo,
  Watch,
  Ping,
  Strip,
  Master,
  Bus,
  Meters,
  SceneSave,
  SceneRecall,
  SceneList,
  Latency,
  Cue,
  TakeMaster,
  Play,
  Stop,
  Locate,
  Transport,
  Tempo,
  Click,
  Loop,
  BackingAdd,
  BackingList,
  BackingRemove,
  Talk,  // the last: CommandTable.EveryCommandHasOneCompleteRow counts the rows by it
};

//! One parsed command line.
struct Invocation {
  std::string mixer_text;  //!< as given ("127.0.0.1:7400")
  HostPort mixer;
  std::string token_file;  //!< empty: TRACKLINK_TOKEN
  bool json = false;
  int timeout_ms = 5000;
  bool timeout_given = false;  //!< --timeout-ms was on the command line
  bool verbose = false;
  Command command = Command::Status;
  std::string take;               //!< record start --take, record recover TAKE
  Target target;                  //!< gain, pan, mute, unmute, solo, unsolo, strip
  float value = 0.0f;             //!< gain dB or pan
  bool on = true;                 //!< mute, solo: the state given (on unless 'off')
  bool levels = false;            //!< watch --levels
  bool skip_absent = false;       //!< record recover --skip-absent
  std::uint64_t count = 0;        //!< watch --count (0: unlimited)
  double seconds = 0.0;           //!< watch --seconds (0: unlimited)
  tl::proto::SetStrip strip;      //!< strip, master and bus: the change (or "show")
  int interval_ms = 100;          //!< meters --interval-ms
  std::string scene_name;         //!< scene save and recall
  tl::proto::SetLatency latency;  //!< latency: the node's range
  tl::proto::SetCue cue;          //!< cue: a node's personal cue mix
  std::string preset;             //!< take master --preset (empty: the mixer's default)
  double target_lufs = 0.0;       //!< take master --target, when target_given
  bool target_given = false;
  bool no_wait = false;                  //!< take master --no-wait
  bool status_only = false;              //!< take master --status
  std::string position_text;             //!< play, locate: POSITION as written
  tl::proto::TimelinePosition position;  //!< ... as read (when position_given)
  bool position_given = false;
  tl::proto::TempoRequest tempo;      //!< tempo BPM [BEATS]
  tl::proto::ClickRequest click;      //!< click [on | off | level DB | count-in BARS]
  tl::proto::TransportRequest punch;  //!< record punch FROM TO [NODE...] | off
  tl::proto::TransportRequest loop;   //!< loop [FROM TO | off]
  std::string path;                   //!< backing add PATH
  std::string backing_name;           //!< backing add --name, backing remove NAME
  std::string at_text;                //!< backing add --at POSITION as written
  tl::proto::TimelinePosition at;     //!< ... as read (samples 0 when not given)
  std::string talk_source;            //!< talk --source
  double talk_level_db = 0.0;         //!< talk --level, when talk_level_given
  double talk_dim_db = 0.0;           //!< talk --dim, when talk_dim_given
  bool talk_level_given = false, talk_dim_given = false;
  tl::proto::TalkRequest talk;  //!< talk [TO... | off]
};

struct ParseOutcome {
  std::optional<Invocation> invocation;  //!< set when the command should run
  int exit_code = kExitOk;               //!< when not: 0 after --help, 2 on usage errors
};

//! Parses tlctl's arguments (without the program name). Help goes to out, usage
//! errors to err (CLI11's message, or "tlctl: ..." for a bad value).
ParseOutcome parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

//! Rewrites argv (without the program name) so that negative numbers reach the
//! subcommands as positional values: from the first negative-number positional on,
//! options are moved before an inserted "--" and the positionals follow it in order.
//! The values of options that take one (the command table's) are left in place.
//! Arguments without negative numbers, or with their own "--", are returned unchanged.
std::vector<std::string> protect_negative_numbers(const std::vector<std::string>& args);

//! The request envelope for a command (request_id left for the client to assign).
tl::proto::Envelope build_request(const Invocation& inv);

//! The body message of an envelope (its oneof), or nullptr when it has none.
const google::protobuf::Message* body_message(const tl::proto::Envelope& env);

//! Renders a reply for the operator (human text or one JSON line). Empty when the
//! reply does not fit the command.
std::string render_reply(const Invocation& inv, const tl::proto::Envelope& reply, double rtt_ms = 0.0);

//! Connects, sends the request, prints the reply; returns the exit code.
int run(const Invocation& inv, std::ostream& out, std::ostream& err);

//! The whole program: parse, run.
int tlctl_main(int argc, char** argv);

}  // namespace tl::ctl
