#include "tl/mastering/chain.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "mid_side.h"
#include "text.h"

namespace tl::mastering {
namespace {

std::vector<std::string_view> fields(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t at = 0;;) {
    const std::size_t end = s.find(sep, at);
    out.push_back(s.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (end == std::string_view::npos) return out;
    at = end + 1;
  }
}

std::optional<double> number(std::string_view s, bool kilo = false) {
  double scale = 1.0;
  if (kilo && !s.empty() && (s.back() == 'k' || s.back() == 'K')) {
    scale = 1000.0;
    s.remove_suffix(1);
  }
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v * scale;
}

}  // namespace

dsp::CompressorParams band_compressor(double threshold_db, double ratio, double low_hz) {
  dsp::CompressorParams c;
  c.threshold_db = static_cast<float>(threshold_db);
  c.ratio = static_cast<float>(ratio);
  c.knee_db = 6.0f;
  c.attack_ms = low_hz < 150.0 ? 30.0f : low_hz < 2500.0 ? 15.0f : 5.0f;
  c.release_ms = low_hz < 150.0 ? 250.0f : low_hz < 2500.0 ? 150.0f : 80.0f;
  return c;
}

// Built by appending, piece by piece: GCC 12 at -O3 reads chains of string + string as
// overlapping copies (a -Wrestrict false positive).
std::string ChainSettings::describe() const {
  if (empty()) return "none";
  std::string out;
  const auto stage = [&](std::string_view name) {
    if (!out.empty()) out += ", ";
    out += name;
  };
  if (highpass_hz != 0.0) {
    stage("high-pass ");
    out += fixed(highpass_hz, 0);
    out += " Hz";
  }
  if (mono_bass_hz != 0.0) {
    stage("mono bass under ");
    out += fixed(mono_bass_hz, 0);
    out += " Hz";
  }
  if (tone) {
    stage("matched tone ");
    out += std::to_string(tone->freq_hz.size());
    out += " bands";
  }
  if (!eq.empty()) {
    stage(eq_linear ? "eq (linear phase)" : "eq");
    for (const auto& b : eq) {
      out += ' ';
      out += dsp::name_of(b.type);
      out += ':';
      out += fixed(b.freq_hz, 0);
      out += ':';
      if (b.gain_db >= 0.0f) out += '+';
      out += fixed(b.gain_db, 1);
      out += ':';
      out += fixed(b.q, 2);
    }
  }
  if (deess) {
    stage("de-esser ");
    out += fixed(deess->threshold_db, 1);
    out += " dBFS ";
    out += fixed(deess->ratio, 1);
    out += ":1 up to ";
    out += fixed(deess->range_db, 1);
    out += " dB at ";
    out += fixed(deess->low_hz / 1000.0, 1);
    out += '-';
    out += fixed(deess->high_hz / 1000.0, 1);
    out += " kHz";
  }
  if (multiband) {
    stage("multiband ");
    out += std::to_string(multiband->bands);
    out += " bands at ";
    for (std::size_t i = 0; i + 1 < multiband->bands; ++i) {
      if (i > 0) out += '/';
      out += fixed(multiband->split_hz[i], 0);
    }
    out += " Hz, ";
    out += fixed(multiband->band[0].threshold_db, 1);
    out += " dBFS ";
    out += fixed(multiband->band[0].ratio, 1);
    out += ":1";
  }
  if (width != 1.0) {
    stage("width ");
    out += fixed(width, 2);
  }
  if (saturation) {
    stage("saturation ");
    out += fixed(saturation->drive_db, 1);
    out += " dB drive, mix ";
    out += fixed(saturation->mix, 2);
    if (saturation->bias != 0.0f) {
      out += ", bias ";
      out += fixed(saturation->bias, 2);
    }
  }
  return out;
}

Result<dsp::EqBandParams> parse_eq_band(std::string_view spec) {
  const auto bad = [&](const std::string& why) {
    return Error{"--eq '" + std::string(spec) + "': " + why +
                 " (TYPE:FREQ:GAIN[:Q], e.g. peak:2.5k:-1.5:1.4)"};
  };
  const auto f = fields(spec, ':');
  if (f.size() < 3 || f.size() > 4) return bad("three or four fields");
  dsp::EqBandParams b;
  const auto type = dsp::band_type_named(f[0]);
  if (!type) return bad("the type is low-shelf, peak or high-shelf, not " + in_quotes(f[0]));
  b.type = *type;
  const auto freq = number(f[1], true);
  const auto gain = number(f[2]);
  const auto q = f.size() == 4 ? number(f[3]) : std::optional<double>(0.707);
  if (!freq) return bad(in_quotes(f[1]) + " is not a frequency");
  if (!gain) return bad(in_quotes(f[2]) + " is not a gain in dB");
  if (!q) return bad(in_quotes(f[3]) + " is not a Q");
  b.freq_hz = static_cast<float>(*freq);
  b.gain_db = static_cast<float>(*gain);
  b.q = static_cast<float>(*q);
  b.on = true;
  return b;
}

Result<dsp::MultibandParams> parse_multiband(std::string_view spec) {
  const auto bad = [&](const std::string& why) {
    return Error{"--multiband '" + std::string(spec) + "': " + why +
                 " (THRESHOLD[:RATIO[:SPLIT,SPLIT...]], e.g. -24:2:150,2500)"};
  };
  const auto f = fields(spec, ':');
  if (f.size() > 3) return bad("at most three fields");
  const auto threshold = number(f[0]);
  if (!threshold) return bad(in_quotes(f[0]) + " is not a threshold in dBFS");
  const auto ratio = f.size() > 1 ? number(f[1]) : std::optional<double>(2.0);
  if (!ratio) return bad(in_quotes(f[1]) + " is not a ratio");
  dsp::MultibandParams p;
  std::vector<double> splits{120.0, 2000.0};
  if (f.size() > 2) {
    splits.clear();
    for (std::string_view s : fields(f[2], ',')) {
      const auto hz = number(s, true);
      if (!hz) return bad(in_quotes(s) + " is not a split frequency");
      splits.push_back(*hz);
    }
    if (splits.size() > p.split_hz.size()) return bad("at most three splits (four bands)");
  }
  p.bands = splits.size() + 1;
  for (std::size_t i = 0; i < splits.size(); ++i) p.split_hz[i] = static_cast<float>(splits[i]);
  for (std::size_t b = 0; b < p.bands; ++b) {
    p.band[b] = band_compressor(*threshold, *ratio, b == 0 ? 20.0 : splits[b - 1]);
    p.band_on[b] = true;
  }
  return p;
}

Result<dsp::SaturationParams> parse_saturation(std::string_view spec) {
  const auto bad = [&](const std::string& why) {
    return Error{"--saturate '" + std::string(spec) + "': " + why + " (DRIVE[:MIX[:BIAS]], e.g. 6:0.5)"};
  };
  const auto f = fields(spec, ':');
  if (f.size() > 3) return bad("at most three fields");
  const auto drive = number(f[0]);
  if (!drive) return bad(in_quotes(f[0]) + " is not a drive in dB");
  const auto mix = f.size() > 1 ? number(f[1]) : std::optional<double>(1.0);
  if (!mix) return bad(in_quotes(f[1]) + " is not a mix (0..1)");
  const auto bias = f.size() > 2 ? number(f[2]) : std::optional<double>(0.0);
  if (!bias) return bad(in_quotes(f[2]) + " is not a bias (0..0.3)");
  return dsp::SaturationParams{.drive_db = static_cast<float>(*drive),
                               .mix = static_cast<float>(*mix),
                               .bias = static_cast<float>(*bias),
                               .compensate = true};
}

Result<dsp::DeEsserParams> parse_deess(std::string_view spec) {
  const auto bad = [&](const std::string& why) {
    return Error{"--deess '" + std::string(spec) + "': " + why +
                 " (THRESHOLD[:RATIO[:RANGE]], e.g. -24:4:6)"};
  };
  const auto f = fields(spec, ':');
  if (f.size() > 3) return bad("at most three fields");
  const auto threshold = number(f[0]);
  if (!threshold) return bad(in_quotes(f[0]) + " is not a threshold in dBFS");
  const auto ratio = f.size() > 1 ? number(f[1]) : std::optional<double>(4.0);
  if (!ratio) return bad(in_quotes(f[1]) + " is not a ratio");
  const auto range = f.size() > 2 ? number(f[2]) : std::optional<double>(6.0);
  if (!range) return bad(in_quotes(f[2]) + " is not a range in dB");
  dsp::DeEsserParams p;
  p.threshold_db = static_cast<float>(*threshold);
  p.ratio = static_cast<float>(*ratio);
  p.range_db = static_cast<float>(*range);
  return p;
}

Status check(const ChainSettings& s, double rate) {
  const double top = 0.45 * rate;
  if (s.highpass_hz != 0.0 && !(s.highpass_hz >= 10.0 && s.highpass_hz <= 200.0)) {
    return Error{"the high-pass must be between 10 and 200 Hz (or 0: none), not " + fixed(s.highpass_hz, 1)};
  }
  if (s.mono_bass_hz != 0.0 && !(s.mono_bass_hz >= 20.0 && s.mono_bass_hz <= 500.0)) {
    return Error{"mono bass must be under a frequency between 20 and 500 Hz (or 0: none), not " +
                 fixed(s.mono_bass_hz, 1)};
  }
  if (s.deess) {
    const auto& d = *s.deess;
    if (!(d.threshold_db >= -60.0f && d.threshold_db <= 0.0f)) {
      return Error{"de-esser: the threshold must be between -60 and 0 dBFS, not " + fixed(d.threshold_db, 1)};
    }
    if (!(d.ratio >= 1.0f && d.ratio <= 20.0f)) {
      return Error{"de-esser: the ratio must be between 1 and 20, not " + fixed(d.ratio, 1)};
    }
    if (!(d.range_db >= 0.0f && d.range_db <= 24.0f)) {
      return Error{"de-esser: the range must be between 0 and 24 dB, not " + fixed(d.range_db, 1)};
    }
    if (!(d.low_hz >= 1000.0f && d.high_hz > d.low_hz && d.high_hz <= top)) {
      return Error{"de-esser: the band " + fixed(d.low_hz, 0) + "-" + fixed(d.high_hz, 0) +
                   " Hz must rise from 1 kHz or more to at most " + fixed(top, 0) + " Hz at " +
                   fixed(rate, 0) + " Hz"};
    }
  }
  if (s.tone) {
    const ToneCurve& t = *s.tone;
    if (t.freq_hz.size() > ToneCurve::kMaxSections || t.mid_db.size() != t.freq_hz.size() ||
        t.side_db.size() != t.freq_hz.size()) {
      return Error{"a tone curve has one mid and one side gain per section, at most " +
                   std::to_string(ToneCurve::kMaxSections)};
    }
    for (const double hz : t.freq_hz) {
      if (!(hz >= 10.0 && hz < top)) {
        return Error{"the tone curve's section at " + fixed(hz, 0) + " Hz is over " + fixed(top, 0) +
                     " Hz at " + fixed(rate, 0) + " Hz"};
      }
    }
  }
  if (s.eq.size() > ChainSettings::kMaxEqBands) {
    return Error{"at most " + std::to_string(ChainSettings::kMaxEqBands) + " EQ bands, not " +
                 std::to_string(s.eq.size())};
  }
  for (const auto& b : s.eq) {
    const std::string name =
        "EQ band " + std::string(dsp::name_of(b.type)) + " at " + fixed(b.freq_hz, 0) + " Hz";
    if (!(b.freq_hz >= 10.0f && b.freq_hz <= top)) {
      return Error{name + ": the frequency must be between 10 Hz and " + fixed(top, 0) + " Hz at " +
                   fixed(rate, 0) + " Hz"};
    }
    if (!(std::fabs(b.gain_db) <= 24.0f)) return Error{name + ": the gain must be within +-24 dB"};
    if (!(b.q >= 0.1f && b.q <= 10.0f)) return Error{name + ": the Q must be between 0.1 and 10"};
  }
  if (s.multiband) {
    const auto& m = *s.multiband;
    if (m.bands < 2 || m.bands > 4) return Error{"multiband: 2 to 4 bands, not " + std::to_string(m.bands)};
    for (std::size_t i = 0; i + 1 < m.bands; ++i) {
      const double hz = m.split_hz[i];
      if (!(hz >= 20.0 && hz <= top)) {
        return Error{"multiband: the split at " + fixed(hz, 0) + " Hz must be between 20 Hz and " +
                     fixed(top, 0) + " Hz"};
      }
      if (i > 0 && !(hz >= 2.0 * m.split_hz[i - 1])) {
        return Error{"multiband: the splits must rise by an octave or more (" + fixed(m.split_hz[i - 1], 0) +
                     " then " + fixed(hz, 0) + " Hz)"};
      }
    }
    for (std::size_t b = 0; b < m.bands; ++b) {
      const auto& c = m.band[b];
      if (!(c.threshold_db >= -60.0f && c.threshold_db <= 0.0f)) {
        return Error{"multiband: a threshold must be between -60 and 0 dBFS, not " +
                     fixed(c.threshold_db, 1)};
      }
      if (!(c.ratio >= 1.0f && c.ratio <= 20.0f)) {
        return Error{"multiband: a ratio must be between 1 and 20, not " + fixed(c.ratio, 1)};
      }
    }
  }
  if (s.saturation) {
    const auto& p = *s.saturation;
    if (!(p.drive_db >= 0.0f && p.drive_db <= 24.0f)) {
      return Error{"saturation: the drive must be between 0 and 24 dB, not " + fixed(p.drive_db, 1)};
    }
    if (!(p.mix >= 0.0f && p.mix <= 1.0f)) {
      return Error{"saturation: the mix must be between 0 and 1, not " + fixed(p.mix, 2)};
    }
    if (!(p.bias >= 0.0f && p.bias <= 0.3f)) {
      return Error{"saturation: the bias must be between 0 and 0.3, not " + fixed(p.bias, 2)};
    }
  }
  if (!(s.width >= 0.0 && s.width <= ChainSettings::kMaxWidth)) {
    return Error{"the width must be between 0 (mono) and 2, not " + fixed(s.width, 2)};
  }
  return {};
}

void Chain::prepare(double rate, std::size_t channels, std::size_t max_block, const ChainSettings& settings) {
  settings_ = settings;
  channels_ = channels < 2 ? 1 : 2;
  const dsp::ProcessSpec spec{.sample_rate = rate, .max_block = max_block, .channels = channels_};
  for (std::size_t c = 0; c < channels_; ++c) {
    planar_[c].assign(max_block, 0.0f);
    eq_[c].assign(settings.eq.size(), dsp::EqBand{});
    for (std::size_t i = 0; i < settings.eq.size(); ++i) {
      eq_[c][i].prepare(spec);
      eq_[c][i].reset(settings.eq[i]);
    }
  }
  for (auto& hp : highpass_) {
    hp = dsp::PassFilter{};
    if (settings.highpass_hz != 0.0)
      hp.design(dsp::PassFilter::Kind::highpass, rate, settings.highpass_hz, dsp::Slope::db24);
  }
  if (settings.mono_bass_hz != 0.0 && channels_ == 2) {
    const std::array<float, 1> split{static_cast<float>(settings.mono_bass_hz)};
    mono_bass_.prepare({.sample_rate = rate, .max_block = max_block, .channels = 2}, 2, split);
    for (auto& b : bands_) b.assign(max_block, 0.0f);
  }
  if (settings.deess) deesser_.prepare(spec, *settings.deess);
  linear_eq_ = settings.eq_linear && !settings.eq.empty();
  if (linear_eq_) {
    // The bands' magnitude (their coefficients as prepared), as one linear-phase FIR.
    const auto& bands = eq_[0];
    const auto magnitude = [&](double hz) {
      double m = 1.0;
      for (const auto& b : bands) m *= dsp::magnitude(b.coeffs(), rate, hz);
      return m;
    };
    fir_.prepare(dsp::design_linear_phase(magnitude, rate, dsp::linear_phase_taps(rate)));
  }
  for (auto& sections : tone_) sections.clear();
  if (settings.tone) {
    const ToneCurve& t = *settings.tone;
    for (std::size_t i = 0; i < t.freq_hz.size(); ++i) {
      tone_[0].emplace_back(dsp::BiquadCoeffs::peaking(rate, t.freq_hz[i], t.q, t.mid_db[i]));
      if (channels_ == 2)
        tone_[1].emplace_back(dsp::BiquadCoeffs::peaking(rate, t.freq_hz[i], t.q, t.side_db[i]));
    }
  }
  if (settings.multiband) multiband_.prepare(spec, *settings.multiband);
  if (settings.saturation) saturator_.prepare(spec, *settings.saturation);
}

void Chain::to_mid_side(std::size_t frames) noexcept {
  for (std::size_t i = 0; i < frames; ++i) {
    const MidSide ms = MidSide::of(planar_[0][i], planar_[1][i]);
    planar_[0][i] = ms.mid;
    planar_[1][i] = ms.side;
  }
}

void Chain::from_mid_side(std::size_t frames) noexcept {
  for (std::size_t i = 0; i < frames; ++i) {
    const MidSide ms{.mid = planar_[0][i], .side = planar_[1][i]};
    planar_[0][i] = ms.left();
    planar_[1][i] = ms.right();
  }
}

void Chain::process(std::span<float> interleaved, std::size_t frames) noexcept {
  if (settings_.empty()) return;
  const std::size_t ch = channels_;
  for (std::size_t c = 0; c < ch; ++c) {
    for (std::size_t i = 0; i < frames; ++i) planar_[c][i] = interleaved[i * ch + c];
  }
  const auto left = std::span(planar_[0]).first(frames);
  if (settings_.highpass_hz != 0.0) {
    for (std::size_t c = 0; c < ch; ++c) highpass_[c].process(std::span(planar_[c]).first(frames));
  }
  if (ch == 2 && settings_.mono_bass_hz != 0.0) {
    // Mid and side each split in two at the frequency; the side's low band is dropped and
    // the mid's two bands summed again (the crossover's allpass: the same phase as the
    // side's high band, so the image above the split is not moved).
    for (std::size_t i = 0; i < frames; ++i) {
      const MidSide ms = MidSide::of(planar_[0][i], planar_[1][i]);
      bands_[1][i] = ms.mid;
      bands_[3][i] = ms.side;
    }
    const std::array<float*, 2> mid{bands_[0].data(), bands_[1].data()};
    const std::array<float*, 2> side{bands_[2].data(), bands_[3].data()};
    mono_bass_.split(0, std::span<const float>(bands_[1]).first(frames), mid);
    mono_bass_.split(1, std::span<const float>(bands_[3]).first(frames), side);
    for (std::size_t i = 0; i < frames; ++i) {
      const MidSide ms{.mid = bands_[0][i] + bands_[1][i], .side = bands_[3][i]};
      planar_[0][i] = ms.left();
      planar_[1][i] = ms.right();
    }
  }
  if (settings_.tone) {
    // The fitted curve works on the mid and the side (a mono file: on its one channel).
    if (ch == 2) to_mid_side(frames);
    for (std::size_t c = 0; c < ch; ++c) {
      for (auto& section : tone_[c]) section.process(std::span(planar_[c]).first(frames));
    }
    if (ch == 2) from_mid_side(frames);
  }
  if (linear_eq_) {
    fir_.process(left, ch == 2 ? std::span(planar_[1]).first(frames) : std::span<float>{});
  } else {
    for (std::size_t c = 0; c < ch; ++c) {
      for (auto& band : eq_[c]) band.process(std::span(planar_[c]).first(frames));
    }
  }
  // After the EQ (a boost up top must not escape it), before the compressors (which
  // should not pump on sibilance).
  if (settings_.deess) {
    if (ch == 2) {
      deesser_.process(left, std::span(planar_[1]).first(frames));
    } else {
      deesser_.process(left);
    }
  }
  if (settings_.multiband) {
    if (ch == 2) {
      multiband_.process(left, std::span(planar_[1]).first(frames));
    } else {
      multiband_.process(left);
    }
  }
  if (ch == 2 && settings_.width != 1.0) {
    // Mid/side: the side scaled, the mid left alone (so a mono listener hears no change).
    const auto w = static_cast<float>(settings_.width);
    for (std::size_t i = 0; i < frames; ++i) {
      MidSide ms = MidSide::of(planar_[0][i], planar_[1][i]);
      ms.side *= w;
      planar_[0][i] = ms.left();
      planar_[1][i] = ms.right();
    }
  }
  // Last, as on tape: what the stages before made of the signal drives the curve.
  if (settings_.saturation) {
    if (ch == 2) {
      saturator_.process(left, std::span(planar_[1]).first(frames));
    } else {
      saturator_.process(left);
    }
  }
  for (std::size_t c = 0; c < ch; ++c) {
    for (std::size_t i = 0; i < frames; ++i) interleaved[i * ch + c] = planar_[c][i];
  }
}

}  // namespace tl::mastering
