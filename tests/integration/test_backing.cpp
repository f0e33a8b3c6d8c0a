// Backing tracks on the transport timeline (issue 18): files added with tlctl backing add
// play into the real tl-mixer's mix in place, bit for bit, through play and locate; a file
// at another rate is resampled; bad requests are refused with the right exit codes.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

constexpr int kRate = 48000;

//! A stereo bed of 2 s: noise at about -26 dBFS, each frame's pair distinct, 24-bit.
std::vector<std::int32_t> bed_samples() {
  std::mt19937 rng(18);
  std::uniform_int_distribution<std::int32_t> dist(-200000, 200000);
  std::vector<std::int32_t> s(2 * 2 * kRate);
  for (auto& v : s) v = dist(rng) * 256;  // 24-bit, left-justified
  return s;
}

//! The timeline position the transport reports.
std::int64_t transport_position(const Session& s) {
  return json_int(s.tlctl_json({"transport"}), "position", -1);
}

//! Waits (bounded) until the transport has passed timeline sample `at`.
bool wait_transport_past(const Session& s, std::int64_t at) {
  return wait_until([&] { return transport_position(s) > at; }, 20s);
}

//! Where in `mix` (one channel, from frame `from`) the run of `file` frames starting at
//! `file_from` first appears exactly (24 frames must match); -1 when it does not.
std::int64_t find_run(const Audio& mix, int channel, std::int64_t from, const std::vector<std::int32_t>& file,
                      std::int64_t file_from) {
  const auto at = [&](std::int64_t f) {
    return mix.samples[static_cast<std::size_t>(f * mix.channels + channel)];
  };
  const auto src = [&](std::int64_t f) { return file[static_cast<std::size_t>(f * 2 + channel)]; };
  for (std::int64_t f = from; f + 24 < mix.frames(); ++f) {
    bool same = true;
    for (std::int64_t k = 0; k < 24 && same; ++k) same = at(f + k) == src(file_from + k);
    if (same) return f;
  }
  return -1;
}

//! How many frames from mix frame `at` on equal the file from `file_from` on, both channels.
std::int64_t matching_run(const Audio& mix, std::int64_t at, const std::vector<std::int32_t>& file,
                          std::int64_t file_from) {
  std::int64_t n = 0;
  while (at + n < mix.frames() && 2 * (file_from + n) < static_cast<std::int64_t>(file.size())) {
    const auto m = static_cast<std::size_t>((at + n) * mix.channels);
    const auto f = static_cast<std::size_t>((file_from + n) * 2);
    if (mix.samples[m] != file[f] || mix.samples[m + 1] != file[f + 1]) break;
    ++n;
  }
  return n;
}

//! take.json once the take is closed (conformed and punched: not "conforming"), bounded.
json wait_take_closed(const std::string& dir) {
  json m;
  wait_until(
      [&] {
        m = read_json(dir + "/take.json");
        return m.value("state", "") == "complete" || m.value("state", "") == "incomplete";
      },
      30s);
  return m;
}

