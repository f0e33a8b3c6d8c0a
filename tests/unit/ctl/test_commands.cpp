// The command line: what each command sends, and tlctl's exit codes as a process.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tl/ctl/commands.h"

namespace tl::ctl {
namespace {

struct Parsed {
  ParseOutcome outcome;
  std::string out;
  std::string err;
};

Parsed parse(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Parsed p{parse_command_line(args, out, err), "", ""};
  p.out = out.str();
  p.err = err.str();
  return p;
}

Invocation must_parse(const std::vector<std::string>& args) {
  Parsed p = parse(args);
  EXPECT_TRUE(p.outcome.invocation.has_value()) << p.err;
  if (!p.outcome.invocation) return {};
  return std::move(*p.outcome.invocation);
}

TEST(CommandLine, NegativeGainIsAValueNotAnOption) {
  for (const char* v : {"-6", "-6.000000", "-0.5", "-.5"}) {
    const Invocation inv = must_parse({"--mixer", "127.0.0.1:7400", "gain", "room-a/1", v});
    EXPECT_EQ(inv.command, Command::Gain);
    EXPECT_EQ(inv.target.str(), "room-a/1");
    EXPECT_FLOAT_EQ(inv.value, std::stof(v));
  }
  EXPECT_FLOAT_EQ(must_parse({"gain", "room-a/1", "-inf"}).value, -150.0f);
}

TEST(CommandLine, CueCommandsAndTheirLevels) {
  Invocation inv = must_parse({"cue", "singer", "me", "-3"});
  EXPECT_EQ(inv.command, Command::Cue);
  EXPECT_EQ(inv.cue.node(), "singer");
  EXPECT_EQ(inv.cue.action(), tl::proto::SetCue::LEVEL);
  EXPECT_EQ(inv.cue.source(), "me");
  EXPECT_FLOAT_EQ(inv.cue.level_db(), -3.0f);
  inv = must_parse({"cue", "singer", "level", "drums", "+4.5"});
  EXPECT_EQ(inv.cue.source(), "drums");
  EXPECT_FLOAT_EQ(inv.cue.level_db(), 4.5f);
  inv = must_parse({"cue", "singer", "me", "off"});  // a cabled node's own input out of its cue
  EXPECT_EQ(inv.cue.action(), tl::proto::SetCue::LEVEL);
  EXPECT_FLOAT_EQ(inv.cue.level_db(), -60.0f);
  EXPECT_EQ(must_parse({"cue", "singer"}).cue.action(), tl::proto::SetCue::SHOW);
  EXPECT_EQ(must_parse({"cue", "singer", "off"}).cue.action(), tl::proto::SetCue::OFF);
  inv = must_parse({"cue", "singer", "limit", "-3"});
  EXPECT_EQ(inv.cue.action(), tl::proto::SetCue::LIMIT);
  EXPECT_FLOAT_EQ(inv.cue.limit_dbtp(), -3.0f);
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"cue", "singer", "me", "+13"},
                                              {"cue", "singer", "level", "drums"},
                                              {"cue", "singer", "loud"},
                                              {"cue", "singer", "me", "x"},
                                              {"cue", "singer", "limit", "+1"},
                                              {"cue", "singer", "limit", "-41"},
                                              {"cue", "singer", "limit"}}) {
    EXPECT_EQ(parse(bad).outcome.exit_code, 2) << bad.back();
  }
}

TEST(CommandLine, NegativePanWithGlobalOptionsAfterIt) {
  const Invocation inv = must_parse({"pan", "room-a/2", "-0.5", "--json", "--timeout-ms", "250", "-v"});
  EXPECT_EQ(inv.command, Command::Pan);
  EXPECT_FLOAT_EQ(inv.value, -0.5f);
  EXPECT_TRUE(inv.json);
  EXPECT_TRUE(inv.verbose);
  EXPECT_EQ(inv.timeout_ms, 250);
  EXPECT_TRUE(inv.timeout_given);
}

TEST(CommandLine, GlobalOptionsBeforeOrAfterTheSubcommand) {
  Invocation a = must_parse({"--json", "--mixer", "10.0.0.2:7401", "nodes"});
  Invocation b = must_parse({"nodes", "--mixer", "10.0.0.2:7401", "--json"});
  for (const auto& inv : {a, b}) {
    EXPECT_EQ(inv.command, Command::Nodes);
    EXPECT_TRUE(inv.json);
    EXPECT_EQ(inv.mixer.host, "10.0.0.2");
    EXPECT_EQ(inv.mixer.port, 7401);
    EXPECT_EQ(inv.timeout_ms, 5000);
    EXPECT_FALSE(inv.timeout_given);
  }
}

