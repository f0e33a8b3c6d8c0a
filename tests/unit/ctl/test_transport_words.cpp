// The transport's words: positions as the operator writes them, the requests play,
// locate, stop and backing send, and how their answers read.
#include <gtest/gtest.h>

#include <sstream>

#include "tl/ctl/commands.h"
#include "tl/ctl/transport_words.h"

namespace tl::ctl {
namespace {

TEST(Position, SamplesSecondsAndMinutesSeconds) {
  auto p = parse_position("96000");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_FALSE(p->in_seconds());
  EXPECT_EQ(p->samples(), 96000);

  p = parse_position("2.5s");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(p->in_seconds());
  EXPECT_DOUBLE_EQ(p->seconds(), 2.5);

  p = parse_position("1:30");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_DOUBLE_EQ(p->seconds(), 90.0);

  p = parse_position("0:02.250");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_DOUBLE_EQ(p->seconds(), 2.25);

  p = parse_position("1:02:03.5");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_DOUBLE_EQ(p->seconds(), 3723.5);
}

TEST(Position, EveryBadFormIsNamedWithTheFormsThatWork) {
  for (const char* bad :
       {"", "-5", "1:75", "1:60:00", "x", "1.5.2s", "1:2:3:4", "1:-3", "s", "2.5ms", "nan"}) {
    auto p = parse_position(bad);
    ASSERT_FALSE(p.ok()) << "'" << bad << "' was read as a position";
    EXPECT_NE(p.error().find("bad position"), std::string::npos) << p.error();
    EXPECT_NE(p.error().find("minutes:seconds"), std::string::npos) << p.error();
  }
}

TEST(Position, ReadsBackAsMinutesSecondsAndMilliseconds) {
  EXPECT_EQ(format_position(0, 48000), "0:00.000");
  EXPECT_EQ(format_position(48000 * 90 + 24, 48000), "1:30.001");
  EXPECT_EQ(format_position(44100 * 3725, 44100), "62:05.000");
  EXPECT_EQ(format_position(-4800, 48000), "-0:00.100");
  EXPECT_EQ(format_position(5, 0), "-");
}

Invocation must_parse(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  ParseOutcome o = parse_command_line(args, out, err);
  EXPECT_TRUE(o.invocation.has_value()) << err.str();
  return o.invocation ? *o.invocation : Invocation{};
}

int usage_exit(const std::vector<std::string>& args, std::string& err_text) {
  std::ostringstream out, err;
  ParseOutcome o = parse_command_line(args, out, err);
  err_text = err.str();
  return o.invocation ? -1 : o.exit_code;
}

TEST(Position, BarsAndBeatsAreLeftToTheMixersTempo) {
  auto p = parse_position("5.3");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(p->in_bars());
  EXPECT_EQ(p->bar(), 5u);
  EXPECT_EQ(p->beat(), 3u);
  for (const char* bad : {"0.1", "1.0", "1.", ".1", "1.17", "-1.1", "1.1.1"}) {
    auto b = parse_position(bad);
    ASSERT_FALSE(b.ok()) << "'" << bad << "' was read as a position";
    EXPECT_NE(b.error().find("bar.beat"), std::string::npos) << b.error();
  }
}

TEST(TransportCommands, TempoAndClickSendWhatTheOperatorSaid) {
  auto req = build_request(must_parse({"tempo", "92.5", "3/4"}));
  ASSERT_TRUE(req.has_tempo());
  EXPECT_DOUBLE_EQ(req.tempo().bpm(), 92.5);
  EXPECT_EQ(req.tempo().beats_per_bar(), 3u);
  EXPECT_EQ(build_request(must_parse({"tempo", "120"})).tempo().beats_per_bar(), 4u) << "4 beats a bar";
  EXPECT_EQ(build_request(must_parse({"click", "on"})).click().action(), tl::proto::ClickRequest::ON);
  EXPECT_EQ(build_request(must_parse({"click"})).click().action(), tl::proto::ClickRequest::STATUS);
  req = build_request(must_parse({"click", "level", "-18"}));
  EXPECT_EQ(req.click().action(), tl::proto::ClickRequest::LEVEL);
  EXPECT_FLOAT_EQ(req.click().level_db(), -18.0f);
  req = build_request(must_parse({"click", "count-in", "2"}));
  EXPECT_EQ(req.click().action(), tl::proto::ClickRequest::COUNT_IN);
  EXPECT_EQ(req.click().count_in_bars(), 2u);
  std::string err;
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"tempo"},
                                              {"tempo", "19"},
                                              {"tempo", "120", "17"},
                                              {"tempo", "fast"},
                                              {"click", "level", "3"},
                                              {"click", "level", "-61"},
                                              {"click", "loud"},
                                              {"click", "count-in", "9"},
                                              {"click", "count-in", "1.5"},
                                              {"click", "count-in"}}) {
    EXPECT_EQ(usage_exit(bad, err), kExitUsage) << bad.back();
  }
}

