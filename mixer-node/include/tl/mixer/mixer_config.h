#pragma once
//! A mixer node's settings (tl-mixer's options), and the millisecond-to-frame arithmetic
//! its latency settings go through.

#include <cmath>
#include <cstdint>
#include <string>

#include "tl/common/units.h"

namespace tl::mixer {

struct MixerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 7400;  // control TCP and audio UDP
  std::string record_dir = "takes";
  std::uint32_t sample_rate = 48000;
  std::uint32_t block_frames = 48;
  //! Play-out delay of the live mix: it starts at latency_ms and adapts to the
  //! nodes' measured need within [latency_min_ms, latency_max_ms] (equal: fixed;
  //! fixed too when a device clocks the mix).
  double latency_ms = 20.0;
  double latency_min_ms = 5.0;
  double latency_max_ms = 200.0;
  //! Added to every node's measured need, and how long a need is held (PlayoutPolicy).
  double latency_margin_ms = 1.0;
  double latency_hold_s = 30.0;
  //! Ask for real-time scheduling (mix and receive threads) and locked memory.
  bool realtime = true;
  std::string monitor;  // empty: headless timer; else device name substring ("" + monitor_default)
  bool monitor_default = false;
  std::string audio_api;  // alsa | jack | pulse | "" (RtAudio's choice)
  std::string token;
  //! A take a killed mixer was recording in this session goes on in this one (else it is
  //! left unfinished, for `record recover`, which ends it where the mixer stopped).
  bool resume_takes = true;
};

//! True when an audio device clocks the mix (a monitor output), not a timer.
inline bool device_clocked(const MixerConfig& c) {
  return !c.monitor.empty() || c.monitor_default;
}

//! Milliseconds at a sample rate, in frames (rounded to the nearest), and back.
inline MediaTime ms_to_frames(double ms, std::uint32_t rate) {
  return static_cast<MediaTime>(std::llround(ms * rate / 1000.0));
}
inline double frames_to_ms(MediaTime frames, std::uint32_t rate) {
  return static_cast<double>(frames) * 1000.0 / rate;
}

}  // namespace tl::mixer