TEST(CommandLine, RecordWatchAndSwitches) {
  Invocation inv = must_parse({"record", "start", "--take", "vocal-1"});
  EXPECT_EQ(inv.command, Command::RecordStart);
  EXPECT_EQ(build_request(inv).record_start().take_name(), "vocal-1");
  EXPECT_EQ(must_parse({"record", "stop"}).command, Command::RecordStop);

  inv = must_parse({"watch", "--levels", "--count", "5", "--seconds", "2.5"});
  EXPECT_EQ(inv.command, Command::Watch);
  const auto sub = build_request(inv);
  ASSERT_TRUE(sub.has_subscribe());
  EXPECT_TRUE(sub.subscribe().levels());
  EXPECT_TRUE(sub.subscribe().nodes());
  EXPECT_EQ(inv.count, 5u);
  EXPECT_DOUBLE_EQ(inv.seconds, 2.5);
  EXPECT_FALSE(build_request(must_parse({"watch"})).subscribe().levels());

  EXPECT_TRUE(build_request(must_parse({"mute", "booth/1"})).set_channel().mute());
  EXPECT_FALSE(build_request(must_parse({"mute", "booth/1", "off"})).set_channel().mute());
  const auto unmute = build_request(must_parse({"unmute", "booth/1"}));
  EXPECT_EQ(unmute.set_channel().change_case(), tl::proto::SetChannel::kMute);
  EXPECT_FALSE(unmute.set_channel().mute());
  EXPECT_TRUE(build_request(must_parse({"solo", "room-a/1", "on"})).set_channel().solo());
  const auto unsolo = build_request(must_parse({"unsolo", "room-a/1"}));
  EXPECT_EQ(unsolo.set_channel().change_case(), tl::proto::SetChannel::kSolo);
  EXPECT_FALSE(unsolo.set_channel().solo());

  const auto gain = build_request(must_parse({"gain", "room-a/01", "-6"}));
  EXPECT_EQ(gain.set_channel().target(), "room-a/1");
  EXPECT_EQ(gain.set_channel().change_case(), tl::proto::SetChannel::kGainDb);
  EXPECT_FLOAT_EQ(gain.set_channel().gain_db(), -6.0f);
  EXPECT_TRUE(build_request(must_parse({"ping"})).has_ping());
  EXPECT_TRUE(build_request(must_parse({"takes"})).has_list_takes());
  EXPECT_TRUE(build_request(must_parse({"status"})).has_get_status());
}

TEST(CommandLine, UsageErrorsExitTwoWithAMessage) {
  const std::vector<std::vector<std::string>> bad = {
      {},                              // no command
      {"frobnicate"},                  // unknown command
      {"gain", "notarget", "3"},       // target syntax
      {"gain", "room-a/0", "3"},       // channels count from 1
      {"gain", "room-a/1"},            // missing value
      {"gain", "room-a/1", "loud"},    // not a number
      {"pan", "room-a/1", "-2"},       // out of range
      {"mute", "booth/1", "maybe"},    // not on/off
      {"record"},                      // start or stop
      {"--mixer", "nohost", "nodes"},  // no port
      {"--timeout-ms", "0", "nodes"},  // not positive
      {"watch", "--count", "many"},
      {"latency", "far"},              // no setting
      {"latency", "far", "min=abc"},   // not a number
      {"latency", "far", "max=5000"},  // out of range
      {"latency", "far", "min=40", "max=20"},
      {"latency", "far", "top=3"},
  };
  for (const auto& args : bad) {
    Parsed p = parse(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_FALSE(p.outcome.invocation.has_value()) << joined;
    EXPECT_EQ(p.outcome.exit_code, kExitUsage) << joined;
    EXPECT_FALSE(p.err.empty()) << joined;
  }
  EXPECT_NE(parse({"gain", "notarget", "3"}).err.find("expected NODE/CHANNEL"), std::string::npos);
}

TEST(CommandLine, AnOptionOutOfRangeSaysItsRangeInAFewCharacters) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--timeout-ms", "0", "nodes"}, "--timeout-ms: 0 is outside 1..600000 ms"},
      {{"status", "--timeout-ms", "-5"}, "--timeout-ms: -5 is outside 1..600000 ms"},
      {{"watch", "--seconds", "0"}, "--seconds: 0 is outside 0.001..86400 s"},
      {{"meters", "--interval-ms", "0"}, "--interval-ms: 0 is outside 10..60000 ms"},
  };
  for (const auto& [args, message] : cases) {
    const Parsed p = parse(args);
    EXPECT_EQ(p.outcome.exit_code, kExitUsage) << message;
    EXPECT_EQ(p.err.rfind(message + "\n", 0), 0u) << p.err;
    EXPECT_LT(p.err.size(), 120u) << "no numeric_limits dump: " << p.err;
  }
}

