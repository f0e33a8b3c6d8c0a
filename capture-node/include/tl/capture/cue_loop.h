#pragma once
//! SIMULATION: an audio interface with a cable from its output back to its input
//! (tl-capture --source cue-loop:MS), for tests and demos of overdub placement
//! without a sound card.
//!
//! The node plays its personal cue mix on the interface's output as it plays it on a
//! duplex device: cue frame P (its mix position) plays at the node's media time
//! P + play_delay(), the delay chosen by the node (CueSchedule).
//! The input captures what the output played MS milliseconds earlier, a fraction of a
//! sample included (a windowed-sinc fractional delay): media time m holds output time
//! m - MS. The node is never told MS: it learns the round trip with `tl-capture
//! --calibrate` (measure_round_trip below).
//!
//! Input channel c carries output channel c % 2 (a cable from left to input 1, right to
//! input 2, and so on). deliver() and render() run on one thread, the sender's (the
//! node paces a generated source from its send loop), so nothing here is shared.

#include <cstdint>
#include <span>
#include <vector>

#include "tl/capture/cue_output.h"
#include "tl/capture/cue_schedule.h"
#include "tl/capture/sources.h"
#include "tl/common/result.h"

namespace tl::capture {

//! The cable's delay as a filter: in(m) = out(m - delay), delay in frames (at least
//! kHalf, so the input never needs output that has not played yet).
class FractionalDelay {
 public:
  static constexpr int kHalf = 16;  //!< taps either side of the delayed instant
  explicit FractionalDelay(double delay_frames);
  //! The input at m from out(t), a function of the output time t.
  template <typename Out>
  float at(MediaTime m, Out&& out) const noexcept {
    float sum = 0.0f;
    const MediaTime base = m - whole_;
    for (int d = -kHalf; d < kHalf; ++d) sum += out(base + d) * taps_[static_cast<std::size_t>(d + kHalf)];
    return sum;
  }
  MediaTime whole() const noexcept { return whole_; }

 private:
  MediaTime whole_;
  std::vector<float> taps_;
};

class CueLoop final : public CueOutput, public GeneratedSource {
 public:
  //! delay_ms: the simulated interface's round trip (at least 1 ms); block: the node's
  //! packet size, a margin of the play-out delay.
  CueLoop(double delay_ms, std::uint32_t rate, std::uint32_t block);

  void deliver(MediaTime position, std::span<const float> stereo, double session_now) override;
  void render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept override;
  MediaTime play_delay() const noexcept override { return schedule_.delay(); }
  std::uint64_t delay_changes() const noexcept override { return schedule_.changes(); }

 private:
  FractionalDelay cable_;
  CueSchedule schedule_;
  MediaTime media_now_ = INT64_MIN;  // the end of the input block last captured (media time)
};

//! The round trip of an interface, to the sample: `out` held a one-sample click at each
//! of `clicks` (output frames), `in` is what the input captured from the same frame 0.
//! Each click is looked for in the 1.1 s after it (clicks must lie further apart): the input's largest
//! magnitude there, placed between samples by a parabola through its neighbours. The median of every click's
//! delay, in frames; an error when a click was not heard (below -40 dBFS) or the clicks disagree by more than
//! a sample.
Result<double> measure_round_trip(std::span<const float> in, std::span<const MediaTime> clicks,
                                  std::uint32_t rate);

//! --calibrate with --source cue-loop:MS: plays clicks through the simulated cable and
//! measures them (in virtual time: it needs no mixer and takes no wall time).
Result<double> calibrate_cue_loop(double delay_ms, std::uint32_t rate);

}  // namespace tl::capture
