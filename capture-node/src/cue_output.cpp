#include "tl/capture/cue_output.h"

#include <rtaudio/RtAudio.h>

#include <sndfile.h>
#include "tl/common/rtaudio_api.h"

#include <algorithm>
#include <array>
#include <vector>

namespace tl::capture {
namespace {

// A gap longer than this (the node lost the mixer for a while) restarts the output
// instead of being filled with silence.
constexpr MediaTime kMaxFilledGap = 4800;

}  // namespace

void CueOutput::note(MediaTime position, std::size_t frames, double session_now, double ahead) noexcept {
  (void)frames;
  packets_.fetch_add(1, std::memory_order_relaxed);
  latency_ms_.store((session_now + ahead - static_cast<double>(position)) * 1000.0 / rate_,
                    std::memory_order_relaxed);
}

void CueOutput::deliver_scheduled(CueSchedule& schedule, MediaTime position, std::span<const float> stereo,
                                  double session_now, MediaTime media_now) {
  const MediaTime late = schedule.deliver(position, stereo, media_now);
  if (late > 0) underruns_.fetch_add(static_cast<std::uint64_t>(late), std::memory_order_relaxed);
  const MediaTime delay = schedule.delay();
  note(position, stereo.size() / 2, session_now,
       delay < 0 ? 0.0 : static_cast<double>(position + delay) - session_now);
}

// ---- file --------------------------------------------------------------------

CueFile::CueFile(const std::string& path, std::uint32_t rate, SNDFILE* file)
    : CueOutput("file:" + path, rate), file_(file) {}

CueFile::~CueFile() {
  sf_close(file_);
}

Result<std::unique_ptr<CueFile>> CueFile::open(const std::string& path, std::uint32_t rate) {
  SF_INFO info{};
  info.samplerate = static_cast<int>(rate);
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (file == nullptr) return Error{"cannot write the cue mix to " + path + ": " + sf_strerror(nullptr)};
  return std::unique_ptr<CueFile>(new CueFile(path, rate, file));
}

void CueFile::deliver(MediaTime position, std::span<const float> stereo, double session_now) {
  const auto frames = static_cast<MediaTime>(stereo.size() / 2);
  if (next_ != INT64_MIN && position + frames <= next_) return;  // a duplicate or late chunk
  if (next_ != INT64_MIN && position > next_) {
    const std::vector<float> silence(2 * static_cast<std::size_t>(std::min(position - next_, kMaxFilledGap)),
                                     0.0f);
    sf_writef_float(file_, silence.data(), static_cast<sf_count_t>(silence.size() / 2));
  }
  const MediaTime skip = next_ == INT64_MIN ? 0 : std::max<MediaTime>(0, next_ - position);
  sf_writef_float(file_, stereo.data() + 2 * skip, frames - skip);
  next_ = position + frames;
  note(position, static_cast<std::size_t>(frames), session_now, 0.0);
}

// ---- device ------------------------------------------------------------------

CueDevice::CueDevice(const std::string& name, std::uint32_t rate)
    : CueOutput("device:" + name, rate), queue_(static_cast<std::size_t>(rate) / 2) {}

CueDevice::~CueDevice() {
  if (!audio_) return;
  try {
    if (audio_->isStreamRunning()) audio_->stopStream();
    if (audio_->isStreamOpen()) audio_->closeStream();
  } catch (const RtAudioError&) {
  }
}

Result<std::unique_ptr<CueDevice>> CueDevice::open(const std::string& api, const std::string& name,
                                                   std::uint32_t rate, std::uint32_t period) {
  try {
    auto audio = std::make_unique<RtAudio>(rtaudio_api(api));
    audio->showWarnings(false);
    const unsigned count = audio->getDeviceCount();
    if (count == 0)
      return Error{"no audio devices found for the cue mix" + (api.empty() ? "" : " (API " + api + ")")};
    unsigned index = audio->getDefaultOutputDevice();
    bool found = name.empty();
    for (unsigned i = 0; i < count && !found; ++i) {
      const RtAudio::DeviceInfo info = audio->getDeviceInfo(i);
      if (info.probed && info.outputChannels >= 2 && info.name.find(name) != std::string::npos) {
        index = i;
        found = true;
      }
    }
    if (!found) return Error{"no output device matching '" + name + "' for the cue mix (see --list-devices)"};
    const RtAudio::DeviceInfo info = audio->getDeviceInfo(index);
    if (info.outputChannels < 2)
      return Error{"device '" + info.name + "' has no stereo output for the cue mix"};
    std::unique_ptr<CueDevice> d(new CueDevice(info.name, rate));
    RtAudio::StreamParameters params;
    params.deviceId = index;
    params.nChannels = 2;
    RtAudio::StreamOptions options;
    options.flags = RTAUDIO_SCHEDULE_REALTIME;
    options.priority = 70;
    options.streamName = "tl-capture cue";
    unsigned buffer = period;
    audio->openStream(&params, nullptr, RTAUDIO_FLOAT32, rate, &buffer, &CueDevice::callback, d.get(),
                      &options);
    // Two device periods plus 2 ms queued before playing absorb the network's jitter.
    d->prefill_ = 2 * buffer + rate / 500;
    d->device_latency_ = static_cast<std::uint32_t>(audio->getStreamLatency()) + buffer;
    d->audio_ = std::move(audio);
    return d;
  } catch (const RtAudioError& e) {
    return Error{"cannot open the cue output: " + e.getMessage()};
  }
}

Status CueDevice::start() {
  try {
    audio_->startStream();
  } catch (const RtAudioError& e) {
    return Error{"cannot start the cue output '" + describe_ + "': " + e.getMessage()};
  }
  return Status::success();
}

void CueDevice::deliver(MediaTime position, std::span<const float> stereo, double session_now) {
  const auto frames = static_cast<MediaTime>(stereo.size() / 2);
  if (next_ != INT64_MIN && position + frames <= next_) return;
  MediaTime skip = 0;
  if (next_ != INT64_MIN && position > next_ && position - next_ <= kMaxFilledGap) {
    for (MediaTime i = next_; i < position; ++i) (void)queue_.try_push(Frame{});  // a lost chunk plays silent
  } else if (next_ != INT64_MIN && position < next_) {
    skip = next_ - position;
  }
  const double ahead = static_cast<double>(queue_.size() + device_latency_);
  for (MediaTime i = skip; i < frames; ++i) {
    const auto k = static_cast<std::size_t>(2 * i);
    (void)queue_.try_push(Frame{stereo[k], stereo[k + 1]});  // full: the device stopped; drop
  }
  next_ = position + frames;
  note(position, static_cast<std::size_t>(frames), session_now, ahead);
}

int CueDevice::callback(void* out, void*, unsigned n, double, unsigned, void* user) {
  auto* self = static_cast<CueDevice*>(user);
  auto* samples = static_cast<float*>(out);
  if (!self->playing_.load(std::memory_order_relaxed) && self->queue_.size() >= self->prefill_) {
    self->playing_.store(true, std::memory_order_relaxed);
  }
  std::uint64_t missing = 0;
  for (unsigned i = 0; i < n; ++i) {
    Frame f;
    if (!self->playing_.load(std::memory_order_relaxed) || !self->queue_.try_pop(f)) {
      f = Frame{};
      ++missing;
    }
    samples[2 * i] = f.left;
    samples[2 * i + 1] = f.right;
  }
  if (missing != 0 && self->playing_.load(std::memory_order_relaxed)) {
    self->underruns_.fetch_add(missing, std::memory_order_relaxed);
    self->playing_.store(false, std::memory_order_relaxed);  // fill up again before playing on
  }
  return 0;
}

// ---- the capture device's own output -----------------------------------------

DuplexCue::DuplexCue(const std::string& name, std::uint32_t rate, std::uint32_t block)
    : CueOutput("device:" + name, rate),
      schedule_("cue on device:" + name, rate,
                std::max<MediaTime>(rate / 100, 2 * static_cast<MediaTime>(block))) {}

void DuplexCue::deliver(MediaTime position, std::span<const float> stereo, double session_now) {
  deliver_scheduled(schedule_, position, stereo, session_now, media_now_.load(std::memory_order_acquire));
}

void DuplexCue::play(float* out, std::size_t n, MediaTime media) noexcept {
  if (media == INT64_MIN) {
    std::fill_n(out, 2 * n, 0.0f);
    return;
  }
  const MediaTime delay = schedule_.delay();  // one delay for the whole callback
  if (delay < 0) {
    std::fill_n(out, 2 * n, 0.0f);
  } else {
    for (std::size_t i = 0; i < n; ++i)
      schedule_.frame(media + static_cast<MediaTime>(i) - delay, out[i], out[n + i]);
  }
  media_now_.store(media + static_cast<MediaTime>(n), std::memory_order_release);
}

}  // namespace tl::capture
