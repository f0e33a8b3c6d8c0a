#include "tl/capture/sources.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tl/common/units.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {

ToneSource::ToneSource(double hz, float level_db, std::uint32_t rate) noexcept
    : step_(hz / rate), gain_(db_to_gain(level_db)) {}

void ToneSource::render(BlockInfo&, float* planar, std::size_t channels, std::size_t frames) noexcept {
  for (std::size_t i = 0; i < frames; ++i) {
    planar[i] = gain_ * static_cast<float>(std::sin(2.0 * std::numbers::pi * phase_));
    phase_ += step_;
    if (phase_ >= 1.0) phase_ -= 1.0;
  }
  for (std::size_t c = 1; c < channels; ++c) {
    for (std::size_t i = 0; i < frames; ++i) planar[c * frames + i] = planar[i];
  }
}

std::int64_t ClickSource::click_frame(std::int64_t real_ns, std::int64_t origin_ns) const noexcept {
  const std::int64_t since = clock_.node_ns(real_ns) - origin_ns;
  // floor(since * rate / 1e9), exact for negative values too.
  const std::int64_t secs = floor_div(since, kNanosPerSecond);
  const std::int64_t rem = since - secs * kNanosPerSecond;
  return secs * rate_ + (rem * rate_) / kNanosPerSecond;
}

double ClickSource::click_position(std::int64_t real_ns, std::int64_t origin_ns) const noexcept {
  const std::int64_t since = clock_.node_ns(real_ns) - origin_ns;
  const std::int64_t rem = since - floor_div(since, kNanosPerSecond) * kNanosPerSecond;
  // What floor() dropped: (rem * rate) mod 1e9, in samples.
  const std::int64_t dropped = rem * rate_ % kNanosPerSecond;
  return static_cast<double>(click_frame(real_ns, origin_ns)) + static_cast<double>(dropped) / 1e9;
}

double ClickSource::pulse(double x) noexcept {
  constexpr double kHalf = static_cast<double>(kPulseHalf);
  // Cut off at 0.15 of the rate: with the window's main lobe (about 3 / 33 wide) the
  // pulse stays under 0.25, so its square is under Nyquist and the centroid is exact.
  constexpr double kCutoff = 0.15;
  if (std::fabs(x) >= kHalf) return 0.0;
  const double a = 2.0 * std::numbers::pi * kCutoff * x;
  const double sinc = x == 0.0 ? 1.0 : std::sin(a) / a;
  const double w = std::numbers::pi * x / kHalf;
  return sinc * (0.42 + 0.5 * std::cos(w) + 0.08 * std::cos(2.0 * w));
}

void ClickSource::render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept {
  for (std::size_t i = 0; i < channels * frames; ++i) planar[i] = 0.0f;
  if (info.epoch == 0 || period_ns_ <= 0) return;
  const auto n = static_cast<std::int64_t>(frames);
  const std::int64_t origin = info.capture_ns - frames_to_ns(info.frame, rate_);
  // Real times whose click or pulse could reach this block (a margin of a millisecond
  // covers rounding; a pulse reaches kPulseHalf samples either side of its instant).
  constexpr std::int64_t kMargin = 1'000'000;
  const std::int64_t reach = shape_ == Shape::Pulse ? kPulseHalf : 0;
  const std::int64_t r0 = clock_.real_ns(info.capture_ns - frames_to_ns(reach, rate_)) - kMargin;
  const std::int64_t r1 = clock_.real_ns(info.capture_ns + frames_to_ns(n + reach, rate_)) + kMargin;
  for (std::int64_t t = (floor_div(r0, period_ns_) + 1) * period_ns_; t <= r1; t += period_ns_) {
    if (shape_ == Shape::OneSample) {
      const std::int64_t i = click_frame(t, origin) - info.frame;
      if (i < 0 || i >= n) continue;
      for (std::size_t c = 0; c < channels; ++c)
        planar[c * frames + static_cast<std::size_t>(i)] = kAmplitude;
      continue;
    }
    // In stream samples, not block ones: a sample's value never depends on the blocking.
    const double centre = click_position(t, origin);
    const std::int64_t whole = click_frame(t, origin);
    const std::int64_t first = std::max(info.frame, whole - kPulseHalf);
    const std::int64_t last = std::min(info.frame + n - 1, whole + kPulseHalf + 1);
    for (std::int64_t i = first; i <= last; ++i) {
      const auto v = static_cast<float>(kAmplitude * pulse(static_cast<double>(i) - centre));
      const auto at = static_cast<std::size_t>(i - info.frame);
      for (std::size_t c = 0; c < channels; ++c) planar[c * frames + at] += v;
    }
  }
}

