#include "tl/capture/device_input.h"

#include <fmt/format.h>
#include <rtaudio/RtAudio.h>

#include "tl/common/rtaudio_api.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>
#include <vector>

#include "tl/capture/cue_loop.h"
#include "tl/common/clock.h"

namespace tl::capture {

namespace {
//! The input device whose name holds `name` ("": the default input), with warnings off.
Result<unsigned> find_input(RtAudio& audio, const std::string& api, const std::string& name) {
  audio.showWarnings(false);
  const unsigned count = audio.getDeviceCount();
  if (count == 0) return Error{"no audio devices found" + (api.empty() ? std::string{} : " for API " + api)};
  if (name.empty()) return audio.getDefaultInputDevice();
  for (unsigned i = 0; i < count; ++i) {
    const RtAudio::DeviceInfo info = audio.getDeviceInfo(i);
    if (info.probed && info.inputChannels > 0 && info.name.find(name) != std::string::npos) return i;
  }
  return Error{"no input device matching '" + name + "' (see tl-capture --list-devices)"};
}
}  // namespace

DeviceInput::DeviceInput(BlockQueue& queue, MediaStamper& stamper, std::uint32_t rate, const SimClock& clock,
                         DuplexCue* cue)
    : assembler_(queue, stamper, rate), clock_(clock), cue_(cue) {}

DeviceInput::~DeviceInput() {
  stop();
  if (audio_) {
    try {
      if (audio_->isStreamOpen()) audio_->closeStream();
    } catch (const RtAudioError&) {
    }
  }
}

Result<std::unique_ptr<DeviceInput>> DeviceInput::open(const std::string& api, const std::string& name,
                                                       int channels, std::uint32_t rate, BlockQueue& queue,
                                                       MediaStamper& stamper, const SimClock& clock,
                                                       DuplexCue* cue) {
  std::unique_ptr<DeviceInput> d(new DeviceInput(queue, stamper, rate, clock, cue));
  try {
    d->audio_ = std::make_unique<RtAudio>(rtaudio_api(api));
    RtAudio& audio = *d->audio_;
    auto found = find_input(audio, api, name);
    if (!found) return Error{found.error()};
    const unsigned index = *found;
    const RtAudio::DeviceInfo info = audio.getDeviceInfo(index);
    if (info.inputChannels < static_cast<unsigned>(channels)) {
      return Error{"device '" + info.name + "' has " + std::to_string(info.inputChannels) +
                   " input channel(s); --channels " + std::to_string(channels) + " asked for more"};
    }
    d->device_name_ = info.name;
    RtAudio::StreamParameters params;
    params.deviceId = index;
    params.nChannels = static_cast<unsigned>(channels);
    params.firstChannel = 0;
    RtAudio::StreamOptions options;
    options.flags = RTAUDIO_SCHEDULE_REALTIME | RTAUDIO_NONINTERLEAVED;
    options.priority = 70;
    options.streamName = "tl-capture";
    RtAudio::StreamParameters out;
    if (cue != nullptr) {
      if (info.outputChannels < 2) {
        return Error{"device '" + info.name + "' has no stereo output to play the cue mix on (--cue device)"};
      }
      out.deviceId = index;
      out.nChannels = 2;
    }
    unsigned buffer = static_cast<unsigned>(queue.frames());
    audio.openStream(cue != nullptr ? &out : nullptr, &params, RTAUDIO_FLOAT32, rate, &buffer,
                     &DeviceInput::callback, d.get(), &options);
    d->assembler_.set_device_period(buffer);  // the driver may have chosen another period
    const long latency = audio.getStreamLatency();
    if (latency > 0) d->stream_latency_ = latency;
  } catch (const RtAudioError& e) {
    return Error{"cannot open audio input: " + e.getMessage()};
  }
  return d;
}

Status DeviceInput::start() {
  try {
    audio_->startStream();
  } catch (const RtAudioError& e) {
    return Error{"cannot start audio input '" + device_name_ + "': " + e.getMessage()};
  }
  return Status::success();
}

void DeviceInput::stop() {
  if (!audio_) return;
  try {
    if (audio_->isStreamRunning()) audio_->stopStream();
  } catch (const RtAudioError&) {
  }
}

int DeviceInput::callback(void* out, void* in, unsigned n, double, unsigned status, void* user) {
  auto* self = static_cast<DeviceInput*>(user);
  if ((status & RTAUDIO_INPUT_OVERFLOW) != 0) self->driver_overflows_.fetch_add(1, std::memory_order_relaxed);
  // The output's frame i goes with this callback's input frame i: the media time that one
  // is given when it is pushed below.
  if (out != nullptr && self->cue_ != nullptr)
    self->cue_->play(static_cast<float*>(out), n, self->assembler_.next_media());
  if (in != nullptr) {
    self->assembler_.push(static_cast<const float*>(in), n, self->clock_.now());
    self->rate_error_ppm_.store(self->assembler_.dll().rate_error_ppm(), std::memory_order_relaxed);
  }
  return 0;
}

namespace {
//! What the calibration's callback shares with the thread that waits for it.
struct CalibrationRun {
  std::vector<float> in;               // the input's first channel, by stream frame
  std::atomic<std::size_t> frames{0};  // written by the callback up to here (release)
  std::size_t first = 0, spacing = 0;  // clicks at first + j * spacing output frames
  bool click_at(std::size_t k) const { return k >= first && (k - first) % spacing == 0; }
};

int calibration_callback(void* out, void* in, unsigned n, double, unsigned, void* user) {
  auto* run = static_cast<CalibrationRun*>(user);
  const std::size_t k0 = run->frames.load(std::memory_order_relaxed);
  auto* o = static_cast<float*>(out);
  const auto* i = static_cast<const float*>(in);
  for (unsigned f = 0; f < n; ++f) {
    const std::size_t k = k0 + f;
    o[f] = o[n + f] = run->click_at(k) ? 0.5f : 0.0f;
    if (k < run->in.size()) run->in[k] = i != nullptr ? i[f] : 0.0f;
  }
  run->frames.store(std::min(k0 + n, run->in.size()), std::memory_order_release);
  return 0;
}
}  // namespace

Result<double> calibrate_device(const std::string& api, const std::string& name, std::uint32_t rate,
                                std::uint32_t period, double timeout_s) {
  CalibrationRun run;
  run.in.assign(static_cast<std::size_t>((timeout_s + 2.0) * rate), 0.0f);
  run.first = rate / 4;
  run.spacing = rate + rate / 4;  // more than measure_round_trip's 1.1 s window
  RtAudio audio(rtaudio_api(api));
  try {
    auto found = find_input(audio, api, name);
    if (!found) return Error{found.error()};
    const unsigned index = *found;
    const RtAudio::DeviceInfo info = audio.getDeviceInfo(index);
    if (info.inputChannels < 1 || info.outputChannels < 2) {
      return Error{"device '" + info.name + "' needs an input and a stereo output to be calibrated"};
    }
    RtAudio::StreamParameters in, out;
    in.deviceId = out.deviceId = index;
    in.nChannels = 1;
    out.nChannels = 2;
    RtAudio::StreamOptions options;
    options.flags = RTAUDIO_SCHEDULE_REALTIME | RTAUDIO_NONINTERLEAVED;
    options.streamName = "tl-capture";
    unsigned buffer = period;
    audio.openStream(&out, &in, RTAUDIO_FLOAT32, rate, &buffer, &calibration_callback, &run, &options);
    audio.startStream();
  } catch (const RtAudioError& e) {
    return Error{"cannot open the device to calibrate: " + e.getMessage()};
  }
  // Every 0.1 s: the clicks whose 1.1 s after has been captured; five heard in a row end it.
  const std::size_t window = rate + rate / 10;
  const auto stop = [&] {
    try {
      if (audio.isStreamRunning()) audio.stopStream();
    } catch (const RtAudioError&) {
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  std::vector<MediaTime> heard;
  std::size_t next = run.first;  // the next click to look for
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::size_t done = run.frames.load(std::memory_order_acquire);
    for (; next + window <= done; next += run.spacing) {
      float peak = 0.0f;
      for (std::size_t k = next; k < next + window; ++k) peak = std::max(peak, std::fabs(run.in[k]));
      if (peak < 0.01f) {
        heard.clear();  // not (yet) cabled: start again from the next one
        continue;
      }
      heard.push_back(static_cast<MediaTime>(next));
    }
    if (heard.size() >= 5) {
      stop();
      return measure_round_trip(std::span<const float>(run.in.data(), done), heard, rate);
    }
  }
  stop();
  return Error{fmt::format(
      "no five clicks came back within {:g} s: is the output cabled to the input (on JACK: connected, "
      "tl-capture:outport 0 to tl-capture:inport 0)?",
      timeout_s)};
}

std::string list_devices() {
  std::ostringstream out;
  std::vector<RtAudio::Api> apis;
  RtAudio::getCompiledApi(apis);
  for (const RtAudio::Api api : apis) {
    const std::string api_name = RtAudio::getApiName(api);
    try {
      RtAudio audio(api);
      audio.showWarnings(false);
      const unsigned count = audio.getDeviceCount();
      if (count == 0) out << api_name << ": no devices\n";
      for (unsigned i = 0; i < count; ++i) {
        const RtAudio::DeviceInfo info = audio.getDeviceInfo(i);
        out << api_name << "  " << i << "  " << info.name << "  inputs=" << info.inputChannels << "  rates=";
        for (std::size_t r = 0; r < info.sampleRates.size(); ++r)
          out << (r ? "," : "") << info.sampleRates[r];
        if (info.isDefaultInput) out << "  (default input)";
        out << "\n";
      }
    } catch (const RtAudioError& e) {
      out << api_name << ": " << e.getMessage() << "\n";
    }
  }
  return out.str();
}

}  // namespace tl::capture