TEST(CommandLine, EveryRangedValueIsCheckedBeforeItIsSent) {
  // The mixer checks them too; tlctl's check makes the same mistake exit 2 whatever it is.
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"gain", "room-a/1", "500"},
                                              {"gain", "room-a/1", "24.5"},
                                              {"gain", "room-a/1", "-151"},
                                              {"pan", "room-a/1", "5"},
                                              {"cue", "singer", "me", "+13"},
                                              {"cue", "singer", "limit", "+1"},
                                              {"latency", "far", "max=5000"},
                                              {"strip", "room-a/1", "trim", "30"},
                                              {"strip", "room-a/1", "delay", "ms=101"},
                                              {"bus", "fx2", "delay", "feedback=0.99"},
                                              {"master", "limiter", "ceiling=1"}}) {
    const Parsed p = parse(bad);
    EXPECT_EQ(p.outcome.exit_code, kExitUsage) << bad[0] << " " << bad.back();
    EXPECT_FALSE(p.err.empty());
  }
  EXPECT_NE(parse({"gain", "room-a/1", "500"}).err.find("between -inf (-150) and +24 dB"), std::string::npos);
  EXPECT_FLOAT_EQ(must_parse({"gain", "room-a/1", "24"}).value, 24.0f);
  EXPECT_FLOAT_EQ(must_parse({"gain", "room-a/1", "-150"}).value, -150.0f);
}

TEST(CommandLine, TakeAndSceneNamesFollowTheMixersRule) {
  EXPECT_EQ(must_parse({"record", "start", "--take", "vocal_2.b"}).take, "vocal_2.b");
  EXPECT_EQ(must_parse({"scene", "save", "verse-1"}).scene_name, "verse-1");
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"record", "start", "--take", "a b"},
                                              {"record", "start", "--take", ".."},
                                              {"record", "recover", "../x"},
                                              {"scene", "save", ".hidden"},
                                              {"scene", "recall", "a/b"}}) {
    EXPECT_EQ(parse(bad).outcome.exit_code, kExitUsage) << bad.back();
  }
}

TEST(ExitCode, OnePerKindOfErrorWhicheverSideFoundIt) {
  using Code = tl::proto::ErrorReply;
  EXPECT_EQ(exit_code_of_failed_call(Code::BAD_VALUE), kExitUsage) << "a value the mixer found bad";
  for (const auto refused :
       {Code::UNKNOWN, Code::BAD_REQUEST, Code::NOT_FOUND, Code::CONFLICT, Code::INTERNAL}) {
    EXPECT_EQ(exit_code_of_failed_call(refused), kExitMixerError) << Code::Code_Name(refused);
  }
  EXPECT_EQ(exit_code_of_failed_call(Code::UNAUTHENTICATED), kExitUnreachable);
  EXPECT_EQ(exit_code_of_failed_call(std::nullopt), kExitUnreachable) << "no answer at all";
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitMixerError, 1);
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitUnreachable, 3);
}

TEST(CommandLine, HelpEndsWithTheExitCodes) {
  const Parsed p = parse({"--help"});
  EXPECT_EQ(p.outcome.exit_code, kExitOk);
  for (const char* line :
       {"Exit codes", "  0  done", "  1  the mixer refused", "  2  usage:", "  3  cannot reach the mixer"}) {
    EXPECT_NE(p.out.find(line), std::string::npos) << line << "\n" << p.out;
  }
}

TEST(CommandLine, RecordRecoverNamesTheTake) {
  const Invocation inv = must_parse({"record", "recover", "take-7"});
  EXPECT_EQ(inv.command, Command::RecordRecover);
  const tl::proto::Envelope env = build_request(inv);
  ASSERT_TRUE(env.has_record_recover());
  EXPECT_EQ(env.record_recover().take_name(), "take-7");
  EXPECT_FALSE(env.record_recover().skip_absent()) << "waits for every node of the take unless asked";
  const tl::proto::Envelope skip =
      build_request(must_parse({"record", "recover", "take-7", "--skip-absent"}));
  EXPECT_TRUE(skip.record_recover().skip_absent());
  Parsed p = parse({"record", "recover"});
  EXPECT_EQ(p.outcome.exit_code, kExitUsage);
}

