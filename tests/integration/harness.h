#pragma once
//! A tracklink session on loopback for integration tests: the real tl-mixer,
//! tl-capture and tlctl binaries, each stopped by its PID when the test ends.
//! Every wait polls a condition with a generous bound; nothing sleeps blindly.

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "wav.h"

namespace tl::test {

using namespace std::chrono_literals;
using nlohmann::json;

//! Reads an integer that protobuf's JSON mapping may have written as a string.
std::int64_t json_int(const json& j, const std::string& key, std::int64_t fallback = 0);
double json_num(const json& j, const std::string& key, double fallback = 0.0);
//! A JSON file (take.json, automation.json); discarded when missing or not JSON.
json read_json(const std::string& path);

class Session {
 public:
  explicit Session(const std::string& test_name, const std::string& token = "integration-token");
  ~Session();

  const std::string& dir() const { return dir_; }
  std::string take_dir() const { return dir_ + "/takes"; }
  const std::string& token_file() const { return token_file_; }
  std::string mixer_address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  //! Picks a free port on 127.0.0.1 for a mixer not started yet (nodes can be pointed at it
  //! first); start_mixer then listens on it.
  int reserve_port();
  //! Starts tl-mixer on 127.0.0.1 with a free port (the reserved one, if any); fails the
  //! test if it does not come up.
  void start_mixer(const std::vector<std::string>& extra = {},
                   const std::map<std::string, std::string>& env = {});
  Process& mixer() { return *mixer_; }

  //! Starts tl-capture named name with the given source and extra options.
  Process& start_capture(const std::string& name, const std::string& source,
                         const std::vector<std::string>& extra = {},
                         const std::map<std::string, std::string>& env = {});
  Process& capture(const std::string& name) { return *captures_.at(name); }

  //! Runs tlctl against this mixer with the session's token.
  RunResult tlctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s) const;
  //! tlctl --json ARGS, parsed (first JSON line); fails the test on error.
  json tlctl_json(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s) const;

  //! The node's entry in `tlctl nodes --json`, or null.
  json node(const std::string& name) const;
  //! Waits until the node reports state ("streaming", "silent", "gone").
  bool wait_node_state(const std::string& name, const std::string& state,
                       std::chrono::milliseconds timeout = 20s) const;

  //! Starts a take and returns the RecordStarted JSON.
  json record_start(const std::string& take = "");
  //! Stops the take and returns the RecordStopped JSON.
  json record_stop();

  //! Mixer session time in seconds (from tlctl ping).
  double session_seconds() const;
  //! Waits until the session clock has advanced by seconds from now.
  void wait_session(double seconds) const;

  std::string logs() const;

 private:
  std::string dir_;
  std::string token_file_;
  int port_ = 0;
  int reserved_port_ = 0;
  std::unique_ptr<Process> mixer_;
  std::map<std::string, std::unique_ptr<Process>> captures_;
  int capture_starts_ = 0;
};

//! Normalised state names from the NodeState enum's JSON form.
std::string state_name(const json& node);

//! The "127.0.0.1:PORT" a started tl-netem listens on (from its first line); empty if not yet.
std::string netem_address(const Process& netem);
//! tl-netem's command line for the lossy link of the recovery tests, forwarding to `forward`:
//! 10% random loss, bursts of bad state (50 ms on average, all lost), +-20 ms of jitter
//! around 25 ms, 5% reordered, both ways (sync and NACKs suffer too); seeded.
std::vector<std::string> lossy_link_argv(const std::string& forward, int seed);

//! take.json of the take in take_dir once it no longer says "conforming" (its moved or
//! resampled track files are written after the stop answers), up to 180 s.
json wait_take_closed(const std::string& take_dir);

//! A track of take.json by node name and channel (1-based); nullptr when absent.
const json* find_track(const json& take, const std::string& node, int channel);

//! A node track's samples where its packets' stamps put them (raw/): its raw/ file, or,
//! when the take keeps one file for a whole-sample move, that file moved back by
//! moved_samples with raw_edge where the move pushed samples out. rate 0: unreadable.
Audio read_raw_track(const std::string& take_dir, const json& track);

//! A node's spool folder, read here on its own from the layout capture-node/include/
//! tl/capture/spool.h documents: channel `channel`'s (0-based) samples by media time,
//! left-justified 32-bit as read_audio gives them. What the node captured.
std::map<std::int64_t, std::int32_t> read_spool_channel(const std::string& dir, int channel);

//! Built with AddressSanitizer or ThreadSanitizer: every process runs several times slower,
//! so a test that measures timing checks its figure in the plain build only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

//! A WAV file's BWF time reference (bext), -1 when it has none.
std::int64_t time_reference(const std::string& path);

//! Longest run of frames in [from, to) of one channel under 4 LSB of 24 bits (silence).
std::int64_t longest_silent_run(const Audio& audio, int channel, std::int64_t from, std::int64_t to);

//! Frames of channel `channel` (from 0) of an interleaved source that a mono raw track,
//! from offset on, does not hold exactly; the first few are reported as test failures.
std::int64_t count_mismatches(const std::vector<std::int32_t>& source, int channels, int channel,
                              const Audio& raw, std::int64_t offset, std::int64_t frames);

}  // namespace tl::test
