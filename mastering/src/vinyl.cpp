#include "tl/mastering/vinyl.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "text.h"
#include "tl/dsp/biquad.h"
#include "tl/mastering/audio_file.h"
#include "tl/mastering/true_peak.h"

namespace tl::mastering {
namespace {

constexpr double kIspWindowS = 0.1;
// More ranges than this of one kind in one file are counted, not listed.
constexpr std::size_t kMaxListed = 8;

double db(double v) {
  return 20.0 * std::log10(std::max(v, 1e-12));
}

// Consecutive flagged windows joined into one range, with the worst value seen in it.
struct Range {
  double from_s = 0.0, to_s = 0.0, worst = 0.0, a = 0.0, b = 0.0;
};

class Ranges {
 public:
  // A window [from, to) flagged with its value (lower is worse when low_is_bad).
  void add(double from, double to, double value, bool low_is_bad, double a = 0.0, double b = 0.0) {
    const bool worse =
        ranges_.empty() || (low_is_bad ? value < ranges_.back().worst : value > ranges_.back().worst);
    if (!ranges_.empty() && from <= ranges_.back().to_s + 1e-9) {  // next to it, or overlapping
      ranges_.back().to_s = std::max(ranges_.back().to_s, to);
      if (worse) {
        ranges_.back().worst = value;
        ranges_.back().a = a;
        ranges_.back().b = b;
      }
      return;
    }
    ranges_.push_back({from, to, value, a, b});
  }
  const std::vector<Range>& all() const { return ranges_; }

