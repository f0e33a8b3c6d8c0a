// tl-capture: a capture node. Parses options and wires the parts in tl_capture.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "tl/capture/calibration.h"
#include "tl/capture/capture_node.h"
#include "tl/capture/cue_loop.h"
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

//! --calibrate: measures the round trip, keeps it for the node's name and says so.
int calibrate(const tl::capture::CaptureOptions& o) {
  const bool device = o.source.kind == tl::capture::SourceKind::Device;
  if (device) {
    std::printf("calibrating %s: a click every 1.25 s on its output until five come back at its input\n",
                o.source.text.c_str());
    std::fflush(stdout);
  }
  auto frames = device ? tl::capture::calibrate_device(o.audio_api, o.source.device, o.rate,
                                                       std::max<std::uint32_t>(o.frames_per_packet, 64), 30.0)
                       : tl::capture::calibrate_cue_loop(o.source.loop_ms, o.rate);
  if (!frames) {
    std::cerr << "tl-capture: calibration failed: " << frames.error() << "\n";
    return 1;
  }
  char at[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const tl::capture::Calibration c{.node = o.name,
                                   .sample_rate = o.rate,
                                   .round_trip_frames = std::llround(*frames),
                                   .measured = o.source.text,
                                   .at = at};
  if (auto saved = tl::capture::write_calibration(o.calibration_file, c); !saved) {
    std::cerr << "tl-capture: cannot keep the calibration: " << saved.error() << "\n";
    return 1;
  }
  std::printf(
      "round trip: %lld frames (%.3f ms; measured %.2f) at %u Hz on %s\nkept in %s: tl-capture "
      "--name %s places its overdubs by it from now on (--round-trip-ms overrides)\n",
      static_cast<long long>(c.round_trip_frames), static_cast<double>(c.round_trip_frames) * 1000.0 / o.rate,
      *frames, o.rate, o.source.text.c_str(), o.calibration_file.c_str(), o.name.c_str());
  return 0;
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
                 "--audio-api; the --source device itself: one duplex stream, overdubs placed to the "
                 "sample), or file:PATH (a stereo WAV of what arrived)")
      ->capture_default_str();
  app.add_option("--cue-codec", raw.cue_codec,
                 "how the cue mix crosses the network: pcm (24-bit, 2.3 Mbit/s) or opus (stereo, "
                 "--cue-bitrate; its losses concealed here); default opus with --format opus, else pcm");
  app.add_option("--cue-bitrate", raw.cue_bitrate_kbps, "an Opus cue's bitrate, kb/s for both sides (16-510)")
      ->capture_default_str();
  app.add_flag("--calibrate", raw.calibrate,
               "measure the round trip of the interface: --source device[:NAME] (a cable from its output "
               "to its input; on JACK a connection), or the simulated --source cue-loop:MS; keep it for "
               "this --name (--calibration-file) and exit; no --mixer needed");
  app.add_option("--round-trip-ms", raw.round_trip_ms,
                 "the interface's round trip (output plus input latency) in ms, instead of the stored "
                 "calibration: how an overdub is placed on the timeline");
  app.add_option("--calibration-file", raw.calibration_file,
                 "where --calibrate keeps the round trip and the node reads it "
                 "(default $XDG_STATE_HOME/tracklink/calibration/NAME.json)");
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
  if ((raw.mixer.empty() && !raw.calibrate) || raw.name.empty()) {
    std::cerr << "tl-capture: --mixer HOST:PORT and --name NAME are required (see tl-capture --help)\n";
    return 2;
  }
  auto options = tl::capture::validate(raw);
  if (!options) {
    std::cerr << "tl-capture: " << options.error() << "\n";
    return 2;
  }
  if (options->calibrate) return calibrate(*options);
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
