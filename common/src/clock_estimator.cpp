#include "tl/common/clock_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace tl {

namespace {

// The envelope of N one-way delays with mean excess m over the true minimum
// misses it by about m / N (the minimum of N exponentials); the offset is the
// half-difference of two such envelopes, extrapolated from the window's centroid
// to its newest edge. kErrorScale covers that extrapolation; calibrated against
// the simulator in tests/unit/common/test_clock_estimator.cpp.
constexpr double kErrorScale = 2.0;

std::int64_t midpoint(std::int64_t a, std::int64_t b) noexcept {
  return a + (b - a) / 2;
}

}  // namespace

const char* to_string(ClockSyncState s) noexcept {
  switch (s) {
    case ClockSyncState::Acquiring:
      return "acquiring";
    case ClockSyncState::Locked:
      return "locked";
    case ClockSyncState::Lost:
      return "lost";
  }
  return "?";
}

ClockEstimator::ClockEstimator(ClockEstimatorConfig cfg) : cfg_(cfg) {
  cfg_.window_exchanges = std::max<std::size_t>(cfg_.window_exchanges, 2);
  cfg_.step_confirm = std::max<std::size_t>(cfg_.step_confirm, 1);
  ring_.resize(cfg_.window_exchanges);
  pending_.reserve(cfg_.step_confirm);
  up_.reserve(cfg_.window_exchanges);
  down_.reserve(cfg_.window_exchanges);
  hull_.reserve(cfg_.window_exchanges);
}

void ClockEstimator::reset() noexcept {
  head_ = count_ = 0;
  pending_.clear();
  state_ = ClockSyncState::Acquiring;
  has_model_ = false;
  ref_x_ = ref_y_ = 0;
  level_ = slope_ = 0.0;
  last_t4_ = last_rtt_ = min_rtt_ = residual_ = error_estimate_ = 0;
}

double ClockEstimator::skew_ppm() const noexcept {
  // offset = session - node; d(session)/d(node) = 1 + slope; node rate = 1 / that.
  return (1.0 / (1.0 + slope_) - 1.0) * 1e6;
}

std::int64_t ClockEstimator::offset_ns_at(std::int64_t node_ns) const noexcept {
  if (!has_model_) return 0;
  const double dx = static_cast<double>(node_ns - ref_x_);
  return ref_y_ + std::llround(level_ + slope_ * dx);
}

bool ClockEstimator::add(const SyncExchange& x) noexcept {
  const std::int64_t rtt = x.rtt_ns();
  if (x.t4 < x.t1 || x.t3 < x.t2 || rtt < 0 || rtt > cfg_.max_rtt_ns) {
    ++rejected_;
    return false;
  }
  const Entry e{.t1 = x.t1, .t4 = x.t4, .up = x.t2 - x.t1, .down = x.t3 - x.t4, .rtt = rtt};
  last_t4_ = x.t4;  // receipt time: in arrival order, and it follows a stepped clock
  last_rtt_ = rtt;

  if (!consistent(e)) {
    // Keep the jumped exchanges only while they agree on the jump's direction.
    if (!pending_.empty()) {
      const auto dev = [this](const Entry& p) {
        const std::int64_t theta = (p.up + p.down) / 2;
        return theta - offset_ns_at(midpoint(p.t1, p.t4));
      };
      if ((dev(pending_.back()) > 0) != (dev(e) > 0)) {
        outliers_ += pending_.size();
        pending_.clear();
      }
    }
    pending_.push_back(e);
    if (pending_.size() < cfg_.step_confirm) return true;
    // Confirmed step: the node clock (or the path) changed; restart from the new regime.
    ++steps_;
    const double keep_slope = slope_;
    head_ = count_ = 0;
    for (const Entry& p : pending_) push(p);
    pending_.clear();
    state_ = ClockSyncState::Acquiring;
    slope_ = keep_slope;  // a step moves the offset, not the rate
    refit();
    return true;
  }
  outliers_ += pending_.size();
  pending_.clear();
  push(e);
  refit();
  if (state_ != ClockSyncState::Locked) {
    const std::int64_t span = at(count_ - 1).t4 - at(0).t1;
    const bool lock = count_ >= cfg_.min_exchanges_to_lock &&
                      span >= std::max(cfg_.min_span_to_lock_ns, cfg_.min_span_for_skew_ns) &&
                      error_estimate_ <= cfg_.lock_error_ns;
    state_ = lock ? ClockSyncState::Locked : ClockSyncState::Acquiring;
  }
  return true;
}