TEST(CommandLine, TakeMasterNamesTheTakePresetAndTarget) {
  Invocation inv = must_parse({"take", "master", "take-7", "--preset", "cd", "--target", "-12.5"});
  EXPECT_EQ(inv.command, Command::TakeMaster);
  tl::proto::Envelope env = build_request(inv);
  ASSERT_TRUE(env.has_master_take());
  EXPECT_EQ(env.master_take().take_name(), "take-7");
  EXPECT_EQ(env.master_take().preset(), "cd");
  ASSERT_TRUE(env.master_take().has_target_lufs());
  EXPECT_EQ(env.master_take().target_lufs(), -12.5);
  EXPECT_FALSE(env.master_take().status_only());
  // No target: the preset's (the field left out, not sent as 0).
  env = build_request(must_parse({"take", "master", "take-7"}));
  EXPECT_FALSE(env.master_take().has_target_lufs());
  EXPECT_TRUE(env.master_take().preset().empty()) << "the mixer's default";
  EXPECT_TRUE(
      build_request(must_parse({"take", "master", "take-7", "--status"})).master_take().status_only());
  EXPECT_TRUE(must_parse({"take", "master", "take-7", "--no-wait"}).no_wait);
  EXPECT_EQ(parse({"take", "master"}).outcome.exit_code, kExitUsage);
  EXPECT_EQ(parse({"take", "master", "t", "--target", "-60"}).outcome.exit_code, kExitUsage);
  EXPECT_EQ(parse({"take", "master", "../t"}).outcome.exit_code, kExitUsage);
}

TEST(CommandLine, LatencyBoundsANodesAsk) {
  Invocation inv = must_parse({"latency", "far", "min=10", "max=40ms"});
  EXPECT_EQ(inv.command, Command::Latency);
  tl::proto::Envelope env = build_request(inv);
  ASSERT_TRUE(env.has_set_latency());
  EXPECT_EQ(env.set_latency().node(), "far");
  EXPECT_EQ(env.set_latency().min_ms(), 10.0);
  EXPECT_EQ(env.set_latency().max_ms(), 40.0);
  EXPECT_FALSE(env.set_latency().reset());
  inv = must_parse({"latency", "far", "max=-"});
  EXPECT_EQ(build_request(inv).set_latency().max_ms(), 0.0);
  inv = must_parse({"latency", "far", "reset"});
  EXPECT_TRUE(build_request(inv).set_latency().reset());
}

TEST(CommandLine, HelpExitsZero) {
  Parsed p = parse({"--help"});
  EXPECT_FALSE(p.outcome.invocation.has_value());
  EXPECT_EQ(p.outcome.exit_code, 0);
  EXPECT_NE(p.out.find("watch"), std::string::npos);
}

struct ProcessRun {
  int exit_code = -1;
  std::string err;
};

//! Runs the built tlctl through the shell; stdout is discarded, stderr kept.
//! ctest runs these tests as parallel processes, so each one keeps stderr in a
//! file of its own (named by test and pid): a shared name let one test read
//! another's output.
ProcessRun run_tlctl(const std::string& env, const std::string& args) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::string err_file =
      testing::TempDir() + "tlctl_err_" + info->name() + "_" + std::to_string(::getpid()) + ".txt";
  const std::string cmd =
      env + " '" + std::string(TLCTL_BIN) + "' " + args + " >/dev/null 2>'" + err_file + "'";
  const int status = std::system(cmd.c_str());
  ProcessRun r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  std::remove(err_file.c_str());
  return r;
}

TEST(Process, BadTargetExitsTwo) {
  const ProcessRun r = run_tlctl("TRACKLINK_TOKEN=t", "gain notarget 3");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("notarget"), std::string::npos) << r.err;
}

TEST(Process, UnknownOptionExitsTwo) {
  EXPECT_EQ(run_tlctl("TRACKLINK_TOKEN=t", "nodes --frobnicate").exit_code, 2);
}

TEST(Process, UnreachableMixerExitsThree) {
  const ProcessRun r = run_tlctl("TRACKLINK_TOKEN=t", "--mixer 127.0.0.1:1 nodes");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot reach mixer"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("tlctl: ", 0), 0u) << r.err;
}

TEST(Process, NegativeGainReachesTheConnectStep) {
  // Parsing accepts "-6"; the failure is the (absent) mixer, not the command line.
  const ProcessRun r = run_tlctl("TRACKLINK_TOKEN=t", "--mixer 127.0.0.1:1 gain room-a/1 -6");
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

TEST(Process, MissingTokenSaysHowToGiveOne) {
  const ProcessRun r = run_tlctl("TRACKLINK_TOKEN=", "--mixer 127.0.0.1:1 status");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("TRACKLINK_TOKEN"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tl::ctl
