#pragma once
//! The RtAudio API an --audio-api value names, for the programs that open devices
//! (header only: tl_common itself does not link RtAudio).

#include <rtaudio/RtAudio.h>

#include <string>

namespace tl {

//! "alsa", "jack", "pulse"; anything else (options reject it first) lets RtAudio choose.
inline RtAudio::Api rtaudio_api(const std::string& name) {
  if (name == "alsa") return RtAudio::LINUX_ALSA;
  if (name == "jack") return RtAudio::UNIX_JACK;
  if (name == "pulse") return RtAudio::LINUX_PULSE;
  return RtAudio::UNSPECIFIED;
}

}  // namespace tl
