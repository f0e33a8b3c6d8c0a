#pragma once
//! Packet-loss concealment for PCM on the live path: waveform continuation.
//!
//! While audio is missing, the last pitch period of what was heard (found by
//! normalised cross-correlation of the recent history) is repeated from where the
//! signal stood one period ago, so a periodic signal continues without a seam; it
//! fades to silence when the gap grows long (a held tone is better than silence
//! for a few tens of milliseconds; a drone is not). When audio returns it is
//! crossfaded in from the continuation.
//!
//! Only the live mix is concealed; the recorder never sees this audio.
//! prepare() allocates; process() never allocates, locks or does I/O.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/dsp/process_spec.h"

namespace tl::dsp {

struct ConcealerConfig {
  double min_period_ms = 2.5;   // highest pitch followed: 400 Hz
  double max_period_ms = 15.0;  // lowest: ~67 Hz
  double hold_ms = 20.0;        // full-level continuation
  double fade_ms = 60.0;        // then fade to silence over this long
  double crossfade_ms = 2.0;    // seam at the start and end of a gap
};

class Concealer {
 public:
  //! Mono (spec.channels and spec.max_block are not read).
  void prepare(const ProcessSpec& spec, const ConcealerConfig& config = {});

  //! Processes a block in place. missing[i] != 0 marks frame i as lost (its
  //! value in block is ignored). Returns how many frames were concealed.
  std::size_t process(std::span<float> block, std::span<const std::uint8_t> missing) noexcept;
  //! Outside a gap and its crossfade: a block with nothing missing needs only remembering.
  bool idle() const noexcept { return !in_gap_ && since_gap_ >= crossfade_; }
  //! process() of a block with nothing missing while idle() (its history only).
  void remember(std::span<const float> block) noexcept;

  //! Clears history and gap state (e.g. when a node restarts).
  void reset() noexcept;

  //! Pitch period (samples) chosen for the current or last gap.
  std::size_t period() const noexcept { return period_; }

 private:
  float history_at(std::size_t back) const noexcept;  // back = 1: the previous output sample
  void push(float v) noexcept;
  std::size_t find_period() const noexcept;
  float continuation() noexcept;

  ConcealerConfig config_;
  std::vector<float> history_;  // ring of recent output
  std::size_t mask_ = 0, head_ = 0, filled_ = 0;
  std::size_t min_period_ = 0, max_period_ = 0, window_ = 0;
  std::size_t hold_ = 0, fade_ = 0, crossfade_ = 0;
  std::size_t period_ = 0;
  std::size_t gap_pos_ = 0;    // frames into the current gap
  std::size_t since_gap_ = 0;  // frames since audio returned (for the crossfade out)
  bool in_gap_ = false;
  std::vector<float> bridge_;  // continuation kept going into the returning audio
  std::size_t bridge_pos_ = 0;
};

}  // namespace tl::dsp
