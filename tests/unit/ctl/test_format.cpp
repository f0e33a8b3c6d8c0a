// Human tables and JSON lines as the operator and scripts read them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tl/ctl/commands.h"
#include "tl/ctl/format.h"
#include "tl/ctl/strip_format.h"

namespace tl::ctl {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream in(line);
  for (std::string cell; in >> cell;) cells.push_back(cell);
  return cells;
}

tl::proto::NodeList two_nodes() {
  tl::proto::NodeList list;
  list.set_session_time_ns(12'000'000'000);
  auto* a = list.add_nodes();
  a->set_node_id(1);
  a->set_name("room-a");
  a->set_channels(2);
  a->set_sample_rate(48000);
  a->set_state(tl::proto::NODE_STREAMING);
  a->set_last_heard_s(0.1);
  a->set_packets(123456);
  a->set_loss_pct(0.125);
  a->set_late(3);
  a->set_concealed_samples(96);
  a->set_concealed_blocks(2);
  a->set_bad(0);
  a->set_transit_ms(1.26);
  a->set_latency_ms(20.0);
  a->set_sync_state(tl::proto::SYNC_LOCKED);
  a->set_offset_ms(-1300.4204);
  a->set_rtt_ms(0.0814);
  a->set_drift_ppm(-201.74);
  a->set_varispeed_ppm(-198.42);
  a->set_need_ms(19.26);
  a->set_need_p999_ms(17.04);
  a->set_latency_max_ms(40.0);
  auto* c1 = a->add_channel_info();
  c1->set_channel(1);
  c1->set_gain_db(-6.0f);
  c1->set_pan(-0.5f);
  c1->set_mute(true);
  c1->set_peak_dbfs(-12.04f);
  c1->set_rms_dbfs(-200.0f);
  auto* c2 = a->add_channel_info();
  c2->set_channel(2);
  auto* b = list.add_nodes();
  b->set_node_id(2);
  b->set_name("booth");
  b->set_channels(1);
  b->set_sample_rate(48000);
  b->set_state(tl::proto::NODE_GONE);
  b->set_last_heard_s(-1);
  b->set_need_ms(-1.0);
  return list;
}

TEST(FormatDb, OneDecimalAndMinusInfAtSilence) {
  EXPECT_EQ(format_db(-6.04), "-6.0");
  EXPECT_EQ(format_db(3.25), "3.2");
  EXPECT_EQ(format_db(-0.01), "0.0");
  EXPECT_EQ(format_db(-150.0), "-inf");
  EXPECT_EQ(format_db(-400.0), "-inf");
  EXPECT_EQ(format_db(-149.9), "-149.9");
}

TEST(FormatLastHeard, SecondsMinutesHoursOrNever) {
  EXPECT_EQ(format_last_heard(-1), "never");
  EXPECT_EQ(format_last_heard(0.1), "0.1s ago");
  EXPECT_EQ(format_last_heard(125), "2m05s ago");
  EXPECT_EQ(format_last_heard(3720), "1h02m ago");
}

TEST(FormatNodes, TableHasTheAgreedColumnsAndCells) {
  const auto lines = lines_of(format_nodes(two_nodes(), false));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(cells_of(lines[0]),
            (std::vector<std::string>{"NAME", "ID", "STATE", "CH", "RATE", "PACKETS", "LOSS%", "LATE",
                                      "CONCEALED", "BAD", "TRANSIT(ms)", "LATENCY(ms)", "SYNC", "OFFSET(ms)",
                                      "RTT(ms)", "DRIFT(ppm)", "VARISPEED(ppm)", "LAST-HEARD"}));
  const auto a = cells_of(lines[1]);
  ASSERT_EQ(a.size(), 19u);  // "0.1s ago" is two words
  EXPECT_EQ(a[0], "room-a");
  EXPECT_EQ(a[1], "1");
  EXPECT_EQ(a[2], "streaming");
  EXPECT_EQ(a[3], "2");
  EXPECT_EQ(a[4], "48000");
  EXPECT_EQ(a[5], "123456");
  EXPECT_EQ(a[6], "0.12");
  EXPECT_EQ(a[7], "3");
  EXPECT_EQ(a[8], "96");
  EXPECT_EQ(a[9], "0");
  EXPECT_EQ(a[10], "1.3");
  EXPECT_EQ(a[11], "20.0");
  EXPECT_EQ(a[12], "locked");
  EXPECT_EQ(a[13], "-1300.420");
  EXPECT_EQ(a[14], "0.081");
  EXPECT_EQ(a[15], "-201.7");
  EXPECT_EQ(a[16], "-198.4");
  EXPECT_EQ(a[17] + " " + a[18], "0.1s ago");
  const auto b = cells_of(lines[2]);
  ASSERT_EQ(b.size(), 18u);
  EXPECT_EQ(b[0], "booth");
  EXPECT_EQ(b[2], "gone");
  // No NodeReport yet: every sync cell is "-".
  EXPECT_EQ((std::vector<std::string>(b.begin() + 12, b.begin() + 16)),
            (std::vector<std::string>{"-", "-", "-", "-"}));
  EXPECT_EQ(b[16], "exact");  // read sample for sample: no varispeed
  EXPECT_EQ(b.back(), "never");
  // Columns line up: text left-aligned under its header, numbers right-aligned to it.
  EXPECT_EQ(lines[1].find("streaming"), lines[0].find("STATE"));
  EXPECT_EQ(lines[2].find("gone"), lines[0].find("STATE"));
  EXPECT_EQ(lines[1].find("48000") + 5, lines[0].find("RATE") + 4);
  EXPECT_EQ(lines[1].find("locked"), lines[0].find("SYNC"));
  EXPECT_EQ(lines[1].find("-1300.420") + 9, lines[0].find("OFFSET(ms)") + 10);
  EXPECT_EQ(lines[1].find("-201.7") + 6, lines[0].find("DRIFT(ppm)") + 10);
  EXPECT_EQ(lines[1].find("-198.4") + 6, lines[0].find("VARISPEED(ppm)") + 14);
  EXPECT_EQ(lines[1].find("0.1s ago"), lines[0].find("LAST-HEARD"));
  for (const auto& l : lines) EXPECT_NE(l.back(), ' ') << "no trailing blanks: '" << l << "'";
}

TEST(FormatNodes, SyncCellsNameEachState) {
  tl::proto::NodeList list = two_nodes();
  const std::pair<tl::proto::SyncState, const char*> cases[] = {{tl::proto::SYNC_ACQUIRING, "acquiring"},
                                                                {tl::proto::SYNC_LOCKED, "locked"},
                                                                {tl::proto::SYNC_LOST, "lost"}};
  for (const auto& [state, name] : cases) {
    list.mutable_nodes(1)->set_sync_state(state);
    const auto b = cells_of(lines_of(format_nodes(list, false))[2]);
    ASSERT_EQ(b.size(), 18u);
    EXPECT_EQ(b[12], name);
    EXPECT_EQ(b[13], "0.000");
    EXPECT_EQ(b[15], "+0.0");
  }
}

TEST(FormatNodes, VerboseAddsOneLinePerChannel) {
  const auto lines = lines_of(format_nodes(two_nodes(), true));
  // header, room-a, sync, live, play-out, 2 channels, booth, sync, live, play-out
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_NE(lines[2].find("sync locked"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("live varispeed -198.4 ppm"), std::string::npos) << lines[3];
  EXPECT_NE(lines[2].find("concealed 96 in 2 blocks"), std::string::npos) << lines[2];
  EXPECT_NE(lines[4].find("play-out needs 19.3 ms (every packet of the hold; 99.9% needed 17.0 ms), mix "
                          "delay 20.0 ms, own range mixer's - 40.0 ms"),
            std::string::npos)
      << lines[4];
  EXPECT_NE(lines[5].find("room-a/1"), std::string::npos);
  EXPECT_NE(lines[5].find("gain -6.0 dB"), std::string::npos) << lines[5];
  EXPECT_NE(lines[5].find("pan -0.50"), std::string::npos) << lines[5];
  EXPECT_NE(lines[5].find("mute on"), std::string::npos) << lines[5];
  EXPECT_NE(lines[5].find("solo off"), std::string::npos) << lines[5];
  EXPECT_NE(lines[5].find("peak -12.0 dBFS"), std::string::npos) << lines[5];
  EXPECT_NE(lines[5].find("rms -inf dBFS"), std::string::npos) << lines[5];
  EXPECT_NE(lines[6].find("room-a/2"), std::string::npos);
  EXPECT_EQ(cells_of(lines[7])[0], "booth");
  EXPECT_NE(lines[10].find("play-out need not measured, mix delay 0.0 ms"), std::string::npos) << lines[10];
}

TEST(FormatNodes, EmptyListSaysSo) {
  EXPECT_EQ(format_nodes(tl::proto::NodeList{}, false), "no nodes registered\n");
}

tl::proto::RecordStopped stopped_take() {
  tl::proto::RecordStopped r;
  r.set_take_name("take-20261122-010203");
  r.set_path("/srv/takes/take-20261122-010203");
  r.set_start_sample(48000);
  r.set_frames(576000);
  r.set_seconds(12.0);
  auto* t1 = r.add_tracks();
  t1->set_file("room-a-1.wav");
  t1->set_node("room-a");
  t1->set_channel(1);
  t1->set_peak_dbfs(-6.02);
  t1->set_rms_dbfs(-18.47);
  t1->set_lost_samples(3);
  t1->set_recovered_samples(480);
  t1->add_missing()->set_from(96000);
  t1->mutable_missing(0)->set_frames(3);
  t1->set_missing_reason("the node did not answer the backfill in time");
  auto* mix = r.add_tracks();
  mix->set_file("mix.wav");
  mix->set_node("mix");
  mix->set_peak_dbfs(-160);
  mix->set_rms_dbfs(-160);
  mix->set_clipped_samples(7);
  return r;
}

TEST(FormatRecord, StopPrintsTakePathDurationThenOneLinePerTrack) {
  EXPECT_EQ(lines_of(format_record_stopped(stopped_take())).size(), 6u) << "no state line without a state";
  tl::proto::RecordStopped incomplete = stopped_take();
  incomplete.set_state("incomplete");
  auto lines = lines_of(format_record_stopped(incomplete));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[3], "state: incomplete");
  lines.erase(lines.begin() + 3);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "take-20261122-010203");
  EXPECT_EQ(lines[1], "path: /srv/takes/take-20261122-010203");
  EXPECT_EQ(lines[2].rfind("duration: 12.000 s", 0), 0u) << lines[2];
  EXPECT_EQ(cells_of(lines[3]),
            (std::vector<std::string>{"room-a-1.wav", "peak", "-6.0", "dBFS", "rms", "-18.5", "dBFS", "lost",
                                      "3", "clipped", "0", "recovered", "480"}));
  // A track still missing audio says how much and why.
  EXPECT_EQ(lines[4], "    1 range(s) missing: the node did not answer the backfill in time");
  EXPECT_EQ(cells_of(lines[5]), (std::vector<std::string>{"mix.wav", "peak", "-inf", "dBFS", "rms", "-inf",
                                                          "dBFS", "lost", "0", "clipped", "7"}));
  EXPECT_EQ(lines[3].find("lost"), lines[5].find("lost")) << "aligned columns";
}