TEST(Backing, AFilePlaysBitExactInPlaceThroughPlayAndLocateAndAnotherRateIsResampled) {
  Session s("backing");
  s.start_mixer();
  const std::vector<std::int32_t> bed = bed_samples();
  const std::string bed_path = s.dir() + "/bed.wav";
  ASSERT_TRUE(write_wav(bed_path, kRate, 2, SF_FORMAT_PCM_24, bed));
  // A 1 kHz tone of 1 s at 44.1 kHz, mono, placed after the bed.
  std::vector<std::int32_t> tone(44100);
  for (std::size_t i = 0; i < tone.size(); ++i) {
    tone[i] = static_cast<std::int32_t>(
                  std::lround(0.25 * std::sin(2.0 * M_PI * 1000.0 * i / 44100.0) * 8388607.0)) *
              256;
  }
  const std::string tone_path = s.dir() + "/tone44.wav";
  ASSERT_TRUE(write_wav(tone_path, 44100, 1, SF_FORMAT_PCM_24, tone));

  // Bad requests: a missing file is refused by the mixer (1), a bad position by tlctl (2).
  EXPECT_EQ(s.tlctl({"backing", "add", s.dir() + "/missing.wav"}).exit_code, 1);
  EXPECT_EQ(s.tlctl({"backing", "add", bed_path, "--at", "-1"}).exit_code, 2);
  EXPECT_EQ(s.tlctl({"locate", "1:75"}).exit_code, 2);
  EXPECT_EQ(s.tlctl({"backing", "remove", "nothing"}).exit_code, 1);

  const json added = s.tlctl_json({"backing", "add", bed_path, "--at", "0.5s", "--name", "bed"});
  ASSERT_EQ(added["tracks"].size(), 1u) << added.dump();
  EXPECT_EQ(json_int(added["tracks"][0], "at"), kRate / 2);
  EXPECT_EQ(json_int(added["tracks"][0], "frames"), 2 * kRate);
  const json tone_added = s.tlctl_json({"backing", "add", tone_path, "--at", "0:04", "--name", "tone"});
  ASSERT_EQ(tone_added["tracks"].size(), 2u) << tone_added.dump();
  EXPECT_EQ(json_int(tone_added["tracks"][1], "frames"), kRate)
      << "1 s at 44.1 kHz is 48000 frames at 48 kHz";
  // Its strips are addressed like a node's.
  EXPECT_EQ(s.tlctl({"pan", "tone/1", "0"}).exit_code, 0);
  // It is no node: never listed, never recorded.
  EXPECT_TRUE(s.tlctl_json({"nodes"})["nodes"].empty());

  // A singer over it, punched in at 1.6 s and out at 1.9 s of the timeline: the first pass
  // runs through it before the locate to 1.5 s below, the second after it.
  s.start_capture("voice", "noise", {"--level-db", "-20"});
  ASSERT_TRUE(s.wait_node_state("voice", "streaming")) << s.logs();
  // Muted in the mix (which must hold the bed alone, bit for bit); recorded all the same.
  ASSERT_EQ(s.tlctl({"mute", "voice/1"}).exit_code, 0);
  EXPECT_EQ(s.tlctl({"record", "punch", "1.9s", "1.6s"}).exit_code, 2) << "out before in";
  EXPECT_EQ(s.tlctl({"record", "punch", "1.6s"}).exit_code, 2);
  EXPECT_EQ(s.tlctl({"record", "punch", "1.6s", "1.9s", "no/such"}).exit_code, 2);
  const json armed = s.tlctl_json({"record", "punch", "1.6s", "1.9s", "voice"});
  EXPECT_EQ(json_int(armed["punch"], "from"), 16 * kRate / 10) << armed.dump();
  EXPECT_EQ(json_int(armed["punch"], "to"), 19 * kRate / 10) << armed.dump();
  EXPECT_NE(s.tlctl({"transport"}).out.find("punch: 0:01.600 to 0:01.900"), std::string::npos);

  s.record_start("over");
  ASSERT_EQ(s.tlctl({"play", "0"}).exit_code, 0);
  // Into the bed's second half, then back to 1.5 s (bed frame 48000) while playing.
  ASSERT_TRUE(wait_transport_past(s, 2 * kRate)) << s.logs();
  // play while playing changes nothing (the first pass below runs on unbroken).
  EXPECT_GE(json_int(s.tlctl_json({"play"}), "position"), 2 * kRate);
  const json located = s.tlctl_json({"locate", "1.5s"});
  EXPECT_TRUE(located.value("playing", false));
  EXPECT_EQ(json_int(located, "position"), 3 * kRate / 2);
  ASSERT_TRUE(wait_transport_past(s, 5 * kRate + kRate / 4)) << s.logs();
  const json stopped = s.tlctl_json({"stop"});
  EXPECT_FALSE(stopped.value("playing", true));
  const json take = s.record_stop();
  EXPECT_EQ(json_int(s.tlctl_json({"transport"}), "underruns", -1), 0) << "the disk reader kept up";

  const Audio mix = read_audio(s.take_dir() + "/over/mix.wav");
  ASSERT_EQ(mix.rate, kRate);
  // The first pass: the bed from its first frame, bit for bit on both sides (a stereo
  // track starts panned hard left and right), until the locate took it away.
  const std::int64_t first = find_run(mix, 0, 0, bed, 0);
  ASSERT_GE(first, 0) << "the bed's first frames are not in mix.wav";
  const std::int64_t pass1 = matching_run(mix, first, bed, 0);
  std::printf("[ figure ] first pass: bed frames 0..%lld bit-exact from mix frame %lld\n",
              static_cast<long long>(pass1), static_cast<long long>(first));
  EXPECT_GE(pass1, 3 * kRate / 2 - 4800) << "played on past timeline 2.0 s before the locate";
  // After the locate: bed frame 48000 (timeline 1.5 s) onwards, to the bed's end.
  const std::int64_t second = find_run(mix, 0, first + pass1, bed, kRate);
  ASSERT_GE(second, 0) << "bed frame 48000 does not follow the locate";
  EXPECT_EQ(matching_run(mix, second, bed, kRate), kRate) << "the rest of the bed, whole and in order";
  // Seamless: the first read plays until the block the locate lands on, the new one from it.
  EXPECT_EQ(second, first + pass1) << "a gap or an overlap at the locate";
  // The tone lands 2.5 s of timeline after the bed's 1.5 s: 2.5 s after `second`.
  const std::int64_t tone_at = second + 5 * kRate / 2;
  double energy = 0.0;
  int crossings = 0;
  std::int32_t last = 0;
  for (std::int64_t f = tone_at + 480; f < tone_at + kRate - 480; ++f) {
    const std::int32_t v = mix.samples[static_cast<std::size_t>(f * 2)];
    energy += std::pow(static_cast<double>(v) / 2147483648.0, 2);
    if ((v >= 0) != (last >= 0)) ++crossings;
    last = v;
  }
  const double seconds = static_cast<double>(kRate - 960) / kRate;
  std::printf("[ figure ] resampled 44.1 kHz tone: %.1f Hz\n", crossings / 2.0 / seconds);
  EXPECT_NEAR(crossings / 2.0 / seconds, 1000.0, 2.0);
  EXPECT_GT(energy / (kRate - 960), 0.25 * 0.25 / 2 * 0.5 * 0.5) << "the tone is there (centre pan: -3 dB)";
  // And nothing before the tone's place: the bed ended 2.5 s earlier.
  for (std::int64_t f = tone_at - 2400; f < tone_at - 8; ++f) {
    ASSERT_EQ(mix.samples[static_cast<std::size_t>(f * 2)], 0) << "mix frame " << f;
  }
  // The take has no track for a backing track: the singer's and mix.wav.
  ASSERT_EQ(take["tracks"].size(), 2u) << take.dump();
  json mix_track;
  for (const json& t : take["tracks"]) {
    if (t.value("file", "") == "mix.wav") mix_track = t;
  }
  ASSERT_FALSE(mix_track.is_null()) << take.dump();
  EXPECT_EQ(json_int(take, "punch_passes"), 2) << take.dump();

  // The take holds its timeline: the transport as it began (stopped at 0), the play, the
  // locate and the stop; and where its files lie on the timeline. Timeline 0.5 s (the
  // bed's first frame) is at mix frame `first`, so mix.wav's first frame is timeline
  // 0.5 s - first, before the song's start.
  const json automation = read_json(s.take_dir() + "/over/automation.json");
  const json& marks = automation["transport"];
  ASSERT_EQ(marks.size(), 4u) << marks.dump();
  EXPECT_FALSE(marks[0].value("playing", true));
  EXPECT_TRUE(marks[1].value("playing", false));
  EXPECT_EQ(json_int(marks[1], "timeline"), 0);
  EXPECT_TRUE(marks[2].value("playing", false));
  EXPECT_EQ(json_int(marks[2], "timeline"), 3 * kRate / 2);
  EXPECT_EQ(json_int(marks[2], "offset"), second) << "the locate's mark is where mix.wav changes";
  EXPECT_FALSE(marks[3].value("playing", true));
  ASSERT_EQ(automation["backing"].size(), 2u) << automation["backing"].dump();
  EXPECT_EQ(automation["backing"][0].value("name", ""), "bed");
  EXPECT_EQ(json_int(mix_track, "timeline_sample", 1), kRate / 2 - first) << take.dump();
  const json manifest = wait_take_closed(s.take_dir() + "/over");
  EXPECT_EQ(json_int(manifest["mix"], "timeline_sample", 1), kRate / 2 - first);
  // The files' BWF time references: their timeline place, the song's start at one hour.
  EXPECT_EQ(json_int(manifest, "bwf_song_start"), 3600 * kRate);
  EXPECT_EQ(time_reference(s.take_dir() + "/over/mix.wav"), 3600 * kRate + kRate / 2 - first);
  EXPECT_EQ(time_reference(s.take_dir() + "/over/voice-1.wav"),
            3600 * kRate + json_int(manifest["tracks"][0], "timeline_sample"));

  // The punch: two passes through 1.6-1.9 s, each the singer's track from where the mix
  // played 1.6 s, with 10 ms handles faded outside the range; the take's track stays whole.
  const json& punch = manifest["punch"];
  ASSERT_EQ(punch["passes"].size(), 2u) << manifest.dump();
  EXPECT_FALSE(punch.value("pending", false)) << "written (take.json says pending only while it is not)";
  const std::int64_t fade = json_int(punch, "fade_samples");
  EXPECT_EQ(fade, kRate / 100);
  const std::int64_t start = json_int(manifest, "start_sample");
  const std::int64_t range = 3 * kRate / 10;
  // Timeline 1.6 s: 1.1 s after the bed's first frame in the first pass, 0.1 s after the
  // locate to 1.5 s in the second.
  const std::int64_t played_at[] = {first + 11 * kRate / 10, second + kRate / 10};
  ASSERT_EQ(manifest["tracks"].size(), 1u) << manifest.dump();
  const json& voice_track = manifest["tracks"][0];
  ASSERT_EQ(voice_track.value("file", ""), "voice-1.wav");
  const Audio voice = read_audio(s.take_dir() + "/over/voice-1.wav");
  ASSERT_EQ(voice.frames(), mix.frames());
  const std::int64_t offset =
      json_int(manifest["mix"], "timeline_sample") - json_int(voice_track, "timeline_sample");
  for (std::size_t p = 0; p < 2; ++p) {
    const json& pass = punch["passes"][p];
    EXPECT_EQ(json_int(pass, "pass"), static_cast<std::int64_t>(p + 1));
    EXPECT_TRUE(pass.value("complete", false)) << pass.dump();
    EXPECT_EQ(json_int(pass, "mix_sample"), start + played_at[p]) << pass.dump();
    EXPECT_EQ(json_int(pass, "timeline_sample"), 16 * kRate / 10 - fade);
    ASSERT_EQ(pass["files"].size(), 1u) << pass.dump();
    const Audio cut = read_audio(s.take_dir() + "/over/" + pass["files"][0].get<std::string>());
    ASSERT_EQ(cut.frames(), range + 2 * fade);
    const std::int64_t from = played_at[p] - fade + offset;  // its first frame in voice-1.wav
    std::int64_t exact = 0;
    for (std::int64_t f = fade; f < fade + range; ++f) {
      exact += cut.samples[static_cast<std::size_t>(f)] == voice.samples[static_cast<std::size_t>(from + f)];
    }
    EXPECT_EQ(exact, range) << "pass " << p + 1 << ": the range, bit for bit";
    // The handles: the track under a raised-cosine fade in and out (sin^2 over the 10 ms,
    // to the 24-bit sample), with near silence at the file's ends.
    std::int64_t faded = 0;
    for (std::int64_t i = 0; i < fade; ++i) {
      const double g =
          std::pow(std::sin(0.5 * M_PI * (static_cast<double>(i) + 0.5) / static_cast<double>(fade)), 2);
      for (const std::int64_t f : {i, 2 * fade + range - 1 - i}) {
        const double want = g * voice.samples[static_cast<std::size_t>(from + f)];
        faded += std::fabs(cut.samples[static_cast<std::size_t>(f)] - want) <= 256.0 + 1e-9 * std::fabs(want);
      }
    }
    EXPECT_EQ(faded, 2 * fade) << "pass " << p + 1 << ": the fades";
    std::printf("[ figure ] punch pass %zu: %lld frames bit-exact from mix frame %lld, %lld-frame fades\n",
                p + 1, static_cast<long long>(exact), static_cast<long long>(played_at[p]),
                static_cast<long long>(fade));
  }
  EXPECT_EQ(s.tlctl({"record", "punch", "off"}).exit_code, 0);
  EXPECT_EQ(s.tlctl({"transport"}).out.find("punch"), std::string::npos);

  // Its render plays both backing tracks from their files where the take's transport put
  // them: the same mix, bit for bit, through the play and the locate, the resampled tone too.
  const RunResult render = run({bin("tl-render"), "--quiet", "--compare", s.take_dir() + "/over"}, 60s);
  EXPECT_EQ(render.exit_code, 0) << render.out << render.err;
  EXPECT_NE(render.out.find("2 backing tracks played"), std::string::npos) << render.out;
  EXPECT_NE(render.out.find("max difference 0 LSB"), std::string::npos) << render.out;
  std::printf("[ figure ] %s", render.out.c_str());

  // Bars and beats at the tempo: bar 3, beat 1 of 4 at 90 BPM is 8 beats of 2/3 s.
  EXPECT_EQ(s.tlctl({"tempo", "90"}).exit_code, 0);
  EXPECT_EQ(json_int(s.tlctl_json({"locate", "3.1"}), "position"), 8 * 2 * kRate / 3);
  EXPECT_EQ(s.tlctl({"locate", "3.5"}).exit_code, 2) << "no fifth beat in a bar of 4";
  const json click = s.tlctl_json({"click", "level", "-20"});
  EXPECT_TRUE(click.value("click_on", false)) << click.dump();
  EXPECT_EQ(click.value("tempo_bpm", 0.0), 90.0);
  // A count-in of a bar: a play from bar 3 starts at bar 2, counting in to bar 3.
  EXPECT_EQ(json_int(s.tlctl_json({"click", "count-in", "1"}), "click_count_in_bars"), 1);
  EXPECT_EQ(s.tlctl({"click", "count-in", "9"}).exit_code, 2);
  const json counted = s.tlctl_json({"play", "3.1"});
  EXPECT_EQ(json_int(counted, "position"), 4 * 2 * kRate / 3) << counted.dump();
  EXPECT_EQ(json_int(counted, "count_in_to"), 8 * 2 * kRate / 3) << counted.dump();
  const RunResult shown = s.tlctl({"transport"});
  EXPECT_NE(shown.out.find("count-in 1 bar(s)"), std::string::npos) << shown.out;
  EXPECT_EQ(s.tlctl({"stop"}).exit_code, 0);

  // Removed: silent from the next block, and gone from the list.
  EXPECT_EQ(s.tlctl({"backing", "remove", "bed"}).exit_code, 0);
  EXPECT_EQ(s.tlctl_json({"backing", "list"})["tracks"].size(), 1u);
}

