#include "tl/capture/options.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include "tl/protocol/control.pb.h"
#include "tl/protocol/opus_payload.h"

namespace tl::capture {
namespace {

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc{} && ptr == end && std::isfinite(out);
}

bool parse_int64(const std::string& s, std::int64_t& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::int64_t> parse_period(const std::string& text, std::uint32_t rate) {
  const std::string bad = "bad click period '" + text + "': expected e.g. 1s, 500ms or 4800 (samples)";
  double value = 0;
  std::int64_t samples = 0;
  if (ends_with(text, "ms")) {
    if (!parse_double(text.substr(0, text.size() - 2), value)) return Error{bad};
    samples = std::llround(value * rate / 1000.0);
  } else if (ends_with(text, "s")) {
    if (!parse_double(text.substr(0, text.size() - 1), value)) return Error{bad};
    samples = std::llround(value * rate);
  } else if (!parse_int64(text, samples)) {
    return Error{bad};
  }
  if (samples < 1) return Error{"click period '" + text + "' must be at least one sample"};
  return samples;
}

}  // namespace

Result<SourceSpec> parse_source(const std::string& text, std::uint32_t rate) {
  SourceSpec spec;
  spec.text = text;
  const auto colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string arg = colon == std::string::npos ? std::string{} : text.substr(colon + 1);
  const bool has_arg = colon != std::string::npos;
  if (kind == "device") {
    spec.kind = SourceKind::Device;
    spec.device = arg;
  } else if (kind == "tone") {
    spec.kind = SourceKind::Tone;
    if (!has_arg || !parse_double(arg, spec.tone_hz) || spec.tone_hz <= 0 || spec.tone_hz >= rate / 2.0) {
      return Error{"bad tone '" + text + "': expected tone:FREQ with 0 < FREQ < " + std::to_string(rate / 2) +
                   " Hz"};
    }
  } else if (kind == "click" || kind == "pulse") {
    spec.kind = SourceKind::Click;
    spec.pulse = kind == "pulse";
    if (!has_arg)
      return Error{"bad " + kind + " '" + text + "': expected " + kind + ":PERIOD (1s, 500ms or 4800)"};
    auto period = parse_period(arg, rate);
    if (!period) return Error{period.error()};
    spec.click_period = *period;
  } else if (kind == "noise") {
    if (has_arg) return Error{"bad source '" + text + "': noise takes no argument"};
    spec.kind = SourceKind::Noise;
  } else if (kind == "file") {
    spec.kind = SourceKind::File;
    if (arg.empty()) return Error{"bad source '" + text + "': expected file:PATH"};
    spec.path = arg;
  } else if (kind == "cue-loop") {
    spec.kind = SourceKind::CueLoop;
    if (!has_arg || !parse_double(arg, spec.loop_ms) || !(spec.loop_ms >= 1.0 && spec.loop_ms <= 1000.0)) {
      return Error{"bad source '" + text +
                   "': expected cue-loop:MS, the simulated interface's round trip, 1 to 1000 ms (e.g. 7.3)"};
    }
  } else {
    return Error{"unknown source '" + text +
                 "': expected device[:NAME], tone:FREQ, click:PERIOD, pulse:PERIOD, noise, file:PATH or "
                 "cue-loop:MS"};
  }
  return spec;
}

Result<protocol::SampleFormat> parse_format(const std::string& text) {
  if (text == "pcm16") return protocol::SampleFormat::Pcm16;
  if (text == "pcm24") return protocol::SampleFormat::Pcm24;
  if (text == "f32") return protocol::SampleFormat::F32;
  if (text == "opus") return protocol::SampleFormat::Opus;
  return Error{"bad --format '" + text + "': expected pcm16, pcm24, f32 or opus"};
}

int proto_format(protocol::SampleFormat f) noexcept {
  switch (f) {
    case protocol::SampleFormat::Pcm16:
      return tl::proto::FORMAT_PCM16;
    case protocol::SampleFormat::Pcm24:
      return tl::proto::FORMAT_PCM24;
    case protocol::SampleFormat::F32:
      return tl::proto::FORMAT_F32;
    case protocol::SampleFormat::Opus:
      return tl::proto::FORMAT_OPUS;
    default:
      return tl::proto::FORMAT_UNSPECIFIED;
  }
}

Result<CaptureOptions> validate(const RawOptions& raw) {
  CaptureOptions o;
  o.calibrate = raw.calibrate;
  if (!raw.calibrate || !raw.mixer.empty()) {
    auto mixer = parse_host_port(raw.mixer);
    if (!mixer) return Error{"--mixer: " + mixer.error()};
    o.mixer = *mixer;
  }
  if (!valid_node_name(raw.name)) {
    return Error{"bad --name '" + raw.name + "': use 1-32 characters from A-Z a-z 0-9 _ . -"};
  }
  o.name = raw.name;
  if (raw.rate != 44100 && raw.rate != 48000 && raw.rate != 96000) {
    return Error{"bad --rate " + std::to_string(raw.rate) + ": expected 44100, 48000 or 96000"};
  }
  o.rate = static_cast<std::uint32_t>(raw.rate);
  if (raw.channels_given && (raw.channels < 1 || raw.channels > 64)) {
    return Error{"bad --channels " + std::to_string(raw.channels) + ": expected 1-64"};
  }
  o.channels_given = raw.channels_given;
  o.channels = raw.channels_given ? raw.channels : 1;
  auto format = parse_format(raw.format);
  if (!format) return Error{format.error()};
  o.format = *format;
  if (o.format == protocol::SampleFormat::Opus) {
    // Opus codes 2.5, 5, 10 or 20 ms frames, at 48 kHz here (no resampling).
    const int frames = raw.frames_per_packet == 0 ? 240 : raw.frames_per_packet;
    if (o.rate != 48000) return Error{"--format opus needs --rate 48000"};
    if (!protocol::opus_frame_size_ok(o.rate, static_cast<std::uint32_t>(frames))) {
      return Error{"bad --frames-per-packet " + std::to_string(frames) +
                   " for Opus: expected 120, 240, 480 or 960 (2.5, 5, 10 or 20 ms)"};
    }
    o.frames_per_packet = static_cast<std::uint16_t>(frames);
    if (raw.bitrate_kbps < 6 || raw.bitrate_kbps > 510) {
      return Error{"bad --bitrate " + std::to_string(raw.bitrate_kbps) + ": expected 6-510 kb/s"};
    }
    o.bitrate = static_cast<std::uint32_t>(raw.bitrate_kbps) * 1000u;
  } else {
    const int frames = raw.frames_per_packet == 0 ? 48 : raw.frames_per_packet;
    if (frames != 48 && frames != 64 && frames != 128 && frames != 256) {
      return Error{"bad --frames-per-packet " + std::to_string(frames) + ": expected 48, 64, 128 or 256"};
    }
    o.frames_per_packet = static_cast<std::uint16_t>(frames);
  }
  auto source = parse_source(raw.source, o.rate);
  if (!source) return Error{"--source: " + source.error()};
  o.source = *source;
  if (raw.loop && o.source.kind != SourceKind::File) return Error{"--loop applies to file sources only"};
  o.loop = raw.loop;
  o.realtime = !raw.no_realtime;
  if (!(raw.level_db <= 0.0 && raw.level_db >= -150.0)) {
    return Error{fmt::format("bad --level-db {}: expected -150 to 0 dBFS", raw.level_db)};
  }
  o.level_db = static_cast<float>(raw.level_db);
  if (!(raw.duration_s >= 0.0) || !std::isfinite(raw.duration_s)) {
    return Error{"bad --duration: expected seconds >= 0 (0 = until stopped)"};
  }
  o.duration_s = raw.duration_s;
  if (!(raw.wait_for_mixer_s >= 0.0) || !std::isfinite(raw.wait_for_mixer_s)) {
    return Error{
        "bad --wait-for-mixer: expected seconds >= 0 (0 = until the mixer answers or the node is stopped)"};
  }
  o.wait_for_mixer_s = raw.wait_for_mixer_s;
  if (!raw.audio_api.empty() && raw.audio_api != "alsa" && raw.audio_api != "jack" &&
      raw.audio_api != "pulse") {
    return Error{"bad --audio-api '" + raw.audio_api + "': expected alsa, jack or pulse"};
  }
  o.audio_api = raw.audio_api;
  if (!raw.audio_to.empty()) {
    auto to = parse_host_port(raw.audio_to);
    if (!to) return Error{"--audio-to: " + to.error()};
    o.audio_to = *to;
    o.audio_to_given = true;
  }
  if (raw.spool_dir != "none") {
    o.spool_dir = raw.spool_dir.empty() ? default_spool_dir(o.name) : raw.spool_dir;
    auto bound = parse_spool_max(raw.spool_max);
    if (!bound) return Error{"--spool-max: " + bound.error()};
    o.spool_max_bytes = bound->first;
    o.spool_max_seconds = bound->second;
  }
  if (raw.cue == "none" || raw.cue.empty()) {
    o.cue = CaptureOptions::CueKind::None;
  } else if (raw.cue == "device" || raw.cue.rfind("device:", 0) == 0) {
    o.cue = CaptureOptions::CueKind::Device;
    o.cue_target = raw.cue.size() > 7 ? raw.cue.substr(7) : std::string();
  } else if (raw.cue.rfind("file:", 0) == 0 && raw.cue.size() > 5) {
    o.cue = CaptureOptions::CueKind::File;
    o.cue_target = raw.cue.substr(5);
  } else {
    return Error{"bad --cue '" + raw.cue + "': expected none, device, device:NAME or file:PATH"};
  }
  // A node that sends Opus is on a thin link: its cue comes back as Opus too, unless asked.
  const std::string cue_codec =
      raw.cue_codec.empty() ? (o.format == protocol::SampleFormat::Opus ? "opus" : "pcm") : raw.cue_codec;
  if (cue_codec != "pcm" && cue_codec != "opus") {
    return Error{"bad --cue-codec '" + raw.cue_codec + "': expected pcm or opus"};
  }
  if (raw.cue_bitrate_kbps < 16 || raw.cue_bitrate_kbps > 510) {
    return Error{"bad --cue-bitrate " + std::to_string(raw.cue_bitrate_kbps) + ": expected 16-510 kb/s"};
  }
  if (cue_codec == "opus") {
    if (o.rate != 48000) return Error{"--cue-codec opus needs --rate 48000"};
    o.cue_opus_bitrate = static_cast<std::uint32_t>(raw.cue_bitrate_kbps) * 1000u;
  }
  if (!std::isfinite(raw.sim_clock_offset_ms) || std::abs(raw.sim_clock_offset_ms) > 86'400'000.0) {
    return Error{"bad --sim-clock-offset-ms: expected milliseconds within +-1 day"};
  }
  o.sim_clock_offset_ms = raw.sim_clock_offset_ms;
  if (!std::isfinite(raw.sim_clock_skew_ppm) || std::abs(raw.sim_clock_skew_ppm) > 1000.0) {
    return Error{"bad --sim-clock-skew-ppm: expected -1000 to 1000 ppm"};
  }
  o.sim_clock_skew_ppm = raw.sim_clock_skew_ppm;
  if (o.source.kind == SourceKind::CueLoop) {
    if (o.cue != CaptureOptions::CueKind::None) {
      return Error{"--source cue-loop plays the cue mix on its own simulated output: leave --cue out"};
    }
  }
  if (raw.calibrate && o.source.kind != SourceKind::CueLoop && o.source.kind != SourceKind::Device) {
    return Error{
        "--calibrate measures a cable from the output to the input: with --source device[:NAME] (its own "
        "output) or --source cue-loop:MS"};
  }
  if (raw.calibrate && o.cue != CaptureOptions::CueKind::None &&
      (o.cue != CaptureOptions::CueKind::Device || o.cue_target != o.source.device)) {
    return Error{"--calibrate measures the input device's own output: leave --cue out, or name that device"};
  }
  if (raw.round_trip_ms != -1.0) {
    if (!std::isfinite(raw.round_trip_ms) || raw.round_trip_ms < 0.0 || raw.round_trip_ms > 2000.0) {
      return Error{"bad --round-trip-ms: expected 0 to 2000 ms (the interface's output plus input latency)"};
    }
    o.round_trip_frames = std::llround(raw.round_trip_ms * o.rate / 1000.0);
  }
  o.calibration_file = raw.calibration_file.empty() ? default_calibration_file(o.name) : raw.calibration_file;
  return o;
}

namespace {
//! $XDG_STATE_HOME/tracklink/WHAT, else $HOME/.local/state/tracklink/WHAT, else empty.
std::string state_dir(const std::string& what) {
  const char* state = std::getenv("XDG_STATE_HOME");
  if (state != nullptr && *state == '/') return std::string(state) + "/tracklink/" + what;
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home == '/') return std::string(home) + "/.local/state/tracklink/" + what;
  return {};
}
}  // namespace

