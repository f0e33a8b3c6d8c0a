// The real RtAudio path without a sound card: a JACK server with the dummy driver
// gives tl-capture an input device and tl-mixer a monitor output that clocks the mix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

//! True when a live (not zombie) jackd process exists on this machine.
bool jackd_running() {
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
void clear_stale_jack_state() {
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

TEST(JackDevice, CaptureFromAndMonitorToAJackDummyServer) {
  // The server outlives the session: its clients (mixer, capture) stop first,
  // so jackd shuts down cleanly on SIGTERM.
  JackServer jack(make_work_dir("jack_device_server"));
  Session s("jack_device");
  ASSERT_TRUE(jack.wait_ready()) << jack.process().err();

  s.start_mixer({"--monitor", "device", "--audio-api", "jack", "--latency-ms", "60"}, jack.env());
  const json status = s.tlctl_json({"status"});
  EXPECT_EQ(status.value("clock", "").rfind("device:", 0), 0u) << status.dump();

  s.start_capture("jackin", "device", {"--audio-api", "jack", "--channels", "2"}, jack.env());
  ASSERT_TRUE(s.wait_node_state("jackin", "streaming")) << s.logs();
  // The tone node plays its personal cue mix on a JACK output.
  s.start_capture("tone", "tone:440", {"--cue", "device", "--audio-api", "jack"}, jack.env());
  ASSERT_TRUE(s.wait_node_state("tone", "streaming")) << s.logs();
  EXPECT_TRUE(wait_until([&] { return json_int(s.node("tone"), "cue_packets") > 100; }, 20s, 100ms))
      << s.node("tone").dump() << s.logs();
  const json cue = s.node("tone");
  EXPECT_EQ(cue.value("cue_output", "").rfind("device:", 0), 0u) << cue.dump();
  EXPECT_GT(json_num(cue, "cue_latency_ms"), 0.0) << cue.dump();

  const std::int64_t blocks_before = json_int(s.tlctl_json({"status"}), "mix_blocks");
  s.record_start("jack");
  s.wait_session(1.5);
  s.record_stop();
  EXPECT_GT(json_int(s.tlctl_json({"status"}), "mix_blocks"), blocks_before)
      << "the device callback drives the mix";

  const std::string dir = s.take_dir() + "/jack";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in);
  int device_tracks = 0;
  for (const auto& t : take["tracks"]) {
    if (t["node"] != "jackin") continue;
    ++device_tracks;
    EXPECT_GE(json_int(t, "first_sample"), json_int(take, "start_sample"));
    EXPECT_EQ(json_int(t, "lost_samples"), 0) << t.dump();
  }
  EXPECT_EQ(device_tracks, 2);
  const Audio mix = read_audio(dir + "/mix.wav");
  const Audio jack_track = read_audio(dir + "/jackin-1.wav");
  EXPECT_EQ(mix.frames(), jack_track.frames());
  // The dummy driver delivers silence; the tone node proves the device-clocked mix carries audio.
  double energy = 0.0;
  for (const auto v : mix.samples)
    energy += (static_cast<double>(v) / 2147483648.0) * (static_cast<double>(v) / 2147483648.0);
  EXPECT_GT(energy, 1.0);
}

}  // namespace
}  // namespace tl::test
