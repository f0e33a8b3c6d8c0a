#include "netem/impairment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

namespace tl::netem {

namespace {

constexpr double kNsPerMs = 1e6;

// splitmix64: spreads one user seed into independent engine seeds, so that
// turning one impairment on does not change the random choices of another.
std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

Status check_pct(double value, const char* name) {
  if (!(value >= 0.0 && value <= 100.0)) {
    return Error{std::string(name) + ": expected a percentage 0-100, got " + std::to_string(value)};
  }
  return {};
}

std::int64_t ms_to_ns(double ms) {
  return static_cast<std::int64_t>(std::llround(ms * kNsPerMs));
}

}  // namespace

bool ImpairmentConfig::any() const noexcept {
  return loss_pct > 0 || burst_loss_pct > 0 || delay_ms > 0 || jitter_ms > 0 || reorder_pct > 0 ||
         duplicate_pct > 0 || rate_kbps > 0;
}

Status validate(const ImpairmentConfig& c) {
  for (auto [value, name] :
       {std::pair{c.loss_pct, "--loss"}, std::pair{c.burst_loss_pct, "--burst-loss"},
        std::pair{c.burst_bad_loss_pct, "--burst-bad-loss"}, std::pair{c.reorder_pct, "--reorder"},
        std::pair{c.duplicate_pct, "--duplicate"}}) {
    if (auto s = check_pct(value, name); !s) return s;
  }
  if (c.burst_loss_pct >= 100.0) {
    return Error{"--burst-loss: must be below 100 (the link needs some good time)"};
  }
  if (c.burst_loss_pct > 0.0 && !(c.burst_len_ms > 0.0)) {
    return Error{"--burst-loss needs --burst-len-ms > 0 (mean burst length)"};
  }
  if (c.burst_len_ms < 0.0 || !std::isfinite(c.burst_len_ms)) return Error{"--burst-len-ms: must be >= 0"};
  if (c.delay_ms < 0.0 || c.delay_ms > 60'000.0) return Error{"--delay-ms: expected 0-60000"};
  if (c.jitter_ms < 0.0 || c.jitter_ms > 60'000.0) return Error{"--jitter-ms: expected 0-60000"};
  if (c.reorder_gap_ms <= 0.0 || c.reorder_gap_ms > 60'000.0)
    return Error{"--reorder-gap-ms: expected >0-60000"};
  if (c.rate_kbps < 0.0 || !std::isfinite(c.rate_kbps)) return Error{"--rate-kbps: must be >= 0"};
  if (c.rate_kbps > 0.0 && c.rate_kbps < 8.0)
    return Error{"--rate-kbps: below 8 kbit/s is not a useful link"};
  if (c.rate_queue_bytes < 1500) return Error{"--rate-queue-bytes: must hold at least one 1500-byte packet"};
  if (c.rate_burst_bytes < 1) return Error{"--rate-burst-bytes: must be >= 1"};
  return {};
}

Result<LinkChange> parse_link_change(const std::string& text) {
  const std::string usage =
      "--change '" + text + "': expected AT:KEY=VALUE[,KEY=VALUE...], e.g. 10:jitter-ms=25";
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return Error{usage};
  LinkChange change;
  std::size_t used = 0;
  try {
    change.at_s = std::stod(text.substr(0, colon), &used);
  } catch (const std::exception&) {
    return Error{usage};
  }
  if (used != colon || !(change.at_s >= 0.0) || change.at_s > 1e7)
    return Error{usage + " (AT: seconds, 0 or more)"};
  std::size_t at = colon + 1;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, end - at);
    const auto eq = item.find('=');
    if (eq == std::string::npos) return Error{usage};
    const std::string key = item.substr(0, eq);
    if (key != "loss" && key != "delay-ms" && key != "jitter-ms" && key != "reorder" && key != "duplicate") {
      return Error{"--change: '" + key +
                   "' cannot change during a run (loss, delay-ms, jitter-ms, reorder, duplicate can)"};
    }
    double value = 0.0;
    try {
      value = std::stod(item.substr(eq + 1), &used);
    } catch (const std::exception&) {
      return Error{usage};
    }
    if (used != item.size() - eq - 1) return Error{usage};
    change.settings.emplace_back(key, value);
    at = end + 1;
  }
  return change;
}

Result<ImpairmentConfig> apply_link_change(const ImpairmentConfig& config, const LinkChange& change) {
  ImpairmentConfig next = config;
  for (const auto& [key, value] : change.settings) {
    if (key == "loss") next.loss_pct = value;
    if (key == "delay-ms") next.delay_ms = value;
    if (key == "jitter-ms") next.jitter_ms = value;
    if (key == "reorder") next.reorder_pct = value;
    if (key == "duplicate") next.duplicate_pct = value;
  }
  if (auto s = validate(next); !s) return Error{"--change " + describe(change) + ": " + s.error()};
  return next;
}

std::string describe(const LinkChange& change) {
  std::string text;
  for (const auto& [key, value] : change.settings) {
    char item[64];
    std::snprintf(item, sizeof item, "%s%s=%g", text.empty() ? "" : ",", key.c_str(), value);
    text += item;
  }
  return text;
}

void DelayHistogram::add(std::int64_t delay_ns) {
  delay_ns = std::max<std::int64_t>(delay_ns, 0);
  const auto bin = std::min<std::size_t>(static_cast<std::size_t>(delay_ns / kBinNs), kBins - 1);
  ++bins_[bin];
  ++count_;
  sum_ns_ += static_cast<long double>(delay_ns);
  max_ns_ = std::max(max_ns_, delay_ns);
}

double DelayHistogram::mean_ms() const noexcept {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ns_ / static_cast<long double>(count_)) / kNsPerMs;
}

double DelayHistogram::quantile_ms(double q) const {
  if (count_ == 0) return 0.0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBins; ++i) {
    seen += bins_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      // Upper bin edge, but never above the largest delay seen.
      const auto edge = static_cast<std::int64_t>(i + 1) * kBinNs;
      return static_cast<double>(std::min(edge, max_ns_)) / kNsPerMs;
    }
  }
  return max_ms();
}

