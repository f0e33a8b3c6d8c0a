// tlctl's command line, built from the command table: CLI11 set-up, the arguments' slots,
// and the handling of negative values.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <set>
#include <type_traits>
#include <variant>

#include "tl/common/cli_range.h"
#include "tl/common/version.h"
#include "tl/ctl/command_table.h"
#include "tl/ctl/commands.h"
#include "tl/ctl/suggest.h"
#include "tl/ctl/transport_words.h"
#include "tl/protocol/names.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {
namespace {

constexpr int kMaxTimeoutMs = 600'000;       // --timeout-ms: ten minutes
constexpr double kMaxWatchSeconds = 86'400;  // watch --seconds: a day (no --seconds: until Ctrl-C)
constexpr int kMaxIntervalMs = 60'000;       // meters --interval-ms

//! The names of the options that take a value, of the given arguments.
std::set<std::string> value_options(std::span<const Arg> args) {
  std::set<std::string> names;
  for (const Arg& a : args) {
    if (takes_value(a)) names.emplace(a.name);
  }
  return names;
}

//! Every option of tlctl that takes a value: the global ones and the commands'.
const std::set<std::string>& all_value_options() {
  static const std::set<std::string> names = [] {
    std::set<std::string> all = value_options(global_options());
    for (const CommandSpec& c : command_table()) all.merge(value_options(c.args));
    return all;
  }();
  return names;
}

//! Where CLI11 puts an argument's value: a flag's bool, an option's typed value, or the
//! text of a positional that read_slot() checks later.
using Storage = std::variant<bool*, int*, std::uint64_t*, double*, std::string*, std::vector<std::string>*>;

Storage storage(Slot slot, Invocation& inv, RawValues& raw) {
  switch (slot) {
    case Slot::Mixer:
      return &inv.mixer_text;
    case Slot::TokenFile:
      return &inv.token_file;
    case Slot::Json:
      return &inv.json;
    case Slot::TimeoutMs:
      return &inv.timeout_ms;
    case Slot::Verbose:
      return &inv.verbose;
    case Slot::Channel:
    case Slot::Name:
      return &raw.name;
    case Slot::GainDb:
    case Slot::Pan:
      return &raw.value;
    case Slot::State:
      return &raw.state;
    case Slot::Words:
      return &raw.words;
    case Slot::Take:
      return &inv.take;
    case Slot::SceneName:
      return &inv.scene_name;
    case Slot::Levels:
      return &inv.levels;
    case Slot::SkipAbsent:
      return &inv.skip_absent;
    case Slot::Count:
      return &inv.count;
    case Slot::Seconds:
      return &inv.seconds;
    case Slot::IntervalMs:
      return &inv.interval_ms;
    case Slot::Preset:
      return &inv.preset;
    case Slot::Target:
      return &inv.target_lufs;
    case Slot::NoWait:
      return &inv.no_wait;
    case Slot::StatusOnly:
      return &inv.status_only;
    case Slot::Position:
      return &inv.position_text;
    case Slot::Path:
      return &inv.path;
    case Slot::At:
      return &inv.at_text;
    case Slot::BackingName:
      return &inv.backing_name;
    case Slot::TalkSource:
      return &inv.talk_source;
    case Slot::TalkLevel:
      return &inv.talk_level_db;
    case Slot::TalkDim:
      return &inv.talk_dim_db;
  }
  std::abort();  // every slot has a place
}

//! Adds an argument to a command (or the program) with its value bound to its slot.
CLI::Option* bind(CLI::App& app, const Arg& a, Invocation& inv, RawValues& raw) {
  const std::string name(a.name);
  const std::string help(a.help);
  return std::visit(
      [&](auto* where) {
        if constexpr (std::is_same_v<decltype(where), bool*>) {
          return app.add_flag(name, *where, help);
        } else {
          CLI::Option* o = app.add_option(name, *where, help);
          if (a.slot == Slot::TimeoutMs) o->check(in_range(1, kMaxTimeoutMs, "ms"));
          if (a.slot == Slot::Seconds) o->check(in_range(0.001, kMaxWatchSeconds, "s"));
          if (a.slot == Slot::IntervalMs) o->check(in_range(10, kMaxIntervalMs, "ms"));
          if (a.slot == Slot::Target) {
            constexpr protocol::Range target = protocol::kMasterTargetLufs;
            o->check(in_range(target.lo, target.hi, "LUFS"));
            o->each([&inv](const std::string&) { inv.target_given = true; });
          }
          if (a.slot == Slot::TalkLevel) o->each([&inv](const std::string&) { inv.talk_level_given = true; });
          if (a.slot == Slot::TalkDim) o->each([&inv](const std::string&) { inv.talk_dim_given = true; });
          if (a.required) o->required();
          return o;
        }
      },
      storage(a.slot, inv, raw));
}

//! Reads and checks a positional kept as text (the others CLI11 has read and checked).
Status read_slot(const Arg& a, Invocation& inv, const RawValues& raw) {
  constexpr protocol::Range pan = protocol::kPan;
  switch (a.slot) {
    case Slot::Channel: {
      auto t = parse_target(raw.name);
      if (!t) return Error{t.error()};
      inv.target = t.value();
      break;
    }
    case Slot::GainDb: {
      constexpr protocol::Range gain = protocol::kGainDb;
      auto v = parse_number(raw.value, true);
      if (!v) return Error{"bad gain: " + v.error() + " (dB, e.g. -6 or 3.5; -inf for silence)"};
      if (!gain.contains(v.value())) {
        return Error{fmt::format("bad gain '{}': gain must be between -inf ({}) and {:+} dB", raw.value,
                                 gain.lo, gain.hi)};
      }
      inv.value = v.value();
      break;
    }
    case Slot::Pan: {
      auto v = parse_number(raw.value);
      if (!v) return Error{fmt::format("bad pan: {} ({} left .. {} right)", v.error(), pan.lo, pan.hi)};
      if (!pan.contains(v.value())) {
        return Error{fmt::format("bad pan '{}': pan must be between {} (left) and {} (right)", raw.value,
                                 pan.lo, pan.hi)};
      }
      inv.value = v.value();
      break;
    }
    case Slot::Take:
      if (!inv.take.empty() && !protocol::valid_take_name(inv.take)) {
        return Error{"bad take name '" + inv.take + "': use 1-64 of A-Z a-z 0-9 - _ . (not . or ..)"};
      }
      break;
    case Slot::SceneName:
      if (!protocol::valid_scene_name(inv.scene_name)) {
        return Error{"bad scene name '" + inv.scene_name +
                     "': use 1-64 of A-Z a-z 0-9 - _ . (not starting with .)"};
      }
      break;
    case Slot::Position:
    case Slot::At: {
      const std::string& text = a.slot == Slot::Position ? inv.position_text : inv.at_text;
      if (text.empty()) break;
      auto p = parse_position(text);
      if (!p) return Error{p.error()};
      (a.slot == Slot::Position ? inv.position : inv.at) = p.value();
      inv.position_given = inv.position_given || a.slot == Slot::Position;
      break;
    }
    case Slot::BackingName:
      if (!inv.backing_name.empty() && !protocol::valid_node_name(inv.backing_name)) {
        return Error{"bad backing track name '" + inv.backing_name + "': use 1-32 of A-Z a-z 0-9 - _ ."};
      }
      break;
    case Slot::State: {
      if (raw.state.empty()) break;
      auto s = parse_switch(raw.state);
      if (!s) return Error{"bad state: " + s.error()};
      inv.on = s.value();
      break;
    }
    default:
      break;
  }
  return Status::success();
}

Result<Invocation> finish(Invocation inv, const CommandSpec& spec, const RawValues& raw) {
  auto hp = parse_host_port(inv.mixer_text);
  if (!hp) return Error{"bad --mixer '" + inv.mixer_text + "': " + hp.error()};
  inv.mixer = hp.value();
  for (const Arg& a : spec.args) {
    if (auto read = read_slot(a, inv, raw); !read) return Error{read.error()};
  }
  if (spec.check != nullptr) {
    if (auto checked = spec.check(inv, raw); !checked) return Error{checked.error()};
  }
  return inv;
}

//! Adds every command of the table to the program, under its group's word where it has one.
//! Returns each row with its subcommand.
std::vector<std::pair<const CommandSpec*, CLI::App*>> add_commands(CLI::App& app, Invocation& inv,
                                                                   RawValues& raw) {
  std::vector<std::pair<std::string_view, CLI::App*>> groups;
  std::vector<std::pair<const CommandSpec*, CLI::App*>> commands;
  for (const CommandSpec& c : command_table()) {
    CLI::App* parent = &app;
    if (!c.group.empty()) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const auto& known) { return known.first == c.group; });
      if (g == groups.end()) {
        const auto all = command_groups();
        const auto spec =
            std::find_if(all.begin(), all.end(), [&](const CommandGroup& s) { return s.name == c.group; });
        if (spec == all.end()) std::abort();  // every group a row names is in command_groups()
        CLI::App* added = app.add_subcommand(std::string(c.group), std::string(spec->help));
        added->require_subcommand(1);
        g = groups.insert(groups.end(), {c.group, added});
      }
      parent = g->second;
    }
    CLI::App* sub = parent->add_subcommand(std::string(c.name), std::string(c.help));
    for (const Arg& a : c.args) bind(*sub, a, inv, raw);
    commands.emplace_back(&c, sub);
  }
  return commands;
}

