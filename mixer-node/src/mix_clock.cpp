#include "tl/mixer/mix_clock.h"

#include <RtAudio.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "tl/common/clock.h"
#include "tl/common/realtime.h"
#include "tl/common/rtaudio_api.h"

namespace tl::mixer {

TimerMixDriver::TimerMixDriver(MixEngine& engine, const SessionClock& clock, std::uint32_t block_frames)
    : engine_(engine), clock_(clock), block_frames_(block_frames) {}

TimerMixDriver::~TimerMixDriver() {
  stop();
}

Status TimerMixDriver::start() {
  engine_.start_at(clock_.now_samples() - engine_.latency_frames());
  running_.store(true);
  thread_ = std::thread([this] { run(); });
  // Asked from here, so the answer can be logged (the mix thread never logs).
  realtime_error_ = rt::set_realtime_priority(thread_, kPriority);
  return Status::success();
}

void TimerMixDriver::stop() {
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

void TimerMixDriver::run() {
  std::vector<float> left(block_frames_), right(block_frames_);
  const std::int64_t block_ns = clock_.to_ns(block_frames_);
  // The play-out delay adapts (see MixEngine): a shorter one moves the deadlines
  // earlier, and the blocks run back to back until they meet them. That catching up
  // is not an overrun.
  MediaTime latency = engine_.latency_frames();
  std::int64_t catch_up_ns = 0;
  while (running_.load(std::memory_order_relaxed)) {
    const MediaTime pos = engine_.position();
    const MediaTime now_latency = engine_.latency_frames();
    if (now_latency < latency) catch_up_ns += clock_.to_ns(latency - now_latency);
    latency = now_latency;
    const std::int64_t deadline = clock_.monotonic_at(pos + block_frames_ + latency);
    const std::int64_t now = monotonic_ns();
    if (now < deadline) {
      sleep_until_ns(deadline);
      lateness_.add(monotonic_ns() - deadline);
      catch_up_ns = 0;
    } else {
      if (catch_up_ns == 0) lateness_.add(now - deadline);
      if (now - deadline > block_ns + catch_up_ns) {
        overruns_.fetch_add(1, std::memory_order_relaxed);  // late: run back to back
      }
    }
    engine_.process(left, right);
  }
}

DeviceMixDriver::DeviceMixDriver(MixEngine& engine, const SessionClock& clock, std::uint32_t block_frames,
                                 std::string device_name, std::string api)
    : engine_(engine),
      clock_(clock),
      block_frames_(block_frames),
      device_name_(std::move(device_name)),
      api_(std::move(api)) {}

DeviceMixDriver::~DeviceMixDriver() {
  stop();
}

std::vector<std::string> DeviceMixDriver::list_devices() {
  std::vector<std::string> lines;
  std::vector<RtAudio::Api> apis;
  RtAudio::getCompiledApi(apis);
  for (const auto api : apis) {
    try {
      RtAudio audio(api);
      const unsigned n = audio.getDeviceCount();
      for (unsigned i = 0; i < n; ++i) {
        const RtAudio::DeviceInfo info = audio.getDeviceInfo(i);
        if (!info.probed || info.outputChannels == 0) continue;
        lines.push_back(RtAudio::getApiName(api) + " " + std::to_string(i) + ": " + info.name + " (" +
                        std::to_string(info.outputChannels) + " out)");
      }
    } catch (const RtAudioError& e) {
      lines.push_back(RtAudio::getApiName(api) + ": " + e.getMessage());
    }
  }
  return lines;
}

Status DeviceMixDriver::start() {
  try {
    audio_ = std::make_unique<RtAudio>(rtaudio_api(api_));
    audio_->showWarnings(false);
    const unsigned count = audio_->getDeviceCount();
    if (count == 0)
      return Error{"no audio devices for API '" + RtAudio::getApiName(audio_->getCurrentApi()) + "'"};
    unsigned device = audio_->getDefaultOutputDevice();
    if (!device_name_.empty()) {
      bool found = false;
      for (unsigned i = 0; i < count && !found; ++i) {
        const auto info = audio_->getDeviceInfo(i);
        if (info.probed && info.outputChannels >= 2 && info.name.find(device_name_) != std::string::npos) {
          device = i;
          found = true;
        }
      }
      if (!found) return Error{"no output device matching '" + device_name_ + "' (see --list-devices)"};
    }
    const auto info = audio_->getDeviceInfo(device);
    opened_name_ = info.name;
    RtAudio::StreamParameters out;
    out.deviceId = device;
    out.nChannels = 2;
    RtAudio::StreamOptions options;
    options.flags = RTAUDIO_NONINTERLEAVED | RTAUDIO_SCHEDULE_REALTIME | RTAUDIO_MINIMIZE_LATENCY;
    options.streamName = "tl-mixer";
    unsigned frames = block_frames_;
    audio_->openStream(&out, nullptr, RTAUDIO_FLOAT32, clock_.rate(), &frames, &DeviceMixDriver::callback,
                       this, &options);
    if (frames > engine_.config().max_block_frames) {
      audio_->closeStream();
      return Error{"device '" + opened_name_ + "' insists on " + std::to_string(frames) +
                   "-frame buffers; the engine takes at most " +
                   std::to_string(engine_.config().max_block_frames)};
    }
    engine_.start_at(clock_.now_samples() - engine_.config().latency_frames);
    audio_->startStream();
    spdlog::info("monitor output: {} ({}), {} frames per buffer", opened_name_,
                 RtAudio::getApiName(audio_->getCurrentApi()), frames);
  } catch (const RtAudioError& e) {
    return Error{"cannot open monitor output: " + e.getMessage()};
  }
  return Status::success();
}

void DeviceMixDriver::stop() {
  if (!audio_) return;
  try {
    if (audio_->isStreamRunning()) audio_->stopStream();
    if (audio_->isStreamOpen()) audio_->closeStream();
  } catch (const RtAudioError&) {
  }
  audio_.reset();
}

int DeviceMixDriver::callback(void* out, void*, unsigned int frames, double, unsigned int status,
                              void* self) {
  auto* d = static_cast<DeviceMixDriver*>(self);
  if (status != 0) d->xruns_.fetch_add(1, std::memory_order_relaxed);
  auto* buffer = static_cast<float*>(out);
  d->engine_.process(std::span<float>(buffer, frames), std::span<float>(buffer + frames, frames));
  return 0;
}

}  // namespace tl::mixer
