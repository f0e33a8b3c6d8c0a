#pragma once
//! How far behind the session clock the live mix plays (its play-out delay), and
//! why: the policy that keeps the mix from concealing audio that was not lost.
//!
//! Audio is late for the mix when it reaches the mix thread after the block that
//! reads it was computed. What makes it late on a real host is more than network
//! jitter: the capture node's and the mixer's threads wait for a core, a timer
//! wakes late, a busy spell holds packets in a socket for milliseconds. Those
//! stalls are rare (one packet in hundreds or thousands, below any percentile a
//! delay could follow) but they come back. So:
//!
//! - each node's *need* is the largest delay any of its packets needed over the
//!   last `hold` (30 s by default), measured where the mix thread sees them (a packet
//!   drained after its audio was read needed at least what that block's computation
//!   was behind it, whatever its arrival stamp says);
//! - a node asks for its need plus a safety `margin` (1 ms by default), within its own
//!   range (tlctl latency NODE max=...: a node on a bad link can be kept from holding
//!   the whole mix back, and its late audio is concealed);
//! - the mix delay rises at once to the largest ask of the streaming nodes, and falls
//!   only when the needs behind it have left the hold, gently (time constant 1 s).
//!
//! So a stall the delay did not cover conceals once; the next `hold` seconds are
//! covered, and a host that stalls more often than that keeps a delay that covers it.
//! A node new to the mix (or back after a silence) has not shown its stalls yet: for
//! its first `hold` it needs at least what the mix started with (`start`, 20 ms by
//! default), so the delay comes down only once a whole hold has been measured.
//! The 99.9th percentile of the needs is kept too, for the operator: how far the
//! worst case stands above the usual one.
//!
//! Mix thread only; never allocates.

#include <array>
#include <cstdint>

#include "tl/common/units.h"
#include "tl/mixer/delay_need.h"

namespace tl::mixer {

struct PlayoutConfig {
  std::uint32_t sample_rate = 48000;
  double margin_seconds = 0.001;  //!< added to every node's need
  double hold_seconds = 30.0;     //!< how long a need is remembered
  double glide_seconds = 1.0;     //!< time constant of a fall
  double start_samples = 960.0;   //!< a new node's need for its first hold (less the margin)
};

//! One node's need: the largest need of its packets over the hold (samples).
class NodeDelay {
 public:
  NodeDelay() noexcept = default;
  explicit NodeDelay(const PlayoutConfig& config) noexcept;

  //! A new stretch of audio: forgets everything.
  void reset() noexcept;
  //! One packet: the delay it needed (samples) and when it arrived (samples of any
  //! clock that only moves forward). Returns true when need() may have changed.
  bool observe(double need, double arrival) noexcept;
  //! The node's need (samples); false before anything was measured.
  bool need(double& out) const noexcept;
  //! The 99.9th percentile of the needs over the hold (samples); false before the first
  //! sub-window closed.
  bool usual(double& out) const noexcept { return quantile_.estimate(out); }

 private:
  static constexpr std::size_t kWindows = DelayNeed::kMaxWindows;
  DelayNeed quantile_;
  double window_ = 0.0;                // one sub-window of the hold (samples)
  std::array<float, kWindows> max_{};  // the largest need of each closed sub-window
  std::size_t closed_ = 0, next_ = 0;
  float open_max_ = -1.0f;  // of the open one (-1: none yet)
  double open_start_ = 0.0;
  bool open_ = false;
  double hold_ = 0.0;        // samples
  double start_need_ = 0.0;  // its need until a whole hold has been measured
  double first_ = -1.0;      // arrival of its first packet (-1: none since the reset)
  bool learning_ = true;
};

//! The mix's play-out delay: follows the largest ask of the streaming nodes, up at
//! once, down after the hold and gently.
class PlayoutPolicy {
 public:
  PlayoutPolicy() noexcept = default;
  //! min/max: the mixer's range (frames); start: the delay before anything is known.
  PlayoutPolicy(const PlayoutConfig& config, MediaTime start, MediaTime min, MediaTime max) noexcept;

  //! Once a block: the largest ask of the streaming nodes (frames; negative: none has
  //! one, the delay stays) and the block's length. Returns the delay for the next block.
  MediaTime update(double largest_ask, std::size_t frames) noexcept;
  MediaTime delay() const noexcept { return delay_; }
  //! What the neediest node asked for at the last update (frames; 0: none).
  MediaTime wanted() const noexcept { return wanted_; }
  //! A node's ask for a need (samples): need + margin, within [lo, hi].
  double ask(double need, double lo, double hi) const noexcept;

 private:
  double margin_ = 48.0;
  double glide_ = 48000.0;  // samples
  MediaTime min_ = 0, max_ = 48000;
  double delay_f_ = 0.0;  // the delay with its fraction while gliding down
  MediaTime delay_ = 0;
  MediaTime wanted_ = 0;
};

}  // namespace tl::mixer