TEST(TransportCommands, RecordPunchArmsARangeForItsNodesOrTurnsItOff) {
  auto req = build_request(must_parse({"record", "punch", "1:02", "1:10.5", "singer", "bass"}));
  ASSERT_TRUE(req.has_transport());
  EXPECT_EQ(req.transport().action(), tl::proto::TransportRequest::PUNCH);
  EXPECT_DOUBLE_EQ(req.transport().position().seconds(), 62.0);
  EXPECT_DOUBLE_EQ(req.transport().to().seconds(), 70.5);
  ASSERT_EQ(req.transport().punch_nodes_size(), 2);
  EXPECT_EQ(req.transport().punch_nodes(1), "bass");
  req = build_request(must_parse({"record", "punch", "5.1", "9.1"}));
  EXPECT_EQ(req.transport().position().bar(), 5u);
  EXPECT_EQ(req.transport().to().bar(), 9u);
  EXPECT_EQ(req.transport().punch_nodes_size(), 0) << "every node";
  // Forms that differ are left to the mixer (bars need its tempo).
  EXPECT_TRUE(build_request(must_parse({"record", "punch", "5.1", "96000"})).has_transport());
  EXPECT_EQ(build_request(must_parse({"record", "punch", "off"})).transport().action(),
            tl::proto::TransportRequest::PUNCH_OFF);
  std::string err;
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"record", "punch"},
                                              {"record", "punch", "10s"},
                                              {"record", "punch", "10s", "5s"},
                                              {"record", "punch", "2.1", "2.1"},
                                              {"record", "punch", "1s", "2s", "a/b"},
                                              {"record", "punch", "on"}}) {
    EXPECT_EQ(usage_exit(bad, err), kExitUsage) << bad.back();
  }
  EXPECT_EQ(usage_exit({"record", "punch", "10s", "5s"}, err), kExitUsage);
  EXPECT_NE(err.find("bad punch 10s 5s: its end comes after its start"), std::string::npos) << err;

  tl::proto::TransportState st;
  st.set_sample_rate(48000);
  st.mutable_punch()->set_from(96000);
  st.mutable_punch()->set_to(144000);
  st.mutable_punch()->add_nodes("singer");
  EXPECT_NE(format_transport(st).find("punch: 0:02.000 to 0:03.000 (samples 96000..144000), singer"),
            std::string::npos)
      << format_transport(st);
}

TEST(TransportCommands, LoopSetsARangeTurnsItOffOrAsks) {
  auto req = build_request(must_parse({"loop", "9.1", "13.1"}));
  ASSERT_TRUE(req.has_transport());
  EXPECT_EQ(req.transport().action(), tl::proto::TransportRequest::LOOP);
  EXPECT_EQ(req.transport().position().bar(), 9u);
  EXPECT_EQ(req.transport().to().bar(), 13u);
  EXPECT_EQ(build_request(must_parse({"loop", "off"})).transport().action(),
            tl::proto::TransportRequest::LOOP_OFF);
  EXPECT_EQ(build_request(must_parse({"loop"})).transport().action(), tl::proto::TransportRequest::STATUS);
  std::string err;
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"loop", "1s"},
                                              {"loop", "2s", "1s"},
                                              {"loop", "1s", "2s", "3s"},
                                              {"loop", "on"}}) {
    EXPECT_EQ(usage_exit(bad, err), kExitUsage) << bad.back();
  }
  tl::proto::TransportState st;
  st.set_sample_rate(48000);
  st.mutable_loop()->set_from(48000);
  st.mutable_loop()->set_to(96000);
  st.set_looping(true);
  EXPECT_NE(format_transport(st).find("loop: 0:01.000 to 0:02.000 (samples 48000..96000), playing it"),
            std::string::npos)
      << format_transport(st);
}

