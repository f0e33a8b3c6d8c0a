#include "tl/mastering/reference_match.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <span>

#include "text.h"
#include "tl/mastering/audio_file.h"

namespace tl::mastering {
namespace {

constexpr double kToneQ = 3.0;  // third-octave centres, sections a little wider than a third
constexpr double kMaxSectionDb = 18.0;
constexpr int kFitRounds = 200;
constexpr double kFitStep = 0.5;
// A side this far under the mid is a mono recording: no side to shape or widen.
constexpr double kMonoSideDb = -60.0;

double db_of(double power) {
  return 10.0 * std::log10(std::max(power, 1e-30));
}

// |H|^2 of a biquad at the frequency whose cos(w) and cos(2w) are given.
double power_response(const dsp::BiquadCoeffs& c, double cos1, double cos2) {
  const double num = c.b0 * c.b0 + c.b1 * c.b1 + c.b2 * c.b2 + 2.0 * (c.b0 * c.b1 + c.b1 * c.b2) * cos1 +
                     2.0 * c.b0 * c.b2 * cos2;
  const double den = 1.0 + c.a1 * c.a1 + c.a2 * c.a2 + 2.0 * (c.a1 + c.a1 * c.a2) * cos1 + 2.0 * c.a2 * cos2;
  return num / den;
}

// Fits peaking sections at the band centres (gains in dB, one per usable band) so that the
// input's band levels (bins through the sections) change by wanted[b]. Returns the change
// the fitted sections make (per band, dB).
std::array<double, kSpectrumBands> fit(const Spectrum& in, const std::vector<double>& bins,
                                       const std::array<double, kSpectrumBands>& wanted, std::size_t usable,
                                       double rate, std::vector<double>& gains) {
  const auto shares = band_shares(in.bin_hz(1), bins.size());
  std::array<double, kSpectrumBands> before{};
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    double p = 0.0;
    for (const BinShare& x : shares[b]) p += x.weight * bins[x.bin];
    before[b] = db_of(p);
  }
  // Bins the sections are judged over, with cos(w) and cos(2w) worked out once.
  const std::size_t end = shares[usable - 1].empty() ? 1 : shares[usable - 1].back().bin + 1;
  std::vector<double> cos1(end), cos2(end), through(end);
  for (std::size_t k = 0; k < end; ++k) {
    const double w = 2.0 * std::numbers::pi * in.bin_hz(k) / rate;
    cos1[k] = std::cos(w);
    cos2[k] = std::cos(2.0 * w);
  }
  const double loudest = *std::max_element(before.begin(), before.begin() + static_cast<long>(usable));
  gains.assign(usable, 0.0);
  for (std::size_t b = 0; b < usable; ++b) gains[b] = wanted[b];
  std::array<double, kSpectrumBands> effect{};
  for (int round = 0; round <= kFitRounds; ++round) {
    std::fill(through.begin(), through.end(), 1.0);
    for (std::size_t j = 0; j < usable; ++j) {
      if (gains[j] == 0.0) continue;
      const auto c = dsp::BiquadCoeffs::peaking(rate, band_centre_hz(j), kToneQ, gains[j]);
      for (std::size_t k = 0; k < end; ++k) through[k] *= power_response(c, cos1[k], cos2[k]);
    }
    for (std::size_t b = 0; b < usable; ++b) {
      double p = 0.0;
      for (const BinShare& x : shares[b]) p += x.weight * bins[x.bin] * through[x.bin];
      effect[b] = db_of(p) - before[b];
    }
    if (round == kFitRounds) break;
    for (std::size_t b = 0; b < usable; ++b) {
      // A band with next to nothing in it says nothing about the curve there.
      if (before[b] < loudest - 80.0 || shares[b].empty()) continue;
      gains[b] = std::clamp(gains[b] + kFitStep * (wanted[b] - effect[b]), -kMaxSectionDb, kMaxSectionDb);
    }
  }
  return effect;
}

double mean_of(const std::vector<double>& v) {
  double s = 0.0;
  for (const double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace

Result<MatchAmounts> parse_match(std::string_view spec) {
  MatchAmounts a{0.0, 0.0, 0.0, 0.0};
  if (spec.empty()) return Error{"--match: name the aspects to match (level, tone, width, limiter)"};
  for (std::size_t at = 0; at <= spec.size();) {
    const std::size_t end = std::min(spec.find(',', at), spec.size());
    const std::string_view item = spec.substr(at, end - at);
    const std::size_t colon = item.find(':');
    const std::string_view name = item.substr(0, colon);
    double percent = 100.0;
    if (colon != std::string_view::npos) {
      const std::string_view number = item.substr(colon + 1);
      const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), percent);
      if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || !(percent >= 0.0) ||
          percent > 100.0) {
        return Error{"--match: '" + std::string(item) + "': the amount is a percentage from 0 to 100"};
      }
    }
    double* slot = name == "level"     ? &a.level
                   : name == "tone"    ? &a.tone
                   : name == "width"   ? &a.width
                   : name == "limiter" ? &a.limiter
                                       : nullptr;
    if (slot == nullptr) {
      return Error{"--match: no aspect '" + std::string(name) + "' (level, tone, width or limiter)"};
    }
    *slot = percent / 100.0;
    at = end + 1;
  }
  return a;
}