TEST(FormatRecord, AnOverdubSaysWhereTheTakeAndEachPlacedTrackLieOnTheSong) {
  tl::proto::RecordStopped r = stopped_take();
  r.mutable_tracks(1)->set_timeline_sample(-60000);  // mix.wav: 1.25 s before the song
  r.mutable_tracks(0)->set_timeline_sample(190564);  // the node's, moved back
  r.mutable_tracks(0)->set_compensation_samples(1789);
  const auto lines = lines_of(format_record_stopped(r));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[3], "timeline: mix.wav starts at -0:01.250 (song sample -60000)");
  EXPECT_NE(lines[4].find("recovered 480  at 0:03.970 (placed back 37.27 ms)"), std::string::npos)
      << lines[4];
}

TEST(FormatMasterTake, EachStateSaysWhatTheOperatorNeeds) {
  tl::proto::MasterTakeState s;
  s.set_take_name("t1");
  s.set_preset("cd");
  s.set_state("running");
  s.set_progress(0.43);
  s.set_stage("mastering");
  s.set_output("/srv/takes/t1/master/cd.wav");
  EXPECT_EQ(format_master_progress(s), "mastering t1 (cd):  43% mastering");
  EXPECT_EQ(format_master_take(s), "mastering t1 (cd):  43% mastering -> /srv/takes/t1/master/cd.wav\n");
  s.set_state("done");
  s.set_seconds(2.04);
  s.set_integrated_lufs(-9.04);
  s.set_true_peak_dbtp(-1.26);
  s.set_loudness_range_lu(5.2);
  s.set_gain_db(3.15);
  EXPECT_EQ(
      format_master_take(s),
      "take 't1' mastered (cd) in 2.0 s: /srv/takes/t1/master/cd.wav, -9.0 LUFS integrated, -1.3 dBTP true "
      "peak, 5.2 LU range, gain +3.1 dB\n");
  s.set_state("failed");
  s.set_message("cannot mix the take: no automation.json");
  EXPECT_EQ(format_master_take(s),
            "take 't1': mastering (cd) failed: cannot mix the take: no automation.json\n");
  s.set_state("none");
  EXPECT_EQ(format_master_take(s), "take 't1': no mastering job since the mixer started\n");
}

