#include "tl/mixer/take_backfill.h"

#include <algorithm>

namespace tl::mixer {
namespace {
constexpr std::int64_t kBaseWaitNs = 5'000'000'000;  // nodes answer from disk: allow this
constexpr std::int64_t kMaxWaitNs = 45'000'000'000;  // under tlctl's 60 s wait for record stop
}  // namespace

std::vector<FrameSpan> backfill_ranges(std::vector<TrackWriter::Gap> gaps, std::int64_t max_frames) {
  std::sort(gaps.begin(), gaps.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
  std::vector<FrameSpan> merged;
  for (const auto& g : gaps) {
    if (!merged.empty() && g.from <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, g.to);
    } else {
      merged.emplace_back(g.from, g.to);
    }
  }
  std::vector<FrameSpan> ranges;
  for (const auto& [from, to] : merged) {
    for (std::int64_t at = from; at < to; at += max_frames)
      ranges.emplace_back(at, std::min(to, at + max_frames));
  }
  return ranges;
}

FrameSpan stand_in_range(const std::vector<TrackWriter::Gap>& gaps, std::int64_t asked,
                         std::int64_t max_frames) {
  std::int64_t from = INT64_MAX, to = asked;
  for (const auto& g : gaps) {
    if (!g.provisional || g.to <= asked) continue;
    from = std::min(from, std::max(g.from, asked));
    to = std::max(to, g.to);
  }
  if (from >= to) return {from, to};
  return {from, std::min(to, from + max_frames)};
}

std::int64_t Backfill::wait_ns(std::uint64_t missing_frames, std::uint32_t sample_rate) {
  const auto missing_s = static_cast<double>(missing_frames) / sample_rate;
  return std::min(kMaxWaitNs, kBaseWaitNs + static_cast<std::int64_t>(missing_s * 2e9));
}

void Backfill::ask(std::uint16_t node, MediaTime from, std::uint32_t frames) {
  requests_.push_back({.node = node, .from = from, .frames = frames});
}

void Backfill::answered(std::uint16_t node, MediaTime from, std::uint32_t frames, const Answer& answer) {
  for (auto& r : requests_) {
    if (r.node == node && r.from == from && r.frames == frames && !r.done) {
      r.done = true;
      r.not_in_spool = answer.not_in_spool;
      r.evicted = std::min(answer.evicted, answer.not_in_spool);
      r.no_spool = answer.no_spool;
    }
  }
}

void Backfill::failed(std::uint16_t node, MediaTime from, std::uint32_t frames, const std::string& reason) {
  for (auto& r : requests_) {
    if (r.node == node && r.from == from && r.frames == frames && !r.done) {
      r.done = true;
      r.failure = reason;
    }
  }
}

bool Backfill::waiting_for(std::uint16_t node) const {
  return std::any_of(requests_.begin(), requests_.end(),
                     [&](const Request& r) { return r.node == node && !r.done; });
}

bool Backfill::all_answered() const {
  return std::all_of(requests_.begin(), requests_.end(), [](const Request& r) { return r.done; });
}

std::size_t Backfill::answered_count() const {
  return static_cast<std::size_t>(
      std::count_if(requests_.begin(), requests_.end(), [](const Request& r) { return r.done; }));
}

std::string Backfill::missing_reason(std::uint16_t node, bool shutting_down) const {
  bool asked = false, late = false, no_spool = false;
  std::uint64_t evicted = 0, never_captured = 0;
  std::string failure;
  for (const auto& r : requests_) {
    if (r.node != node) continue;
    asked = true;
    if (!r.failure.empty()) failure = r.failure;
    if (!r.done) late = true;
    no_spool = no_spool || r.no_spool;
    evicted += r.evicted;
    never_captured += r.not_in_spool - r.evicted;
  }
  if (!failure.empty()) return failure;
  if (!asked) return shutting_down ? "the mixer was shutting down; not asked" : "no backfill was possible";
  if (no_spool) return "the node runs with --spool-dir none: it keeps nothing to resend";
  // Each cause with its own count: a node can both restart and outgrow its spool.
  std::string why;
  if (never_captured != 0) {
    why = "the node did not capture " + std::to_string(never_captured) +
          " of the missing samples (it was not running, or not streaming yet, then)";
  }
  if (evicted != 0) {
    why += (why.empty() ? "" : "; ") + std::string("the node's spool no longer holds ") +
           std::to_string(evicted) + " of them (older than its --spool-max keeps)";
  }
  if (!why.empty()) return why;
  if (late) return "the node did not answer the backfill in time";
  return "the node resent it, but it did not fit the take";
}

}  // namespace tl::mixer
