#include "tl/capture/cue_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tl::capture {

FractionalDelay::FractionalDelay(double delay_frames)
    : whole_(static_cast<MediaTime>(std::floor(delay_frames))), taps_(2 * kHalf) {
  // in(m) = sum over d of out(m - whole + d) * h(frac + d): a Blackman-windowed sinc
  // centred on the delayed instant, normalised to unity gain at DC.
  const double frac = delay_frames - std::floor(delay_frames);
  double sum = 0.0;
  std::vector<double> h(taps_.size());
  for (int d = -kHalf; d < kHalf; ++d) {
    const double x = frac + d;
    const double sinc = std::abs(x) < 1e-12 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
    const double w = 0.42 + 0.5 * std::cos(std::numbers::pi * x / (kHalf + 1)) +
                     0.08 * std::cos(2.0 * std::numbers::pi * x / (kHalf + 1));
    h[static_cast<std::size_t>(d + kHalf)] = sinc * w;
    sum += sinc * w;
  }
  for (std::size_t i = 0; i < h.size(); ++i) taps_[i] = static_cast<float>(h[i] / sum);
}

CueLoop::CueLoop(double delay_ms, std::uint32_t rate, std::uint32_t block)
    : CueOutput("cue-loop:" + fmt::format("{:g}", delay_ms), rate),
      cable_(delay_ms * rate / 1000.0),
      margin_(std::max<MediaTime>(rate / 100, 2 * static_cast<MediaTime>(block))),
      kept_(kKept) {}

void CueLoop::deliver(MediaTime position, std::span<const float> stereo, double session_now) {
  const auto frames = static_cast<MediaTime>(stereo.size() / 2);
  for (MediaTime i = 0; i < frames; ++i) {
    Frame& f = kept_[static_cast<std::size_t>(position + i) & (kKept - 1)];
    f.position = position + i;
    f.left = stereo[static_cast<std::size_t>(2 * i)];
    f.right = stereo[static_cast<std::size_t>(2 * i + 1)];
  }
  // "Now" on the node's own media timeline (the input block last captured): the output
  // plays on that timeline, so a clock estimate that improves later moves nothing here.
  if (media_now_ == INT64_MIN) return;
  const auto transit = static_cast<double>(media_now_ - position);
  MediaTime delay = delay_.load(std::memory_order_relaxed);
  if (delay < 0) {
    max_transit_ = settled_ == 0 ? transit : std::max(max_transit_, transit);
    settled_ += frames;
    if (settled_ >= static_cast<MediaTime>(kSettleSeconds * rate_)) {
      delay = static_cast<MediaTime>(std::ceil(max_transit_)) + margin_;
      delay_.store(delay, std::memory_order_relaxed);
      spdlog::info("cue-loop: the cue plays {:.2f} ms after its mix position (largest transit {:.2f} ms)",
                   static_cast<double>(delay) * 1000.0 / rate_, max_transit_ * 1000.0 / rate_);
    }
  } else if (position + delay < media_now_) {
    // Later than its play time: its first frames are gone (silence was played for them).
    underruns_.fetch_add(static_cast<std::uint64_t>(std::min(frames, media_now_ - (position + delay))),
                         std::memory_order_relaxed);
    const double since = late_since_ == INT64_MIN ? kRecurSeconds + 1.0
                                                  : static_cast<double>(media_now_ - late_since_) / rate_;
    if (since > kRecurSeconds) {
      // A first burst: the delay holds (a take in progress keeps its placement).
      late_since_ = media_now_;
      late_transit_ = transit;
      spdlog::info(
          "cue-loop: a cue chunk came {:.2f} ms after its mix position, after its play time (played as "
          "silence); the cue's delay grows if it happens again within {:g} s",
          transit * 1000.0 / rate_, kRecurSeconds);
    } else if (since <= kBurstSeconds) {
      late_transit_ = std::max(late_transit_, transit);  // the same burst
    } else {
      // Lateness came back: the delay grows to take chunks as late as the latest seen.
      delay = static_cast<MediaTime>(std::ceil(std::max(late_transit_, transit))) + margin_;
      delay_.store(delay, std::memory_order_relaxed);
      changes_.fetch_add(1, std::memory_order_relaxed);
      late_since_ = INT64_MIN;
      spdlog::warn(
          "cue-loop: cue chunks came late again ({:.2f} ms after their mix position); the cue now plays "
          "{:.2f} ms after it (the placement of a take follows)",
          transit * 1000.0 / rate_, static_cast<double>(delay) * 1000.0 / rate_);
    }
  }
  note(position, static_cast<std::size_t>(frames), session_now,
       delay < 0 ? 0.0 : static_cast<double>(position + delay) - session_now);
}