//! The values of a command whose words may be negative ("strip N/C trim -3") are handed
//! over as "=-3" (a bare value) so that they never look like options.
std::vector<std::string> mark_negative_words(std::vector<std::string> given) {
  static const std::set<std::string> global = value_options(global_options());
  const auto rows = command_table();
  for (std::size_t i = 0; i < given.size(); ++i) {
    const auto row = std::find_if(rows.begin(), rows.end(), [&](const CommandSpec& c) {
      return c.group.empty() && c.name == given[i];
    });
    if (row != rows.end()) {
      if (!row->negative_words) break;
      for (std::size_t j = i + 1; j < given.size(); ++j) {
        if (is_negative_number(given[j])) given[j] = "=" + given[j];
      }
      break;
    }
    if (given[i].empty() || given[i][0] != '-') break;  // another subcommand
    if (global.count(given[i]) != 0) ++i;
  }
  return given;
}

//! The words that name commands: the top level's (commands and groups, in the table's
//! order), or those of one group ("record": start, stop, recover).
std::vector<std::string_view> command_words(std::string_view group) {
  std::vector<std::string_view> words;
  for (const CommandSpec& c : command_table()) {
    std::string_view word;
    if (group.empty()) {
      word = c.group.empty() ? c.name : c.group;
    } else if (c.group == group) {
      word = c.name;
    }
    if (!word.empty() && std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
  }
  return words;
}

//! "a, b or c".
std::string listed(const std::vector<std::string_view>& words) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) {
    text += i == 0 ? "" : i + 1 == words.size() ? " or " : ", ";
    text += words[i];
  }
  return text;
}

