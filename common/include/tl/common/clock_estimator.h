#pragma once
//! Node-to-session clock estimation from four-timestamp exchanges (pure math).
//!
//! The node sends t1 (its monotonic ns), the mixer notes t2 on receipt and t3 on
//! reply (session ns), the node notes t4 on receipt. The estimator models
//!   session_ns = node_ns + offset(node_ns),  offset linear in node_ns,
//! over a window of recent exchanges.
//!
//! Method: per-direction minimum-delay envelopes. Queueing, delay spikes and late
//! timestamps only ever ADD delay, so the up values (t2 - t1) lie on or above
//! the line offset + d_up and the down values (t3 - t4) on or below
//! offset - d_down. Each envelope is a line under (over) its points from the
//! delay-free side: its slope is the chord of the lower (upper) convex hull
//! between the centres of the window's two halves, its level the highest such
//! line still below every point; the offset line is the mean of the two. This is min-RTT filtering done per
//! direction: it uses the fastest up trip and the fastest down trip even when they are not in the same
//! exchange, and its error shrinks like jitter/N instead of jitter/sqrt(N).
//!
//! Asymmetric delay is unobservable: the estimate is biased by exactly
//!   bias = (d_up - d_down) / 2    (minimum one-way delays, node -> mixer minus mixer -> node),
//! i.e. offset_ns_at() returns true_offset + bias. A path 1 ms slower upstream
//! than downstream reads 500 us high. Nothing inside an exchange can reveal it.
//!
//! No allocation after construction; not thread-safe (one owner, the node's io thread).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tl/common/units.h"

namespace tl {

//! One sync exchange: t1/t4 on the node's monotonic clock (send/receive),
//! t2/t3 on the mixer's session clock (receive/send), all in ns.
struct SyncExchange {
  std::int64_t t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  //! Offset sample at the node time midpoint (t1 + t4) / 2.
  constexpr std::int64_t offset_ns() const noexcept { return ((t2 - t1) + (t3 - t4)) / 2; }
  constexpr std::int64_t rtt_ns() const noexcept { return (t4 - t1) - (t3 - t2); }
};

//! A snapshot of the node-to-session mapping: a trivially copyable value the io
//! thread can hand to a real-time thread (SpscRing, seqlock) which then maps its
//! own timestamps without touching the estimator.
struct ClockMap {
  std::int64_t ref_node_ns = 0;    //!< node time the snapshot was taken at
  std::int64_t ref_offset_ns = 0;  //!< session - node at ref_node_ns
  double slope = 0.0;              //!< d(offset)/d(node time)
  bool valid = false;              //!< false before the first exchange
  constexpr std::int64_t offset_ns_at(std::int64_t node_ns) const noexcept {
    const double d = slope * static_cast<double>(node_ns - ref_node_ns);
    return ref_offset_ns + static_cast<std::int64_t>(d < 0 ? d - 0.5 : d + 0.5);
  }
  constexpr std::int64_t to_session_ns(std::int64_t node_ns) const noexcept {
    return node_ns + offset_ns_at(node_ns);
  }
};

enum class ClockSyncState {
  Acquiring,  //!< not enough evidence yet; offset_ns_at() is a best effort
  Locked,     //!< offset error estimate below the lock threshold
  Lost,       //!< no exchange for silence_ns; offset_ns_at() coasts on the last model
};

const char* to_string(ClockSyncState s) noexcept;

struct ClockEstimatorConfig {
  std::size_t window_exchanges = 2048;             //!< most recent exchanges kept
  std::int64_t window_ns = 180 * kNanosPerSecond;  //!< and none older than this (node time)
  std::size_t min_exchanges_to_lock = 8;
  std::int64_t min_span_to_lock_ns =
      1 * kNanosPerSecond;                        //!< window span to lock (and >= min_span_for_skew_ns)
  std::int64_t lock_error_ns = 500'000;           //!< lock when error_estimate_ns() is below this
  std::int64_t silence_ns = 5 * kNanosPerSecond;  //!< Lost after this long without exchange
  std::int64_t step_threshold_ns = 2'000'000;     //!< offset jump (beyond RTT allowance) seen as a step
  std::size_t step_confirm = 3;                   //!< consecutive jumped exchanges that confirm a step
  std::int64_t min_span_for_skew_ns = 2 * kNanosPerSecond;  //!< below this, keep the previous skew
  std::int64_t rtt_margin_ns = 200'000;           //!< residual_ns() uses exchanges within this of min RTT
  std::int64_t max_rtt_ns = 5 * kNanosPerSecond;  //!< larger RTTs are rejected as absurd
  double max_skew_ppm = 1000.0;                   //!< fitted skew is clamped to +-this
};

class ClockEstimator {
 public:
  explicit ClockEstimator(ClockEstimatorConfig cfg = {});

