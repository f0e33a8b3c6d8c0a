#pragma once
//! Delay-locked loop between an audio device's period callbacks and its sample
//! count (after F. Adriaensen, "Using a DLL to filter time", LAC 2005).
//!
//! The callback for each period runs at a noisy system time (scheduling, bus
//! latency); the frames it carries are exact. A second-order loop (critically
//! damped, natural frequency 2*pi*bandwidth) turns the pair into a smoothed
//! system time of each block's first frame and the device rate measured in
//! samples per second of the system clock. The loop starts wide (1 Hz) and
//! narrows like 1/t towards the set bandwidth, so it settles fast and then
//! filters hard. The rate is measured over a long baseline (up to 64 s) of
//! smoothed block times, not read off the loop integrator. Both loop integrators are kept
//! relative to a 64-bit origin that is rebased, so precision holds for years.
//!
//! Pure arithmetic: no allocation, no locking; safe to call from the audio
//! callback. One owner thread: publish block_time_ns()/rate_hz() to others by value.

#include <array>
#include <cstddef>
#include <cstdint>

namespace tl {

class ClockDll {
 public:
  //! nominal_rate_hz: the rate the device was opened at; period_frames: its usual
  //! block size (sets the loop coefficients); bandwidth_hz: loop bandwidth
  //! (0.05..1 Hz; lower filters more and settles slower).
  ClockDll(std::int64_t nominal_rate_hz, std::int64_t period_frames, double bandwidth_hz = 0.5);

  //! Changes the target loop bandwidth; keeps the state.
  void set_bandwidth(double bandwidth_hz) noexcept;

  //! Feeds the system time (ns) at which the callback for the next block of
  //! `frames` frames ran. Returns the smoothed system time of that block's first
  //! frame. A callback further than resync_ns from the prediction (xrun, device
  //! restart, suspended machine) restarts the loop at that time (resyncs() counts
  //! it) but keeps the measured rate.
  std::int64_t update(std::int64_t callback_ns, std::int64_t frames) noexcept;

  //! Forgets the state (the next update starts at the nominal rate).
  void reset() noexcept;

  bool started() const noexcept { return started_; }
  //! Smoothed system time of the last fed block's first frame.
  std::int64_t block_time_ns() const noexcept;
  //! Predicted system time of the next block's first frame.
  std::int64_t next_block_time_ns() const noexcept;
  //! Frame position (device sample count) of the last fed block's first frame.
  std::int64_t block_frame() const noexcept { return frame0_; }
  //! System time of any frame position, interpolated/extrapolated from the last block.
  std::int64_t frame_time_ns(std::int64_t frame) const noexcept;
  //! Measured device rate in samples per second of the system clock.
  double rate_hz() const noexcept;
  //! (rate_hz / nominal - 1) * 1e6: positive when the device runs fast.
  double rate_error_ppm() const noexcept;
  double bandwidth_hz() const noexcept { return bandwidth_; }
  std::uint64_t resyncs() const noexcept { return resyncs_; }
  std::uint64_t blocks() const noexcept { return blocks_; }

  //! Threshold of the resync above (default: max(20 ms, 4 periods)).
  void set_resync_ns(std::int64_t ns) noexcept { resync_ns_ = ns; }

 private:
  void rebase() noexcept;
  void apply_bandwidth(double hz) noexcept;

  struct Anchor {
    std::int64_t time_ns, frame;
  };
  static constexpr std::size_t kAnchors = 32;
  static constexpr double kAnchorSpacingS = 2.0;

  std::int64_t nominal_rate_, period_frames_;
  double bandwidth_ = 0.5, b_ = 0.0, c_ = 0.0;
  std::int64_t resync_ns_ = 0;
  bool started_ = false;
  std::int64_t base_ns_ = 0;  // t0_ and t1_ are relative to this
  double t0_ = 0.0, t1_ = 0.0;
  double ns_per_frame_ = 0.0;
  std::int64_t frame0_ = 0, frame1_ = 0;
  std::uint64_t resyncs_ = 0, blocks_ = 0;
  double elapsed_s_ = 0.0;  // since the last (re)start, drives the bandwidth narrowing
  std::array<Anchor, kAnchors> anchors_{};
  std::size_t anchor_count_ = 0, anchor_head_ = 0;
  double next_anchor_s_ = 0.0;
};

}  // namespace tl
