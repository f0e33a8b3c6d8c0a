#include "tl/capture/device_input.h"

#include <rtaudio/RtAudio.h>

#include "tl/common/rtaudio_api.h"

#include <algorithm>
#include <sstream>

#include "tl/common/clock.h"

namespace tl::capture {

DeviceInput::DeviceInput(BlockQueue& queue, MediaStamper& stamper, std::uint32_t rate, const SimClock& clock)
    : assembler_(queue, stamper, rate), clock_(clock) {}

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
                                                       MediaStamper& stamper, const SimClock& clock) {
  std::unique_ptr<DeviceInput> d(new DeviceInput(queue, stamper, rate, clock));
  try {
    d->audio_ = std::make_unique<RtAudio>(rtaudio_api(api));
    RtAudio& audio = *d->audio_;
    audio.showWarnings(false);
    const unsigned count = audio.getDeviceCount();
    if (count == 0)
      return Error{"no audio devices found" + (api.empty() ? std::string{} : " for API " + api)};
    unsigned index = audio.getDefaultInputDevice();
    bool found = name.empty();
    if (!name.empty()) {
      for (unsigned i = 0; i < count; ++i) {
        const RtAudio::DeviceInfo info = audio.getDeviceInfo(i);
        if (info.probed && info.inputChannels > 0 && info.name.find(name) != std::string::npos) {
          index = i;
          found = true;
          break;
        }
      }
    }
    if (!found) return Error{"no input device matching '" + name + "' (see tl-capture --list-devices)"};
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
    unsigned buffer = static_cast<unsigned>(queue.frames());
    audio.openStream(nullptr, &params, RTAUDIO_FLOAT32, rate, &buffer, &DeviceInput::callback, d.get(),
                     &options);
    d->assembler_.set_device_period(buffer);  // the driver may have chosen another period
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

int DeviceInput::callback(void*, void* in, unsigned n, double, unsigned status, void* user) {
  auto* self = static_cast<DeviceInput*>(user);
  if ((status & RTAUDIO_INPUT_OVERFLOW) != 0) self->driver_overflows_.fetch_add(1, std::memory_order_relaxed);
  if (in != nullptr) {
    self->assembler_.push(static_cast<const float*>(in), n, self->clock_.now());
    self->rate_error_ppm_.store(self->assembler_.dll().rate_error_ppm(), std::memory_order_relaxed);
  }
  return 0;
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
