#pragma once
//! What a take keeps of the live mix's guesses: where mix.wav holds concealed audio
//! (take.json mix.concealed) and, per input, the frames the live mix found missing and
//! concealed (take.json tracks[].live_concealed, what tl-render --as-live leaves out).
//! Both merge touching ranges and keep at most kMaxRanges.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tl::mixer {

//! Frames [first, second).
using FrameSpan = std::pair<std::int64_t, std::int64_t>;

//! Where mix.wav holds concealed audio, in take-relative frames.
class MixConcealment {
 public:
  static constexpr std::size_t kMaxRanges = 10000;

  //! A mix chunk [from, to) holding `frames` concealed frames: the whole chunk is
  //! marked, the count kept exact. Chunks come in order; past kMaxRanges the last range
  //! stretches to cover the rest.
  void note(std::int64_t from, std::int64_t to, std::uint32_t frames);
  const std::vector<FrameSpan>& ranges() const noexcept { return ranges_; }
  std::uint64_t frames() const noexcept { return frames_; }

 private:
  std::vector<FrameSpan> ranges_;
  std::uint64_t frames_ = 0;
};

//! The frames of one input the live mix concealed, in its node's media time.
class InputConcealment {
 public:
  static constexpr std::size_t kMaxRanges = 10000;

  //! The live mix concealed [from, to); exact: it read the input sample for sample (not
  //! through the varispeed). Runs come in order; past kMaxRanges they are dropped and
  //! the record says it is incomplete.
  void note(std::int64_t from, std::int64_t to, bool exact);
  const std::vector<FrameSpan>& runs() const noexcept { return runs_; }
  //! Every run was read sample for sample (a render can repeat them).
  bool exact() const noexcept { return exact_; }
  //! No run was dropped.
  bool complete() const noexcept { return complete_; }

 private:
  std::vector<FrameSpan> runs_;
  bool exact_ = true;
  bool complete_ = true;
};

}  // namespace tl::mixer