TEST(FormatRecord, StartPrintsTheTakeNameFirst) {
  tl::proto::RecordStarted r;
  r.set_take_name("vocal-1");
  r.set_path("/srv/takes/vocal-1");
  r.set_start_sample(96000);
  EXPECT_EQ(format_record_started(r), "vocal-1\npath: /srv/takes/vocal-1\nstart sample: 96000\n");
}

TEST(FormatTakes, ListsTakesTheirStateMissingRangesAndTheOneRecording) {
  tl::proto::TakeList list;
  *list.add_takes() = stopped_take();
  list.mutable_takes(0)->set_state("incomplete");
  tl::proto::RecordStopped killed;
  killed.set_take_name("take-killed");
  killed.set_path("/srv/takes/take-killed");
  killed.set_state("unfinished");
  killed.set_frames(240000);
  killed.set_seconds(5.0);
  killed.add_tracks()->set_node("room-a");
  *list.add_takes() = killed;
  list.set_recording("take-2");
  const auto lines = lines_of(format_takes(list));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(cells_of(lines[1]),
            (std::vector<std::string>{"take-20261122-010203", "incomplete", "(3", "lost)", "12.000", "1",
                                      "48000", "/srv/takes/take-20261122-010203"}));
  // Missing ranges in take seconds: sample 96000 is 1 s after the take's start at 48000.
  EXPECT_EQ(lines[2],
            "    room-a-1.wav: 3 samples missing in 1 range(s): 1.000-1.000 s (the node did not answer the "
            "backfill "
            "in time)");
  EXPECT_EQ(cells_of(lines[3])[1], "unfinished");
  EXPECT_EQ(
      lines[4],
      "    the mixer stopped while recording it: files readable to 5.000 s; the node spools still hold the "
      "audio");
  EXPECT_EQ(lines[5], "recording: take-2");
  EXPECT_EQ(format_takes(tl::proto::TakeList{}), "no takes\n");
  // A mixer from before "incomplete" said "complete" for a take with losses: read by them.
  list.mutable_takes(0)->set_state("complete");
  EXPECT_EQ(cells_of(lines_of(format_takes(list))[1])[1], "incomplete");
  list.mutable_takes(0)->mutable_tracks(0)->set_lost_samples(0);
  EXPECT_EQ(cells_of(lines_of(format_takes(list))[1])[1], "complete");
}