std::string default_spool_dir(const std::string& name) {
  const std::string dir = state_dir("spool");
  return (dir.empty() ? "tracklink-spool" : dir) + "/" + name;
}

std::string default_calibration_file(const std::string& name) {
  const std::string dir = state_dir("calibration");
  return (dir.empty() ? "tracklink-calibration" : dir) + "/" + name + ".json";
}

Result<std::pair<std::uint64_t, double>> parse_spool_max(const std::string& text) {
  const std::string bad = "bad '" + text + "': expected a duration (90s, 30m, 2h) or a size (500M, 4G)";
  if (text.empty()) return Error{bad};
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return Error{bad};
  }
  const std::string unit = text.substr(used);
  if (!std::isfinite(value) || value <= 0.0) return Error{bad};
  const auto seconds = [&](double s) -> Result<std::pair<std::uint64_t, double>> {
    return std::pair<std::uint64_t, double>{0, s};
  };
  const auto bytes = [&](double b) -> Result<std::pair<std::uint64_t, double>> {
    if (b < 1024.0 * 1024.0)
      return Error{"bad '" + text + "': a spool smaller than 1M holds under 3 s of audio"};
    if (b > 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0) return Error{"bad '" + text + "': over 1 PiB"};
    return std::pair<std::uint64_t, double>{static_cast<std::uint64_t>(b), 0.0};
  };
  if (value > 1e9) return Error{bad};  // no duration or size that large makes sense
  if (unit.empty() || unit == "s") return seconds(value);
  if (unit == "ms") return seconds(value / 1000.0);
  if (unit == "m" || unit == "min") return seconds(value * 60.0);
  if (unit == "h") return seconds(value * 3600.0);
  if (unit == "K" || unit == "k") return bytes(value * 1024.0);
  if (unit == "M") return bytes(value * 1024.0 * 1024.0);
  if (unit == "G") return bytes(value * 1024.0 * 1024.0 * 1024.0);
  return Error{bad};
}

}  // namespace tl::capture
