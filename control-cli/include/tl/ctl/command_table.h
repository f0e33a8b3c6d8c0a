#pragma once
//! The table of tlctl's commands. A row says how a command is written (its words, help and
//! arguments), what it checks, the request it sends, the reply that answers it and how that
//! reply reads. The command line, build_request, render_reply and run are derived from it:
//! a new command is a new row.

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/ctl/commands.h"

namespace tl::protocol {
class ControlClient;
}

namespace tl::ctl {

//! Where an argument's value goes, and how it is read and checked.
enum class Slot {
  Mixer,        //!< --mixer HOST:PORT
  TokenFile,    //!< --token-file
  Json,         //!< --json (a flag)
  TimeoutMs,    //!< --timeout-ms, positive
  Verbose,      //!< -v,--verbose (a flag)
  Channel,      //!< NODE/CHANNEL, into Invocation::target
  Name,         //!< a node or bus name, read by the row's check
  GainDb,       //!< dB, or -inf for silence, into Invocation::value
  Pan,          //!< -1 .. 1, into Invocation::value
  State,        //!< on or off, into Invocation::on
  Words,        //!< the rest of the line, read by the row's check
  Take,         //!< a take name
  SceneName,    //!< a scene name
  Levels,       //!< watch --levels (a flag)
  Count,        //!< stop after N
  Seconds,      //!< stop after S seconds, positive
  IntervalMs,   //!< refresh interval, positive
  SkipAbsent,   //!< record recover --skip-absent (a flag)
  Preset,       //!< take master --preset NAME
  Target,       //!< take master --target LUFS
  NoWait,       //!< take master --no-wait (a flag)
  StatusOnly,   //!< take master --status (a flag)
  Position,     //!< play, locate: a timeline position (samples, 2.5s, m:ss.fff)
  Path,         //!< backing add: a file on the mixer's machine
  At,           //!< backing add --at POSITION
  BackingName,  //!< backing add --name, backing remove NAME
  TalkSource,   //!< talk --source NODE/CH | device | file:PATH
  TalkLevel,    //!< talk --level DB
  TalkDim,      //!< talk --dim DB
};

//! One argument: a name starting with '-' is an option, anything else a positional.
struct Arg {
  std::string_view name;
  std::string_view help;
  Slot slot;
  bool required = false;
};

//! True for the options that take a value ("--mixer HOST:PORT"), false for flags and positionals.
bool takes_value(const Arg& arg);

//! Positional values, kept as text until the command line has parsed, then read by their
//! slot and by the row's check.
struct RawValues {
  std::string name;                //!< Slot::Channel, Slot::Name
  std::string value;               //!< Slot::GainDb, Slot::Pan
  std::string state;               //!< Slot::State
  std::vector<std::string> words;  //!< Slot::Words
};

//! A command that keeps printing after (or instead of) one reply; returns the exit code.
using LiveView = int (*)(const Invocation& inv, protocol::ControlClient& client, std::ostream& out,
                         std::ostream& err);

//! One tlctl command.
struct CommandSpec {
  Command command;
  std::string_view group;  //!< "record" or "scene": the word before the command's name; or empty
  std::string_view name;
  std::string_view help;
  std::vector<Arg> args;
  //! Reads what the slots leave to the command (Slot::Words, Slot::Name); nullptr: nothing.
  Status (*check)(Invocation& inv, const RawValues& raw) = nullptr;
  void (*request)(const Invocation& inv, tl::proto::Envelope& env) = nullptr;
  tl::proto::Envelope::BodyCase reply = tl::proto::Envelope::BODY_NOT_SET;
  //! The human text of a reply that fits (--json prints the reply itself).
  std::string (*render)(const Invocation& inv, const tl::proto::Envelope& reply, double rtt_ms) = nullptr;
  bool negative_words = false;     //!< negative values among the words reach check() as "=-3"
  int reply_timeout_ms = 0;        //!< how long the reply may take unless --timeout-ms says; 0: --timeout-ms
  LiveView after_reply = nullptr;  //!< prints events after the reply, which --json leaves out
  LiveView instead = nullptr;      //!< runs on its own instead of one request and reply
};

//! A word that only groups commands ("record start", "scene save").
struct CommandGroup {
  std::string_view name;
  std::string_view help;
};

//! The first line of `tlctl --help`.
std::string_view program_help();

//! The end of `tlctl --help`: the exit codes.
std::string_view exit_codes_help();

//! The options every command takes, before or after its words.
std::span<const Arg> global_options();

std::span<const CommandGroup> command_groups();

//! Every command, in the order `tlctl --help` lists them.
std::span<const CommandSpec> command_table();

//! The row of a command.
const CommandSpec& command_spec(Command command);

}  // namespace tl::ctl