 private:
  std::vector<Range> ranges_;
};

struct FileFindings {
  double seconds = 0.0;
  Ranges phase, isp;
  double true_peak_dbtp = -150.0;
};

Result<FileFindings> scan(const std::string& path, const VinylChecks& c, double ceiling_dbtp) {
  auto opened = AudioReader::open(path);
  if (!opened) return Error{opened.error()};
  AudioReader& reader = **opened;
  const AudioInfo info = reader.info();
  const std::size_t ch = info.channels;
  if (ch < 1 || ch > 2) {
    return Error{"'" + path + "' has " + std::to_string(ch) +
                 " channels: the vinyl checks read mono or stereo"};
  }
  const double rate = info.rate;
  FileFindings out;
  // The low end of each channel: an LR4 low-pass (two Butterworth sections).
  std::array<std::array<dsp::Biquad, 2>, 2> lp{};
  for (auto& pair : lp)
    for (auto& s : pair) s.set(dsp::BiquadCoeffs::lowpass(rate, c.phase_below_hz, 0.7071067811865476));
  const auto phase_len = std::max<std::int64_t>(1, std::llround(c.phase_window_s * rate));
  const auto isp_len = std::max<std::int64_t>(1, std::llround(kIspWindowS * rate));
  double sll = 0.0, srr = 0.0, slr = 0.0;
  std::int64_t in_phase = 0, in_isp = 0, at = 0;
  std::array<PreciseTruePeak, 2> tp{};
  float sample_peak = 0.0f;
  // The meter finds the values around a sample when the sample kTaps / 2 later arrives.
  std::array<std::array<float, PreciseTruePeak::kTaps / 2>, 2> delayed{};
  std::array<std::size_t, 2> delay_pos{};
  const double near_db = ceiling_dbtp - c.isp_near_ceiling_db;

  const auto end_phase_window = [&](std::int64_t frames) {
    const double n = static_cast<double>(frames);
    const double level = db(std::sqrt((sll + srr) / (2.0 * n)));
    if (level >= c.low_end_floor_db && sll > 0.0 && srr > 0.0) {
      const double corr = slr / std::sqrt(sll * srr);
      if (corr < c.min_correlation) {
        const double to = static_cast<double>(at) / rate;
        out.phase.add(to - n / rate, to, corr, true, level);
      }
    }
    sll = srr = slr = 0.0;
  };
  const auto end_isp_window = [&](std::int64_t frames) {
    float peak = 0.0f;
    for (std::size_t k = 0; k < ch; ++k) peak = std::max(peak, tp[k].take_peak());
    const double tp_db = db(peak), sp_db = db(sample_peak);
    out.true_peak_dbtp = std::max(out.true_peak_dbtp, tp_db);
    const double excess = tp_db - sp_db;
    if ((excess > c.isp_margin_db && tp_db >= near_db) || tp_db > ceiling_dbtp) {
      const double to = static_cast<double>(at) / rate;
      out.isp.add(to - static_cast<double>(frames) / rate, to, excess, false, tp_db, sp_db);
    }
    sample_peak = 0.0f;
  };

  std::vector<float> block(kFileBlock * ch);
  std::array<std::vector<float>, 2> planar{std::vector<float>(kFileBlock), std::vector<float>(kFileBlock)};
  for (std::size_t n; (n = reader.read(block)) > 0;) {
    for (std::size_t k = 0; k < ch; ++k)
      for (std::size_t i = 0; i < n; ++i) planar[k][i] = block[i * ch + k];
    for (std::size_t i = 0; i < n;) {
      // Up to the next window's end (either kind).
      const std::int64_t to_phase = phase_len - in_phase, to_isp = isp_len - in_isp;
      const std::size_t m =
          std::min<std::size_t>(n - i, static_cast<std::size_t>(std::min(to_phase, to_isp)));
      for (std::size_t k = 0; k < ch; ++k) {
        const std::span<const float> part(planar[k].data() + i, m);
        tp[k].process(part);
        // The samples as late as the meter's values, so a window's two peaks are of the
        // same stretch (a transient at a window's end is not an inter-sample peak in the next).
        auto& d = delayed[k];
        for (const float v : part) {
          sample_peak = std::max(sample_peak, d[delay_pos[k]]);
          d[delay_pos[k]] = std::fabs(v);
          delay_pos[k] = (delay_pos[k] + 1) % d.size();
        }
      }
      if (ch == 2) {
        for (std::size_t j = i; j < i + m; ++j) {
          const double l = lp[0][1].process(lp[0][0].process(static_cast<double>(planar[0][j])));
          const double r = lp[1][1].process(lp[1][0].process(static_cast<double>(planar[1][j])));
          sll += l * l;
          srr += r * r;
          slr += l * r;
        }
      }
      i += m;
      at += static_cast<std::int64_t>(m);
      in_phase += static_cast<std::int64_t>(m);
      in_isp += static_cast<std::int64_t>(m);
      if (in_phase == phase_len) {
        if (ch == 2) end_phase_window(in_phase);
        in_phase = 0;
      }
      if (in_isp == isp_len) {
        end_isp_window(in_isp);
        in_isp = 0;
      }
    }
  }
  for (std::size_t k = 0; k < ch; ++k) {
    tp[k].flush();
    for (const float v : delayed[k]) sample_peak = std::max(sample_peak, v);
  }
  // The last window, with the meter's tail flushed into it (when the file ended on a
  // window's edge: the last kTaps / 2 frames, which the meter had not yet judged).
  if (at > 0) end_isp_window(in_isp > 0 ? in_isp : std::min<std::int64_t>(at, PreciseTruePeak::kTaps / 2));
  if (ch == 2 && in_phase > phase_len / 2) end_phase_window(in_phase);
  out.seconds = static_cast<double>(info.frames) / rate;
  return out;
}

std::string span_text(const Range& r) {
  return clock_time(r.from_s) + "-" + clock_time(r.to_s);
}

}  // namespace

std::string clock_time(double seconds) {
  const double t = std::max(0.0, std::round(seconds * 10.0) / 10.0);
  const int minutes = static_cast<int>(t / 60.0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%04.1f", minutes, t - 60.0 * minutes);
  return buf;
}

Result<std::vector<VinylWarning>> check_for_vinyl(std::span<const std::string> side, const VinylChecks& c,
                                                  double ceiling_dbtp) {
  std::vector<VinylWarning> out;
  double seconds = 0.0;
  for (const std::string& path : side) {
    auto found = scan(path, c, ceiling_dbtp);
    if (!found) return Error{found.error()};
    seconds += found->seconds;
    const auto& phase = found->phase.all();
    for (std::size_t i = 0; i < phase.size() && i < kMaxListed; ++i) {
      const Range& r = phase[i];
      out.push_back({.kind = "out-of-phase-low-end",
                     .file = path,
                     .message = "out-of-phase low end under " + fixed(c.phase_below_hz, 0) + " Hz at " +
                                span_text(r) + " (L/R correlation down to " + fixed(r.worst, 2) + ", at " +
                                fixed(r.a, 1) +
                                " dBFS): it cuts as vertical groove motion and can throw the stylus; sum "
                                "the bass to mono (--mono-bass) or check the polarity",
                     .from_s = r.from_s,
                     .to_s = r.to_s});
    }
    if (phase.size() > kMaxListed) {
      out.push_back({.kind = "out-of-phase-low-end",
                     .file = path,
                     .message = "and " + std::to_string(phase.size() - kMaxListed) +
                                " more stretches of out-of-phase low end"});
    }
    const auto& isp = found->isp.all();
    for (std::size_t i = 0; i < isp.size() && i < kMaxListed; ++i) {
      const Range& r = isp[i];
      std::string why = r.a > ceiling_dbtp
                            ? "over the " + fixed(ceiling_dbtp, 1) + " dBTP ceiling"
                            : "within " + fixed(c.isp_near_ceiling_db, 0) + " dB of the ceiling";
      out.push_back({.kind = "inter-sample-peaks",
                     .file = path,
                     .message = "inter-sample peaks at " + span_text(r) + ": the true peak, " +
                                fixed(r.a, 2) + " dBTP, is " + fixed(r.worst, 2) + " dB over the samples (" +
                                fixed(r.b, 2) + " dBFS), " + why +
                                ": the cutter follows the waveform between the samples, so the lathe's HF "
                                "limiter may act there; soften the top or lower the level",
                     .from_s = r.from_s,
                     .to_s = r.to_s});
    }
    if (isp.size() > kMaxListed) {
      out.push_back({.kind = "inter-sample-peaks",
                     .file = path,
                     .message = "and " + std::to_string(isp.size() - kMaxListed) +
                                " more stretches of inter-sample peaks"});
    }
  }
  if (seconds > c.side_minutes * 60.0) {
    out.push_back(
        {.kind = "side-length",
         .file = side.empty() ? std::string() : side.front(),
         .message = std::string(side.size() > 1 ? "the side" : "the side (this file)") + " is " +
                    clock_time(seconds) + " long, over " + clock_time(c.side_minutes * 60.0) +
                    " for a 12-inch at 33 1/3 rpm: the grooves must sit closer, so the cut will be "
                    "quieter and lighter in the bass; split it over more sides, or accept a quieter cut"});
  }
  return out;
}

}  // namespace tl::mastering