void ClockEstimator::poll(std::int64_t node_now_ns) noexcept {
  if (has_model_ && node_now_ns - last_t4_ > cfg_.silence_ns) state_ = ClockSyncState::Lost;
}

bool ClockEstimator::consistent(const Entry& e) const noexcept {
  if (!has_model_ || count_ < 2) return true;
  // Exact physics: |theta - (offset + bias)| <= (rtt - base_rtt) / 2, because every
  // delay above the base adds to the RTT at least as much as it moves theta.
  const std::int64_t theta = (e.up + e.down) / 2;
  const double dev = std::abs(static_cast<double>(theta - offset_ns_at(midpoint(e.t1, e.t4))));
  const double allowance = 0.5 * static_cast<double>(std::max<std::int64_t>(0, e.rtt - min_rtt_));
  const double threshold =
      static_cast<double>(cfg_.step_threshold_ns) + 3.0 * static_cast<double>(error_estimate_);
  return dev - allowance <= threshold;
}

void ClockEstimator::push(const Entry& e) noexcept {
  const std::size_t cap = ring_.size();
  if (count_ == cap) {
    head_ = (head_ + 1) % cap;
    --count_;
  }
  ring_[(head_ + count_) % cap] = e;
  ++count_;
  evict(e.t4);
}

void ClockEstimator::evict(std::int64_t newest_t4) noexcept {
  while (count_ > 1 && newest_t4 - at(0).t4 > cfg_.window_ns) {
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }
}

