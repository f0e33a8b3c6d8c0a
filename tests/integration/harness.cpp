#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sndfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace tl::test {

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

std::int64_t json_int(const json& j, const std::string& key, std::int64_t fallback) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  const json& v = j.at(key);
  if (v.is_number()) return v.get<std::int64_t>();
  if (v.is_string()) return std::stoll(v.get<std::string>());
  return fallback;
}

double json_num(const json& j, const std::string& key, double fallback) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  const json& v = j.at(key);
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return std::stod(v.get<std::string>());
  return fallback;
}

std::string netem_address(const Process& netem) {
  const std::string line = netem.out();
  const auto at = line.find("127.0.0.1:");
  if (at == std::string::npos) return {};
  const int port = std::atoi(line.c_str() + at + 10);
  return port > 0 ? "127.0.0.1:" + std::to_string(port) : std::string();
}

std::vector<std::string> lossy_link_argv(const std::string& forward, int seed) {
  return {bin("tl-netem"),
          "--listen",
          "127.0.0.1:0",
          "--forward",
          forward,
          "--loss",
          "10",
          "--burst-loss",
          "2",
          "--burst-len-ms",
          "50",
          "--delay-ms",
          "25",
          "--jitter-ms",
          "20",
          "--reorder",
          "5",
          "--seed",
          std::to_string(seed),
          "--stats-interval",
          "0"};
}