TEST(FormatStatus, KeyValueLines) {
  tl::proto::MixerStatus s;
  s.set_version("0.1.0");
  s.set_sample_rate(48000);
  s.set_recording(true);
  s.set_take_name("t1");
  s.set_take_seconds(3.25);
  s.set_mix_overruns(2);
  s.set_concealed_blocks(3);
  s.set_concealed_frames(144);
  s.set_mix_wake_p999_ms(0.25);
  s.set_mix_wake_max_ms(1.5);
  s.set_realtime("Operation not permitted");
  const std::string text = format_status(s);
  EXPECT_NE(text.find("mix concealed:   3 blocks, 144 frames\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mix wake-up:     late by 0.25 ms (99.9%), 1.50 ms at worst\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("real-time:       no: Operation not permitted\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sample rate:     48000 Hz\n"), std::string::npos) << text;
  EXPECT_NE(text.find("recording:       yes: t1, 3.2 s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mix overruns:    2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency:         0.0 ms (fixed)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("disk left:       unknown\n"), std::string::npos) << text;
  s.set_record_free_bytes(3ull << 30);
  s.set_record_channels(16);
  s.set_record_minutes_left(12.4);
  EXPECT_NE(format_status(s).find("disk left:       3.0 GiB: about 12 min at 16 channel(s) + the mix\n"),
            std::string::npos)
      << format_status(s);
  s.set_latency_adaptive(true);
  s.set_latency_ms(23.46);
  s.set_latency_min_ms(5.0);
  s.set_latency_max_ms(200.0);
  s.set_latency_wanted_ms(23.1);
  s.set_latency_margin_ms(1.0);
  s.set_latency_hold_s(30.0);
  EXPECT_NE(format_status(s).find(
                "latency:         23.5 ms (adapts within 5.0-200.0 ms, need + 1.0 ms held 30 s; the "
                "neediest node asks 23.1 ms)\n"),
            std::string::npos)
      << format_status(s);
}

TEST(FormatMeters, MasterLineHasTheGlueCompressorAndTheLimiter) {
  tl::proto::MixerStatus st;
  st.set_master_comp_on(true);
  st.set_master_comp_gr_db(-3.25f);
  st.set_master_limiter_on(true);
  st.set_master_limiter_gr_db(-0.5f);
  const std::string text = format_meters(two_nodes(), st);
  EXPECT_NE(text.find("comp on (gr -3.2 dB)  limiter on (gr -0.5 dB)"), std::string::npos) << text;
}

TEST(FormatMeters, ABusLineWithEachBussPeak) {
  tl::proto::MixerStatus st;
  EXPECT_EQ(format_meters(two_nodes(), st).find("buses"), std::string::npos) << "no line without bus levels";
  auto* b1 = st.add_buses();
  b1->set_name("bus1");
  b1->set_peak_dbfs(-12.04f);
  auto* b2 = st.add_buses();
  b2->set_name("bus2");
  b2->set_peak_dbfs(-150.0f);
  b2->set_mute(true);
  const std::string text = format_meters(two_nodes(), st);
  EXPECT_NE(text.find("buses  bus1 -12.0  bus2 -inf (muted)\n"), std::string::npos) << text;
}

TEST(FormatLatency, SaysTheRangeTheNeedAndTheDelay) {
  tl::proto::LatencyState l;
  l.set_node("far");
  l.set_min_ms(0.0);
  l.set_max_ms(30.0);
  l.set_need_ms(42.25);
  l.set_latency_ms(30.0);
  EXPECT_EQ(format_latency_state(l),
            "far: play-out delay range min the mixer's, max 30.0 ms\n"
            "needs 42.2 ms for every packet of the hold; the mix runs 30.0 ms behind the session clock\n");
}

TEST(FormatEvent, OneLinePerKind) {
  tl::proto::Event e;
  *e.mutable_levels() = two_nodes();
  EXPECT_EQ(format_event(e).rfind("levels  room-a/1 -12.0/-inf  room-a/2 0.0/0.0", 0), 0u) << format_event(e);
  e.set_fault("node 'booth' went silent");
  EXPECT_EQ(format_event(e), "fault   node 'booth' went silent");
  *e.mutable_node() = two_nodes().nodes(1);
  EXPECT_NE(format_event(e).find("booth (id 2) gone"), std::string::npos) << format_event(e);
}

TEST(Json, NodeListIsOneLineWithProtoFieldNamesAndZeroFields) {
  Invocation inv;
  inv.command = Command::Nodes;
  inv.json = true;
  tl::proto::Envelope reply;
  *reply.mutable_node_list() = two_nodes();
  const std::string text = render_reply(inv, reply);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one object, one line";
  const auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.contains("nodes"));
  ASSERT_EQ(j["nodes"].size(), 2u);
  const auto& a = j["nodes"][0];
  EXPECT_EQ(a["name"], "room-a");
  EXPECT_EQ(a["node_id"], 1);
  EXPECT_EQ(a["state"], "NODE_STREAMING");
  EXPECT_DOUBLE_EQ(a["last_heard_s"].get<double>(), 0.1);
  EXPECT_EQ(a["bad"], "0") << "zero counters are printed (64-bit as strings)";
  EXPECT_TRUE(a.contains("concealed_samples"));
  EXPECT_EQ(a["channel_info"][0]["gain_db"], -6.0);
  EXPECT_EQ(a["channel_info"][1]["mute"], false);
  EXPECT_EQ(j["session_time_ns"], "12000000000");
}

TEST(Json, RecordStoppedCarriesTracks) {
  Invocation inv;
  inv.command = Command::RecordStop;
  inv.json = true;
  tl::proto::Envelope reply;
  *reply.mutable_record_stopped() = stopped_take();
  const auto j = nlohmann::json::parse(render_reply(inv, reply));
  EXPECT_EQ(j["take_name"], "take-20261122-010203");
  EXPECT_EQ(j["tracks"][0]["file"], "room-a-1.wav");
  EXPECT_EQ(j["tracks"][0]["lost_samples"], "3");
  EXPECT_EQ(j["tracks"][1]["clipped_samples"], "7");
}

TEST(Render, AMismatchedReplyRendersNothing) {
  Invocation inv;
  inv.command = Command::Nodes;
  tl::proto::Envelope reply;
  reply.mutable_pong();
  EXPECT_EQ(render_reply(inv, reply), "");
}

}  // namespace
}  // namespace tl::ctl
