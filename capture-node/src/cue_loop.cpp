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
      schedule_("cue-loop", rate, std::max<MediaTime>(rate / 100, 2 * static_cast<MediaTime>(block))) {}

void CueLoop::deliver(MediaTime position, std::span<const float> stereo, double session_now) {
  deliver_scheduled(schedule_, position, stereo, session_now, media_now_);
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
      out[i] = cable_.at(info.media_ts + static_cast<MediaTime>(i),
                         [&](MediaTime t) { return schedule_.output(t, side); });
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