std::int64_t longest_silent_run(const Audio& audio, int channel, std::int64_t from, std::int64_t to) {
  std::int64_t longest = 0, run = 0;
  for (std::int64_t f = std::max<std::int64_t>(from, 0); f < std::min(to, audio.frames()); ++f) {
    const bool silent =
        std::abs(audio.samples[static_cast<std::size_t>(f * audio.channels + channel)]) < 256 * 4;
    run = silent ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

std::int64_t count_mismatches(const std::vector<std::int32_t>& source, int channels, int channel,
                              const Audio& raw, std::int64_t offset, std::int64_t frames) {
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < frames; ++i) {
    const std::int32_t want = source[static_cast<std::size_t>(i * channels + channel)];
    const std::int32_t got = raw.samples[static_cast<std::size_t>(offset + i)];
    if (want != got && mismatches++ < 5)
      ADD_FAILURE() << "frame " << i << ": want " << want << " got " << got;
  }
  return mismatches;
}

std::string state_name(const json& node) {
  if (!node.is_object() || !node.contains("state")) return "unknown";
  std::string s =
      node["state"].is_string() ? node["state"].get<std::string>() : std::to_string(node["state"].get<int>());
  if (s == "NODE_STREAMING" || s == "1") return "streaming";
  if (s == "NODE_SILENT" || s == "2") return "silent";
  if (s == "NODE_GONE" || s == "3") return "gone";
  return s;
}

Session::Session(const std::string& test_name, const std::string& token) : dir_(make_work_dir(test_name)) {
  token_file_ = dir_ + "/token";
  std::ofstream(token_file_) << token << "\n";
}

Session::~Session() {
  for (auto& [name, p] : captures_) p->stop(5s);
  if (mixer_) mixer_->stop(15s);
}

void Session::start_mixer(const std::vector<std::string>& extra,
                          const std::map<std::string, std::string>& env) {
  const std::string listen = "127.0.0.1:" + std::to_string(reserved_port_);
  std::vector<std::string> argv = {bin("tl-mixer"), "--listen",  listen,        "--record-dir", take_dir(),
                                   "--token-file",  token_file_, "--log-level", "info"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  // A restart: the last mixer is stopped first, and its log goes, so its start-up
  // line cannot be taken for the new one's.
  mixer_.reset();
  std::error_code ec;
  std::filesystem::remove(dir_ + "/mixer.err", ec);
  std::filesystem::remove(dir_ + "/mixer.out", ec);
  mixer_ = std::make_unique<Process>(argv, dir_ + "/mixer", env);
  // The mixer picked a free port; its start-up line says which.
  auto find_port = [&]() -> int {
    const std::string err = mixer_->err();
    const std::string marker = "listening on 127.0.0.1:";
    const auto at = err.find(marker);
    if (at == std::string::npos) return 0;
    return std::atoi(err.c_str() + at + marker.size());
  };
  wait_until([&] { return find_port() > 0 || !mixer_->running(); }, 20s);
  port_ = find_port();
  ASSERT_GT(port_, 0) << "tl-mixer did not start:\n" << mixer_->err();
}

int Session::reserve_port() {
  // The kernel's pick for an ephemeral port, released at once: nothing else on a test
  // machine takes it within the few seconds before the mixer binds it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (fd >= 0) ::close(fd);
  EXPECT_TRUE(ok) << "no free port on 127.0.0.1";
  reserved_port_ = ok ? ntohs(addr.sin_port) : 0;
  port_ = reserved_port_;
  return reserved_port_;
}

Process& Session::start_capture(const std::string& name, const std::string& source,
                                const std::vector<std::string>& extra,
                                const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {bin("tl-capture"), "--mixer", mixer_address(), "--name",   name,
                                   "--source",        source,    "--token-file",  token_file_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  // The node's spool lives with the test (kept across restarts of the same name).
  if (std::find(extra.begin(), extra.end(), "--spool-dir") == extra.end()) {
    argv.insert(argv.end(), {"--spool-dir", dir_ + "/spool-" + name});
  }
  auto& slot = captures_[name];
  if (slot) slot->stop(5s);
  slot = std::make_unique<Process>(argv, dir_ + "/capture-" + name + "-" + std::to_string(++capture_starts_),
                                   env);
  return *slot;
}

RunResult Session::tlctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {bin("tlctl"), "--mixer", mixer_address(), "--token-file", token_file_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, timeout);
}

json Session::tlctl_json(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> a = {"--json"};
  a.insert(a.end(), args.begin(), args.end());
  const RunResult r = tlctl(a, timeout);
  EXPECT_EQ(r.exit_code, 0) << "tlctl " << args.at(0) << " failed: " << r.err << r.out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  ADD_FAILURE() << "no JSON from tlctl " << args.at(0) << ": " << r.out << r.err;
  return json::object();
}

json Session::node(const std::string& name) const {
  const json list = tlctl_json({"nodes"});
  if (!list.contains("nodes")) return nullptr;
  for (const auto& n : list["nodes"]) {
    if (n.value("name", "") == name) return n;
  }
  return nullptr;
}

bool Session::wait_node_state(const std::string& name, const std::string& state,
                              std::chrono::milliseconds timeout) const {
  return wait_until([&] { return state_name(node(name)) == state; }, timeout, 200ms);
}

json Session::record_start(const std::string& take) {
  std::vector<std::string> args = {"record", "start"};
  if (!take.empty()) {
    args.push_back("--take");
    args.push_back(take);
  }
  return tlctl_json(args);
}

json Session::record_stop() {
  json stopped = tlctl_json({"record", "stop"}, 60s);
  // Track files the conform moves or resamples are written after the stop answers
  // (state "conforming"): the tests read the files, so wait for take.json to close.
  if (stopped.value("state", "") == "conforming") {
    const json take = wait_take_closed(stopped.value("path", ""));
    stopped["conformed_after_stop"] = true;  // what the stop answered, for a test to see
    stopped["state"] = take.value("state", "conforming");
    stopped.erase("tracks_conforming");
  }
  return stopped;
}

double Session::session_seconds() const {
  const json pong = tlctl_json({"ping"});
  return static_cast<double>(json_int(pong, "session_time_ns")) / 1e9;
}

void Session::wait_session(double seconds) const {
  // The condition is the mixer's clock passing a point; re-read it at most twice a second.
  const double until = session_seconds() + seconds;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 4000) + 10000);
  for (double now = session_seconds(); now < until && std::chrono::steady_clock::now() < deadline;
       now = session_seconds()) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<long>(std::min(until - now, 0.5) * 1000) + 1));
  }
}

std::string Session::logs() const {
  std::string all = "--- tl-mixer ---\n" + (mixer_ ? mixer_->err() : std::string());
  for (const auto& [name, p] : captures_) all += "--- tl-capture " + name + " ---\n" + p->err();
  return all;
}

