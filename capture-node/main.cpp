// tl-capture: a capture node. Parses options and wires the parts in tl_capture.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "tl/capture/capture_node.h"
#include "tl/capture/device_input.h"
#include "tl/capture/options.h"
#include "tl/common/logging.h"
#include "tl/common/token.h"
#include "tl/common/version.h"
#include "tl/protocol/auth.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  g_stop.store(true);
}

int run(int argc, char** argv) {
  tl::capture::RawOptions raw;
  CLI::App app{"tl-capture: streams timestamped audio to a tracklink mixer"};
  app.set_version_flag("--version", std::string(tl::kTracklinkVersion));
  app.add_option("--mixer", raw.mixer, "mixer control address HOST:PORT");
  app.add_option("--name", raw.name, "node name, [A-Za-z0-9_.-], at most 32 characters");
  app.add_option(
         "--source", raw.source,
         "device[:NAME] | tone:FREQ | click:PERIOD (1s, 500ms, 4800) | pulse:PERIOD | noise | file:PATH")
      ->capture_default_str();
  auto* channels =
      app.add_option("--channels", raw.channels, "input channels 1-64 (default 1; file: the file's)");
  app.add_option("--rate", raw.rate, "sample rate: 44100, 48000 or 96000")->capture_default_str();
  app.add_option("--frames-per-packet", raw.frames_per_packet,
                 "PCM: 48, 64, 128 or 256 (default 48); Opus: 120, 240, 480 or 960 (default 240, 5 ms)");
  app.add_option("--format", raw.format,
                 "live wire format: pcm16, pcm24, f32 or opus (the spool, resends and the recording stay "
                 "lossless: 24-bit PCM for opus)")
      ->capture_default_str();
  app.add_option("--bitrate", raw.bitrate_kbps, "Opus bitrate per channel, kb/s (6-510)")
      ->capture_default_str();
  app.add_flag("--loop", raw.loop, "repeat the file source");
  app.add_flag("--no-realtime", raw.no_realtime,
               "do not ask for real-time scheduling (source timer and sender threads) or locked memory");
  app.add_option("--level-db", raw.level_db, "tone/noise peak level in dBFS")->capture_default_str();
  app.add_option("--duration", raw.duration_s,
                 "stop after this many seconds of audio were sent (0: run until stopped)")
      ->capture_default_str();
  app.add_option("--wait-for-mixer", raw.wait_for_mixer_s,
                 "a node started before its mixer waits for it this many seconds, retrying with a "
                 "back-off of at most 5 s (0: until it answers or the node is stopped)")
      ->capture_default_str();
  app.add_option("--token-file", raw.token_file, "file holding the control token (else $TRACKLINK_TOKEN)");
  app.add_option("--log-level", raw.log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  app.add_flag("--list-devices", raw.list_devices, "print every audio device of every compiled API and exit");
  app.add_option("--audio-api", raw.audio_api, "audio API for device sources: alsa, jack or pulse");
  app.add_option("--audio-to", raw.audio_to,
                 "send audio and clock sync to HOST:PORT instead of the mixer's audio port "
                 "(e.g. a tl-netem impairment proxy in front of the mixer)");
  app.add_option("--spool-dir", raw.spool_dir,
                 "keep every captured sample here, so the mixer can ask for what it missed "
                 "(default $XDG_STATE_HOME/tracklink/spool/NAME; 'none': no spool)");
  app.add_option(
         "--spool-max", raw.spool_max,
         "bound the spool: a duration (90s, 30m, 2h) or a size (500M, 4G); the oldest audio goes first")
      ->capture_default_str();
  app.add_option("--cue", raw.cue,
                 "play the personal cue mix the mixer streams back: none, device[:NAME] (an RtAudio output; "
                 "--audio-api), or file:PATH (a stereo WAV of what arrived)")
      ->capture_default_str();
  app.add_option("--sim-clock-offset-ms", raw.sim_clock_offset_ms,
                 "SIMULATION (testing only): behave as if this machine's clock were off by this many ms")
      ->capture_default_str();
  app.add_option("--sim-clock-skew-ppm", raw.sim_clock_skew_ppm,
                 "SIMULATION (testing only): behave as if this machine's clock and generated audio ran "
                 "this many ppm fast (+) or slow (-); no effect on a device's sample rate")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "tl-capture: " << e.what() << "\n(see tl-capture --help)\n";
    return 2;
  }

  raw.channels_given = channels->count() > 0;
  if (raw.list_devices) {
    std::cout << tl::capture::list_devices() << std::flush;
    return 0;
  }
  if (raw.mixer.empty() || raw.name.empty()) {
    std::cerr << "tl-capture: --mixer HOST:PORT and --name NAME are required (see tl-capture --help)\n";
    return 2;
  }
  auto options = tl::capture::validate(raw);
  if (!options) {
    std::cerr << "tl-capture: " << options.error() << "\n";
    return 2;
  }
  tl::init_logging("tl-capture " + raw.name, raw.log_level);
  auto token = tl::load_token(raw.token_file);
  if (!token) {
    spdlog::error("{}", token.error());
    return 2;
  }

  tl::protocol::init_crypto();
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  return tl::capture::run_capture_node(*options, *token, g_stop);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tl-capture: fatal: %s\n", e.what());
    return 1;
  }
}
