#pragma once
//! The mixer's buses beside the master: kGroupBuses group buses (a strip routed to
//! one sums into it instead of the master; the bus's EQ, compressor, fader and mute
//! act on the group, whose output sums into the master) and kSends effect buses
//! fed by the strips' sends: fx1 an FDN reverb, fx2 a tempo delay, each with a
//! return bus (EQ, compressor, fader, mute) into the master.
//!
//! A bus nothing feeds costs nothing: once its output has died away (a reverb's tail
//! too) it sleeps until a strip routes or sends to it again.
//!
//! Mix thread only after prepare(); nothing here allocates, locks or blocks.

#include <array>
#include <cstddef>
#include <memory>
#include <span>

#include "tl/dsp/bus.h"
#include "tl/dsp/effects.h"
#include "tl/dsp/strip.h"

namespace tl::mixer {

//! Bus indices: groups 0..7 ("bus1".."bus8"), then the effect returns ("fx1", "fx2").
inline constexpr std::size_t kBuses = dsp::kGroupBuses + dsp::kSends;

class BusRack {
 public:
  //! Stereo buses and mono-in effects; spec.channels is not read.
  void prepare(const dsp::ProcessSpec& spec);

  //! Starts a block of frames: no bus has been fed yet.
  void begin(std::size_t frames) noexcept;
  //! Where a group's inputs sum (group 0..kGroupBuses-1), cleared when first asked for
  //! in a block: asking feeds the group.
  float* group_left(std::size_t group) noexcept;
  float* group_right(std::size_t group) noexcept;
  //! The mono input of an effect (0..kSends-1), cleared when first asked for in a block.
  float* send_input(std::size_t fx) noexcept;
  //! Runs every bus over the block and adds its output into the master's left/right.
  void finish(std::span<float> left, std::span<float> right) noexcept;

  void set_bus(std::size_t index, const dsp::BusParams& p) noexcept { buses_[index].set_params(p); }
  void set_reverb(const dsp::ReverbParams& p) noexcept { reverb_.set_params(p); }
  void set_delay(const dsp::TempoDelayParams& p) noexcept { delay_.set_params(p); }

  //! Peak of each bus's output since the last read (mix thread), for its meter.
  float take_peak(std::size_t index) noexcept;

 private:
  //! Clears a group's input the first time it is fed in a block.
  void feed_group(std::size_t group) noexcept;

  std::size_t max_block_ = 0, frames_ = 0;
  std::array<dsp::StereoBus, kBuses> buses_{};
  dsp::FdnReverb reverb_;
  dsp::TempoDelay delay_;
  // [bus][max_block]: a group's summed input, an effect's wet output; then the bus's output.
  std::unique_ptr<float[]> in_l_, in_r_;
  std::unique_ptr<float[]> fx_in_;  // [fx][max_block]
  std::array<float, kBuses> peak_{};
  std::array<bool, kBuses> fed_{};  // this block: its input was written
  std::array<bool, dsp::kSends> fx_fed_{};
  std::array<std::uint32_t, kBuses> quiet_{};          // blocks in a row unfed and silent
  std::array<std::uint64_t, dsp::kSends> fx_quiet_{};  // frames in a row unfed and silent
  std::uint64_t effect_quiet_frames_ = 0;
};

}  // namespace tl::mixer