const json* find_track(const json& take, const std::string& node, int channel) {
  for (const auto& t : take["tracks"]) {
    if (t.value("node", "") == node && t.value("channel", 0) == channel) return &t;
  }
  return nullptr;
}

json wait_take_closed(const std::string& take_dir) {
  const std::string path = take_dir + "/take.json";
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  json take = read_json(path);
  while (take.value("state", "conforming") == "conforming" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    take = read_json(path);
  }
  return take;
}

Audio read_raw_track(const std::string& take_dir, const json& track) {
  const std::string raw_file = track.value("raw_file", "");
  if (!raw_file.empty() || !track.contains("raw_edge")) {
    return read_audio(take_dir + "/" + (raw_file.empty() ? track.value("file", "") : raw_file));
  }
  Audio a = read_audio(take_dir + "/" + track.value("file", ""));
  const std::int64_t moved = std::llround(json_num(track, "moved_samples"));
  const std::int64_t frames = a.frames();
  std::vector<std::int32_t> raw(a.samples.size(), 0);
  for (std::int64_t i = 0; i < frames; ++i) {
    if (i + moved >= 0 && i + moved < frames)
      raw[static_cast<std::size_t>(i)] = a.samples[static_cast<std::size_t>(i + moved)];
  }
  const json& edge = track["raw_edge"];
  const std::int64_t at = moved > 0 ? frames - static_cast<std::int64_t>(edge.size()) : 0;
  for (std::size_t e = 0; e < edge.size(); ++e) {
    const std::int64_t i = at + static_cast<std::int64_t>(e);
    if (i >= 0 && i < frames) raw[static_cast<std::size_t>(i)] = edge[e].get<std::int32_t>() * 256;
  }
  a.samples = std::move(raw);
  return a;
}

std::map<std::int64_t, std::int32_t> read_spool_channel(const std::string& dir, int channel) {
  std::map<std::int64_t, std::int32_t> out;
  const auto be = [](const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
  };
  // Segments in the order they were begun (seg-<first media time>.tlsp): where a node
  // started again overlaps its last run's end, the later run's audio is what it has.
  std::vector<std::pair<std::int64_t, std::filesystem::path>> segments;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string stem = entry.path().stem().string();
    if (entry.path().extension() != ".tlsp" || stem.rfind("seg-", 0) != 0) continue;
    segments.emplace_back(std::stoll(stem.substr(4)), entry.path());
  }
  std::sort(segments.begin(), segments.end());
  for (const auto& [first, path] : segments) {
    const std::string bytes = read_file(path.string());
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    if (bytes.size() < 32 || bytes.compare(0, 8, "TLSPOOL1") != 0) continue;
    const auto channels = static_cast<int>(be(b + 8, 4));
    const auto bps = static_cast<int>(be(b + 16, 4));
    if (bps != 3 || channel >= channels) continue;  // 24-bit PCM: the spool of a PCM24 or Opus node
    for (std::size_t at = 32; at + 12 <= bytes.size();) {
      const auto media = static_cast<std::int64_t>(be(b + at, 8));
      const auto frames = static_cast<std::size_t>(be(b + at + 8, 2));
      const std::size_t body = frames * static_cast<std::size_t>(channels * bps);
      if (frames == 0 || at + 12 + body > bytes.size()) break;  // torn by a crash
      for (std::size_t f = 0; f < frames; ++f) {
        const unsigned char* s24 = b + at + 12 + (f * static_cast<std::size_t>(channels) + channel) * 3;
        const auto v = static_cast<std::uint32_t>(be(s24, 3)) << 8;
        out[media + static_cast<std::int64_t>(f)] = static_cast<std::int32_t>(v);
      }
      at += 12 + body;
    }
  }
  return out;
}

std::int64_t time_reference(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return -1;
  SF_BROADCAST_INFO bext{};
  const bool has = sf_command(f, SFC_GET_BROADCAST_INFO, &bext, sizeof bext) == SF_TRUE;
  sf_close(f);
  return has ? static_cast<std::int64_t>((static_cast<std::uint64_t>(bext.time_reference_high) << 32) |
                                         bext.time_reference_low)
             : -1;
}

}  // namespace tl::test
