#pragma once
//! Talkback as the mix thread makes it (tlctl talk).
//!
//! Up to kTalkLines voices talk at once (the operator to a booth, a performer back to the
//! operator). A voice is a node's channel (a talkback mic: after its strip, before its
//! fader and mute, so a mic muted in the main mix still talks) or a clip (a file the io
//! thread read). Each line talks into the cue mixes of the nodes it names and, if asked,
//! into the mixer's monitor output. Where a line talks, the programme under it (the cue
//! or the monitor's mix, the click included) is dimmed to the line's dim gain; two lines
//! into one place: the deeper dim. A voice is never in the main mix or a take: the monitor
//! gets it after the block has gone to the recorder, the cues after the main sum.
//!
//! Every gain moves linearly, a full step (0 to 1) in kTalkRampSeconds, so a voice and a
//! dim come and go without a click. Real time: no locks, allocation or I/O; the buffers
//! are sized at construction.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tl::mixer {

inline constexpr std::size_t kTalkLines = 4;
inline constexpr double kTalkRampSeconds = 0.01;

//! A voice read from a file: mono, at the session's rate. The io thread owns it and frees
//! it only once the mix thread has taken a later setting of its line (TalkMix::applied()).
struct TalkClip {
  std::vector<float> samples;
};

//! What one line does (a MixCommand::Kind::Talk).
struct TalkLine {
  std::uint16_t source = 0;  //!< node id of the voice; 0: the clip
  std::uint32_t channel = 0;
  const TalkClip* clip = nullptr;
  std::uint64_t listeners = 0;  //!< bit (id - 1) for each node whose cue mix it talks into
  bool monitor = false;         //!< it talks into the monitor output
  float level = 1.0f;           //!< the voice's gain, linear
  float dim = 0.1f;             //!< the programme's gain where it talks, linear
  bool on() const noexcept { return listeners != 0 || monitor; }
  bool talks_to(std::uint16_t listener) const noexcept {
    return listener >= 1 && listener <= 64 && ((listeners >> (listener - 1u)) & 1u) != 0;
  }
};

class TalkMix {
 public:
  //! cues: how many cue mixes the engine has (each keeps its own ramps).
  TalkMix(std::uint32_t sample_rate, std::size_t max_block_frames, std::size_t cues);

  //! Mix thread: line `line` (< kTalkLines) does `setting` from now on; generation: the io
  //! thread's number for it. A setting that talks takes its voice at once; one that does
  //! not (no listener, no monitor) keeps the voice it had until its gains have come down.
  void set(std::size_t line, const TalkLine& setting, std::uint64_t generation) noexcept;

  //! Mix thread, first in a block of `frames`: each line's voice starts silent, a clip's
  //! is read (a clip at its end stops its line: ended() says so).
  void begin_block(std::size_t frames) noexcept;
  //! Mix thread: whether a node's channel is any line's voice (cheap; the engine asks for
  //! every channel).
  bool listens(std::uint16_t id) const noexcept { return id < voices_of_.size() && voices_of_[id] != 0; }
  //! Mix thread: the block of node `id`'s channel after its strip (before its fader).
  void offer(std::uint16_t id, std::uint32_t channel, std::span<const float> block) noexcept;
  //! Mix thread, after the main sum: dims and talks into cue `cue` (its index, for the
  //! ramps), which node `listener` hears.
  void into_cue(std::size_t cue, std::uint16_t listener, std::span<float> left,
                std::span<float> right) noexcept;
  //! Mix thread, after the block went to the recorder: the monitor output.
  void into_monitor(std::span<float> left, std::span<float> right) noexcept;

  //! Any thread: the generation of the latest setting the mix thread has taken.
  std::uint64_t applied() const noexcept { return applied_.load(std::memory_order_acquire); }
  //! Any thread: the generation of the setting of `line` whose clip came to its end (0: none).
  std::uint64_t ended(std::size_t line) const noexcept {
    return ended_[line].load(std::memory_order_acquire);
  }
  //! Any thread: the clip line `line` reads (talking, or its gains still coming down), or
  //! nullptr. A clip no line reads, once applied() has passed the setting that replaced
  //! it, is the io thread's to free.
  const TalkClip* reading(std::size_t line) const noexcept {
    return reading_[line].load(std::memory_order_acquire);
  }
  //! Any thread: whether line `line` has a voice (it talks, or its gains still come down).
  bool sounding(std::size_t line) const noexcept { return sounding_[line].load(std::memory_order_acquire); }

 private:
  //! The gains of one place a line talks into (a cue or the monitor) as the last block left them.
  struct Place {
    float dim = 1.0f;
    std::array<float, kTalkLines> voice{};
  };
  //! What a line's voice is read from (kept past its setting while its gains come down).
  struct Voice {
    std::uint16_t node = 0;
    std::uint32_t channel = 0;
    const TalkClip* clip = nullptr;
    std::size_t at = 0;        // the clip's next sample
    std::int64_t fading = -1;  // frames until its gains are down (-1: talking, or none)
    bool any() const noexcept { return node != 0 || clip != nullptr; }
  };
  void talk_into(Place& place, std::span<float> left, std::span<float> right, float dim_target,
                 const std::array<float, kTalkLines>& voice_target) noexcept;
  //! Line `l` talks no more: its voice stays until every gain can have come down from `level`.
  void fade(std::size_t l, float level) noexcept;
  void drop_voice(std::size_t l) noexcept;
  void index_voices() noexcept;

  float step_;  // a ramp's gain change per frame
  std::size_t max_frames_;
  std::size_t frames_ = 0;
  std::array<TalkLine, kTalkLines> lines_{};
  std::array<Voice, kTalkLines> voices_{};
  std::array<std::uint64_t, kTalkLines> generation_{};
  std::unique_ptr<float[]> voice_;            // kTalkLines blocks of max_frames_
  std::array<std::uint8_t, 65> voices_of_{};  // per node id: bit per line it is the voice of
  std::vector<Place> cues_;
  Place monitor_;
  std::atomic<std::uint64_t> applied_{0};
  std::array<std::atomic<std::uint64_t>, kTalkLines> ended_{};
  std::array<std::atomic<const TalkClip*>, kTalkLines> reading_{};
  std::array<std::atomic<bool>, kTalkLines> sounding_{};
};

}  // namespace tl::mixer