ClockEstimator::Line ClockEstimator::envelope(std::vector<Point>& pts, bool lower, double prior_slope,
                                              bool fit_slope) noexcept {
  // Work on the lower envelope; the upper one is the lower one of -y.
  if (!lower) {
    for (Point& p : pts) p.y = -p.y;
    prior_slope = -prior_slope;
  }
  // Exchanges arrive nearly sorted: insertion sort is linear here.
  for (std::size_t i = 1; i < pts.size(); ++i) {
    const Point p = pts[i];
    std::size_t j = i;
    while (j > 0 && pts[j - 1].x > p.x) {
      pts[j] = pts[j - 1];
      --j;
    }
    pts[j] = p;
  }
  double c = 0.0;
  for (const Point& p : pts) c += p.x;
  c /= static_cast<double>(pts.size());

  const double max_slope = cfg_.max_skew_ppm * 1e-6;
  double slope = prior_slope;
  if (fit_slope && pts.size() >= 2) {
    // Monotone-chain lower hull; the L1 fit below all points is the hull edge over c.
    hull_.clear();
    for (const Point& p : pts) {
      while (hull_.size() >= 2) {
        const Point& o = hull_[hull_.size() - 2];
        const Point& a = hull_.back();
        const double cross = (a.x - o.x) * (p.y - o.y) - (a.y - o.y) * (p.x - o.x);
        if (cross > 0.0) break;
        hull_.pop_back();
      }
      hull_.push_back(p);
    }
    // Slope: the hull's rise between the centres of the window's two halves.
    // A single hull edge can be short and steep; this chord spans half the window.
    const auto hull_at = [this](double x) {
      for (std::size_t k = 0; k + 1 < hull_.size(); ++k) {
        if (hull_[k + 1].x >= x && hull_[k + 1].x > hull_[k].x) {
          return hull_[k].y +
                 (hull_[k + 1].y - hull_[k].y) * (x - hull_[k].x) / (hull_[k + 1].x - hull_[k].x);
        }
      }
      return hull_.back().y;
    };
    const double x0 = pts.front().x, x1 = pts.back().x;
    if (hull_.size() >= 2 && x1 > x0) {
      const double xa = x0 + 0.25 * (x1 - x0), xb = x0 + 0.75 * (x1 - x0);
      slope = (hull_at(xb) - hull_at(xa)) / (xb - xa);
    }
  }
  slope = std::clamp(slope, -max_slope, max_slope);
  // Highest line of this slope below every point (equals the hull edge when fitted).
  double level = std::numeric_limits<double>::infinity();
  for (const Point& p : pts) level = std::min(level, p.y - slope * (p.x - c));
  // Typical distance above the envelope: median / ln 2 is the mean of an
  // exponential queue, and unlike the mean it ignores the delay spikes.
  hull_.clear();
  for (const Point& p : pts) hull_.push_back({p.y - (level + slope * (p.x - c)), 0.0});
  const auto mid = hull_.begin() + static_cast<std::ptrdiff_t>(hull_.size() / 2);
  std::nth_element(hull_.begin(), mid, hull_.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  const double excess = mid->x / std::numbers::ln2;

  Line l{.level = level, .slope = slope, .centroid = c, .excess = excess};
  if (!lower) {
    l.level = -l.level;
    l.slope = -l.slope;
  }
  return l;
}

void ClockEstimator::refit() noexcept {
  if (count_ == 0) return;
  const Entry& newest = at(count_ - 1);
  ref_x_ = midpoint(newest.t1, newest.t4);
  ref_y_ = (newest.up + newest.down) / 2;

  up_.clear();
  down_.clear();
  std::int64_t first = newest.t1, last = newest.t4;
  min_rtt_ = newest.rtt;
  for (std::size_t i = 0; i < count_; ++i) {
    const Entry& e = at(i);
    up_.push_back({static_cast<double>(e.t1 - ref_x_), static_cast<double>(e.up - ref_y_)});
    down_.push_back({static_cast<double>(e.t4 - ref_x_), static_cast<double>(e.down - ref_y_)});
    first = std::min(first, e.t1);
    last = std::max(last, e.t4);
    min_rtt_ = std::min(min_rtt_, e.rtt);
  }
  const bool fit_slope = last - first >= cfg_.min_span_for_skew_ns;
  const Line u = envelope(up_, true, slope_, fit_slope);
  const Line d = envelope(down_, false, slope_, fit_slope);
  // offset(x) = (U(x) + D(x)) / 2, expressed at x = 0 (ref_x_).
  level_ = 0.5 * ((u.level - u.slope * u.centroid) + (d.level - d.slope * d.centroid));
  slope_ = 0.5 * (u.slope + d.slope);
  has_model_ = true;

  const double n = static_cast<double>(count_);
  const double level_err = kErrorScale * 0.5 * std::hypot(u.excess, d.excess) / n;
  // Both envelopes measure the same slope; their disagreement, carried from the
  // centroid to the newest exchange, is the slope's share of the error.
  const double slope_err = 0.5 * std::abs(u.slope - d.slope) * 0.5 * static_cast<double>(last - first);
  const double err = std::hypot(level_err, slope_err);
  error_estimate_ = std::llround(std::max(err, 1.0));

  double sum2 = 0.0;
  std::size_t used = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    const Entry& e = at(i);
    if (e.rtt > min_rtt_ + cfg_.rtt_margin_ns) continue;
    const double theta = static_cast<double>((e.up + e.down) / 2 - ref_y_);
    const double r = theta - (level_ + slope_ * static_cast<double>(midpoint(e.t1, e.t4) - ref_x_));
    sum2 += r * r;
    ++used;
  }
  residual_ = used ? std::llround(std::sqrt(sum2 / static_cast<double>(used))) : 0;
}

}  // namespace tl
