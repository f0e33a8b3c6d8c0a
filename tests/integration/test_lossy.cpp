// Recording over a lossy path: a node behind tl-netem (random and burst loss,
// jitter, reordering) is recorded bit-exact and complete, from what arrived, what
// the node resent when the mixer NACKed, and what the take-end backfill pulled
// from the node's spool.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;

TEST(Lossy, RecordingOverALossyPathIsBitExactAndComplete) {
  const double seconds = std::getenv("TL_LOSSY_SECONDS") ? std::atof(std::getenv("TL_LOSSY_SECONDS")) : 60.0;
  Session s("lossy");
  s.start_mixer();
  // 10% loss, 50 ms bursts, +-20 ms jitter, 5% reordered, both ways (lossy_link_argv).
  Process netem(lossy_link_argv(s.mixer_address(), 11), s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();

  // Stereo 24-bit noise: every sample distinct, so a single wrong one shows.
  const auto frames = static_cast<std::int64_t>(seconds * kRate);
  std::vector<std::int32_t> source(static_cast<std::size_t>(frames) * 2);
  std::mt19937 rng(5);
  for (auto& v : source) v = static_cast<std::int32_t>(rng() & 0xFFFFFF00u);
  const std::string file = s.dir() + "/source.wav";
  ASSERT_TRUE(write_wav(file, kRate, 2, SF_FORMAT_PCM_24, source));

  s.record_start("lossy");
  s.start_capture("far", "file:" + file, {"--audio-to", proxy});
  ASSERT_TRUE(s.wait_node_state("far", "streaming", 30s)) << s.logs();
  s.wait_session(seconds + 2.0);  // the file plays once, then silence
  const json far = s.node("far");
  const json stopped = s.record_stop();
  netem.stop();

  const std::string dir = s.take_dir() + "/lossy";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in, nullptr, false);
  ASSERT_FALSE(take.is_discarded());
  EXPECT_EQ(take.value("state", ""), "complete");
  const std::int64_t start = json_int(take, "start_sample");
  std::int64_t recovered = 0;
  for (const auto& t : take["tracks"]) {
    const int channel = t.value("channel", 0);
    SCOPED_TRACE("far/" + std::to_string(channel));
    EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
    EXPECT_TRUE(t.value("complete", false)) << t.dump();
    recovered += json_int(t, "recovered_samples");
    const Audio raw = read_raw_track(dir, t);
    // raw/ is where the packets' stamps put it (first_sample follows any conform move).
    const std::int64_t offset = json_int(t, "raw_first_sample") - start;
    ASSERT_GT(offset, 0);
    EXPECT_NEAR(static_cast<double>(json_int(t, "first_sample") - json_int(t, "raw_first_sample")),
                json_num(t, "moved_samples"), 0.5)
        << "the track starts where the conform moved raw/'s start";
    ASSERT_GE(raw.frames(), offset + frames);
    EXPECT_EQ(count_mismatches(source, 2, channel - 1, raw, offset, frames), 0);
  }
  std::printf(
      "[ figure ] %.0f s over 10%% loss + 50 ms bursts + 20 ms jitter + 5%% reordering: %lld packets lost "
      "(%.1f%%), %lld NACKs, %lld resent packets, %lld samples recovered into the tracks, %lld lost\n",
      seconds, static_cast<long long>(json_int(far, "lost")), json_num(far, "loss_pct"),
      static_cast<long long>(json_int(far, "nacks_sent")),
      static_cast<long long>(json_int(far, "retransmits")), static_cast<long long>(recovered),
      static_cast<long long>(json_int(stopped, "lost_samples")));
  EXPECT_GT(json_num(far, "loss_pct"), 5.0) << "the path really was lossy";
  EXPECT_GT(recovered, 0) << "the loss reached the recorder and was repaired";
}

TEST(Lossy, LiveMixConcealsLossWithoutSilentGaps) {
  Session s("lossy_live");
  // 2% random loss; 30 ms each way, so a resend (90 ms after the original and more: the
  // gap shows, the NACK goes back, the resend comes) misses the play-out delay, which
  // adapts within 60-80 ms: the live mix has to conceal. The 60 ms floor keeps the
  // scheduling stalls of a busy machine (20 ms and more) from making audio late too.
  s.start_mixer({"--latency-min", "60", "--latency-max", "80"});
  Process netem({bin("tl-netem"), "--listen", "127.0.0.1:0", "--forward", s.mixer_address(), "--loss", "2",
                 "--delay-ms", "30", "--seed", "5", "--stats-interval", "0"},
                s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();
  s.record_start("live");
  s.start_capture("far", "tone:220", {"--audio-to", proxy});
  ASSERT_TRUE(s.wait_node_state("far", "streaming", 30s)) << s.logs();
  s.wait_session(10.0);
  const json far = s.node("far");
  s.record_stop();
  netem.stop();

  const std::string dir = s.take_dir() + "/live";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in, nullptr, false);
  ASSERT_FALSE(take.is_discarded());
  const std::int64_t first = json_int(take["tracks"][0], "first_sample") - json_int(take, "start_sample");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(mix.channels, 2);
  // From a second after the node's first audio: the longest run of silence in the mix.
  const std::int64_t longest = longest_silent_run(mix, 0, first + kRate, mix.frames() - kRate / 2);
  std::printf(
      "[ figure ] 2%% loss, resends too late for the live mix: %lld samples concealed, %lld late packets, "
      "longest silent run in mix.wav %lld samples (a lost packet is 48)\n",
      static_cast<long long>(json_int(far, "concealed_samples")),
      static_cast<long long>(json_int(far, "late")), static_cast<long long>(longest));
  EXPECT_GT(json_int(far, "concealed_samples"), 0) << "the path lost audio the live mix had to cover";
  // take.json says where mix.wav holds concealed audio.
  const json& mix_info = take["mix"];
  const std::int64_t guessed = json_int(mix_info, "concealed_samples");
  std::int64_t in_ranges = 0;
  for (const auto& r : mix_info["concealed"]) {
    const std::int64_t from = json_int(r, "from") - json_int(take, "start_sample");
    EXPECT_GE(from, 0);
    EXPECT_LE(from + json_int(r, "frames"), mix.frames());
    in_ranges += json_int(r, "frames");
  }
  std::printf("[ figure ] mix.wav: %lld frames concealed, marked in %zu range(s) of take.json\n",
              static_cast<long long>(guessed), mix_info["concealed"].size());
  EXPECT_GT(guessed, 0) << "take.json does not say where the mix was concealed";
  EXPECT_GE(in_ranges, guessed);
  EXPECT_LT(longest, 24) << "a gap reached the mix as silence";
  // The recording does not depend on the live path: complete.
  for (const auto& t : take["tracks"]) EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
}