float CueLoop::output(MediaTime t, int side) const noexcept {
  const MediaTime delay = delay_.load(std::memory_order_relaxed);
  if (delay < 0) return 0.0f;
  const MediaTime p = t - delay;
  const Frame& f = kept_[static_cast<std::size_t>(p) & (kKept - 1)];
  if (f.position != p) return 0.0f;
  return side == 0 ? f.left : f.right;
}

void CueLoop::render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept {
  if (info.epoch == 0) {  // no timeline yet: no media time to play at
    std::fill_n(planar, channels * frames, 0.0f);
    return;
  }
  media_now_ = info.media_ts + static_cast<MediaTime>(frames);
  for (std::size_t c = 0; c < channels; ++c) {
    float* out = planar + c * frames;
    if (c >= 2) {  // the cable's left and right again
      std::copy_n(planar + (c % 2) * frames, frames, out);
      continue;
    }
    const int side = static_cast<int>(c);
    for (std::size_t i = 0; i < frames; ++i) {
      out[i] =
          cable_.at(info.media_ts + static_cast<MediaTime>(i), [&](MediaTime t) { return output(t, side); });
    }
  }
}

Result<double> measure_round_trip(std::span<const float> in, std::span<const MediaTime> clicks,
                                  std::uint32_t rate) {
  std::vector<double> delays;
  for (const MediaTime click : clicks) {
    const auto from = static_cast<std::size_t>(std::max<MediaTime>(click, 0));
    const std::size_t to = std::min(in.size(), from + rate + rate / 10);
    std::size_t best = from;
    for (std::size_t i = from; i < to; ++i) {
      if (std::fabs(in[i]) > std::fabs(in[best])) best = i;
    }
    if (to <= from || std::fabs(in[best]) < 0.01f) {
      return Error{"a click played at frame " + std::to_string(click) +
                   " was not heard in the input within 1.1 s (nothing above -40 dBFS): is the "
                   "output connected to the input?"};
    }
    double at = static_cast<double>(best);
    if (best > 0 && best + 1 < in.size()) {
      const double a = std::fabs(in[best - 1]), b = std::fabs(in[best]), c = std::fabs(in[best + 1]);
      const double den = a - 2.0 * b + c;
      if (den < 0.0) at += 0.5 * (a - c) / den;
    }
    delays.push_back(at - static_cast<double>(click));
  }
  if (delays.empty()) return Error{"no click to measure"};
  std::sort(delays.begin(), delays.end());
  if (delays.back() - delays.front() > 1.0) {
    return Error{
        fmt::format("the clicks came back {:.2f} to {:.2f} frames later: not one round trip (a "
                    "noisy input, or an output that drops audio)",
                    delays.front(), delays.back())};
  }
  return delays[delays.size() / 2];
}

Result<double> calibrate_cue_loop(double delay_ms, std::uint32_t rate) {
  // Five clicks 1.25 s apart (more than the longest round trip, so each comes back before
  // the next goes out), after a tenth of a second of silence.
  const FractionalDelay cable(delay_ms * rate / 1000.0);
  const MediaTime spacing = rate + rate / 4;
  const auto frames = static_cast<std::size_t>(rate / 10 + 5 * spacing);
  std::vector<float> out(frames, 0.0f), in(frames, 0.0f);
  std::vector<MediaTime> clicks;
  for (int k = 0; k < 5; ++k) {
    const MediaTime at = rate / 10 + k * spacing;
    out[static_cast<std::size_t>(at)] = 0.5f;
    clicks.push_back(at);
  }
  for (std::size_t m = 0; m < frames; ++m) {
    in[m] = cable.at(static_cast<MediaTime>(m), [&](MediaTime t) {
      return t >= 0 && static_cast<std::size_t>(t) < frames ? out[static_cast<std::size_t>(t)] : 0.0f;
    });
  }
  return measure_round_trip(in, clicks, rate);
}

}  // namespace tl::capture
