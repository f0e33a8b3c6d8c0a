// The programs as a newcomer meets them: --version, and the README's quick tour.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "tl/common/version.h"

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

//! The lines of the README's quick tour (its ```sh block), comments left out.
std::vector<std::string> quick_tour() {
  std::ifstream in(std::string(TL_SOURCE_DIR) + "/README.md");
  std::vector<std::string> lines;
  std::string line;
  bool in_tour = false, in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_tour = line == "## A quick tour";
    if (!in_tour) continue;
    if (line.rfind("```", 0) == 0) {
      if (in_block) break;
      in_block = true;
      continue;
    }
    if (in_block && line.rfind("build/bin/", 0) == 0) lines.push_back(line);
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

}  // namespace
}  // namespace tl::test