// A home router that rebinds its NAT mapping mid-take (the node's datagrams suddenly come
// from another port): the mixer follows the node, authenticated, with its cue mix, sync
// replies and NACKs, and the take stays complete and bit-exact. The link reorders 5% of
// the packets by 8 ms (past the next cue packet, 5 ms on), and the cue is Opus into a file (an output that
// cannot say when it plays): the node waits for every reordered cue packet instead of concealing it.
TEST(Lossy, ANodeWhoseNatRebindsMidTakeIsFollowedWithItsCue) {
  Session s("nat_rebind");
  s.start_mixer();
  Process netem({bin("tl-netem"), "--listen", "127.0.0.1:0", "--forward", s.mixer_address(), "--rebind-at",
                 "4", "--reorder", "5", "--reorder-gap-ms", "8", "--seed", "7", "--stats-interval", "0"},
                s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();
  const std::int64_t frames = 8 * kRate;
  std::vector<std::int32_t> source(static_cast<std::size_t>(frames));
  std::mt19937 rng(9);
  for (auto& v : source) v = static_cast<std::int32_t>(rng() & 0xFFFFFF00u);
  const std::string file = s.dir() + "/source.wav";
  ASSERT_TRUE(write_wav(file, kRate, 1, SF_FORMAT_PCM_24, source));

  s.record_start("rebound");
  s.start_capture("home", "file:" + file,
                  {"--audio-to", proxy, "--cue", "file:" + s.dir() + "/cue.wav", "--cue-codec", "opus"});
  ASSERT_TRUE(s.wait_node_state("home", "streaming", 30s)) << s.logs();
  ASSERT_TRUE(netem.wait_for_output("rebind t=4.0s", 20s)) << netem.out() << netem.err();
  ASSERT_TRUE(s.mixer().wait_for_output("now sends from", 10s)) << s.mixer().err();
  // The cue goes on reaching the node at its new port.
  const std::int64_t cue_then = json_int(s.node("home"), "cue_packets");
  ASSERT_TRUE(wait_until([&] { return json_int(s.node("home"), "cue_packets") > cue_then + 200; }, 20s))
      << "the cue mix stopped at the rebinding: " << s.node("home").dump();
  s.wait_session(frames / kRate - 3.0);  // the rest of the file
  const json home = s.node("home");
  s.record_stop();
  netem.stop();
  EXPECT_EQ(json_int(home, "address_changes"), 1) << home.dump();
  EXPECT_NE(s.tlctl({"nodes", "-v"}).out.find("sent from a new address 1 time(s)"), std::string::npos);
  EXPECT_EQ(home.value("sync_state", ""), "SYNC_LOCKED") << "sync replies followed it too: " << home.dump();
  EXPECT_EQ(home.value("cue_codec", ""), "opus") << home.dump();
  // About 85 of its cue packets came out of order: waited for, not concealed (a
  // sender thread kept off the CPU for 12 ms on a busy machine could give up one or two).
  EXPECT_LE(json_int(home, "cue_late_packets"), kSanitized ? 10 : 2)
      << "reordered cue packets waited for: " << home.dump();

  const std::string dir = s.take_dir() + "/rebound";
  const json take = read_json(dir + "/take.json");
  ASSERT_EQ(take["tracks"].size(), 1u) << take.dump();
  const json& t = take["tracks"][0];
  EXPECT_TRUE(t.value("complete", false)) << t.dump();
  const Audio raw = read_raw_track(dir, t);
  const std::int64_t offset = json_int(t, "raw_first_sample") - json_int(take, "start_sample");
  ASSERT_GE(raw.frames(), offset + frames);
  EXPECT_EQ(count_mismatches(source, 1, 0, raw, offset, frames), 0) << "bit-exact across the rebinding";
  std::printf(
      "[ figure ] NAT rebinding 4 s in: followed at once; %lld Opus cue packets (%lld frames concealed, "
      "%lld late), %lld cue underrun frames, track complete, %lld samples recovered\n",
      static_cast<long long>(json_int(home, "cue_packets")),
      static_cast<long long>(json_int(home, "cue_concealed_frames")),
      static_cast<long long>(json_int(home, "cue_late_packets")),
      static_cast<long long>(json_int(home, "cue_underruns")),
      static_cast<long long>(json_int(t, "recovered_samples")));
}

}  // namespace
}  // namespace tl::test
