#pragma once
// A JACK server with the dummy driver, for the tests of the real RtAudio path without a
// sound card: tl-capture's input and cue output, tl-mixer's monitor output.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "harness.h"

namespace tl::test {

//! True when a live (not zombie) jackd process exists on this machine.
inline bool jackd_running() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string stat = read_file(entry.path().string() + "/stat");
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) continue;
    if (stat.substr(open + 1, close - open - 1) == "jackd" && stat[close + 2] != 'Z') return true;
  }
  return false;
}

//! A jackd that was killed leaves its entry in JACK's shared registry, and after
//! a few of those no server starts ("Too many servers already active"). With no
//! jackd alive on the machine, that state is stale and safe to clear.
inline void clear_stale_jack_state() {
  if (jackd_running()) return;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "jack-shm-registry" || name.rfind("jack-", 0) == 0 || name.rfind("jack_sem.", 0) == 0 ||
        name.rfind("jack_db", 0) == 0) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

class JackServer {
 public:
  explicit JackServer(const std::string& dir)
      : name_((clear_stale_jack_state(), "tltest-" + std::to_string(::getpid()))),
        env_({{"JACK_DEFAULT_SERVER", name_},
              {"JACK_NO_AUDIO_RESERVATION", "1"},
              {"JACK_NO_START_SERVER", "1"}}),
        process_(
            {"/usr/bin/jackd", "-n", name_, "-d", "dummy", "-r", "48000", "-p", "256", "-C", "2", "-P", "2"},
            dir + "/jackd", env_) {}

  //! Waits until clients can see the dummy system ports.
  bool wait_ready() {
    return wait_until(
        [&] {
          const RunResult r = run({"/usr/bin/jack_lsp"}, 10s, env_);
          return r.exit_code == 0 && r.out.find("system:capture_1") != std::string::npos;
        },
        30s, 200ms);
  }
  const std::map<std::string, std::string>& env() const { return env_; }
  Process& process() { return process_; }

 private:
  std::string name_;
  std::map<std::string, std::string> env_;
  Process process_;
};

//! The JACK port of a client whose name holds `client` and whose port name is `port`
//! ("tl-mixer:outport 0"), from jack_lsp; empty when none.
inline std::string jack_port(const JackServer& jack, const std::string& client, const std::string& port) {
  const RunResult r = run({"/usr/bin/jack_lsp"}, 10s, jack.env());
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(client) == 0 && line.size() > port.size() && line.ends_with(":" + port)) return line;
  }
  return {};
}

//! Waits (up to `within`) for both ports to exist, then connects the first to the second
//! ("tl-mixer", "outport 0" to "tl-capture", "inport 0"); true when connected.
inline bool jack_wire(const JackServer& jack, const std::string& from_client, const std::string& from_port,
                      const std::string& to_client, const std::string& to_port,
                      std::chrono::milliseconds within = std::chrono::seconds(20)) {
  std::string from, to;
  const bool there = wait_until(
      [&] {
        from = jack_port(jack, from_client, from_port);
        to = jack_port(jack, to_client, to_port);
        return !from.empty() && !to.empty();
      },
      within, std::chrono::milliseconds(100));
  return there &&
         run({"/usr/bin/jack_connect", from, to}, std::chrono::seconds(10), jack.env()).exit_code == 0;
}

}  // namespace tl::test
