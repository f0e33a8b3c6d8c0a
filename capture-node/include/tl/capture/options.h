#pragma once
//! tl-capture's options: what the operator asked for, checked before anything starts.

#include <cstdint>
#include <string>
#include <utility>

#include "tl/common/address.h"
#include "tl/common/result.h"
#include "tl/protocol/audio_packet.h"
#include "tl/protocol/names.h"
#include "tl/protocol/opus_cue.h"

namespace tl::capture {

enum class SourceKind { Device, Tone, Click, Noise, File, CueLoop };

//! A parsed --source SPEC.
struct SourceSpec {
  SourceKind kind = SourceKind::Tone;
  std::string device;             // device[:NAME]: substring of the device name, empty = default input
  double tone_hz = 440.0;         // tone:FREQ
  std::int64_t click_period = 0;  // click:PERIOD or pulse:PERIOD, in samples at the session rate
  bool pulse = false;             // pulse:PERIOD: band-limited pulses between samples
  std::string path;               // file:PATH
  double loop_ms = 0.0;           // cue-loop:MS (SIMULATION): the simulated interface's round trip
  std::string text;               // the spec as given, for display at the mixer
};

//! Parses device[:NAME], tone:FREQ, click:PERIOD (1s, 500ms, 4800), pulse:PERIOD, noise, file:PATH,
//! cue-loop:MS (1-1000 ms).
//! PERIOD in seconds or milliseconds is converted at rate.
Result<SourceSpec> parse_source(const std::string& text, std::uint32_t rate);

//! Options as they come from the command line (raw), before validation.
struct RawOptions {
  std::string mixer;
  std::string name;
  std::string source = "tone:440";
  int channels = 1;
  bool channels_given = false;  // --channels was on the command line
  int rate = 48000;
  int frames_per_packet = 0;  // 0: 48 for PCM, 240 (5 ms) for Opus
  std::string format = "pcm24";
  int bitrate_kbps = 96;  // Opus, per channel
  bool loop = false;
  double level_db = -12.0;
  double duration_s = 0.0;
  double wait_for_mixer_s = 0.0;  // --wait-for-mixer: 0 = as long as it takes
  std::string token_file;
  std::string log_level = "info";
  bool list_devices = false;
  bool no_realtime = false;
  std::string audio_api;
  std::string audio_to;          // --audio-to HOST:PORT, empty: the mixer's audio port
  std::string spool_dir;         // --spool-dir DIR ("none": no spool), empty: the default
  std::string spool_max = "1h";  // --spool-max: a duration (90s, 30m, 2h) or a size (500M, 4G)
  std::string cue = "none";      // --cue none | device[:NAME] | file:PATH
  std::string cue_codec;         // --cue-codec pcm | opus; empty: opus with --format opus
  int cue_bitrate_kbps = static_cast<int>(protocol::kCueOpusDefaultBitrate / 1000);  // --cue-bitrate, stereo
  double sim_clock_offset_ms = 0;  // SIMULATION: --sim-clock-offset-ms
  double sim_clock_skew_ppm = 0;   // SIMULATION: --sim-clock-skew-ppm
  bool calibrate = false;          // --calibrate: measure the round trip and exit
  double round_trip_ms = -1.0;     // --round-trip-ms (-1: not given)
  std::string calibration_file;    // --calibration-file, empty: the default
};

//! Validated options, ready to wire the node.
struct CaptureOptions {
  HostPort mixer;
  std::string name;
  SourceSpec source;
  int channels = 1;
  bool channels_given = false;
  std::uint32_t rate = 48000;
  std::uint16_t frames_per_packet = 48;
  protocol::SampleFormat format = protocol::SampleFormat::Pcm24;
  std::uint32_t bitrate = 96000;  // Opus: bits/s per channel
  bool loop = false;
  float level_db = -12.0f;
  double duration_s = 0.0;
  double wait_for_mixer_s = 0.0;  // how long a node started first waits for its mixer; 0: until stopped
  std::string audio_api;
  bool audio_to_given = false;
  HostPort audio_to;                  // where audio and sync go instead of the mixer's audio port
  std::string spool_dir;              // empty: no spool
  std::uint64_t spool_max_bytes = 0;  // 0: no byte bound
  double spool_max_seconds = 0.0;     // 0: no time bound
  //! Where the personal cue mix the mixer streams back is played (see cue_output.h).
  enum class CueKind { None, Device, File };
  CueKind cue = CueKind::None;
  std::string cue_target;              // the device name substring, or the file's path
  std::uint32_t cue_opus_bitrate = 0;  // the cue asked for as Opus at this many bits/s (0: PCM)
  bool realtime = true;                // real-time priority for the timer and sender threads, locked memory
  double sim_clock_offset_ms = 0;      // SIMULATION only (see sim_clock.h)
  double sim_clock_skew_ppm = 0;       // SIMULATION only
  //! --calibrate: measure the interface's round trip, store it and exit (no mixer needed).
  bool calibrate = false;
  //! --round-trip-ms as frames at the rate (-1: not given: the stored calibration, if any).
  std::int64_t round_trip_frames = -1;
  std::string calibration_file;  //!< where the node's calibration is kept
};

//! Checks every option; the error says which one is wrong and what is allowed.
//! Does not look at files or devices (see FileSource::open for the file's shape).
Result<CaptureOptions> validate(const RawOptions& raw);

//! True for names the mixer accepts: [A-Za-z0-9_.-]+, at most 32 characters (the
//! mixer's own rule, checked before connecting).
using protocol::valid_node_name;

//! The spool folder when --spool-dir is not given: $XDG_STATE_HOME/tracklink/spool/NAME,
//! else $HOME/.local/state/tracklink/spool/NAME, else ./tracklink-spool/NAME.
std::string default_spool_dir(const std::string& name);

//! The calibration file when --calibration-file is not given:
//! $XDG_STATE_HOME/tracklink/calibration/NAME.json (else under $HOME/.local/state, else ./).
std::string default_calibration_file(const std::string& name);

//! Parses --spool-max: a duration (90s, 30m, 2h; a bare number is seconds) or a size
//! (500K, 200M, 4G). Exactly one of the two results is non-zero.
Result<std::pair<std::uint64_t, double>> parse_spool_max(const std::string& text);

//! Parses "pcm16", "pcm24", "f32".
Result<protocol::SampleFormat> parse_format(const std::string& text);

//! The control.proto enum value for a wire format.
int proto_format(protocol::SampleFormat f) noexcept;

}  // namespace tl::capture