//! Checks the command's words before CLI11 does, which says only "A subcommand is
//! required" for a word it does not know: the message names the word and the command
//! the operator likely meant ("unknown command 'stauts'; did you mean 'status'?").
Status check_command_words(const std::vector<std::string>& args) {
  static const std::set<std::string> global = value_options(global_options());
  std::string group;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      if (a == "-h" || a == "--help" || a == "--version") return Status::success();  // CLI11 answers
      if (global.count(a) != 0) ++i;                                                 // its value
      continue;
    }
    const std::vector<std::string_view> known = command_words(group);
    if (std::find(known.begin(), known.end(), a) == known.end()) {
      const std::string prefix = group.empty() ? "" : group + " ";
      const std::string_view nearest = nearest_word(a, known);
      if (!nearest.empty()) {
        return Error{"unknown command '" + prefix + a + "'; did you mean '" + prefix + std::string(nearest) +
                     "'?"};
      }
      return Error{"unknown command '" + prefix + a + "' (" + (group.empty() ? "commands" : group) + ": " +
                   listed(known) + ")"};
    }
    if (!group.empty() || command_words(a).empty()) return Status::success();
    group = a;
  }
  if (!group.empty()) return Error{group + " needs a command: " + listed(command_words(group))};
  return Error{"give a command: " + listed(command_words(""))};
}

}  // namespace

std::vector<std::string> protect_negative_numbers(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--") != args.end()) return args;
  const std::set<std::string>& value_options = all_value_options();
  std::size_t first_negative = args.size();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (is_negative_number(a)) {
      first_negative = i;
      break;
    }
    if (value_options.count(a) != 0) ++i;  // skip the option's value
  }
  if (first_negative == args.size()) return args;

  std::vector<std::string> out(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(first_negative));
  std::vector<std::string> positionals;
  for (std::size_t i = first_negative; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (is_negative_number(a) || a.size() < 2 || a.front() != '-') {
      positionals.push_back(a);
      continue;
    }
    out.push_back(a);
    if (value_options.count(a) != 0 && i + 1 < args.size()) out.push_back(args[++i]);
  }
  out.push_back("--");
  out.insert(out.end(), positionals.begin(), positionals.end());
  return out;
}

ParseOutcome parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Invocation inv;
  RawValues raw;
  const char* env_mixer = std::getenv("TRACKLINK_MIXER");
  inv.mixer_text = env_mixer != nullptr && *env_mixer != '\0' ? env_mixer : "127.0.0.1:7400";

  CLI::App app{std::string(program_help()), "tlctl"};
  app.set_version_flag("--version", std::string(kTracklinkVersion));
  app.footer(std::string(exit_codes_help()));
  app.fallthrough();  // global options may follow the subcommand
  app.require_subcommand(1);
  CLI::Option* timeout = nullptr;
  for (const Arg& a : global_options()) {
    CLI::Option* o = bind(app, a, inv, raw);
    if (a.slot == Slot::TimeoutMs) timeout = o;
  }
  const auto commands = add_commands(app, inv, raw);
  if (auto words = check_command_words(args); !words) {
    err << "tlctl: " << words.error() << "\nRun with --help for more information.\n";
    return {std::nullopt, kExitUsage};
  }

  std::vector<std::string> reversed = protect_negative_numbers(mark_negative_words(args));
  std::reverse(reversed.begin(), reversed.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return {std::nullopt, code == 0 ? kExitOk : kExitUsage};
  }
  inv.timeout_given = timeout->count() > 0;

  const auto chosen =
      std::find_if(commands.begin(), commands.end(), [](const auto& c) { return c.second->parsed(); });
  if (chosen == commands.end()) std::abort();  // CLI11 requires a command, and each group one of its own
  inv.command = chosen->first->command;
  auto done = finish(std::move(inv), *chosen->first, raw);
  if (!done) {
    err << "tlctl: " << done.error() << "\nRun with --help for more information.\n";
    return {std::nullopt, kExitUsage};
  }
  return {std::move(done.value()), kExitOk};
}

}  // namespace tl::ctl
