// The programs as a newcomer meets them: --version, the README's quick tour and its
// mastering walkthrough, run as written.
#include <gtest/gtest.h>

#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "tl/common/version.h"
#include "wav.h"

namespace tl::test {
namespace {

TEST(Programs, EveryProgramPrintsTheProjectVersion) {
  for (const char* program : {"tl-mixer", "tl-capture", "tl-render", "tlctl", "tl-master"}) {
    SCOPED_TRACE(program);
    const RunResult r = run({bin(program), "--version"}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(std::string(kTracklinkVersion)), std::string::npos) << r.out << r.err;
  }
}

//! The fenced blocks of `lang` under the README's heading `heading` (up to the next heading
//! of its level or above), each as its lines; a line ending in a backslash joined to the next.
std::vector<std::vector<std::string>> readme_blocks(const std::string& heading, const std::string& lang) {
  std::ifstream in(std::string(TL_SOURCE_DIR) + "/README.md");
  const auto level = [](const std::string& l) {  // a heading's level, 0 for other lines
    const std::size_t n = l.find_first_not_of('#');
    return n != std::string::npos && n > 0 && l[n] == ' ' ? n : 0;
  };
  const std::size_t mine = level(heading);
  std::vector<std::vector<std::string>> blocks;
  std::string line;
  bool under = false, in_block = false, wanted = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block;
      wanted = in_block && under && line == "```" + lang;
      if (wanted) blocks.emplace_back();
      continue;
    }
    if (!in_block) {
      if (const std::size_t l = level(line); l != 0 && l <= mine) under = line == heading;
      continue;
    }
    if (!wanted) continue;
    auto& b = blocks.back();
    if (!b.empty() && b.back().ends_with("\\")) {
      b.back().pop_back();
      b.back() += line;
    } else {
      b.push_back(line);
    }
  }
  return blocks;
}

//! The lines of the README's quick tour (its first ```sh block), comments left out.
std::vector<std::string> quick_tour() {
  std::vector<std::string> lines;
  const auto blocks = readme_blocks("## A quick tour", "sh");
  if (blocks.empty()) return lines;
  for (const std::string& line : blocks.front()) {
    if (line.rfind("build/bin/", 0) == 0) lines.push_back(line);
  }
  return lines;
}

//! The words of a command line up to its comment.
std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w && w.front() != '#') out.push_back(w);
  return out;
}

//! The value after `option`, or empty.
std::string option_value(const std::vector<std::string>& w, const std::string& option) {
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == option) return w[i + 1];
  }
  return {};
}

TEST(Programs, TheReadmeQuickTourRunsAsWritten) {
  const std::vector<std::string> tour = quick_tour();
  ASSERT_GT(tour.size(), 10u) << "README.md has no quick tour in a ```sh block under '## A quick tour'";
  Session s("readme_tour");
  s.start_mixer();
  std::string take;
  std::size_t ran = 0;
  for (const std::string& line : tour) {
    SCOPED_TRACE(line);
    std::vector<std::string> w = words(line);
    const std::string program = w.front().substr(std::string("build/bin/").size());
    if (program == "tl-mixer") continue;  // the session's mixer, on a free port
    if (program == "tl-capture") {
      // Its node as the tour starts it, with a tone for its audio and a file for its cue.
      const std::string name = option_value(w, "--name");
      std::vector<std::string> extra;
      if (const std::string ch = option_value(w, "--channels"); !ch.empty()) extra = {"--channels", ch};
      if (!option_value(w, "--cue").empty())
        extra.insert(extra.end(), {"--cue", "file:" + s.dir() + "/cue.wav"});
      s.start_capture(name, "tone:440", extra);
      ASSERT_TRUE(s.wait_node_state(name, "streaming")) << s.logs();
      continue;
    }
    std::vector<std::string> args;
    for (std::size_t i = 1; i < w.size(); ++i) {
      if (w[i] == "--mixer") {
        ++i;  // the session's mixer instead
        continue;
      }
      if (w[i] == "takes/TAKE") w[i] = s.take_dir() + "/" + take;
      // A file the tour writes goes into the session's folder.
      if (w[i].ends_with(".wav") || w[i].ends_with(".png")) w[i] = s.dir() + "/" + w[i];
      args.push_back(w[i] == "TAKE" ? take : w[i]);
    }
    s.wait_session(0.3);  // an operator's pace
    if (args.size() > 2 && args[0] == "backing" && args[1] == "add") {
      // The file the tour adds: a second of clicks, stereo.
      std::vector<std::int32_t> clicks(2 * 48000, 0);
      for (std::size_t f = 0; f < 48000; f += 12000) clicks[2 * f] = clicks[2 * f + 1] = 0x20000000;
      ASSERT_TRUE(write_wav(args[2], 48000, 2, SF_FORMAT_PCM_24, clicks));
    }
    RunResult r;
    if (program == "tlctl") {
      r = s.tlctl(args);
      if (args == std::vector<std::string>{"record", "start"}) {
        take = r.out.substr(0, r.out.find('\n'));
        s.wait_session(2.0);  // a take long enough to master (loudness is read in 400 ms blocks)
      }
    } else {
      ASSERT_TRUE(program == "tl-render" || program == "tl-master")
          << "a program the tour test does not know";
      args.insert(args.begin(), bin(program));
      r = run(args, 120s);
    }
    // What the offline steps write is there.
    for (const std::string& a : args) {
      if (a.rfind(s.dir() + "/", 0) == 0) {
        EXPECT_TRUE(std::filesystem::exists(a)) << a;
      }
    }
    if (args.size() > 2 && args[0] == "take" && args[1] == "master") {
      EXPECT_TRUE(std::filesystem::exists(s.take_dir() + "/" + take + "/master/cd.wav")) << r.out;
    }
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    ++ran;
  }
  EXPECT_FALSE(take.empty()) << "the tour records a take";
  EXPECT_GT(ran, 10u);
}