NoiseSource::NoiseSource(float level_db, std::uint64_t seed) noexcept
    : state_(seed == 0 ? 0x9E3779B97F4A7C15ull : seed), gain_(db_to_gain(level_db)) {}

void NoiseSource::render(BlockInfo&, float* planar, std::size_t channels, std::size_t frames) noexcept {
  for (std::size_t i = 0; i < channels * frames; ++i) {
    // xorshift64*: fast, deterministic, good enough for test signals.
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const std::uint64_t r = state_ * 0x2545F4914F6CDD1Dull;
    const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    planar[i] = gain_ * (2.0f * u - 1.0f);
  }
}

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path, std::uint32_t rate,
                                                     int channels, bool loop) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return Error{"cannot open audio file '" + path + "': " + sf_strerror(nullptr)};
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{f};
  if (info.samplerate != static_cast<int>(rate)) {
    return Error{"file '" + path + "' is " + std::to_string(info.samplerate) + " Hz but the node runs at " +
                 std::to_string(rate) + " Hz: resampling is not implemented; pass --rate " +
                 std::to_string(info.samplerate) + " or convert the file"};
  }
  if (channels != 0 && channels != info.channels) {
    return Error{"file '" + path + "' has " + std::to_string(info.channels) + " channel(s) but --channels " +
                 std::to_string(channels) + " was given; omit --channels to use the file's"};
  }
  if (info.channels < 1 || info.channels > 64) {
    return Error{"file '" + path + "' has " + std::to_string(info.channels) +
                 " channels; at most 64 are supported"};
  }
  constexpr sf_count_t kMaxSamples = sf_count_t{1} << 28;  // 1 GiB of int32: files are held in memory
  if (info.frames * info.channels > kMaxSamples) {
    return Error{"file '" + path + "' is too long to play from memory (" + std::to_string(info.frames) +
                 " frames x " + std::to_string(info.channels) + " channels); split it or shorten it"};
  }
  std::unique_ptr<FileSource> s(new FileSource());
  s->channels_ = info.channels;
  s->loop_ = loop;
  s->samples_.resize(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
  const sf_count_t got = sf_readf_int(f, s->samples_.data(), info.frames);
  if (got < 0) return Error{"cannot read audio file '" + path + "'"};
  s->frames_ = got;
  s->samples_.resize(static_cast<std::size_t>(got) * static_cast<std::size_t>(info.channels));
  return s;
}

void FileSource::render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept {
  const auto file_channels = static_cast<std::size_t>(channels_);
  bool any_audio = false;
  for (std::size_t i = 0; i < frames; ++i) {
    if (pos_ >= frames_ && loop_ && frames_ > 0) pos_ = 0;
    if (pos_ < frames_) {
      const std::int32_t* frame = samples_.data() + static_cast<std::size_t>(pos_) * file_channels;
      for (std::size_t c = 0; c < channels; ++c) {
        planar[c * frames + i] = c < file_channels ? int32_to_float(frame[c]) : 0.0f;
      }
      ++pos_;
      any_audio = true;
    } else {
      for (std::size_t c = 0; c < channels; ++c) planar[c * frames + i] = 0.0f;
    }
  }
  if (!any_audio) info.flags |= protocol::kFlagSilence;
}

}  // namespace tl::capture