  //! Feeds one completed exchange (call on each SyncReply, with t4 = receipt time).
  //! Returns false, and counts it in rejected(), when it is absurd (t4 < t1, t3 < t2,
  //! negative or huge RTT). An exchange that disagrees with the model by more than
  //! step_threshold_ns is held back; step_confirm such in a row are a clock step:
  //! the window restarts from them (steps() counts it, state goes Acquiring).
  bool add(const SyncExchange& x) noexcept;

  //! Tells the estimator the node's time; goes Lost after silence_ns without an
  //! accepted exchange. Call it from the same thread, e.g. once per sync period.
  void poll(std::int64_t node_now_ns) noexcept;

  ClockSyncState state() const noexcept { return state_; }
  //! True once any exchange was accepted (offset_ns_at() means something).
  bool has_estimate() const noexcept { return has_model_; }

  //! session_ns - node_ns at node time node_ns (linear extrapolation of the model).
  std::int64_t offset_ns_at(std::int64_t node_ns) const noexcept;
  //! node_ns mapped onto the session clock.
  std::int64_t to_session_ns(std::int64_t node_ns) const noexcept { return node_ns + offset_ns_at(node_ns); }
  //! The current model as a value, anchored at node_now_ns.
  ClockMap mapping(std::int64_t node_now_ns) const noexcept {
    return {.ref_node_ns = node_now_ns,
            .ref_offset_ns = offset_ns_at(node_now_ns),
            .slope = slope_,
            .valid = has_model_};
  }
  //! Node clock rate against the session clock, ppm; positive: the node runs fast.
  double skew_ppm() const noexcept;
  //! d(offset)/d(node time), e.g. -100e-6 for a node 100 ppm fast.
  double offset_slope() const noexcept { return slope_; }

  std::int64_t last_rtt_ns() const noexcept { return last_rtt_; }
  //! Minimum RTT over the window (0 before the first exchange).
  std::int64_t min_rtt_ns() const noexcept { return min_rtt_; }
  //! RMS of the offset residuals of the exchanges within rtt_margin_ns of min RTT
  //! (a measure of the network noise left after filtering).
  std::int64_t residual_ns() const noexcept { return residual_; }
  //! Estimated 1-sigma error of offset_ns_at(now) from the envelope statistics,
  //! excluding the unobservable asymmetry bias. Drives Acquiring -> Locked.
  std::int64_t error_estimate_ns() const noexcept { return error_estimate_; }
  //! Exchanges in the current window.
  std::size_t exchanges_used() const noexcept { return count_; }

  std::uint64_t rejected() const noexcept { return rejected_; }
  //! Exchanges dropped because they disagreed with the model but no step followed.
  std::uint64_t outliers() const noexcept { return outliers_; }
  //! Confirmed clock steps (window restarted).
  std::uint64_t steps() const noexcept { return steps_; }

  //! Forgets everything except the counters and the configuration.
  void reset() noexcept;

 private:
  struct Entry {
    std::int64_t t1, t4, up, down, rtt;  // up = t2 - t1, down = t3 - t4
  };
  struct Point {
    double x, y;
  };
  struct Line {
    double level, slope;  // value at the centroid, slope
    double centroid;
    double excess;  // typical distance of the points from the envelope (median / ln 2)
  };

  void push(const Entry& e) noexcept;
  void evict(std::int64_t newest_t4) noexcept;
  void refit() noexcept;
  Line envelope(std::vector<Point>& pts, bool lower, double prior_slope, bool fit_slope) noexcept;
  bool consistent(const Entry& e) const noexcept;
  const Entry& at(std::size_t i) const noexcept { return ring_[(head_ + i) % ring_.size()]; }

  ClockEstimatorConfig cfg_;
  std::vector<Entry> ring_;
  std::size_t head_ = 0, count_ = 0;
  std::vector<Entry> pending_;  // jumped exchanges awaiting confirmation
  std::vector<Point> up_, down_, hull_;

  ClockSyncState state_ = ClockSyncState::Acquiring;
  bool has_model_ = false;
  std::int64_t ref_x_ = 0, ref_y_ = 0;  // model: offset = ref_y_ + level_ + slope_ * (x - ref_x_)
  double level_ = 0.0, slope_ = 0.0;
  std::int64_t last_t4_ = 0, last_rtt_ = 0, min_rtt_ = 0, residual_ = 0, error_estimate_ = 0;
  std::uint64_t rejected_ = 0, outliers_ = 0, steps_ = 0;
};

}  // namespace tl