TEST(Programs, TheReadmeOverdubSessionRunsAsWritten) {
  const auto blocks = readme_blocks("### An overdub session", "sh");
  ASSERT_FALSE(blocks.empty()) << "README.md has no ```sh block under '### An overdub session'";
  Session s("readme_overdub");
  s.start_mixer();
  // The node's calibration stays with the test, not in the user's state folder.
  const std::string calibration = s.dir() + "/calibration.json";
  std::string stopped;
  std::size_t ran = 0;
  for (const std::string& line : blocks.front()) {
    if (line.rfind("build/bin/", 0) != 0) continue;
    SCOPED_TRACE(line);
    const std::vector<std::string> w = words(line);
    const std::string program = w.front().substr(std::string("build/bin/").size());
    if (program == "tl-mixer") continue;  // the session's mixer, on a free port
    if (program == "tl-capture" && option_value(w, "--mixer").empty()) {
      std::vector<std::string> argv = {bin("tl-capture")};
      argv.insert(argv.end(), w.begin() + 1, w.end());
      argv.insert(argv.end(), {"--calibration-file", calibration});
      const RunResult r = run(argv, 60s);
      EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
      EXPECT_NE(r.out.find("round trip: 350 frames"), std::string::npos) << r.out;
      ++ran;
      continue;
    }
    if (program == "tl-capture") {
      s.start_capture(option_value(w, "--name"), option_value(w, "--source"),
                      {"--calibration-file", calibration});
      ASSERT_TRUE(s.wait_node_state(option_value(w, "--name"), "streaming")) << s.logs();
      // It says how it is placed once its cue has settled.
      ASSERT_TRUE(wait_until(
          [&] {
            return s.tlctl({"nodes", "-v"}).out.find("overdubs placed back") != std::string::npos;
          },
          20s))
          << s.logs();
      ++ran;
      continue;
    }
    ASSERT_EQ(program, "tlctl") << "a program the walkthrough test does not know";
    std::vector<std::string> args;
    for (std::size_t i = 1; i < w.size(); ++i) {
      if (w[i] == "--mixer") {
        ++i;  // the session's mixer instead
        continue;
      }
      args.push_back(w[i].ends_with(".wav") ? s.dir() + "/" + w[i] : w[i]);
    }
    if (args.size() > 2 && args[0] == "backing" && args[1] == "add") {
      // The song: 8 s of clicks, mono.
      std::vector<std::int32_t> clicks(8 * 48000, 0);
      for (std::size_t f = 6000; f < clicks.size(); f += 12000) clicks[f] = 0x20000000;
      ASSERT_TRUE(write_wav(args[2], 48000, 1, SF_FORMAT_PCM_24, clicks));
    }
    s.wait_session(args == std::vector<std::string>{"stop"} ? 2.0 : 0.3);  // an operator's pace
    const RunResult r = s.tlctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    if (args.size() == 2 && args[0] == "nodes") {
      EXPECT_NE(r.out.find("overdubs placed back"), std::string::npos) << r.out;
    }
    if (args.size() == 2 && args[0] == "record" && args[1] == "stop") stopped = r.out;
    ++ran;
  }
  // The take is placed on the song: its node's track with what it was moved back by.
  EXPECT_NE(stopped.find("timeline: mix.wav starts at"), std::string::npos) << stopped;
  EXPECT_NE(stopped.find("placed back"), std::string::npos) << stopped;
  EXPECT_GE(ran, 10u);
}

