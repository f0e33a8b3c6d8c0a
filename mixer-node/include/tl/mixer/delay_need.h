#pragma once
//! How much play-out delay one node's audio needs, measured packet by packet.
//!
//! A packet is in time when it arrives before the mix block that first reads
//! its first sample is computed. For each packet the mix thread works out the
//! play-out delay that would have had it arrive exactly then (its *need*: the
//! path's delay and jitter, the packet's own length, where the block grid
//! falls); this class keeps the largest needs of short sub-windows (a bounded
//! heap each, so no allocation) and answers a high quantile of the needs over
//! the last few sub-windows. Old sub-windows fall out, so the answer follows
//! the link up within one sub-window and down within the whole span.
//!
//! Mix thread only; never allocates.

#include <array>
#include <cstddef>
#include <cstdint>

namespace tl::mixer {

class DelayNeed {
 public:
  struct Config {
    double window_samples = 12000.0;  //!< one sub-window (0.25 s at 48 kHz)
    double quantile = 0.99;           //!< the share of packets the delay should cover
    std::size_t windows = 4;          //!< the span, in sub-windows (at most kMaxWindows)
  };
  static constexpr std::size_t kMaxWindows = 16;
  static constexpr std::size_t kKeep = 64;  //!< largest needs kept per sub-window

  DelayNeed() noexcept = default;
  explicit DelayNeed(Config config) noexcept : config_(config) {}

  //! Forgets everything (a new stretch of audio).
  void reset() noexcept;

  //! One packet: the delay it needed (samples) and when it arrived (any sample
  //! clock that only moves forward). Returns true when this closed a sub-window,
  //! so a fresh estimate is ready.
  bool observe(double need, double arrival) noexcept;

  //! The quantile of the needs over the sub-windows closed so far (at most
  //! Config::windows of them), in samples; false before the first closes.
  //! Worked out when a sub-window closes (it changes only then), so reading it
  //! every block costs nothing.
  bool estimate(double& need) const noexcept;
  //! The largest need in the same span.
  double worst() const noexcept;
  //! Packets in the span.
  std::uint32_t count() const noexcept;

 private:
  struct Window {
    std::array<float, kKeep> top{};  // min-heap of the largest needs
    std::size_t kept = 0;
    std::uint32_t count = 0;
  };
  void close_window() noexcept;
  double quantile() const noexcept;

  Config config_{};
  std::array<Window, kMaxWindows> closed_{};
  std::size_t closed_count_ = 0, closed_next_ = 0;
  Window open_{};
  bool window_open_ = false;
  double window_start_ = 0.0;
  double estimate_ = 0.0;  // quantile() at the last close
};

}  // namespace tl::mixer
