#include "tl/mixer/talk_mix.h"

#include <algorithm>
#include <cmath>

namespace tl::mixer {
namespace {
//! The next gain of a ramp from `from` toward `to` by at most `step` a frame.
inline float toward(float from, float to, float step) noexcept {
  return from < to ? std::min(from + step, to) : std::max(from - step, to);
}
}  // namespace

TalkMix::TalkMix(std::uint32_t sample_rate, std::size_t max_block_frames, std::size_t cues)
    : step_(static_cast<float>(1.0 / (kTalkRampSeconds * static_cast<double>(sample_rate)))),
      max_frames_(max_block_frames),
      voice_(std::make_unique<float[]>(kTalkLines * max_block_frames)),
      cues_(cues) {}

void TalkMix::set(std::size_t line, const TalkLine& setting, std::uint64_t generation) noexcept {
  if (line >= kTalkLines) return;
  const float old_level = lines_[line].level;
  lines_[line] = setting;
  generation_[line] = generation;
  if (setting.on()) {
    voices_[line] = Voice{.node = setting.source, .channel = setting.channel, .clip = setting.clip};
    reading_[line].store(setting.clip, std::memory_order_release);
    sounding_[line].store(voices_[line].any(), std::memory_order_release);
  } else {
    fade(line, old_level);
  }
  index_voices();
  applied_.store(std::max(applied_.load(std::memory_order_relaxed), generation), std::memory_order_release);
}

void TalkMix::fade(std::size_t l, float level) noexcept {
  if (!voices_[l].any() || voices_[l].fading >= 0) return;
  voices_[l].fading = static_cast<std::int64_t>(std::ceil(std::max(level, 1.0f) / step_)) + 1;
}

void TalkMix::drop_voice(std::size_t l) noexcept {
  voices_[l] = Voice{};
  reading_[l].store(nullptr, std::memory_order_release);
  sounding_[l].store(false, std::memory_order_release);
}

void TalkMix::index_voices() noexcept {
  voices_of_.fill(0);
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    const Voice& v = voices_[l];
    if (v.node != 0 && v.node < voices_of_.size()) voices_of_[v.node] |= static_cast<std::uint8_t>(1u << l);
  }
}

void TalkMix::begin_block(std::size_t frames) noexcept {
  frames_ = std::min(frames, max_frames_);
  bool dropped = false;
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    float* voice = voice_.get() + l * max_frames_;
    std::fill_n(voice, frames_, 0.0f);
    Voice& v = voices_[l];
    if (v.clip != nullptr) {
      const std::vector<float>& clip = v.clip->samples;
      const std::size_t n = std::min(frames_, clip.size() - std::min(clip.size(), v.at));
      std::copy_n(clip.data() + v.at, n, voice);
      v.at += n;
      if (v.at >= clip.size() && lines_[l].on()) {  // said all it had: the line stops
        lines_[l].listeners = 0;
        lines_[l].monitor = false;
        fade(l, lines_[l].level);
        ended_[l].store(generation_[l], std::memory_order_release);
      }
    }
    if (v.fading >= 0) {
      v.fading -= static_cast<std::int64_t>(frames_);
      if (v.fading <= 0) {  // every gain is down (this block's included): the voice goes
        drop_voice(l);
        dropped = true;
      }
    }
  }
  if (dropped) index_voices();
}

void TalkMix::offer(std::uint16_t id, std::uint32_t channel, std::span<const float> block) noexcept {
  const std::uint8_t lines = listens(id) ? voices_of_[id] : 0;
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    if ((lines & (1u << l)) == 0 || voices_[l].channel != channel) continue;
    std::copy_n(block.data(), std::min(block.size(), frames_), voice_.get() + l * max_frames_);
  }
}

void TalkMix::into_cue(std::size_t cue, std::uint16_t listener, std::span<float> left,
                       std::span<float> right) noexcept {
  if (cue >= cues_.size()) return;
  float dim = 1.0f;
  std::array<float, kTalkLines> voice{};
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    if (!lines_[l].talks_to(listener)) continue;
    dim = std::min(dim, lines_[l].dim);
    voice[l] = lines_[l].level;
  }
  talk_into(cues_[cue], left, right, dim, voice);
}

void TalkMix::into_monitor(std::span<float> left, std::span<float> right) noexcept {
  float dim = 1.0f;
  std::array<float, kTalkLines> voice{};
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    if (!lines_[l].monitor) continue;
    dim = std::min(dim, lines_[l].dim);
    voice[l] = lines_[l].level;
  }
  talk_into(monitor_, left, right, dim, voice);
}

void TalkMix::talk_into(Place& place, std::span<float> left, std::span<float> right, float dim_target,
                        const std::array<float, kTalkLines>& voice_target) noexcept {
  const std::size_t frames = std::min({frames_, left.size(), right.size()});
  if (place.dim != 1.0f || dim_target != 1.0f) {
    float g = place.dim;
    for (std::size_t i = 0; i < frames; ++i) {
      g = toward(g, dim_target, step_);
      left[i] *= g;
      right[i] *= g;
    }
    place.dim = g;
  }
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    float g = place.voice[l];
    if (g == 0.0f && voice_target[l] == 0.0f) continue;
    const float* voice = voice_.get() + l * max_frames_;
    for (std::size_t i = 0; i < frames; ++i) {
      g = toward(g, voice_target[l], step_);
      left[i] += g * voice[i];
      right[i] += g * voice[i];
    }
    place.voice[l] = g;
  }
}

}  // namespace tl::mixer
