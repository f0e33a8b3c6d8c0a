// tl-mixer: the central mixer node. Parses options and wires the parts.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "tl/common/address.h"
#include "tl/common/cli_range.h"
#include "tl/common/logging.h"
#include "tl/common/token.h"
#include "tl/common/version.h"
#include "tl/mixer/mix_clock.h"
#include "tl/mixer/mixer.h"
#include "tl/mixer/take_folder.h"

int main(int argc, char** argv) {
  CLI::App app{"tl-mixer: receives capture nodes, mixes, monitors and records every input as its own track"};
  app.set_version_flag("--version", std::string(tl::kTracklinkVersion));
  std::string listen = "127.0.0.1:7400";
  std::string monitor = "none";
  std::string token_file;
  std::string log_level = "info";
  bool list_devices = false;
  tl::mixer::MixerConfig config;
  app.add_option("--listen", listen, "Address for control (TCP) and audio (UDP); port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--record-dir", config.record_dir, "Where takes are written")->capture_default_str();
  app.add_option("--rate", config.sample_rate, "Session sample rate")
      ->check(CLI::IsMember({44100, 48000, 96000}))
      ->capture_default_str();
  app.add_option("--block", config.block_frames, "Mix block size in frames (headless clock)")
      ->check(tl::in_range(16, 1024, "frames"))
      ->capture_default_str();
  auto* fixed =
      app.add_option("--latency-ms", config.latency_ms,
                     "A fixed play-out delay of the live mix behind the session clock (default: it adapts)")
          ->check(tl::in_range(1.0, 500.0, "ms"));
  auto* lo = app.add_option("--latency-min", config.latency_min_ms,
                            "Shortest play-out delay the live mix adapts to, ms")
                 ->check(tl::in_range(1.0, 1000.0, "ms"))
                 ->capture_default_str();
  auto* hi =
      app.add_option("--latency-max", config.latency_max_ms,
                     "Longest play-out delay the live mix adapts to, ms (each node's need: tlctl latency)")
          ->check(tl::in_range(1.0, 1000.0, "ms"))
          ->capture_default_str();
  fixed->excludes(lo)->excludes(hi);
  app.add_option("--latency-margin", config.latency_margin_ms,
                 "Safety margin the play-out delay keeps over the measured need, ms")
      ->check(tl::in_range(0.0, 100.0, "ms"))
      ->capture_default_str();
  app.add_option(
         "--latency-hold", config.latency_hold_s,
         "Seconds a need (and a late packet) is remembered: the delay falls this long after what raised it")
      ->check(tl::in_range(1.0, 3600.0, "s"))
      ->capture_default_str();
  bool no_resume = false;
  app.add_flag("--no-resume", no_resume,
               "A take the last mixer on --record-dir was recording when it was killed stays unfinished "
               "(tlctl record recover ends it where that mixer stopped) instead of going on in this one");
  bool no_realtime = false;
  app.add_flag("--no-realtime", no_realtime,
               "Do not ask for real-time scheduling (SCHED_FIFO mix and receive threads) or locked memory");
  app.add_option("--monitor", monitor,
                 "Monitor output that clocks the mix: none (headless timer), device, or device:NAME")
      ->capture_default_str();
  app.add_option("--audio-api", config.audio_api, "RtAudio API for --monitor: alsa, jack or pulse")
      ->check(CLI::IsMember({"", "alsa", "jack", "pulse"}));
  app.add_option("--token-file", token_file, "File holding the shared control token (else TRACKLINK_TOKEN)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_flag("--list-devices", list_devices, "List audio output devices and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  config.realtime = !no_realtime;
  config.resume_takes = !no_resume;
  if (fixed->count() > 0) {
    config.latency_min_ms = config.latency_max_ms = config.latency_ms;
  } else if (config.latency_min_ms > config.latency_max_ms) {
    std::fprintf(stderr, "tl-mixer: --latency-min (%.1f ms) is above --latency-max (%.1f ms)\n",
                 config.latency_min_ms, config.latency_max_ms);
    return 2;
  }

  if (list_devices) {
    for (const auto& line : tl::mixer::DeviceMixDriver::list_devices()) std::printf("%s\n", line.c_str());
    return 0;
  }
  tl::init_logging("tl-mixer", log_level);

  auto address = tl::parse_host_port(listen, /*allow_any_port=*/true);
  if (!address) {
    std::fprintf(stderr, "tl-mixer: --listen: %s\n", address.error().c_str());
    return 2;
  }
  config.listen_host = address->host;
  config.listen_port = address->port;
  if (monitor == "device") {
    config.monitor_default = true;
  } else if (monitor.rfind("device:", 0) == 0) {
    config.monitor = monitor.substr(7);
  } else if (monitor != "none") {
    std::fprintf(stderr, "tl-mixer: --monitor: expected none, device or device:NAME, got '%s'\n",
                 monitor.c_str());
    return 2;
  }
  auto token = tl::load_token(token_file);
  if (!token) {
    std::fprintf(stderr, "tl-mixer: %s\n", token.error().c_str());
    return 2;
  }
  config.token = token.value();

  // Refused now, not at the first `record start`: the operator is at the terminal.
  if (auto usable = tl::mixer::check_record_dir(config.record_dir); !usable) {
    spdlog::error("--record-dir: {}; choose another --record-dir", usable.error());
    return 1;
  }
  tl::mixer::Mixer mixer(config);
  if (auto s = mixer.start(); !s) {
    spdlog::error("{}", s.error());
    return 1;
  }
  mixer.run();
  spdlog::info("tl-mixer stopped");
  return 0;
}
