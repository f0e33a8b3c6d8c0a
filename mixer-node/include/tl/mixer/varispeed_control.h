#pragma once
//! Keeps one node's live play-out in step with the session clock when the
//! node's sample clock runs at another rate (drift), by steering the varispeed
//! read cursor of the mix thread.
//!
//! Each packet's transit (arrival on the session clock minus the media time its
//! audio ends at) is observed. Queueing only adds to transit, so the smallest
//! transit of each half-second window traces the fixed delay; if that floor
//! slopes, the node's media time runs faster or slower than the session clock.
//! A line through the last 16 floors (least-squares slope, resting on the lowest)
//! gives the rate (feed-forward) and where the floor is now; the cursor is steered so that its lead over the
//! session position equals the drift accumulated since the stretch began
//! (floor at the start minus floor now), closing any error with a 2 s time
//! constant. So audio plays out where its node played it, and the node's queue
//! stays as deep as it started. The step glides (at most 10 ppm a block), so the
//! pitch never jumps and the cursor never skips.
//!
//! A node whose clock matches the session's is read exactly: the cursor stays on
//! whole samples at step 1 until the accumulated error passes half a millisecond
//! in the direction of the measured drift, and the node's own report of its drift
//! agrees (over 2 ppm, within a quarter of it plus 5 ppm). So a drift-free node's
//! live mix is its samples, bit for bit, however busy the machine or the path.
//!
//! Mix thread only; never allocates.

#include <array>
#include <cstdint>
#include <limits>

#include "tl/common/units.h"

namespace tl::mixer {

class VarispeedControl {
 public:
  struct Config {
    std::uint32_t sample_rate = 48000;
    double window_s = 0.5;         //!< one transit floor per window
    double engage_samples = 24.0;  //!< error that switches from exact reading to varispeed (0.5 ms)
    double settle_s = 2.0;         //!< time constant that closes the error
    double max_ppm = 2000.0;       //!< correction range
    double slew_ppm = 10.0;        //!< most the step may change from one block to the next
  };

  VarispeedControl() noexcept;
  explicit VarispeedControl(Config config) noexcept;
  void configure(Config config) noexcept;

  //! A new stretch of audio: the cursor moves to position exactly, back to exact reading.
  void restart(MediaTime position) noexcept;

  //! One packet accepted into the jitter buffer: where its audio ends and when it arrived.
  void observe(MediaTime media_end, std::int64_t arrival_ns) noexcept;

  //! The rate of the node's audio against the session clock as the node itself
  //! measures it (clock sync plus its device's DLL), ppm; NaN while unknown. Arrival
  //! times alone cannot tell a drifting clock from a path that grows slower under
  //! load: the cursor leaves exact reading only when the two agree.
  void set_reported_drift(double ppm) noexcept { reported_ppm_ = ppm; }

  struct Block {
    MediaTime base = 0;  //!< whole sample of the cursor
    double frac = 0.0;   //!< 0 when exact
    double step = 1.0;   //!< input samples per output sample
    bool exact = true;   //!< read whole samples, no interpolation
  };
  //! The read plan for the block starting at session position pos.
  Block plan(MediaTime pos) noexcept;
  //! Moves the cursor past the block just read: by frames when exact, else to
  //! base + advance (the varispeed's end position).
  void advance(const Block& block, std::size_t frames, double advance) noexcept;

  //! The cursor's whole sample (the oldest position still to be read).
  MediaTime cursor() const noexcept { return base_; }
  bool engaged() const noexcept { return engaged_; }
  //! Applied correction: (step - 1) in ppm; + = the node runs fast.
  double correction_ppm() const noexcept { return engaged_ ? (step_ - 1.0) * 1e6 : 0.0; }
  //! Measured drift of the node's media time (slope of the floors), ppm; + = fast.
  double drift_ppm() const noexcept { return drift_ * 1e6; }
  //! Smallest lead of arriving audio over the cursor in the last window (ms):
  //! how close the node came to arriving too late.
  double margin_ms() const noexcept { return margin_ms_; }
  //! Spread of transit (max - min) in the last window (ms).
  double jitter_ms() const noexcept { return jitter_ms_; }

 private:
  void close_window() noexcept;
  //! The floor line: the least-squares slope of the stored floors (transit against
  //! arrival), lowered until no floor lies under it. Queueing only ever delays a
  //! packet, so the lowest floors, not the average, show the fixed delay.
  struct Line {
    double slope = 0.0, intercept = 0.0;
    double at(double x) const noexcept { return intercept + slope * x; }
  };
  //! The floor line through the newest floors; false with fewer than 2.
  bool fit(std::size_t newest, Line& line) const noexcept;

  static constexpr std::size_t kFloors = 16;
  struct Floor {
    double at = 0.0;       // arrival, session samples since the stretch began
    double transit = 0.0;  // samples
  };

  Config config_;
  double rate_ = 48000.0;
  MediaTime origin_ = 0;  // session position where the stretch began
  MediaTime base_ = 0;    // cursor: whole sample
  double frac_ = 0.0;     // cursor: fraction
  bool engaged_ = false;
  double step_ = 1.0;
  double reported_ppm_ = std::numeric_limits<double>::quiet_NaN();
  double drift_ = 0.0;
  bool have_reference_ = false;
  double reference_ = 0.0;  // transit floor where the stretch began (fitted)
  Line line_{};             // through every stored floor, refitted as each window closes
  bool have_line_ = false;
  bool consistent_ = false;  // the newer half of the floors agrees with line_
  std::array<Floor, kFloors> floors_{};
  std::size_t floor_count_ = 0, floor_next_ = 0;
  double now_ = 0.0;  // latest arrival, session samples since the stretch began
  // The open window.
  bool window_open_ = false;
  double window_start_ = 0.0;
  Floor window_min_{};
  double window_max_transit_ = 0.0;
  double window_min_margin_ = 0.0;
  double margin_ms_ = 0.0, jitter_ms_ = 0.0;
};

}  // namespace tl::mixer
