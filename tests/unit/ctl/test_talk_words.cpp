// tlctl talk: the request from the command line, its refusals, and how an answer reads.
#include <gtest/gtest.h>

#include <sstream>

#include "tl/ctl/commands.h"
#include "tl/ctl/talk_words.h"

namespace tl::ctl {
namespace {

ParseOutcome parse(const std::vector<std::string>& args, std::string& err_text) {
  std::ostringstream out, err;
  ParseOutcome o = parse_command_line(args, out, err);
  err_text = err.str();
  return o;
}

TEST(TalkCommand, TalksFromASourceToNodesAndTheMonitorWithItsLevels) {
  std::string err;
  ParseOutcome o =
      parse({"talk", "singer", "monitor", "--source", "talk/1", "--level", "-6", "--dim", "-30"}, err);
  ASSERT_TRUE(o.invocation) << err;
  const tl::proto::TalkRequest& r = o.invocation->talk;
  EXPECT_EQ(r.action(), tl::proto::TalkRequest::TALK);
  EXPECT_EQ(r.source(), "talk/1");
  ASSERT_EQ(r.to_size(), 2);
  EXPECT_EQ(r.to(0), "singer");
  EXPECT_EQ(r.to(1), "monitor");
  ASSERT_TRUE(r.has_level_db());
  EXPECT_FLOAT_EQ(r.level_db(), -6.0f);
  ASSERT_TRUE(r.has_dim_db());
  EXPECT_FLOAT_EQ(r.dim_db(), -30.0f);
  // Unsaid levels are the mixer's defaults (0 dB, -20 dB dim): not sent.
  o = parse({"talk", "singer", "--source", "device"}, err);
  ASSERT_TRUE(o.invocation) << err;
  EXPECT_FALSE(o.invocation->talk.has_level_db());
  EXPECT_FALSE(o.invocation->talk.has_dim_db());
}

TEST(TalkCommand, OffStopsOneSourceOrEveryVoiceAndNothingAsks) {
  std::string err;
  ParseOutcome o = parse({"talk", "off"}, err);
  ASSERT_TRUE(o.invocation) << err;
  EXPECT_EQ(o.invocation->talk.action(), tl::proto::TalkRequest::OFF);
  EXPECT_TRUE(o.invocation->talk.source().empty());
  o = parse({"talk", "off", "--source", "singer/2"}, err);
  ASSERT_TRUE(o.invocation) << err;
  EXPECT_EQ(o.invocation->talk.source(), "singer/2");
  o = parse({"talk"}, err);
  ASSERT_TRUE(o.invocation) << err;
  EXPECT_EQ(o.invocation->talk.action(), tl::proto::TalkRequest::STATUS);
  // A file named relative to where tlctl runs goes to the mixer as an absolute path.
  o = parse({"talk", "booth", "--source", "file:voice.wav"}, err);
  ASSERT_TRUE(o.invocation) << err;
  const tl::proto::Envelope e = build_request(*o.invocation);
  ASSERT_TRUE(e.has_talk());
  EXPECT_TRUE(e.talk().source().starts_with("file:/")) << e.talk().source();
  EXPECT_TRUE(e.talk().source().ends_with("/voice.wav")) << e.talk().source();
}

TEST(TalkCommand, MistakesAreUsageErrorsThatSayWhatIsWrong) {
  const struct {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"talk", "singer"}, "talk needs --source"},
      {{"talk", "--source", "a/1"}, "talk to whom?"},
      {{"talk", "singer", "off", "--source", "a/1"}, "talk off stands alone"},
      {{"talk", "off", "--level", "3"}, "talk off takes no --level"},
      {{"talk", "sing er!", "--source", "a/1"}, "is not a node name or monitor"},
      {{"talk", "singer", "--source", "a/1", "--level", "20"}, "bad --level 20: -60 to +12 dB"},
      {{"talk", "singer", "--source", "a/1", "--dim", "3"}, "bad --dim 3: -60 to 0 dB"},
  };
  for (const auto& c : cases) {
    std::string err;
    const ParseOutcome o = parse(c.args, err);
    EXPECT_FALSE(o.invocation) << c.says;
    EXPECT_EQ(o.exit_code, 2) << c.says;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
}

TEST(TalkCommand, AnAnswerNamesEachVoiceWhereItTalksAndHowLong) {
  EXPECT_EQ(format_talk(tl::proto::TalkState{}), "nobody talks\n");
  tl::proto::TalkState s;
  tl::proto::TalkLineState* l = s.add_lines();
  l->set_source("file:/srv/cue.wav");
  l->add_to("booth");
  l->add_to("monitor");
  l->set_level_db(-6.0f);
  l->set_dim_db(-20.0f);
  l->set_seconds(4.0);
  l->set_talked_seconds(1.25);
  EXPECT_EQ(format_talk(s),
            "file:/srv/cue.wav talks to booth, monitor at -6.0 dB, the programme -20.0 dB under it, 1.2 s of "
            "4.0 s\n");
}

}  // namespace
}  // namespace tl::ctl