// tlctl loop: the transport plays a range lap after lap, the backing track with it, bit
// for bit and seamless at every wrap; a take recorded while it loops keeps each lap of the
// nodes' tracks (no punch armed: the loop's range is the pass), and its render repeats
// the laps to 0 LSB.
TEST(Backing, ALoopPlaysLapAfterLapAndATakeKeepsEachLap) {
  Session s("backing_loop");
  s.start_mixer();
  const std::vector<std::int32_t> bed = bed_samples();
  const std::string bed_path = s.dir() + "/bed.wav";
  ASSERT_TRUE(write_wav(bed_path, kRate, 2, SF_FORMAT_PCM_24, bed));
  ASSERT_EQ(s.tlctl({"backing", "add", bed_path, "--name", "bed"}).exit_code, 0);
  s.start_capture("voice", "noise", {"--level-db", "-20"});
  ASSERT_TRUE(s.wait_node_state("voice", "streaming")) << s.logs();
  ASSERT_EQ(s.tlctl({"mute", "voice/1"}).exit_code, 0);
  const RunResult short_loop = s.tlctl({"loop", "1s", "1.2s"});
  EXPECT_EQ(short_loop.exit_code, 2) << "a lap of a quarter second at least";
  EXPECT_NE(short_loop.err.find("a loop ends at least 0.25 s after it starts"), std::string::npos)
      << short_loop.err;
  EXPECT_EQ(s.tlctl({"loop", "1s", "0.5s"}).exit_code, 2);
  // Laps of bed frames 24000..72000 (timeline 0.5 s to 1.5 s).
  const json set = s.tlctl_json({"loop", "0.5s", "1.5s"});
  EXPECT_EQ(json_int(set["loop"], "from"), kRate / 2) << set.dump();
  EXPECT_EQ(json_int(set["loop"], "to"), 3 * kRate / 2);
  EXPECT_FALSE(set.value("looping", true)) << "from the next play";

  s.record_start("laps");
  const json played = s.tlctl_json({"play", "0.25s"});
  EXPECT_TRUE(played.value("looping", false)) << played.dump();
  // Three wraps and some: the transport comes back to the loop's start every second.
  int wraps = 0;
  std::int64_t last = transport_position(s);
  ASSERT_TRUE(wait_until(
      [&] {
        const std::int64_t now = transport_position(s);
        if (now < last) ++wraps;
        last = now;
        EXPECT_LT(now, 3 * kRate / 2) << "never past the loop's end";
        return wraps >= 3 && now > kRate;
      },
      20s, 20ms))
      << s.logs();
  const RunResult shown = s.tlctl({"transport"});
  EXPECT_NE(shown.out.find("loop: 0:00.500 to 0:01.500 (samples 24000..72000), playing it"),
            std::string::npos)
      << shown.out;
  ASSERT_EQ(s.tlctl({"stop"}).exit_code, 0);
  const json take = s.record_stop();
  std::printf("[ figure ] %d wraps seen by tlctl transport before the stop\n", wraps);
  EXPECT_EQ(json_int(s.tlctl_json({"transport"}), "underruns", -1), 0)
      << "the reader kept ahead of every wrap";

  // mix.wav: the bed from timeline 0.25 s, then bed frames 24000..72000 again and again,
  // every frame of every lap in place.
  const Audio mix = read_audio(s.take_dir() + "/laps/mix.wav");
  // (Found 0.1 s in: mix.wav fades in over its first milliseconds, and the play can land
  // that early in the take.)
  const std::int64_t found = find_run(mix, 0, 0, bed, kRate / 4 + kRate / 10);
  ASSERT_GE(found, kRate / 10) << "timeline 0.35 s is not in mix.wav";
  const std::int64_t first = found - kRate / 10;  // where timeline 0.25 s is
  const std::int64_t to_wrap = 5 * kRate / 4;     // timeline 0.25 s to 1.5 s
  EXPECT_EQ(matching_run(mix, found, bed, kRate / 4 + kRate / 10), to_wrap - kRate / 10)
      << "straight to the loop's end";
  // Laps 1 and 2 whole, seamless at each wrap; the third was stopped half-way or later.
  for (int lap = 0; lap < 3; ++lap) {
    const std::int64_t run_of = matching_run(mix, first + to_wrap + lap * kRate, bed, kRate / 2);
    if (lap < 2) {
      EXPECT_EQ(run_of, kRate) << "lap " << lap + 1;
    } else {
      EXPECT_GE(run_of, kRate / 2) << "lap 3 begins at the wrap";
    }
  }
  const RunResult render = run({bin("tl-render"), "--quiet", "--compare", s.take_dir() + "/laps"}, 60s);
  EXPECT_EQ(render.exit_code, 0) << render.out << render.err;
  EXPECT_NE(render.out.find("max difference 0 LSB"), std::string::npos) << render.out;
  std::printf("[ figure ] looped take rendered again: %s", render.out.c_str());

  // Each lap of the voice, in punch-N/: the loop's range, as no punch was armed.
  const json manifest = wait_take_closed(s.take_dir() + "/laps");
  const json& punch = manifest["punch"];
  EXPECT_TRUE(punch.value("from_loop", false)) << manifest.dump();
  EXPECT_EQ(json_int(punch, "from"), kRate / 2);
  ASSERT_GE(punch["passes"].size(), 4u) << punch.dump();
  const json automation = read_json(s.take_dir() + "/laps/automation.json");
  EXPECT_EQ(automation["transport"].back().value("playing", true), false);
  bool looped = false;
  for (const json& m : automation["transport"]) looped = looped || m.contains("loop");
  EXPECT_TRUE(looped) << automation["transport"].dump();
  for (std::size_t p = 0; p + 1 < punch["passes"].size(); ++p) {
    const json& pass = punch["passes"][p];
    EXPECT_TRUE(pass.value("complete", false)) << pass.dump();
    // The first pass at timeline 0.5 s (0.25 s after `first`), then one a lap later each.
    EXPECT_EQ(json_int(pass, "mix_sample"),
              json_int(manifest, "start_sample") + first + kRate / 4 + static_cast<std::int64_t>(p) * kRate);
    ASSERT_EQ(pass["files"].size(), 1u) << pass.dump();
    EXPECT_EQ(read_audio(s.take_dir() + "/laps/" + pass["files"][0].get<std::string>()).frames(),
              kRate + kRate / 50);
  }
  EXPECT_NE(take.dump().find("punch_passes"), std::string::npos) << take.dump();

  const json off = s.tlctl_json({"loop", "off"});
  EXPECT_FALSE(off.contains("loop")) << off.dump();
}

