// The mix engine's cue side: the click (a metronome on the transport timeline's beats) and
// every personal cue mix handed to the io thread, with talkback into it and its limiter.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "tl/mixer/mix_engine.h"

namespace tl::mixer {
namespace {
constexpr double kClickSeconds = 0.03;  // the metronome's burst
}  // namespace

bool MixEngine::render_click(MediaTime pos, std::size_t frames) noexcept {
  if (click_.level <= 0.0f || !transport_.playing) return false;
  // A count-in runs on the straight timeline: a loop's laps do not count in again.
  if (!click_.on && transport_.linear(pos) >= count_in_to_) return false;
  // A click is a sine burst from each beat's frame (the beat's exact place, rounded): 1 kHz,
  // 1.6 kHz on a bar's first beat, decaying over a few milliseconds.
  const auto rate = static_cast<double>(config_.sample_rate);
  const auto length = static_cast<MediaTime>(kClickSeconds * rate);
  const double beat = click_.beat_frames;
  bool any = false;
  for (std::size_t i = 0; i < frames; ++i) {
    const MediaTime l = transport_.linear(pos + static_cast<MediaTime>(i));
    const MediaTime t = transport_.loop.at(l);
    float v = 0.0f;
    if (click_.on || l < count_in_to_) {
      auto k = static_cast<std::int64_t>(std::floor(static_cast<double>(t) / beat));
      if (std::llround(static_cast<double>(k + 1) * beat) <= t) ++k;
      if (std::llround(static_cast<double>(k) * beat) > t) --k;
      const MediaTime n = t - std::llround(static_cast<double>(k) * beat);
      if (n >= 0 && n < length) {
        const double hz = k % click_.beats_per_bar == 0 ? 1600.0 : 1000.0;
        const double x = static_cast<double>(n) / rate;
        v = click_.level *
            static_cast<float>(std::sin(2.0 * std::numbers::pi * hz * x) * std::exp(-x / 0.006));
        any = true;
      }
    }
    click_block_[i] = v;
  }
  return any;
}

void MixEngine::send_cues(MediaTime pos, std::size_t frames) noexcept {
  const bool click = render_click(pos, frames);
  for (std::size_t k = 0; k < cues_.size(); ++k) {
    CueMix& cue = cues_[k];
    if (!cue.on) continue;
    if (click) {
      for (std::size_t i = 0; i < frames; ++i) {
        cue.left[i] += click_block_[i];
        cue.right[i] += click_block_[i];
      }
    }
    // Talkback: the programme (click included) dimmed under a voice that talks to this node.
    talk_.into_cue(k, cue.listener, std::span<float>(cue.left.get(), frames),
                   std::span<float>(cue.right.get(), frames));
    // Hearing protection: whatever the strips and levels did, the cue stays under its ceiling.
    cue.limiter.process(std::span<float>(cue.left.get(), frames), std::span<float>(cue.right.get(), frames));
    NodeSlot* slot = registry_.by_id(cue.listener);
    if (slot == nullptr || !slot->cue_out) continue;
    // The limiter delays the cue by its look-ahead: the chunk says where its audio was.
    const MediaTime at = pos - static_cast<MediaTime>(cue.limiter.latency());
    for (std::size_t done = 0; done < frames;) {
      const std::size_t n = std::min<std::size_t>(frames - done, kCueChunkFrames);
      CueChunk* chunk = slot->cue_out->begin_write();
      if (chunk == nullptr) {
        slot->cue_dropped.fetch_add(1, std::memory_order_relaxed);
      } else {
        chunk->position = at + static_cast<MediaTime>(done);
        chunk->frames = static_cast<std::uint32_t>(n);
        for (std::size_t i = 0; i < n; ++i) {
          chunk->samples[2 * i] = cue.left[done + i];
          chunk->samples[2 * i + 1] = cue.right[done + i];
        }
        slot->cue_out->commit_write();
      }
      done += n;
    }
  }
}

}  // namespace tl::mixer