//! n seconds of a song-like stereo signal (a bass line, noise, hits) at a level.
std::vector<std::int32_t> song(double seconds, double level, unsigned seed) {
  const int rate = 48000;
  std::vector<std::int32_t> out(static_cast<std::size_t>(seconds * rate) * 2);
  unsigned state = seed;
  for (std::size_t i = 0; i < out.size() / 2; ++i) {
    const double t = static_cast<double>(i) / rate;
    state = state * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(state >> 8) / 16777216.0 - 0.5) * 0.2;
    const double hit = std::exp(-30.0 * std::fmod(t, 0.5)) * std::sin(2.0 * 3.14159265 * 90.0 * t);
    const double bass = 0.3 * std::sin(2.0 * 3.14159265 * 55.0 * t);
    for (int c = 0; c < 2; ++c) {
      const double v = level * (bass + (c == 0 ? noise : -noise) + 0.5 * hit);
      out[i * 2 + static_cast<std::size_t>(c)] = static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256;
    }
  }
  return out;
}

TEST(Programs, TheReadmeMasteringWalkthroughRunsAsWritten) {
  // tl-master's section of the README: its command lines run by a shell as written, in a
  // folder that holds what they name (a recorded take, mixes, references, the album and
  // stems files of its own TOML blocks), against a mixer for its tlctl line.
  const auto lines = readme_blocks("### tl-master", "sh");
  const auto tomls = readme_blocks("### tl-master", "toml");
  ASSERT_EQ(lines.size(), 1u) << "one ```sh block under '### tl-master'";
  ASSERT_GE(tomls.size(), 2u) << "the album and stems files";
  Session s("readme_mastering");
  s.start_mixer();
  s.start_capture("kit", "tone:220", {"--channels", "2"});
  s.start_capture("booth", "noise");
  for (const char* n : {"kit", "booth"}) ASSERT_TRUE(s.wait_node_state(n, "streaming")) << s.logs();
  s.record_start("take-0003");
  s.wait_session(5.0);  // longer than the album file's 4 s crossfade into it
  s.record_stop();
  const std::filesystem::path dir = s.dir();
  std::filesystem::create_directories(dir / "mixes");
  std::filesystem::create_directories(dir / "demo-takes");
  std::filesystem::copy(dir / "takes" / "take-0003", dir / "demo-takes" / "take-0003",
                        std::filesystem::copy_options::recursive);
  std::filesystem::create_directory_symlink(std::string(TL_SOURCE_DIR) + "/mastering", dir / "mastering");
  unsigned seed = 1;
  for (const auto& [name, level] :
       std::vector<std::pair<std::string, double>>{{"mix.wav", 0.3},
                                                   {"their-single.flac", 0.8},
                                                   {"a.wav", 0.7},
                                                   {"b.wav", 0.6},
                                                   {"01.wav", 0.4},
                                                   {"02.wav", 0.6},
                                                   {"03.wav", 0.3},
                                                   // The album: a loud opener, and two quiet
                                                   // songs whose crossfade then stays under the
                                                   // ceiling at the album's one gain.
                                                   {"mixes/opener.wav", 0.9},
                                                   {"mixes/single.flac", 0.08}}) {
    ASSERT_TRUE(write_wav((dir / name).string(), 48000, 2, SF_FORMAT_PCM_24, song(8.0, level, seed++)))
        << name;
  }
  for (const auto& block : tomls) {
    // Each block's first line names its file: "# album.toml".
    ASSERT_FALSE(block.empty());
    const std::string first = block.front().substr(2);  // "album.toml" or "stems.toml: ..."
    std::ofstream out(dir / first.substr(0, first.find_first_of(": ")));
    for (const std::string& l : block) out << l << "\n";
  }
  std::size_t ran = 0;
  for (std::string line : lines.front()) {
    if (line.rfind("build/bin/", 0) != 0) continue;
    SCOPED_TRACE(line);
    line.replace(0, std::string("build/bin/").size(), std::string(TL_BIN_DIR) + "/");
    // exec: the program takes the shell's PID, which run() stops if it overruns.
    const RunResult r =
        run({"/bin/sh", "-c", "cd '" + dir.string() + "' && exec " + line}, 120s,
            {{"TRACKLINK_MIXER", s.mixer_address()}, {"TRACKLINK_TOKEN", "integration-token"}});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    ++ran;
  }
  EXPECT_GE(ran, 14u);
  // A few of what the lines promise.
  for (const char* made : {"master.wav", "master.flac", "cd.wav", "lacquer.wav", "bright.wav",
                           "night-drive/album.cue", "album", "pop.wav", "pop.png", "like.wav", "like.png",
                           "like-two.wav", "band.wav", "band-stems", "takes/take-0003/master/cd.wav"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / made)) << made;
  }
}

}  // namespace
}  // namespace tl::test