// A mixer killed and started again on the same record folder takes back the transport's
// set-up from its desk journal: tempo, click, count-in, the punch armed, backing tracks
// (with their strips) and where the transport stood. A backing file gone meanwhile is skipped with a warning.
TEST(Backing, AMixerStartedAgainTakesBackItsTempoClickBackingTracksAndPlace) {
  Session s("backing_restart");
  s.reserve_port();
  s.start_mixer();
  const std::string bed = s.dir() + "/bed.wav", gone = s.dir() + "/gone.wav";
  ASSERT_TRUE(write_wav(bed, kRate, 2, SF_FORMAT_PCM_24, bed_samples()));
  ASSERT_TRUE(write_wav(gone, kRate, 2, SF_FORMAT_PCM_24, bed_samples()));
  ASSERT_EQ(s.tlctl({"backing", "add", bed, "--at", "1s", "--name", "bed"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"backing", "add", gone, "--name", "gone"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"gain", "bed/1", "-6"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"tempo", "96", "3"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"click", "level", "-18"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"click", "count-in", "1"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"record", "punch", "3s", "4s", "singer"}).exit_code, 0);
  ASSERT_EQ(s.tlctl({"locate", "2s"}).exit_code, 0);
  // The journal is saved within half a second of a change: the kill comes after that.
  const std::string desk_file = s.take_dir() + "/.desk/current.json";
  ASSERT_TRUE(wait_until(
      [&] {
        const json desk = read_json(desk_file);  // not there before the first save
        if (!desk.is_object()) return false;
        const json t = desk.value("transport", json::object());
        return json_int(t, "position", -1) == 2 * kRate && t.value("backing", json::array()).size() == 2 &&
               t.value("count_in_bars", 0) == 1 && t.contains("punch");
      },
      10s, 50ms))
      << read_json(desk_file).dump();
  s.mixer().kill_hard();
  std::filesystem::remove(gone);
  s.start_mixer();
  ASSERT_TRUE(s.mixer().wait_for_output("transport taken back", 20s)) << s.mixer().err();
  EXPECT_NE(s.mixer().err().find("backing track 'gone'"), std::string::npos) << s.mixer().err();

  const json t = s.tlctl_json({"transport"});
  EXPECT_EQ(t.value("tempo_bpm", 0.0), 96.0) << t.dump();
  EXPECT_EQ(t.value("beats_per_bar", 0), 3);
  EXPECT_TRUE(t.value("click_on", false));
  EXPECT_EQ(t.value("click_level_db", 0.0), -18.0);
  EXPECT_EQ(t.value("click_count_in_bars", 0), 1);
  EXPECT_EQ(json_int(t["punch"], "from"), 3 * kRate) << t.dump();
  EXPECT_EQ(json_int(t["punch"], "to"), 4 * kRate);
  EXPECT_EQ(t["punch"].value("nodes", json::array()), json::array({"singer"}));
  EXPECT_FALSE(t.value("playing", true));
  EXPECT_TRUE(wait_until([&] { return transport_position(s) == 2 * kRate; }, 10s))
      << "it stands where it stood";
  const json list = s.tlctl_json({"backing", "list"});
  ASSERT_EQ(list["tracks"].size(), 1u) << list.dump();
  EXPECT_EQ(list["tracks"][0].value("name", ""), "bed");
  EXPECT_EQ(json_int(list["tracks"][0], "at"), kRate);
  const json strip = s.tlctl_json({"strip", "bed/1", "show"});
  EXPECT_NEAR(json_num(strip["channel"], "gain_db"), -6.0, 1e-6) << strip.dump();
  EXPECT_NEAR(json_num(s.tlctl_json({"strip", "bed/2", "show"})["channel"], "pan"), 1.0, 1e-6)
      << "a stereo track's right side, as it was";
  // The same add again (a walkthrough followed twice) changes nothing; another place is refused.
  const RunResult again = s.tlctl({"backing", "add", bed, "--at", "1s", "--name", "bed"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already there"), std::string::npos) << again.out;
  EXPECT_NE(s.tlctl({"backing", "add", bed, "--at", "2s", "--name", "bed"}).exit_code, 0);
}

}  // namespace
}  // namespace tl::test
