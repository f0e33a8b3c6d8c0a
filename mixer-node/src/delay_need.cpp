#include "tl/mixer/delay_need.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace tl::mixer {

void DelayNeed::reset() noexcept {
  closed_count_ = closed_next_ = 0;
  open_ = Window{};
  window_open_ = false;
}

bool DelayNeed::observe(double need, double arrival) noexcept {
  bool closed = false;
  if (window_open_ && arrival - window_start_ >= config_.window_samples) {
    close_window();
    closed = true;
  }
  if (!window_open_) {
    window_open_ = true;
    window_start_ = arrival;
  }
  ++open_.count;
  const auto v = static_cast<float>(need);
  auto& top = open_.top;
  if (open_.kept < kKeep) {
    top[open_.kept++] = v;
    std::push_heap(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(open_.kept), std::greater<>());
  } else if (v > top[0]) {
    std::pop_heap(top.begin(), top.end(), std::greater<>());
    top[kKeep - 1] = v;
    std::push_heap(top.begin(), top.end(), std::greater<>());
  }
  return closed;
}

void DelayNeed::close_window() noexcept {
  closed_[closed_next_] = open_;
  const std::size_t span = std::clamp<std::size_t>(config_.windows, 1, kMaxWindows);
  closed_next_ = (closed_next_ + 1) % span;
  closed_count_ = std::min(closed_count_ + 1, span);
  open_ = Window{};
  window_open_ = false;
  estimate_ = quantile();
}

std::uint32_t DelayNeed::count() const noexcept {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < closed_count_; ++i) n += closed_[i].count;
  return n;
}

double DelayNeed::worst() const noexcept {
  float w = 0.0f;
  for (std::size_t i = 0; i < closed_count_; ++i) {
    const Window& win = closed_[i];
    for (std::size_t k = 0; k < win.kept; ++k) w = std::max(w, win.top[k]);
  }
  return w;
}

bool DelayNeed::estimate(double& need) const noexcept {
  if (closed_count_ == 0) return false;
  need = estimate_;
  return true;
}

double DelayNeed::quantile() const noexcept {
  // The quantile of n needs is the k-th largest, k = ceil((1 - q) n). Each sub-window
  // kept its own largest; what a full one dropped lies at or under its smallest kept.
  // So the answer is the k-th largest kept, or that bound if higher: exact while
  // k <= kKeep (the k-th largest kept is then at least every full window's bound),
  // and on the safe (longer) side beyond.
  std::array<float, kKeep * kMaxWindows> all{};
  std::size_t m = 0;
  float dropped_bound = 0.0f;
  for (std::size_t i = 0; i < closed_count_; ++i) {
    const Window& win = closed_[i];
    for (std::size_t k = 0; k < win.kept; ++k) all[m++] = win.top[k];
    if (win.count > win.kept) dropped_bound = std::max(dropped_bound, win.top[0]);
  }
  const double n = static_cast<double>(count());
  const auto k =
      std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil((1.0 - config_.quantile) * n)), 1, m);
  const auto end = all.begin() + static_cast<std::ptrdiff_t>(m);
  std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k - 1), end, std::greater<>());
  return std::max(all[k - 1], dropped_bound);
}

}  // namespace tl::mixer
