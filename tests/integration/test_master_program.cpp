// tl-master as a user runs it: a file in, a new master out, the report, the refusals.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;

TEST(MasterProgram, MastersAFileToThePresetAndRefusesWhatItShouldNot) {
  const std::string dir = make_work_dir("master_program");
  const std::string in = dir + "/song.wav", out = dir + "/song-master.flac";
  // 6 s of a quiet band of noise over a bass note, 44.1 kHz / 16-bit.
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 0.03);
  std::vector<std::int32_t> samples;
  for (int i = 0; i < 6 * 44100; ++i) {
    for (int c = 0; c < 2; ++c) {
      const double v = noise(rng) + 0.1 * std::sin(2 * std::numbers::pi * 82.4 * i / 44100.0 + c);
      samples.push_back(static_cast<std::int32_t>(std::lround(v * 32767.0)) * 65536);
    }
  }
  ASSERT_TRUE(write_wav(in, 44100, 2, SF_FORMAT_PCM_16, samples));

  const auto timeout = std::chrono::seconds(120);
  RunResult r = run({bin("tl-master"), in, "-o", out, "--preset", "apple", "--json", "--quiet"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["output"], out);
  EXPECT_EQ(report["bits"], 16) << "the input's depth is kept";
  EXPECT_EQ(report["dithered"], true);
  EXPECT_NEAR(report["after"]["integrated_lufs"].get<double>(), -16.0, 0.2);
  EXPECT_LE(report["after"]["true_peak_dbtp"].get<double>(), -1.0);
  EXPECT_GT(report["gain_db"].get<double>(), 0.0) << "a quiet song comes up";
  EXPECT_DOUBLE_EQ(report["after"]["seconds"].get<double>(), 6.0);
  // Measured on its own (libebur128), the file says the same.
  const Audio audio = read_audio(out);
  ASSERT_EQ(audio.rate, 44100);
  EXPECT_EQ(audio.format & SF_FORMAT_TYPEMASK, SF_FORMAT_FLAC);
  EXPECT_NEAR(integrated_lufs(audio), -16.0, 0.5);
  EXPECT_LE(true_peak_dbtp(audio), -1.0);
  EXPECT_FALSE(fs::exists(out + ".part"));

  // The text report names both sides.
  r = run({bin("tl-master"), in, "-o", dir + "/song-stream.wav", "-q"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("-> " + dir + "/song-stream.wav"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("before"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after"), std::string::npos) << r.out;
  r = run({bin("tl-master"), "--measure", "--json", dir + "/song-stream.wav"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["figures"]["integrated_lufs"].get<double>(), -14.0, 0.2);

  // Refusals: exit 1 with the reason for what cannot be done, 2 for bad options.
  r = run({bin("tl-master"), in, "-o", out, "-q"}, timeout);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
  r = run({bin("tl-master"), in, "-o", in, "-q"}, timeout);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is the input"), std::string::npos) << r.err;
  EXPECT_EQ(read_audio(in).samples, samples) << "the input is untouched";
  r = run({bin("tl-master"), in, "-o", dir + "/x.wav", "--preset", "loud"}, timeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no preset 'loud'"), std::string::npos) << r.err;
  r = run({bin("tl-master"), in, "-o", dir + "/x.wav", "--bits", "20"}, timeout);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run({bin("tl-master"), in}, timeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("-o FILE"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/x.wav"));

  // The tone stages from the command line: named in the report, measured before the
  // gain, the master still on target; a bad band is a bad option.
  r = run({bin("tl-master"),
           in,
           "-o",
           dir + "/song-shaped.wav",
           "--eq",
           "low-shelf:100:-2",
           "--eq",
           "peak:3k:+2:1.2",
           "--multiband",
           "-30:2:150,3k",
           "--width",
           "1.3",
           "--saturate",
           "4:0.5",
           "--plot",
           dir + "/song-shaped.png",
           "--plot-spectrum",
           dir + "/song-shaped-tone.png",
           "--json",
           "-q"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto shaped = nlohmann::json::parse(r.out);
  const std::string chain = shaped["chain"];
  EXPECT_NE(chain.find("eq low-shelf:100:-2.0:0.71 peak:3000:+2.0:1.20"), std::string::npos) << chain;
  EXPECT_NE(chain.find("multiband 3 bands at 150/3000 Hz, -30.0 dBFS 2.0:1"), std::string::npos) << chain;
  EXPECT_NE(chain.find("width 1.30, saturation 4.0 dB drive, mix 0.50"), std::string::npos) << chain;
  ASSERT_TRUE(shaped.contains("shaped"));
  EXPECT_NEAR(shaped["after"]["integrated_lufs"].get<double>(), -14.0, 0.2);
  EXPECT_LE(true_peak_dbtp(read_audio(dir + "/song-shaped.wav")), -1.0);
  // Its picture, and the file's own with --measure; a picture must be a PNG.
  EXPECT_GT(fs::file_size(dir + "/song-shaped.png"), 10000u);
  EXPECT_GT(fs::file_size(dir + "/song-shaped-tone.png"), 10000u) << "the tone before and after";
  r = run({bin("tl-master"), "--measure", in, "--plot", dir + "/song-in.png", "-q"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(fs::file_size(dir + "/song-in.png"), 10000u);
  r = run({bin("tl-master"), "--measure", in, "--plot", dir + "/song-in.jpg"}, timeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ending in .png"), std::string::npos) << r.err;
  // An option before the file takes its one value, not the file after it.
  r = run({bin("tl-master"), "--eq", "peak:1k:+1", in, "-o", dir + "/song-eq-first.wav", "--json", "-q"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["chain"], "eq peak:1000:+1.0:0.71");
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--eq", "notch:1k:3"},
                                              {"--multiband", "-20:2:2k,1k"},
                                              {"--width", "3"},
                                              {"--saturate", "hot"}}) {
    std::vector<std::string> args{bin("tl-master"), in, "-o", dir + "/bad.wav"};
    args.insert(args.end(), bad.begin(), bad.end());
    r = run(args, timeout);
    EXPECT_EQ(r.exit_code, 2) << bad[0] << " " << bad[1] << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  EXPECT_FALSE(fs::exists(dir + "/bad.wav"));

  // A preset file: its target and chain; an option overrides it, stage by stage.
  const std::string pop = std::string(TL_SOURCE_DIR) + "/mastering/presets/bright-pop.toml";
  r = run({bin("tl-master"), in, "-o", dir + "/song-pop.wav", "--preset", pop, "--json", "-q"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["preset"], "bright pop");
  EXPECT_EQ(j["target_lufs"], -11.0);
  EXPECT_NE(j["chain"].get<std::string>().find("multiband 4 bands"), std::string::npos) << j["chain"];
  EXPECT_NE(j["chain"].get<std::string>().find("width 1.15"), std::string::npos) << j["chain"];
  EXPECT_NEAR(j["after"]["integrated_lufs"].get<double>(), -11.0, 0.2);
  r = run({bin("tl-master"), in, "-o", dir + "/song-pop14.wav", "--preset", pop, "--target", "-14", "--width",
           "1", "--json", "-q"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["target_lufs"], -14.0);
  EXPECT_EQ(j["chain"].get<std::string>().find("width"), std::string::npos) << j["chain"];
  EXPECT_NE(j["chain"].get<std::string>().find("eq low-shelf:80"), std::string::npos) << j["chain"];
  const std::string typo = dir + "/typo.toml";
  { std::ofstream(typo) << "targt_lufs = -14\n"; }
  r = run({bin("tl-master"), in, "-o", dir + "/bad.wav", "--preset", typo}, timeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no key 'targt_lufs'"), std::string::npos) << r.err;

  // An album: two files, one gain, a folder with each master, the two as one image 2 s
  // apart and its CUE sheet; several files without --album is a bad option.
  r = run({bin("tl-master"), "--album", in, dir + "/song-stream.wav", "-o", dir + "/album", "--json", "-q",
           "--format", "flac"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto album = nlohmann::json::parse(r.out);
  ASSERT_EQ(album["songs"].size(), 2u);
  EXPECT_NEAR(album["album"]["after"]["integrated_lufs"].get<double>(), -14.0, 0.2);
  EXPECT_TRUE(fs::exists(dir + "/album/01 song.flac"));
  EXPECT_TRUE(fs::exists(dir + "/album/02 song-stream.flac"));
  EXPECT_TRUE(fs::exists(dir + "/album/album.flac"));
  std::ifstream cue(dir + "/album/album.cue");
  const std::string sheet((std::istreambuf_iterator<char>(cue)), std::istreambuf_iterator<char>());
  EXPECT_NE(
      sheet.find("FILE \"album.flac\" WAVE\n  TRACK 01 AUDIO\n    TITLE \"song\"\n    INDEX 01 00:00:00"),
      std::string::npos)
      << sheet;
  EXPECT_NE(sheet.find("TITLE \"song-stream\""), std::string::npos) << sheet;
  EXPECT_EQ(album["songs"][1]["index_01"].get<std::string>(), sheet.substr(sheet.rfind("INDEX 01 ") + 9, 8));

  // An album file: its titles, ISRCs and a crossfade; its mistakes are bad options (2).
  {
    std::ofstream(dir + "/album.toml") << "title = \"Two Songs\"\npreset = \"ebu-r128\"\n"
                                          "[[song]]\nfile = \"song.wav\"\ntitle = \"First\"\n"
                                          "isrc = \"GBAYE2600001\"\ncrossfade = 1.0\n"
                                          "[[song]]\nfile = \"song-stream.wav\"\ntitle = \"Second\"\n";
    std::ofstream(dir + "/typo-album.toml")
        << "[[song]]\nfile = \"song.wav\"\ntitle = \"A\"\nisrc = \"GB1\"\n";
  }
  r = run({bin("tl-master"), "--album-file", dir + "/album.toml", "-o", dir + "/album2", "--json", "-q"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto two = nlohmann::json::parse(r.out);
  EXPECT_NEAR(two["album"]["after"]["integrated_lufs"].get<double>(), -23.0, 0.5);
  EXPECT_LE(two["image"]["figures"]["true_peak_dbtp"].get<double>(), -1.0);
  EXPECT_GT(two["songs"][1]["crossfade_in_seconds"].get<double>(), 0.98);
  const std::string sheet2 = read_file(dir + "/album2/album.cue");
  EXPECT_NE(sheet2.find("TITLE \"Two Songs\""), std::string::npos) << sheet2;
  EXPECT_NE(sheet2.find("ISRC GBAYE2600001"), std::string::npos) << sheet2;
  const auto start = two["songs"][1]["start_frame"].get<std::int64_t>();
  const int per_cd_frame = read_audio(dir + "/album2/album.wav").rate / 75;
  EXPECT_EQ(start % per_cd_frame, 0);
  const std::string index = two["songs"][1]["index_01"].get<std::string>();
  EXPECT_EQ(((std::stoll(index.substr(0, 2)) * 60 + std::stoll(index.substr(3, 2))) * 75 +
             std::stoll(index.substr(6, 2))) *
                per_cd_frame,
            start);
  EXPECT_NE(sheet2.find("INDEX 01 " + index), std::string::npos) << sheet2;
  r = run({bin("tl-master"), "--album-file", dir + "/typo-album.toml", "-o", dir + "/album3"}, timeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("song 1: isrc:"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/album3"));
  // A song that is not there cannot be mastered (1), and leaves no folder behind.
  std::ofstream(dir + "/missing.toml") << "[[song]]\nfile = \"nowhere.wav\"\ntitle = \"A\"\n";
  r = run({bin("tl-master"), "--album-file", dir + "/missing.toml", "-o", dir + "/album4"}, timeout);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("song 1: '" + dir + "/nowhere.wav': no such file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/album4"));
  // A take folder as a song: mixed first (as tl-render mixes it), the mix not left behind.
  const std::string take = dir + "/take";
  fs::create_directories(take);
  std::vector<std::int32_t> tone;
  for (int i = 0; i < 2 * 48000; ++i) {
    tone.push_back(static_cast<std::int32_t>(
                       std::lround(0.2 * std::sin(2 * std::numbers::pi * 440.0 * i / 48000.0) * 8388607.0)) *
                   256);
  }
  ASSERT_TRUE(write_wav(take + "/x-1.wav", 48000, 1, SF_FORMAT_PCM_24, tone));
  std::ofstream(take + "/take.json") << R"({"state": "complete", "sample_rate": 48000, "frames": 96000, )"
                                     << R"("tracks": [{"node": "x", "channel": 1, "file": "x-1.wav"}]})";
  std::ofstream(take + "/automation.json")
      << R"({"mix": {"block_frames": 48, "block_origin": 0, "lookahead_frames": 0}, "initial": {}, "changes": []})";
  std::ofstream(dir + "/takes.toml") << "[[song]]\nfile = \"take\"\ntitle = \"Take\"\ngap = "
                                        "1\n[[song]]\nfile = \"take/\"\ntitle = \"Again\"\n";
  r = run({bin("tl-master"), "--album-file", dir + "/takes.toml", "-o", dir + "/takes", "-q"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/takes/01 Take.wav"));
  EXPECT_TRUE(fs::exists(dir + "/takes/02 Again.wav"));
  EXPECT_NE(read_file(dir + "/takes/album.cue").find("INDEX 01 00:03:00"), std::string::npos)
      << "2 s, then 1 s of gap";
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir + "/takes")) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 4u) << "two songs, the image and the sheet: the takes' mixes are not left behind";
  r = run({bin("tl-master"), in, dir + "/song-stream.wav", "-o", dir + "/two.wav"}, timeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--album"), std::string::npos) << r.err;

  r = run({bin("tl-master"), "--list-presets"}, timeout);
  ASSERT_EQ(r.exit_code, 0);
  for (const char* name : {"streaming", "apple", "ebu-r128", "atsc-a85"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << r.out;
  }
}

// The CD preset: a 48 kHz / 24-bit mix comes out 44.1 kHz / 16-bit; --rate takes only
// the common delivery rates.
TEST(MasterProgram, TheCdPresetDeliversA44k1SixteenBitFile) {
  const std::string dir = make_work_dir("master_program_cd");
  const std::string in = dir + "/mix48.wav", out = dir + "/mix-cd.wav";
  std::vector<std::int32_t> samples;
  for (int i = 0; i < 3 * 48000; ++i) {
    for (int c = 0; c < 2; ++c) {
      const double v = 0.2 * std::sin(2 * std::numbers::pi * 220.0 * i / 48000.0 + c);
      samples.push_back(static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256);
    }
  }
  ASSERT_TRUE(write_wav(in, 48000, 2, SF_FORMAT_PCM_24, samples));
  const auto timeout = std::chrono::seconds(120);
  RunResult r = run({bin("tl-master"), in, "-o", out, "--preset", "cd", "--json", "-q"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["rate"], 44100);
  EXPECT_EQ(report["bits"], 16);
  EXPECT_EQ(report["resampled"], true);
  const Audio audio = read_audio(out);
  EXPECT_EQ(audio.rate, 44100);
  EXPECT_EQ(audio.frames(), 3 * 44100);
  r = run({bin("tl-master"), in, "-o", dir + "/x.wav", "--rate", "12345"}, timeout);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/x.wav"));
  r = run({bin("tl-master"), "--list-presets"}, timeout);
  EXPECT_NE(r.out.find("44100 Hz 16-bit"), std::string::npos) << r.out;
}

// The vinyl pre-master: no limiter, its stages in the report, warnings in the JSON with
// their times, and a target out of reach refused with the one that fits (exit 1).
TEST(MasterProgram, TheVinylPresetWarnsWhereTheCutWouldSufferAndNeverLimits) {
  const std::string dir = make_work_dir("master_program_vinyl");
  const std::string in = dir + "/mix.wav", out = dir + "/lacquer.wav";
  // 4 s: a 220 Hz note in both channels over noise, and from 1 s to 3 s a 200 Hz bass in
  // antiphase (above vinyl's 150 Hz mono bass, so it is still there to be found).
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 0.02);
  std::vector<std::int32_t> samples;
  for (int i = 0; i < 4 * 48000; ++i) {
    const double t = i / 48000.0;
    const double bass = t >= 1.0 && t < 3.0 ? 0.3 * std::sin(2 * std::numbers::pi * 200.0 * t) : 0.0;
    for (int c = 0; c < 2; ++c) {
      const double v =
          0.1 * std::sin(2 * std::numbers::pi * 220.0 * t) + noise(rng) + (c == 0 ? bass : -bass);
      samples.push_back(static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256);
    }
  }
  ASSERT_TRUE(write_wav(in, 48000, 2, SF_FORMAT_PCM_24, samples));
  const auto timeout = std::chrono::seconds(120);
  RunResult r = run({bin("tl-master"), in, "-o", out, "--preset", "vinyl", "--json", "-q"}, timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["limiter"], false);
  EXPECT_EQ(report["bits"], 24);
  EXPECT_NEAR(report["after"]["integrated_lufs"].get<double>(), -18.0, 0.2);
  EXPECT_LE(report["after"]["true_peak_dbtp"].get<double>(), -3.0);
  EXPECT_NE(report["chain"].get<std::string>().find("mono bass under 150 Hz"), std::string::npos);
  ASSERT_TRUE(report["warnings"].is_array());
  const auto& w = report["warnings"];
  const auto phase =
      std::find_if(w.begin(), w.end(), [](const auto& x) { return x["kind"] == "out-of-phase-low-end"; });
  ASSERT_NE(phase, w.end()) << w.dump();
  EXPECT_NEAR((*phase)["from_s"].get<double>(), 1.0, 1e-6);
  EXPECT_NEAR((*phase)["to_s"].get<double>(), 3.0, 1e-6);
  EXPECT_EQ((*phase)["file"], out);
  const Audio audio = read_audio(out);
  EXPECT_NEAR(integrated_lufs(audio), -18.0, 0.5);
  EXPECT_LE(true_peak_dbtp(audio), -3.0);

  // The text report says it too; a side limit of a minute does not warn on 4 s.
  r = run({bin("tl-master"), in, "-o", dir + "/text.wav", "--preset", "vinyl", "--side-minutes", "1", "-q"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("warning: out-of-phase low end under 300 Hz at 0:01.0-0:03.0"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("side"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no limiter"), std::string::npos) << r.out;

  // -6 LUFS cannot be reached under -3 dBTP without a limiter: refused, nothing written.
  r = run({bin("tl-master"), in, "-o", dir + "/loud.wav", "--preset", "vinyl", "--target", "-6", "-q"},
          timeout);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the limiter is off"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--target"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/loud.wav"));
  r = run({bin("tl-master"), in, "-o", dir + "/x.wav", "--deess", "loud"}, timeout);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run({bin("tl-master"), "--list-presets"}, timeout);
  EXPECT_NE(r.out.find("no limiter"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tl::test

namespace tl::test {
namespace {

// Noise through one filter per channel pair, at a level, with its channels this much
// apart: a stand-in for a mix with a tone, a loudness and a width of its own.
std::vector<std::int32_t> coloured_noise(int rate, double seconds, double level, double spread, double tilt,
                                         unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<std::int32_t> out;
  double lp = 0.0;  // a one-pole low-pass mixed in by tilt: dark (tilt 1) to white (0)
  for (int i = 0; i < static_cast<int>(seconds * rate); ++i) {
    const double mid = g(rng), side = g(rng);
    lp += 0.05 * (mid - lp);
    const double m = level * ((1.0 - tilt) * mid + tilt * 4.0 * lp);
    for (const double v : {m + spread * level * side, m - spread * level * side}) {
      out.push_back(static_cast<std::int32_t>(std::lround(std::clamp(v, -1.0, 1.0) * 8388607.0)) * 256);
    }
  }
  return out;
}

TEST(MasterProgram, MatchesAReferenceAndSaysWhatItChanged) {
  const std::string dir = make_work_dir("master_program_match");
  const std::string in = dir + "/mix.wav", ref = dir + "/reference.wav";
  // A dark, narrow, quiet mix at 44.1 kHz; a brighter, wider, louder reference at 48 kHz.
  ASSERT_TRUE(write_wav(in, 44100, 2, SF_FORMAT_PCM_24, coloured_noise(44100, 8.0, 0.03, 0.3, 0.7, 1)));
  ASSERT_TRUE(write_wav(ref, 48000, 2, SF_FORMAT_PCM_24, coloured_noise(48000, 8.0, 0.08, 0.5, 0.2, 2)));
  const auto timeout = std::chrono::seconds(120);
  RunResult r = run({bin("tl-master"), in, "-o", dir + "/matched.wav", "--reference", ref, "--plot-spectrum",
                     dir + "/matched.png", "--json", "-q"},
                    timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& match = j["match"];
  std::printf(
      "[ figure ] matched: tone within %.2f dB (mid) / %.2f dB (side), width x%.2f, target %.2f LUFS\n",
      match["after"]["worst_mid_db"].get<double>(), match["after"]["worst_side_db"].get<double>(),
      match["width"].get<double>(), match["target_lufs"].get<double>());
  EXPECT_LE(match["after"]["worst_mid_db"].get<double>(), 1.5);
  EXPECT_LE(match["after"]["worst_side_db"].get<double>(), 1.5);
  EXPECT_GT(match["width"].get<double>(), 1.2) << "the reference is wider";
  EXPECT_GT(match["tone"].size(), 20u) << "the curve, band by band";
  // Its loudness is the reference's, as libebur128 reads both; the delivery's ceiling holds.
  const Audio out = read_audio(dir + "/matched.wav");
  EXPECT_EQ(out.rate, 44100) << "the input's rate is kept";
  EXPECT_NEAR(integrated_lufs(out), integrated_lufs(read_audio(ref)), 0.5);
  EXPECT_LE(true_peak_dbtp(out), -1.0);
  EXPECT_GT(fs::file_size(dir + "/matched.png"), 10000u);

  // Half the tone, nothing else: the report says so.
  r = run({bin("tl-master"), in, "-o", dir + "/half.wav", "--reference", ref, "--match", "tone:50", "-q"},
          timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tone 50%: mid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("level 0%: target -14.0 LUFS"), std::string::npos) << r.out;

  // Refusals: bad aspects and options are exit 2, a reference that cannot be read exit 1.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--reference", ref, "--match", "loudness"},
        {"--match", "tone"},
        {"--reference", ref, "--target", "-10"},
        {"--reference", ref, "--plot-spectrum", dir + "/s.jpg"},
        {"--plot-spectrum", dir + "/s.png", "--stems", dir + "/stems.toml"}}) {
    std::vector<std::string> args{bin("tl-master"), in, "-o", dir + "/bad.wav", "-q"};
    args.insert(args.end(), bad.begin(), bad.end());
    r = run(args, timeout);
    EXPECT_EQ(r.exit_code, 2) << bad[0] << " " << bad[1] << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  r = run({bin("tl-master"), in, "-o", dir + "/bad.wav", "--reference", dir + "/missing.wav", "-q"}, timeout);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.wav"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/bad.wav"));
}

}  // namespace
}  // namespace tl::test

namespace tl::test {
namespace {

TEST(MasterProgram, MastersATakeAsStemsWithTheRestKept) {
  const std::string dir = make_work_dir("master_program_stems");
  // A take of three nodes: a kit (two channels, a click at 1.000 s on the first), a voice
  // (a click at 1.500 s) and a guitar no stem names.
  const std::string take = dir + "/take";
  fs::create_directories(take);
  const auto track = [&](const std::string& name, double hz, double click_at) {
    std::vector<std::int32_t> s;
    for (int i = 0; i < 3 * 48000; ++i) {
      const double t = i / 48000.0;
      const double v = (std::fabs(t - click_at) < 0.5 / 48000.0 ? 0.5 : 0.0) +
                       0.03 * std::sin(2 * std::numbers::pi * hz * t);
      s.push_back(static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256);
    }
    ASSERT_TRUE(write_wav(take + "/" + name + ".wav", 48000, 1, SF_FORMAT_PCM_24, s));
  };
  track("kit-1", 110.0, 1.0);
  track("kit-2", 220.0, -1.0);
  track("voice-1", 660.0, 1.5);
  track("gtr-1", 330.0, -1.0);
  std::ofstream(take + "/take.json")
      << R"({"state": "complete", "sample_rate": 48000, "frames": 144000, "tracks": [)"
      << R"({"node": "kit", "channel": 1, "file": "kit-1.wav"}, {"node": "kit", "channel": 2, "file": "kit-2.wav"},)"
      << R"({"node": "voice", "channel": 1, "file": "voice-1.wav"}, {"node": "gtr", "channel": 1, "file": "gtr-1.wav"}]})";
  std::ofstream(take + "/automation.json")
      << R"({"mix": {"block_frames": 48, "block_origin": 0, "lookahead_frames": 0}, "initial": {}, "changes": []})";
  std::ofstream(dir + "/stems.toml") << R"(
[[stem]]
name = "drums"
tracks = ["kit/*"]

[[stem]]
name = "vocals"
tracks = ["voice/1"]
gain_db = -1.0
[stem.saturation]
drive = 4
[[stem.eq]]
type = "high-shelf"
freq = 6000
gain = 2
)";
  const auto timeout = std::chrono::seconds(120);
  RunResult r = run({bin("tl-master"), take, "-o", dir + "/master.wav", "--stems", dir + "/stems.toml",
                     "--target", "-30", "--json", "-q"},
                    timeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["stems"].size(), 3u);
  EXPECT_EQ(j["stems"][0]["name"], "drums");
  EXPECT_EQ(j["stems"][2]["name"], "rest") << "the guitar is in no stem: kept as 'rest'";
  EXPECT_NE(j["stems"][1]["chain"].get<std::string>().find("saturation"), std::string::npos);
  EXPECT_NEAR(j["after"]["integrated_lufs"].get<double>(), -30.0, 0.2);
  for (const char* stem : {"drums", "vocals", "rest"})
    EXPECT_TRUE(fs::exists(dir + "/master-stems/" + stem + ".wav")) << stem;
  // The mixes of the stems are not left behind.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 2u) << "stems.toml and master.wav";
  // The clicks where they were: the kit's at 1.000 s, the voice's (through saturation) at 1.500 s.
  const Audio m = read_audio(dir + "/master.wav");
  ASSERT_EQ(m.frames(), 3 * 48000);
  const auto peak = [&](std::int64_t from, std::int64_t to) {
    std::int64_t at = from;
    for (std::int64_t i = from; i < to; ++i) {
      if (std::abs(m.samples[static_cast<std::size_t>(2 * i)]) >
          std::abs(m.samples[static_cast<std::size_t>(2 * at)]))
        at = i;
    }
    return at;
  };
  EXPECT_EQ(peak(0, 60000), 48000);
  EXPECT_EQ(peak(60000, 100000), 72000);

  // Mistakes: a pattern no track matches, a track in two stems, a stems file's typo (2);
  // tracks without the take (2).
  const auto refused = [&](const std::string& text, const std::vector<std::string>& extra,
                           const std::string& says) {
    std::ofstream(dir + "/bad.toml") << text;
    std::vector<std::string> args{bin("tl-master")};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const char* a : {"-o", "", "--stems", "", "-q"}) args.emplace_back(a);
    args[args.size() - 4] = dir + "/bad.wav";
    args[args.size() - 2] = dir + "/bad.toml";
    RunResult b = run(args, timeout);
    EXPECT_EQ(b.exit_code, 2) << text << b.err;
    EXPECT_NE(b.err.find(says), std::string::npos) << b.err;
    EXPECT_FALSE(fs::exists(dir + "/bad.wav"));
  };
  refused("[[stem]]\nname = \"keys\"\ntracks = [\"keys/1\"]\n", {take}, "no track of the take is keys/1");
  refused("[[stem]]\nname = \"a\"\ntracks = [\"kit/*\"]\n[[stem]]\nname = \"b\"\ntracks = [\"kit/2\"]\n",
          {take}, "track kit/2 is in stem 'a' and in 'b'");
  refused("[[stem]]\nname = \"a\"\ntrack = [\"kit/1\"]\n", {take}, "no key 'track'");
  refused("[[stem]]\nname = \"a\"\ntracks = [\"kit/1\"]\n", {}, "give the take folder");
}

}  // namespace
}  // namespace tl::test
