// The command table: one complete row per command, and the help derived from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "tl/ctl/command_table.h"
#include "tl/ctl/commands.h"

namespace tl::ctl {
namespace {

std::string help_of(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const ParseOutcome p = parse_command_line(args, out, err);
  EXPECT_FALSE(p.invocation.has_value());
  EXPECT_EQ(p.exit_code, kExitOk) << err.str();
  return out.str();
}

TEST(CommandTable, EveryCommandHasOneCompleteRow) {
  const auto rows = command_table();
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(Command::Talk) + 1) << "Talk is the last Command";
  std::set<Command> seen;
  for (const CommandSpec& row : rows) {
    EXPECT_TRUE(seen.insert(row.command).second) << row.name << " has a second row";
    EXPECT_EQ(&command_spec(row.command), &row) << row.name;
    EXPECT_FALSE(row.help.empty()) << row.name;
    EXPECT_NE(row.request, nullptr) << row.name;
    EXPECT_NE(row.reply, tl::proto::Envelope::BODY_NOT_SET) << row.name;
    EXPECT_NE(row.render, nullptr) << row.name;
    if (row.group.empty()) continue;
    const auto groups = command_groups();
    EXPECT_TRUE(
        std::any_of(groups.begin(), groups.end(), [&](const CommandGroup& g) { return g.name == row.group; }))
        << row.group << " is not in command_groups()";
  }
}

TEST(CommandTable, HelpNamesEveryCommandWithItsRowsWords) {
  const std::string top = help_of({"--help"});
  for (const CommandSpec& row : command_table()) {
    const std::string word(row.group.empty() ? row.name : row.group);
    EXPECT_NE(top.find("\n  " + word + " "), std::string::npos) << word << " missing in\n" << top;
    std::vector<std::string> args;
    if (!row.group.empty()) args.emplace_back(row.group);
    args.emplace_back(row.name);
    args.emplace_back("--help");
    const std::string own = help_of(args);
    EXPECT_EQ(own.rfind(std::string(row.help), 0), 0u) << own;
    for (const Arg& a : row.args) EXPECT_NE(own.find(std::string(a.help)), std::string::npos) << own;
  }
}

TEST(CommandTable, EveryOptionWithAValueKeepsANegativeValue) {
  using V = std::vector<std::string>;
  EXPECT_EQ(protect_negative_numbers({"meters", "--interval-ms", "-5"}),
            (V{"meters", "--interval-ms", "-5"}));
  EXPECT_EQ(protect_negative_numbers({"watch", "--seconds", "-1"}), (V{"watch", "--seconds", "-1"}));
}

}  // namespace
}  // namespace tl::ctl