TEST(TransportCommands, PlayLocateAndStopSendTheirActionAndPosition) {
  auto req = build_request(must_parse({"play", "1:30"}));
  ASSERT_TRUE(req.has_transport());
  EXPECT_EQ(req.transport().action(), tl::proto::TransportRequest::PLAY);
  ASSERT_TRUE(req.transport().has_position());
  EXPECT_DOUBLE_EQ(req.transport().position().seconds(), 90.0);

  req = build_request(must_parse({"play"}));
  EXPECT_EQ(req.transport().action(), tl::proto::TransportRequest::PLAY);
  EXPECT_FALSE(req.transport().has_position()) << "from where it stands";

  req = build_request(must_parse({"locate", "48000"}));
  EXPECT_EQ(req.transport().action(), tl::proto::TransportRequest::LOCATE);
  EXPECT_EQ(req.transport().position().samples(), 48000);

  EXPECT_EQ(build_request(must_parse({"stop"})).transport().action(), tl::proto::TransportRequest::STOP);
  EXPECT_EQ(build_request(must_parse({"transport"})).transport().action(),
            tl::proto::TransportRequest::STATUS);

  std::string err;
  EXPECT_EQ(usage_exit({"locate"}, err), kExitUsage) << "locate needs a position";
  EXPECT_EQ(usage_exit({"play", "-3"}, err), kExitUsage);
  EXPECT_NE(err.find("bad position '-3'"), std::string::npos) << err;
}

TEST(TransportCommands, BackingAddListAndRemove) {
  auto req = build_request(must_parse({"backing", "add", "/srv/bed.wav", "--at", "0:04.5", "--name", "bed"}));
  ASSERT_TRUE(req.has_backing());
  EXPECT_EQ(req.backing().action(), tl::proto::BackingRequest::ADD);
  EXPECT_EQ(req.backing().path(), "/srv/bed.wav");
  EXPECT_EQ(req.backing().name(), "bed");
  EXPECT_DOUBLE_EQ(req.backing().at().seconds(), 4.5);

  req = build_request(must_parse({"backing", "add", "/srv/bed.wav"}));
  EXPECT_EQ(req.backing().at().samples(), 0) << "the song's start unless --at";
  EXPECT_TRUE(req.backing().name().empty()) << "the mixer names it after the file";

  EXPECT_EQ(build_request(must_parse({"backing", "list"})).backing().action(),
            tl::proto::BackingRequest::LIST);
  req = build_request(must_parse({"backing", "remove", "bed"}));
  EXPECT_EQ(req.backing().action(), tl::proto::BackingRequest::REMOVE);
  EXPECT_EQ(req.backing().name(), "bed");

  std::string err;
  EXPECT_EQ(usage_exit({"backing", "add", "x.wav", "--name", "no/slash"}, err), kExitUsage);
  EXPECT_NE(err.find("bad backing track name"), std::string::npos) << err;
  EXPECT_EQ(usage_exit({"backing", "add"}, err), kExitUsage) << "a path is required";
}

TEST(TransportCommands, AnswersReadAsPositionsAtTheSessionRate) {
  tl::proto::TransportState t;
  t.set_playing(true);
  t.set_position(48000 * 12 + 16560);
  t.set_sample_rate(48000);
  t.set_backing_tracks(2);
  const std::string text = format_transport(t);
  EXPECT_NE(text.find("playing at 0:12.345 (sample 592560)"), std::string::npos) << text;
  EXPECT_NE(text.find("backing tracks: 2, underruns: 0 frames"), std::string::npos) << text;

  tl::proto::BackingList list;
  list.set_sample_rate(48000);
  list.set_message("added 'bed'");
  auto* b = list.add_tracks();
  b->set_name("bed");
  b->set_channels(2);
  b->set_frames(96000);
  b->set_at(24000);
  b->set_file_rate(44100);
  b->set_path("/srv/bed.wav");
  const std::string table = format_backing_list(list);
  EXPECT_EQ(table.rfind("added 'bed'\n", 0), 0u) << table;
  EXPECT_NE(table.find("0:02.000"), std::string::npos) << "its length" << table;
  EXPECT_NE(table.find("0:00.500"), std::string::npos) << "its place" << table;
  EXPECT_NE(table.find("44100"), std::string::npos) << table;
  EXPECT_NE(format_backing_list(tl::proto::BackingList{}).find("no backing tracks"), std::string::npos);
}

}  // namespace
}  // namespace tl::ctl
