// Mistyped words: the distance between two words, the command the operator likely meant,
// and the messages that name both.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tl/ctl/commands.h"
#include "tl/ctl/suggest.h"

namespace tl::ctl {
namespace {

TEST(Suggest, EditDistanceCountsEachTypoOnce) {
  EXPECT_EQ(edit_distance("status", "status"), 0u);
  EXPECT_EQ(edit_distance("stauts", "status"), 1u) << "two neighbours swapped";
  EXPECT_EQ(edit_distance("strat", "start"), 1u);
  EXPECT_EQ(edit_distance("nods", "nodes"), 1u) << "a letter left out";
  EXPECT_EQ(edit_distance("gainn", "gain"), 1u) << "a letter too many";
  EXPECT_EQ(edit_distance("pen", "pan"), 1u) << "a letter replaced";
  EXPECT_EQ(edit_distance("", "cue"), 3u);
  EXPECT_EQ(edit_distance("frobnicate", "nodes"), edit_distance("nodes", "frobnicate"));
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestWordIsATyposReachAwayOrTheOnlyOneBegun) {
  const std::vector<std::string_view> known = {"nodes", "record", "takes", "status", "strip", "scene", "cue"};
  EXPECT_EQ(nearest_word("stauts", known), "status");
  EXPECT_EQ(nearest_word("Status", known), "status");
  EXPECT_EQ(nearest_word("nodse", known), "nodes");
  EXPECT_EQ(nearest_word("cu", known), "cue");
  EXPECT_EQ(nearest_word("rec", known), "record") << "the only word it begins";
  EXPECT_EQ(nearest_word("s", known), "") << "one letter begins too many to guess";
  EXPECT_EQ(nearest_word("st", known), "") << "begins status and strip: no guess";
  EXPECT_EQ(nearest_word("frobnicate", known), "");
  EXPECT_EQ(nearest_word("xyz", known), "") << "two edits from cue: too far for a short word";
  EXPECT_EQ(did_you_mean("stauts", known), "; did you mean 'status'?");
  EXPECT_EQ(did_you_mean("frobnicate", known), "");
}

struct Usage {
  int exit_code = -1;
  std::string err;
};

Usage usage(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const ParseOutcome p = parse_command_line(args, out, err);
  EXPECT_FALSE(p.invocation.has_value());
  return {p.exit_code, err.str()};
}

TEST(Suggest, AnUnknownCommandIsNamedWithTheOneMeant) {
  Usage u = usage({"stauts"});
  EXPECT_EQ(u.exit_code, kExitUsage);
  EXPECT_EQ(
      u.err,
      "tlctl: unknown command 'stauts'; did you mean 'status'?\nRun with --help for more information.\n");

  u = usage({"--json", "--mixer", "127.0.0.1:7400", "nodse", "-v"});
  EXPECT_EQ(u.exit_code, kExitUsage);
  EXPECT_NE(u.err.find("unknown command 'nodse'; did you mean 'nodes'?"), std::string::npos) << u.err;

  u = usage({"frobnicate"});
  EXPECT_EQ(u.exit_code, kExitUsage);
  EXPECT_NE(u.err.find("unknown command 'frobnicate' (commands: nodes, record,"), std::string::npos) << u.err;
  EXPECT_NE(
      u.err.find("latency, cue, take, play, stop, locate, transport, tempo, click, loop, backing or talk)"),
      std::string::npos)
      << u.err;
}

TEST(Suggest, AnUnknownWordOfAGroupIsNamedWithTheGroup) {
  Usage u = usage({"record", "strat"});
  EXPECT_EQ(u.exit_code, kExitUsage);
  EXPECT_NE(u.err.find("unknown command 'record strat'; did you mean 'record start'?"), std::string::npos)
      << u.err;
  u = usage({"scene", "lst", "--json"});
  EXPECT_NE(u.err.find("unknown command 'scene lst'; did you mean 'scene list'?"), std::string::npos)
      << u.err;
  u = usage({"record", "frobnicate"});
  EXPECT_NE(u.err.find("unknown command 'record frobnicate' (record: start, stop, recover or punch)"),
            std::string::npos)
      << u.err;
  u = usage({"record"});
  EXPECT_EQ(u.exit_code, kExitUsage);
  EXPECT_NE(u.err.find("record needs a command: start, stop, recover or punch"), std::string::npos) << u.err;
  u = usage({"--timeout-ms", "100"});
  EXPECT_EQ(u.exit_code, kExitUsage);
  EXPECT_NE(u.err.find("give a command: nodes,"), std::string::npos) << u.err;
}

TEST(Suggest, MistypedCueVerbsStripSectionsAndKeysAreNamed) {
  EXPECT_NE(usage({"cue", "singer", "mee", "+6"}).err.find("'mee'; did you mean 'me'?"), std::string::npos);
  EXPECT_NE(usage({"strip", "a/1", "eqq", "2", "freq=1k"}).err.find("'eqq'; did you mean 'eq'?"),
            std::string::npos);
  EXPECT_NE(usage({"strip", "a/1", "eq", "2", "frq=1k"}).err.find("'frq' for eq; did you mean 'freq'?"),
            std::string::npos);
  EXPECT_NE(usage({"master", "limitr", "on"}).err.find("did you mean 'limiter'?"), std::string::npos);
}

TEST(Suggest, HelpStillAnswersBeforeAnyCommand) {
  std::ostringstream out;
  std::ostringstream err;
  const ParseOutcome p = parse_command_line({"record", "--help"}, out, err);
  EXPECT_EQ(p.exit_code, kExitOk) << err.str();
  EXPECT_NE(out.str().find("recover"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace tl::ctl