ImpairmentModel::ImpairmentModel(const ImpairmentConfig& config, std::uint64_t seed)
    : config_(config),
      rng_loss_(splitmix(seed ^ 1)),
      rng_burst_(splitmix(seed ^ 2)),
      rng_delay_(splitmix(seed ^ 3)),
      rng_reorder_(splitmix(seed ^ 4)),
      rng_dup_(splitmix(seed ^ 5)) {
  if (config_.burst_loss_pct > 0.0 && config_.burst_len_ms > 0.0) {
    // Continuous-time two-state chain. Mean bad period Lb = burst_len_ms; the
    // stationary share of bad time is p, so the mean good period is
    // Lg = Lb (1-p) / p. Leaving rates: bad->good 1/Lb, good->bad 1/Lg, and
    // lambda = 1/Lb + 1/Lg = 1 / (Lb (1-p)). Over an interval dt:
    //   P(bad at t+dt | bad at t)  = p + (1-p) e^(-lambda dt)
    //   P(bad at t+dt | good at t) = p (1 - e^(-lambda dt))
    // so the result does not depend on the packet rate.
    burst_on_ = true;
    burst_p_ = config_.burst_loss_pct / 100.0;
    burst_lambda_ = 1.0 / (config_.burst_len_ms * kNsPerMs * (1.0 - burst_p_));
  }
  if (config_.rate_kbps > 0.0) {
    bytes_per_ns_ = config_.rate_kbps * 1000.0 / 8.0 / 1e9;
    tokens_ = static_cast<double>(config_.rate_burst_bytes);
  }
}

void ImpairmentModel::change_link(const ImpairmentConfig& config) noexcept {
  config_.loss_pct = config.loss_pct;
  config_.delay_ms = config.delay_ms;
  config_.jitter_ms = config.jitter_ms;
  config_.reorder_pct = config.reorder_pct;
  config_.duplicate_pct = config.duplicate_pct;
}

bool ImpairmentModel::burst_step(std::int64_t arrival_ns) {
  if (!burst_started_) {
    burst_started_ = true;
    bad_ = unit_(rng_burst_) < burst_p_;
    if (bad_) ++stats_.burst_periods;
  } else {
    const double dt = static_cast<double>(arrival_ns - burst_last_ns_);
    const double stay = std::exp(-burst_lambda_ * dt);
    const double p_bad = bad_ ? burst_p_ + (1.0 - burst_p_) * stay : burst_p_ * (1.0 - stay);
    const bool was_bad = bad_;
    bad_ = unit_(rng_burst_) < p_bad;
    if (bad_ && !was_bad) ++stats_.burst_periods;
  }
  burst_last_ns_ = arrival_ns;
  // Always draw, so the loss decision sequence does not depend on the state path.
  const bool lose = unit_(rng_burst_) * 100.0 < config_.burst_bad_loss_pct;
  return bad_ && lose;
}