Result<Recording> measure_recording(const std::string& path, const Progress& progress) {
  auto reader = AudioReader::open(path);
  if (!reader) return Error{reader.error()};
  const AudioInfo& info = (*reader)->info();
  if (info.channels > Analyzer::kMaxChannels) {
    return Error{"'" + path + "' has " + std::to_string(info.channels) +
                 " channels: tl-master measures and masters mono or stereo files"};
  }
  // One pass feeds both: the loudness and the spectrum.
  Analyzer loudness;
  loudness.prepare(info.rate, info.channels);
  SpectrumAnalyzer spectrum;
  spectrum.prepare(info.rate, info.channels);
  std::vector<float> block(kFileBlock * info.channels);
  const std::string stage = "measuring " + path;
  std::int64_t done = 0;
  for (std::size_t n; (n = (*reader)->read(block)) > 0;) {
    const auto got = std::span<const float>(block).first(n * info.channels);
    loudness.process(got);
    spectrum.add(got, n);
    done += static_cast<std::int64_t>(n);
    if (progress && info.frames > 0)
      progress(static_cast<double>(done) / static_cast<double>(info.frames), stage);
  }
  if (done < info.frames) {
    return Error{"'" + path + "' is cut short: its header promises " + std::to_string(info.frames) +
                 " frames, " + std::to_string(done) + " could be read"};
  }
  Recording r{.path = path, .loudness = loudness.finish()};
  if (r.loudness.integrated_lufs <= -70.0) return Error{"'" + path + "' is silent: nothing to match"};
  if (done == 0) return Error{"'" + path + "' holds no audio"};
  r.spectrum = spectrum.result();
  return r;
}

Result<MatchPlan> plan_match(const Recording& input, const std::vector<Recording>& references,
                             const MatchAmounts& amounts, const MasterSettings& settings) {
  if (references.empty()) return Error{"matching needs a reference recording"};
  MatchPlan plan;
  plan.amounts = amounts;
  const double rate = input.spectrum.rate;
  plan.stereo = input.spectrum.side_to_mid_db() > kMonoSideDb;
  // The references as one: their loudness, density and width as means, their tone shapes'
  // mean (each shape already leaves its level out).
  std::vector<double> lufs, plr, widths;
  for (const Recording& r : references) {
    lufs.push_back(r.loudness.integrated_lufs);
    plr.push_back(r.loudness.plr());
    widths.push_back(r.spectrum.side_to_mid_db());
    const auto mid = tone_shape(r.spectrum.mid_db), side = tone_shape(r.spectrum.side_db);
    for (std::size_t b = 0; b < kSpectrumBands; ++b) {
      plan.reference_mid[b] += mid[b] / static_cast<double>(references.size());
      plan.reference_side[b] += side[b] / static_cast<double>(references.size());
    }
    plan.references.push_back(r.path);
  }
  plan.reference_lufs = mean_of(lufs);
  plan.reference_plr_db = mean_of(plr);
  plan.reference_side_to_mid_db = mean_of(widths);
  plan.input_lufs = input.loudness.integrated_lufs;
  plan.input_side_to_mid_db = input.spectrum.side_to_mid_db();
  plan.input_mid = tone_shape(input.spectrum.mid_db);
  plan.input_side = tone_shape(input.spectrum.side_db);

  // Tone: the bands the input's rate can carry.
  std::size_t usable = 0;
  while (usable < kSpectrumBands && band_centre_hz(usable) < 0.45 * rate) ++usable;
  std::array<double, kSpectrumBands> mid_effect{}, side_effect{};
  if (amounts.tone > 0.0 && usable > 0) {
    for (std::size_t b = 0; b < usable; ++b) {
      plan.wanted_mid[b] =
          amounts.tone * std::clamp(plan.reference_mid[b] - plan.input_mid[b], -kMaxToneDb, kMaxToneDb);
      if (plan.stereo) {
        plan.wanted_side[b] =
            amounts.tone * std::clamp(plan.reference_side[b] - plan.input_side[b], -kMaxToneDb, kMaxToneDb);
      }
    }
    ToneCurve curve{.q = kToneQ};
    std::vector<double> mid_gains, side_gains(usable, 0.0);
    mid_effect = fit(input.spectrum, input.spectrum.mid_bins, plan.wanted_mid, usable, rate, mid_gains);
    if (plan.stereo) {
      side_effect = fit(input.spectrum, input.spectrum.side_bins, plan.wanted_side, usable, rate, side_gains);
    }
    for (std::size_t b = 0; b < usable; ++b) curve.freq_hz.push_back(band_centre_hz(b));
    curve.mid_db = std::move(mid_gains);
    curve.side_db = std::move(side_gains);
    plan.curve = std::move(curve);
  }
  plan.fitted_mid = mid_effect;
  plan.fitted_side = side_effect;

  // Width: the side's level after the curve, brought to the blend of the input's and the
  // references' (so the curve alone never widens or narrows).
  if (plan.stereo) {
    double mid = 0.0, side = 0.0;
    for (std::size_t b = 0; b < kSpectrumBands; ++b) {
      if (!in_judged_range(b)) continue;
      mid += std::pow(10.0, (input.spectrum.mid_db[b] + mid_effect[b]) / 10.0);
      side += std::pow(10.0, (input.spectrum.side_db[b] + side_effect[b]) / 10.0);
    }
    const double after_curve = db_of(side) - db_of(mid);
    const double wanted = plan.input_side_to_mid_db +
                          amounts.width * (plan.reference_side_to_mid_db - plan.input_side_to_mid_db);
    plan.width = std::clamp(std::pow(10.0, (wanted - after_curve) / 20.0), 0.0, ChainSettings::kMaxWidth);
  }
  plan.target_lufs = settings.target_lufs + amounts.level * (plan.reference_lufs - settings.target_lufs);
  // As dense as the references: a ceiling their PLR above the target, never over the delivery's.
  const double dense = plan.target_lufs + plan.reference_plr_db;
  plan.ceiling_dbtp = std::min(settings.ceiling_dbtp,
                               settings.ceiling_dbtp + amounts.limiter * (dense - settings.ceiling_dbtp));
  if (plan.ceiling_dbtp < -20.0) {
    return Error{"matching the references' density (PLR " + fixed(plan.reference_plr_db, 1) + " dB) at " +
                 fixed(plan.target_lufs, 1) + " LUFS needs a ceiling of " + fixed(plan.ceiling_dbtp, 1) +
                 " dBTP, under -20; match the limiter less (--match ...,limiter:50)"};
  }
  return plan;
}

