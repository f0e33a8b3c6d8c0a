// A node that sends Opus: its live audio crosses a lossy link compressed, with
// Opus's own concealment standing in for lost packets in the mix, while its
// recording is made from its exact samples (fetched from its spool as the take
// goes, and at the stop), bit for bit.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;

json read_take(const std::string& dir) {
  std::ifstream in(dir + "/take.json");
  return json::parse(in, nullptr, false);
}

TEST(Opus, RecordingOfAnOpusNodeOverALossyPathIsExact) {
  const double seconds = std::getenv("TL_LOSSY_SECONDS") ? std::atof(std::getenv("TL_LOSSY_SECONDS")) : 20.0;
  Session s("opus_exact");
  s.start_mixer();
  // The link of the PCM lossy test (lossy_link_argv), another seed.
  Process netem(lossy_link_argv(s.mixer_address(), 17), s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();

  // Stereo 24-bit noise: Opus cannot carry it exactly, so an exact track can only
  // have come from the node's spool.
  const auto frames = static_cast<std::int64_t>(seconds * kRate);
  std::vector<std::int32_t> source(static_cast<std::size_t>(frames) * 2);
  std::mt19937 rng(23);
  for (auto& v : source) v = static_cast<std::int32_t>(rng() & 0x3FFFFF00u) - 0x20000000;
  const std::string file = s.dir() + "/source.wav";
  ASSERT_TRUE(write_wav(file, kRate, 2, SF_FORMAT_PCM_24, source));

  s.record_start("opus");
  s.start_capture("far", "file:" + file, {"--format", "opus", "--audio-to", proxy});
  ASSERT_TRUE(s.wait_node_state("far", "streaming", 30s)) << s.logs();
  s.wait_session(seconds + 2.0);
  const json far = s.node("far");
  const json stopped = s.record_stop();
  netem.stop();

  EXPECT_EQ(far.value("format", ""), "FORMAT_OPUS") << far.dump();
  const std::int64_t plc = json_int(far, "opus_plc_samples"), fec = json_int(far, "opus_fec_samples");
  const std::string dir = s.take_dir() + "/opus";
  const json take = read_take(dir);
  ASSERT_FALSE(take.is_discarded());
  EXPECT_EQ(take.value("state", ""), "complete");
  const std::int64_t start = json_int(take, "start_sample");
  std::int64_t recovered = 0;
  for (const auto& t : take["tracks"]) {
    const int channel = t.value("channel", 0);
    SCOPED_TRACE("far/" + std::to_string(channel));
    EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
    recovered += json_int(t, "recovered_samples");
    const Audio raw = read_raw_track(dir, t);
    // raw/ is where the packets' stamps put it (first_sample follows any conform move).
    const std::int64_t offset = json_int(t, "raw_first_sample") - start;
    ASSERT_GT(offset, 0);
    ASSERT_GE(raw.frames(), offset + frames);
    EXPECT_EQ(count_mismatches(source, 2, channel - 1, raw, offset, frames), 0);
  }
  std::printf(
      "[ figure ] Opus node, %.0f s over 10%% loss + 50 ms bursts + 20 ms jitter + 5%% reordering: %lld "
      "packets "
      "lost (%.1f%%); live: %lld samples by Opus PLC, %lld by FEC, %lld held for reordering, %lld too late; "
      "recording: %lld samples from the spool, %lld lost\n",
      seconds, static_cast<long long>(json_int(far, "lost")), json_num(far, "loss_pct"),
      static_cast<long long>(plc), static_cast<long long>(fec),
      static_cast<long long>(json_int(far, "opus_held_packets")),
      static_cast<long long>(json_int(far, "opus_late_packets")), static_cast<long long>(recovered),
      static_cast<long long>(json_int(stopped, "lost_samples")));
  EXPECT_GT(json_num(far, "loss_pct"), 5.0) << "the path really was lossy";
  EXPECT_GT(plc + fec, 0) << "Opus concealed nothing on a lossy path";
  // Every exact sample came from the spool: Opus carried the live path only.
  EXPECT_GE(recovered, 2 * frames);
}

TEST(Opus, LiveMixAtTwoPercentLossHasNoSilentGaps) {
  Session s("opus_live");
  // 2% loss, 30 ms each way; the play-out delay adapts within 60-80 ms (the floor
  // keeps a busy machine's scheduling stalls from making audio late too).
  s.start_mixer({"--latency-min", "60", "--latency-max", "80"});
  Process netem({bin("tl-netem"), "--listen", "127.0.0.1:0", "--forward", s.mixer_address(), "--loss", "2",
                 "--delay-ms", "30", "--seed", "9", "--stats-interval", "0"},
                s.dir() + "/netem");
  ASSERT_TRUE(netem.wait_for_output("tl-netem listening on", 10s)) << netem.err();
  const std::string proxy = netem_address(netem);
  ASSERT_FALSE(proxy.empty()) << netem.out();
  s.record_start("live");
  s.start_capture("far", "tone:220", {"--format", "opus", "--bitrate", "64", "--audio-to", proxy});
  ASSERT_TRUE(s.wait_node_state("far", "streaming", 30s)) << s.logs();
  s.wait_session(10.0);
  const json far = s.node("far");
  s.record_stop();
  netem.stop();

  const std::string dir = s.take_dir() + "/live";
  const json take = read_take(dir);
  ASSERT_FALSE(take.is_discarded());
  const std::int64_t first = json_int(take["tracks"][0], "first_sample") - json_int(take, "start_sample");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(mix.channels, 2);
  const std::int64_t longest = longest_silent_run(mix, 0, first + kRate, mix.frames() - kRate / 2);
  const std::int64_t plc = json_int(far, "opus_plc_samples"), fec = json_int(far, "opus_fec_samples");
  const std::int64_t marked = json_int(take["mix"], "concealed_samples");
  std::printf(
      "[ figure ] Opus at 64 kb/s, 2%% loss: %lld packets lost; %lld samples by Opus PLC, %lld by FEC, %lld "
      "concealed in all; mix.wav marks %lld frames concealed; longest silent run %lld samples (a packet is "
      "240)\n",
      static_cast<long long>(json_int(far, "lost")), static_cast<long long>(plc), static_cast<long long>(fec),
      static_cast<long long>(json_int(far, "concealed_samples")), static_cast<long long>(marked),
      static_cast<long long>(longest));
  EXPECT_GT(json_int(far, "lost"), 0) << "the path lost nothing";
  EXPECT_GT(plc + fec, 0) << "Opus concealed nothing";
  EXPECT_GT(marked, 0) << "take.json does not say where the mix holds Opus's guesses";
  EXPECT_LT(longest, 24) << "a gap reached the mix as silence";
  for (const auto& t : take["tracks"]) EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
  EXPECT_EQ(take.value("state", ""), "complete");
}

}  // namespace
}  // namespace tl::test