std::int64_t ImpairmentModel::rate_step(std::int64_t arrival_ns, std::size_t bytes) {
  if (bytes_per_ns_ <= 0.0) return arrival_ns;
  while (!queue_.empty() && queue_.front().release_ns <= arrival_ns) {
    queued_bytes_ -= queue_.front().bytes;
    queue_.pop_front();
  }
  if (queued_bytes_ + bytes > config_.rate_queue_bytes) return -1;
  const std::int64_t start = std::max(arrival_ns, last_release_ns_);
  const double burst = static_cast<double>(config_.rate_burst_bytes);
  double tokens = std::min(burst, tokens_ + static_cast<double>(start - tokens_at_ns_) * bytes_per_ns_);
  std::int64_t release = start;
  const auto need = static_cast<double>(bytes);
  if (tokens >= need) {
    tokens -= need;
  } else {
    release = start + static_cast<std::int64_t>(std::ceil((need - tokens) / bytes_per_ns_));
    tokens = 0.0;
  }
  tokens_ = tokens;
  tokens_at_ns_ = release;
  last_release_ns_ = release;
  if (release > arrival_ns) {
    queue_.push_back({release, bytes});
    queued_bytes_ += bytes;
  }
  return release;
}

std::int64_t ImpairmentModel::jitter_ns() {
  if (config_.jitter_ms <= 0.0) return 0;
  double j = 0.0;
  if (config_.jitter_shape == JitterShape::uniform) {
    j = (unit_(rng_delay_) * 2.0 - 1.0) * config_.jitter_ms;
  } else {
    std::normal_distribution<double> normal(0.0, config_.jitter_ms);
    j = normal(rng_delay_);
  }
  return ms_to_ns(j);
}

Verdict ImpairmentModel::offer(std::int64_t arrival_ns, std::size_t bytes) {
  if (seen_any_ && arrival_ns < last_arrival_ns_) arrival_ns = last_arrival_ns_;
  seen_any_ = true;
  last_arrival_ns_ = arrival_ns;
  ++stats_.in;
  Verdict v;

  // Every stage draws its random numbers whether or not an earlier stage
  // dropped the packet, so each stage's choices depend only on the seed.
  const bool burst_drop = burst_on_ && burst_step(arrival_ns);
  const bool random_drop = config_.loss_pct > 0.0 && unit_(rng_loss_) * 100.0 < config_.loss_pct;
  const std::int64_t jitter = jitter_ns();
  const bool hold = config_.reorder_pct > 0.0 && unit_(rng_reorder_) * 100.0 < config_.reorder_pct;
  const bool dup = config_.duplicate_pct > 0.0 && unit_(rng_dup_) * 100.0 < config_.duplicate_pct;

  if (burst_drop) {
    ++stats_.dropped_burst;
    v.drop = Drop::burst;
    return v;
  }
  if (random_drop) {
    ++stats_.dropped_random;
    v.drop = Drop::random;
    return v;
  }
  const std::int64_t release = rate_step(arrival_ns, bytes);
  if (release < 0) {
    ++stats_.dropped_rate;
    v.drop = Drop::rate;
    return v;
  }

  const std::int64_t added = std::max<std::int64_t>(ms_to_ns(config_.delay_ms) + jitter, 0);
  std::int64_t departure = std::max(release + added, last_departure_ns_);
  if (hold) {
    departure += ms_to_ns(config_.reorder_gap_ms);
    v.held = true;
    ++stats_.reordered;
  } else {
    last_departure_ns_ = departure;
  }
  v.copies = dup ? 2 : 1;
  if (dup) ++stats_.duplicated;
  for (int i = 0; i < v.copies; ++i) {
    v.departure_ns[static_cast<std::size_t>(i)] = departure;
    stats_.delay.add(departure - arrival_ns);
  }
  stats_.scheduled += static_cast<std::uint64_t>(v.copies);
  return v;
}

}  // namespace tl::netem