void apply(const MatchPlan& plan, MasterSettings& settings) {
  if (!plan.curve.freq_hz.empty()) settings.chain.tone = plan.curve;
  settings.chain.width = std::min(settings.chain.width * plan.width, ChainSettings::kMaxWidth);
  settings.target_lufs = plan.target_lufs;
  settings.ceiling_dbtp = plan.ceiling_dbtp;
}

MatchResult judge(const MatchPlan& plan, const Spectrum& output) {
  MatchResult r;
  r.output_mid = tone_shape(output.mid_db);
  r.output_side = tone_shape(output.side_db);
  r.output_side_to_mid_db = output.side_to_mid_db();
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    if (!in_judged_range(b) || band_centre_hz(b) >= 0.45 * output.rate) continue;
    r.worst_mid_db = std::max(r.worst_mid_db, std::fabs(r.output_mid[b] - plan.reference_mid[b]));
    if (plan.stereo)
      r.worst_side_db = std::max(r.worst_side_db, std::fabs(r.output_side[b] - plan.reference_side[b]));
  }
  return r;
}

std::string describe(const MatchPlan& plan) {
  const auto percent = [](double a) {
    return std::to_string(static_cast<int>(std::lround(100.0 * a))) + "%";
  };
  std::string out = "  matched to";
  for (const auto& r : plan.references) {
    out += ' ';
    out += r;
  }
  out += " (";
  out += fixed(plan.reference_lufs, 1);
  out += " LUFS, PLR ";
  out += fixed(plan.reference_plr_db, 1);
  out += " dB, side ";
  out += fixed(plan.reference_side_to_mid_db, 1);
  out += " dB against the mid)\n  level ";
  out += percent(plan.amounts.level);
  out += ": target ";
  out += fixed(plan.target_lufs, 1);
  out += " LUFS (the input ";
  out += fixed(plan.input_lufs, 1);
  out += ")\n  tone ";
  out += percent(plan.amounts.tone);
  if (plan.curve.freq_hz.empty()) {
    out += ": unchanged\n";
  } else {
    // The curve's effect at the octave centres (every third band from 31.5 Hz).
    for (int part = 0; part < (plan.stereo ? 2 : 1); ++part) {
      out += part == 0 ? ": mid " : "\n          side";
      const auto& effect = part == 0 ? plan.fitted_mid : plan.fitted_side;
      for (std::size_t b = 1; b < plan.curve.freq_hz.size(); b += 3) {
        const double hz = band_centre_hz(b);
        out += ' ';
        out += hz >= 1000.0 ? fixed(hz / 1000.0, hz < 10000.0 ? 1 : 0) + "k" : fixed(hz, 0);
        out += effect[b] >= 0.0 ? " +" : " ";
        out += fixed(effect[b], 1);
      }
    }
    out += " dB\n";
  }
  out += "  width ";
  out += percent(plan.amounts.width);
  if (plan.stereo) {
    out += ": side x";
    out += fixed(plan.width, 2);
    out += " (the input's side ";
    out += fixed(plan.input_side_to_mid_db, 1);
    out += " dB against the mid)\n";
  } else {
    out += ": the input is mono, nothing to widen\n";
  }
  out += "  limiter ";
  out += percent(plan.amounts.limiter);
  out += ": ceiling ";
  out += fixed(plan.ceiling_dbtp, 1);
  out += " dBTP\n";
  return out;
}

}  // namespace tl::mastering
