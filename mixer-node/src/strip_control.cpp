#include "tl/mixer/strip_control.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "tl/protocol/ranges.h"

namespace tl::mixer {
namespace {

using protocol::Range;

// The operator's ranges name the console's sizes and its silent fader.
static_assert(protocol::kGroupBuses == dsp::kGroupBuses && protocol::kSends == dsp::kSends);
static_assert(protocol::kEqBands == std::tuple_size_v<decltype(dsp::EqParams::bands)>);
static_assert(protocol::kFaderDb.lo == dsp::kFaderOffDb);

//! One settable value: its key, range and where it goes.
struct Key {
  const char* name;
  Range range;
  std::function<void(float)> set;
};

//! Validates every key and value first, then applies them all (all or nothing).
Result<std::string> apply(const std::string& what, const std::vector<Key>& keys,
                          const proto::SetStrip& change) {
  std::vector<std::pair<const Key*, float>> todo;
  std::string desc = what;
  for (const auto& p : change.params()) {
    const Key* found = nullptr;
    for (const Key& k : keys) {
      if (p.key() == k.name) found = &k;
    }
    if (found == nullptr) {
      std::string names;
      for (const Key& k : keys) names += (names.empty() ? "" : ", ") + std::string(k.name);
      return Error{"unknown key '" + p.key() + "' for " + what + " (known: " + names + ")"};
    }
    if (!found->range.contains(p.value())) {
      return Error{fmt::format("{} {}={} is out of range ({} .. {})", what, p.key(), p.value(),
                               found->range.lo, found->range.hi)};
    }
    todo.emplace_back(found, p.value());
    desc += fmt::format(" {}={}", p.key(), p.value());
  }
  if (todo.empty()) return Error{what + ": nothing to change (give key=value pairs, on or off)"};
  for (auto& [k, v] : todo) k->set(v);
  return desc;
}

bool has_key(const proto::SetStrip& c, const char* key) {
  for (const auto& p : c.params()) {
    if (p.key() == key) return true;
  }
  return false;
}

dsp::Slope slope_of(float v) {
  return v >= 18.0f ? dsp::Slope::db24 : dsp::Slope::db12;
}
std::uint32_t slope_db(dsp::Slope s) {
  return s == dsp::Slope::db24 ? 24 : 12;
}

Result<std::string> eq_change(dsp::EqParams& eq, const proto::SetStrip& c, const std::string& who) {
  if (c.band() == 0) {
    return apply(who + " eq", {{"on", protocol::kSwitch, [&](float v) { eq.on = v != 0.0f; }}}, c);
  }
  if (c.band() > eq.bands.size())
    return Error{"eq band " + std::to_string(c.band()) + " does not exist (1-4)"};
  dsp::EqBandParams& b = eq.bands[c.band() - 1];
  dsp::EqBandParams next = b;
  bool eq_on = eq.on;
  auto r = apply(who + " eq " + std::to_string(c.band()),
                 {{"freq", protocol::kEqFreqHz, [&](float v) { next.freq_hz = v; }},
                  {"gain", protocol::kEqGainDb, [&](float v) { next.gain_db = v; }},
                  {"q", protocol::kEqQ, [&](float v) { next.q = v; }},
                  {"type", protocol::kEqType,
                   [&](float v) {
                     next.type = v < 0.5f   ? dsp::BandType::low_shelf
                                 : v < 1.5f ? dsp::BandType::peaking
                                            : dsp::BandType::high_shelf;
                   }},
                  {"on", protocol::kSwitch, [&](float v) { next.on = v != 0.0f; }}},
                 c);
  if (!r) return r;
  if (!has_key(c, "on")) next.on = true;
  if (next.on) eq_on = true;  // touching a band switches the EQ in
  b = next;
  eq.on = eq_on;
  return r;
}

Result<std::string> comp_change(bool& on, dsp::CompressorParams& comp, const proto::SetStrip& c,
                                const std::string& who) {
  dsp::CompressorParams next = comp;
  bool next_on = on;
  auto r = apply(who + " comp",
                 {{"threshold", protocol::kCompThresholdDb, [&](float v) { next.threshold_db = v; }},
                  {"ratio", protocol::kCompRatio, [&](float v) { next.ratio = v; }},
                  {"attack", protocol::kCompAttackMs, [&](float v) { next.attack_ms = v; }},
                  {"release", protocol::kCompReleaseMs, [&](float v) { next.release_ms = v; }},
                  {"makeup", protocol::kCompMakeupDb, [&](float v) { next.makeup_db = v; }},
                  {"knee", protocol::kCompKneeDb, [&](float v) { next.knee_db = v; }},
                  {"detect", protocol::kCompDetect,
                   [&](float v) { next.detection = v != 0.0f ? dsp::Detection::rms : dsp::Detection::peak; }},
                  {"sc-hpf", protocol::kCompScHpfHz, [&](float v) { next.sidechain_hpf_hz = v; }},
                  {"on", protocol::kSwitch, [&](float v) { next_on = v != 0.0f; }}},
                 c);
  if (!r) return r;
  if (!has_key(c, "on")) next_on = true;
  comp = next;
  on = next_on;
  return r;
}

void fill_eq(const dsp::EqParams& eq, proto::StripState& out) {
  out.set_eq_on(eq.on);
  for (std::size_t i = 0; i < eq.bands.size(); ++i) {
    auto* b = out.add_eq();
    b->set_band(static_cast<std::uint32_t>(i + 1));
    b->set_type(std::string(dsp::name_of(eq.bands[i].type)));
    b->set_freq_hz(eq.bands[i].freq_hz);
    b->set_gain_db(eq.bands[i].gain_db);
    b->set_q(eq.bands[i].q);
    b->set_on(eq.bands[i].on);
  }
}

void fill_comp(bool on, const dsp::CompressorParams& c, proto::CompSettings& out) {
  out.set_on(on);
  out.set_threshold_db(c.threshold_db);
  out.set_ratio(c.ratio);
  out.set_attack_ms(c.attack_ms);
  out.set_release_ms(c.release_ms);
  out.set_makeup_db(c.makeup_db);
  out.set_knee_db(c.knee_db);
  out.set_rms(c.detection == dsp::Detection::rms);
  out.set_sc_hpf_hz(c.sidechain_hpf_hz);
}

float clampf(float v, Range r) {
  return std::isfinite(v) ? std::clamp(v, r.lo, r.hi) : r.lo;
}

// Anything but a shelf's name is a peaking band (the control side checked the name).
dsp::BandType type_of(const std::string& name) {
  return dsp::band_type_named(name).value_or(dsp::BandType::peaking);
}

void eq_from(const proto::StripState& s, dsp::EqParams& eq) {
  eq.on = s.eq_on();
  for (const auto& b : s.eq()) {
    if (b.band() < 1 || b.band() > eq.bands.size()) continue;
    dsp::EqBandParams& d = eq.bands[b.band() - 1];
    d.type = type_of(b.type());
    d.freq_hz = clampf(b.freq_hz(), protocol::kEqFreqHz);
    d.gain_db = clampf(b.gain_db(), protocol::kEqGainDb);
    d.q = clampf(b.q(), protocol::kEqQ);
    d.on = b.on();
  }
}

void comp_from(const proto::CompSettings& c, bool& on, dsp::CompressorParams& d) {
  on = c.on();
  d.threshold_db = clampf(c.threshold_db(), protocol::kCompThresholdDb);
  d.ratio = clampf(c.ratio(), protocol::kCompRatio);
  d.attack_ms = clampf(c.attack_ms(), protocol::kCompAttackMs);
  d.release_ms = clampf(c.release_ms(), protocol::kCompReleaseMs);
  d.makeup_db = clampf(c.makeup_db(), protocol::kCompMakeupDb);
  d.knee_db = clampf(c.knee_db(), protocol::kCompKneeDb);
  d.detection = c.rms() ? dsp::Detection::rms : dsp::Detection::peak;
  d.sidechain_hpf_hz = clampf(c.sc_hpf_hz(), protocol::kCompScHpfHz);
}

}  // namespace

dsp::StripParams strip_params_from_state(const proto::StripState& s, double fs,
                                         std::int32_t max_delay_samples) {
  (void)fs;
  dsp::StripParams p;
  p.trim_db = clampf(s.trim_db(), protocol::kTrimDb);
  p.phase_invert = s.phase_invert();
  p.delay_samples = std::clamp(s.delay_samples(), 0, max_delay_samples);
  p.hpf_on = s.hpf().on();
  p.hpf_hz = clampf(s.hpf().freq_hz(), protocol::kFilterFreqHz);
  p.hpf_slope = slope_of(static_cast<float>(s.hpf().slope_db()));
  p.lpf_on = s.lpf().on();
  p.lpf_hz = clampf(s.lpf().freq_hz(), protocol::kFilterFreqHz);
  p.lpf_slope = slope_of(static_cast<float>(s.lpf().slope_db()));
  eq_from(s, p.eq);
  const auto& g = s.gate();
  p.gate_on = g.on();
  p.gate.threshold_db = clampf(g.threshold_db(), protocol::kGateThresholdDb);
  p.gate.range_db = clampf(g.range_db(), protocol::kGateRangeDb);
  p.gate.ratio = clampf(g.ratio(), protocol::kGateRatio);
  p.gate.attack_ms = clampf(g.attack_ms(), protocol::kGateAttackMs);
  p.gate.hold_ms = clampf(g.hold_ms(), protocol::kGateHoldMs);
  p.gate.release_ms = clampf(g.release_ms(), protocol::kGateReleaseMs);
  comp_from(s.comp(), p.comp_on, p.comp);
  p.route = static_cast<std::uint8_t>(std::min<std::uint32_t>(s.route(), dsp::kGroupBuses));
  for (const auto& send : s.sends()) {
    if (send.send() < 1 || send.send() > dsp::kSends) continue;
    dsp::SendParams& d = p.sends[send.send() - 1];
    d.on = send.on();
    d.level_db = clampf(send.level_db(), protocol::kFaderDb);
    d.pre = send.pre();
  }
  return p;
}

dsp::MasterParams master_params_from_state(const proto::StripState& s) {
  dsp::MasterParams p = dsp::MasterParams{};
  eq_from(s, p.bus.eq);
  comp_from(s.comp(), p.bus.comp_on, p.bus.comp);
  p.limiter_on = s.limiter_on();
  p.limiter.ceiling_dbtp = clampf(s.ceiling_dbtp(), protocol::kLimiterCeilingDbtp);
  p.limiter.release_ms = clampf(s.limiter_release_ms(), protocol::kLimiterReleaseMs);
  return p;
}

Result<std::string> apply_strip_change(dsp::StripParams& p, const proto::SetStrip& c, double fs,
                                       std::int32_t max_delay_samples) {
  const std::string& s = c.section();
  const std::string who = c.target();
  if (s == "trim") {
    return apply(who + " trim", {{"db", protocol::kTrimDb, [&](float v) { p.trim_db = v; }}}, c);
  }
  if (s == "phase") {
    return apply(who + " phase", {{"on", protocol::kSwitch, [&](float v) { p.phase_invert = v != 0.0f; }}},
                 c);
  }
  if (s == "delay") {
    const float max_ms = static_cast<float>(max_delay_samples * 1000.0 / fs);
    return apply(
        who + " delay",
        {{"samples",
          {0.0f, static_cast<float>(max_delay_samples)},
          [&](float v) { p.delay_samples = static_cast<std::int32_t>(std::lround(v)); }},
         {"ms",
          {0.0f, max_ms},
          [&](float v) { p.delay_samples = static_cast<std::int32_t>(std::lround(v * fs / 1000.0)); }}},
        c);
  }
  if (s == "hpf" || s == "lpf") {
    const bool hp = s == "hpf";
    bool on = hp ? p.hpf_on : p.lpf_on;
    float hz = hp ? p.hpf_hz : p.lpf_hz;
    dsp::Slope slope = hp ? p.hpf_slope : p.lpf_slope;
    auto r = apply(who + " " + s,
                   {{"freq", protocol::kFilterFreqHz, [&](float v) { hz = v; }},
                    {"slope", protocol::kFilterSlopeDb, [&](float v) { slope = slope_of(v); }},
                    {"on", protocol::kSwitch, [&](float v) { on = v != 0.0f; }}},
                   c);
    if (!r) return r;
    if (!has_key(c, "on")) on = true;
    (hp ? p.hpf_on : p.lpf_on) = on;
    (hp ? p.hpf_hz : p.lpf_hz) = hz;
    (hp ? p.hpf_slope : p.lpf_slope) = slope;
    return r;
  }
  if (s == "eq") return eq_change(p.eq, c, who);
  if (s == "comp") return comp_change(p.comp_on, p.comp, c, who);
  if (s == "gate") {
    dsp::GateParams g = p.gate;
    bool on = p.gate_on;
    auto r = apply(who + " gate",
                   {{"threshold", protocol::kGateThresholdDb, [&](float v) { g.threshold_db = v; }},
                    {"range", protocol::kGateRangeDb, [&](float v) { g.range_db = v; }},
                    {"ratio", protocol::kGateRatio, [&](float v) { g.ratio = v; }},
                    {"attack", protocol::kGateAttackMs, [&](float v) { g.attack_ms = v; }},
                    {"hold", protocol::kGateHoldMs, [&](float v) { g.hold_ms = v; }},
                    {"release", protocol::kGateReleaseMs, [&](float v) { g.release_ms = v; }},
                    {"on", protocol::kSwitch, [&](float v) { on = v != 0.0f; }}},
                   c);
    if (!r) return r;
    if (!has_key(c, "on")) on = true;
    p.gate = g;
    p.gate_on = on;
    return r;
  }
  if (s == "route") {
    return apply(
        who + " route",
        {{"to", protocol::kRoute, [&](float v) { p.route = static_cast<std::uint8_t>(std::lround(v)); }}}, c);
  }
  if (s == "send") {
    if (c.band() < 1 || c.band() > dsp::kSends) {
      return Error{"send " + std::to_string(c.band()) + " does not exist (1: fx1 reverb, 2: fx2 delay)"};
    }
    dsp::SendParams next = p.sends[c.band() - 1];
    auto r = apply(who + " send " + std::to_string(c.band()),
                   {{"level", protocol::kFaderDb, [&](float v) { next.level_db = v; }},
                    {"pre", protocol::kSwitch, [&](float v) { next.pre = v != 0.0f; }},
                    {"on", protocol::kSwitch, [&](float v) { next.on = v != 0.0f; }}},
                   c);
    if (!r) return r;
    if (!has_key(c, "on")) next.on = true;
    p.sends[c.band() - 1] = next;
    return r;
  }
  return Error{"unknown strip section '" + s +
               "' (trim, phase, delay, hpf, lpf, eq, comp, gate, route, send)"};
}

Result<std::size_t> bus_index(const std::string& target) {
  for (std::size_t b = 0; b < dsp::kGroupBuses; ++b) {
    if (target == "bus" + std::to_string(b + 1)) return b;
  }
  for (std::size_t k = 0; k < dsp::kSends; ++k) {
    if (target == "fx" + std::to_string(k + 1)) return dsp::kGroupBuses + k;
  }
  return Error{"no bus '" + target + "' (bus1-bus" + std::to_string(dsp::kGroupBuses) +
               ", fx1 reverb, fx2 delay)"};
}

std::string bus_name(std::size_t index) {
  return index < dsp::kGroupBuses ? "bus" + std::to_string(index + 1)
                                  : "fx" + std::to_string(index - dsp::kGroupBuses + 1);
}

Result<std::string> apply_bus_change(BusSettings& b, std::size_t index, const proto::SetStrip& c) {
  const std::string& s = c.section();
  const std::string who = bus_name(index);
  if (s == "eq") return eq_change(b.bus.eq, c, who);
  if (s == "comp") return comp_change(b.bus.comp_on, b.bus.comp, c, who);
  if (s == "fader") {
    return apply(who + " fader", {{"db", protocol::kFaderDb, [&](float v) { b.bus.fader_db = v; }}}, c);
  }
  if (s == "mute") {
    return apply(who + " mute", {{"on", protocol::kSwitch, [&](float v) { b.bus.mute = v != 0.0f; }}}, c);
  }
  if (s == "reverb" && index == dsp::kGroupBuses) {
    dsp::ReverbParams& r = b.reverb;
    return apply(who + " reverb",
                 {{"decay", protocol::kReverbDecayS, [&](float v) { r.rt60_s = v; }},
                  {"predelay", protocol::kReverbPredelayMs, [&](float v) { r.predelay_ms = v; }},
                  {"damping", protocol::kDampingHz, [&](float v) { r.damping_hz = v; }},
                  {"level", protocol::kFaderDb, [&](float v) { r.level_db = v; }}},
                 c);
  }
  if (s == "delay" && index == dsp::kGroupBuses + 1) {
    dsp::TempoDelayParams& d = b.delay;
    return apply(who + " delay",
                 {{"bpm", protocol::kDelayBpm, [&](float v) { d.bpm = v; }},
                  {"division", protocol::kDelayDivision,
                   [&](float v) { d.division = static_cast<dsp::NoteDivision>(std::lround(v)); }},
                  {"feedback", protocol::kDelayFeedback, [&](float v) { d.feedback = v; }},
                  {"damping", protocol::kDampingHz, [&](float v) { d.damping_hz = v; }},
                  {"level", protocol::kFaderDb, [&](float v) { d.level_db = v; }},
                  {"pingpong", protocol::kSwitch, [&](float v) { d.ping_pong = v != 0.0f; }}},
                 c);
  }
  const char* effect = index == dsp::kGroupBuses       ? ", reverb"
                       : index == dsp::kGroupBuses + 1 ? ", delay"
                                                       : "";
  return Error{"unknown section '" + s + "' for " + who + " (eq, comp, fader, mute" + effect + ")"};
}

Result<std::string> apply_master_change(dsp::MasterParams& p, const proto::SetStrip& c) {
  const std::string& s = c.section();
  if (s == "eq") return eq_change(p.bus.eq, c, "master");
  if (s == "comp") return comp_change(p.bus.comp_on, p.bus.comp, c, "master");
  if (s == "limiter") {
    dsp::LimiterParams l = p.limiter;
    bool on = p.limiter_on;
    auto r = apply("master limiter",
                   {{"ceiling", protocol::kLimiterCeilingDbtp, [&](float v) { l.ceiling_dbtp = v; }},
                    {"release", protocol::kLimiterReleaseMs, [&](float v) { l.release_ms = v; }},
                    {"on", protocol::kSwitch, [&](float v) { on = v != 0.0f; }}},
                   c);
    if (!r) return r;
    if (!has_key(c, "on")) on = true;
    p.limiter = l;
    p.limiter_on = on;
    return r;
  }
  return Error{"unknown master section '" + s + "' (eq, comp, limiter)"};
}

void fill_strip_state(const dsp::StripParams& p, double fs, proto::StripState& out) {
  out.set_trim_db(p.trim_db);
  out.set_phase_invert(p.phase_invert);
  out.set_delay_samples(p.delay_samples);
  out.set_delay_ms(p.delay_samples * 1000.0 / fs);
  out.mutable_hpf()->set_on(p.hpf_on);
  out.mutable_hpf()->set_freq_hz(p.hpf_hz);
  out.mutable_hpf()->set_slope_db(slope_db(p.hpf_slope));
  out.mutable_lpf()->set_on(p.lpf_on);
  out.mutable_lpf()->set_freq_hz(p.lpf_hz);
  out.mutable_lpf()->set_slope_db(slope_db(p.lpf_slope));
  fill_eq(p.eq, out);
  auto* g = out.mutable_gate();
  g->set_on(p.gate_on);
  g->set_threshold_db(p.gate.threshold_db);
  g->set_range_db(p.gate.range_db);
  g->set_ratio(p.gate.ratio);
  g->set_attack_ms(p.gate.attack_ms);
  g->set_hold_ms(p.gate.hold_ms);
  g->set_release_ms(p.gate.release_ms);
  fill_comp(p.comp_on, p.comp, *out.mutable_comp());
  out.set_route(p.route);
  for (std::size_t k = 0; k < p.sends.size(); ++k) {
    auto* send = out.add_sends();
    send->set_send(static_cast<std::uint32_t>(k + 1));
    send->set_on(p.sends[k].on);
    send->set_level_db(p.sends[k].level_db);
    send->set_pre(p.sends[k].pre);
  }
}

static const char* division_name(dsp::NoteDivision d) {
  switch (d) {
    case dsp::NoteDivision::whole:
      return "1/1";
    case dsp::NoteDivision::half:
      return "1/2";
    case dsp::NoteDivision::quarter:
      return "1/4";
    case dsp::NoteDivision::eighth:
      return "1/8";
    case dsp::NoteDivision::sixteenth:
      return "1/16";
    case dsp::NoteDivision::dotted_quarter:
      return "1/4d";
    case dsp::NoteDivision::dotted_eighth:
      return "1/8d";
    case dsp::NoteDivision::triplet_quarter:
      return "1/4t";
    case dsp::NoteDivision::triplet_eighth:
      return "1/8t";
  }
  return "1/8";
}

void fill_bus_state(const BusSettings& b, std::size_t index, proto::StripState& out) {
  out.set_target(bus_name(index));
  fill_eq(b.bus.eq, out);
  fill_comp(b.bus.comp_on, b.bus.comp, *out.mutable_comp());
  out.set_fader_db(b.bus.fader_db);
  out.set_mute(b.bus.mute);
  if (index == dsp::kGroupBuses) {
    auto* r = out.mutable_reverb();
    r->set_decay_s(b.reverb.rt60_s);
    r->set_predelay_ms(b.reverb.predelay_ms);
    r->set_damping_hz(b.reverb.damping_hz);
    r->set_level_db(b.reverb.level_db);
  }
  if (index == dsp::kGroupBuses + 1) {
    auto* d = out.mutable_delay();
    d->set_bpm(b.delay.bpm);
    d->set_division(division_name(b.delay.division));
    d->set_feedback(b.delay.feedback);
    d->set_damping_hz(b.delay.damping_hz);
    d->set_level_db(b.delay.level_db);
    d->set_ping_pong(b.delay.ping_pong);
  }
}

BusSettings bus_settings_from_state(const proto::StripState& s) {
  BusSettings b;
  eq_from(s, b.bus.eq);
  comp_from(s.comp(), b.bus.comp_on, b.bus.comp);
  b.bus.fader_db = clampf(s.fader_db(), protocol::kFaderDb);
  b.bus.mute = s.mute();
  if (s.has_reverb()) {
    b.reverb.rt60_s = clampf(s.reverb().decay_s(), protocol::kReverbDecayS);
    b.reverb.predelay_ms = clampf(s.reverb().predelay_ms(), protocol::kReverbPredelayMs);
    b.reverb.damping_hz = clampf(s.reverb().damping_hz(), protocol::kDampingHz);
    b.reverb.level_db = clampf(s.reverb().level_db(), protocol::kFaderDb);
  }
  if (s.has_delay()) {
    b.delay.bpm = clampf(s.delay().bpm(), protocol::kDelayBpm);
    for (int d = 0; d <= 8; ++d) {
      if (s.delay().division() == division_name(static_cast<dsp::NoteDivision>(d)))
        b.delay.division = static_cast<dsp::NoteDivision>(d);
    }
    b.delay.feedback = clampf(s.delay().feedback(), protocol::kDelayFeedback);
    b.delay.damping_hz = clampf(s.delay().damping_hz(), protocol::kDampingHz);
    b.delay.level_db = clampf(s.delay().level_db(), protocol::kFaderDb);
    b.delay.ping_pong = s.delay().ping_pong();
  }
  return b;
}

void fill_master_state(const dsp::MasterParams& p, proto::StripState& out) {
  out.set_target("master");
  fill_eq(p.bus.eq, out);
  fill_comp(p.bus.comp_on, p.bus.comp, *out.mutable_comp());
  out.set_limiter_on(p.limiter_on);
  out.set_ceiling_dbtp(p.limiter.ceiling_dbtp);
  out.set_limiter_release_ms(p.limiter.release_ms);
}

ChannelMix channel_mix_from_state(const proto::StripState& state) {
  const auto& ci = state.channel();
  return ChannelMix{.gain_db = std::isfinite(ci.gain_db()) ? clampf(ci.gain_db(), protocol::kGainDb) : 0.0f,
                    .pan = std::isfinite(ci.pan()) ? clampf(ci.pan(), protocol::kPan) : 0.0f,
                    .mute = ci.mute(),
                    .solo = ci.solo()};
}

std::vector<MixCommand> strip_commands(const proto::StripState& state, std::uint16_t node,
                                       std::uint16_t channel, double sample_rate,
                                       std::int32_t max_delay_samples, std::uint32_t id) {
  const ChannelMix mix = channel_mix_from_state(state);
  MixCommand strip{.kind = MixCommand::Kind::Strip, .id = id, .node = node, .channel = channel};
  strip.strip = strip_params_from_state(state, sample_rate, max_delay_samples);
  return {
      strip,
      {.kind = MixCommand::Kind::Gain,
       .node = node,
       .channel = channel,
       .value = mix.gain_db <= protocol::kGainDb.lo ? 0.0f : db_to_gain(mix.gain_db)},
      {.kind = MixCommand::Kind::Pan, .node = node, .channel = channel, .value = mix.pan},
      {.kind = MixCommand::Kind::Mute, .node = node, .channel = channel, .value = mix.mute ? 1.0f : 0.0f},
      {.kind = MixCommand::Kind::Solo, .node = node, .channel = channel, .value = mix.solo ? 1.0f : 0.0f}};
}

std::vector<MixCommand> bus_commands(std::size_t index, const BusSettings& settings, std::uint32_t id) {
  MixCommand bus{.kind = MixCommand::Kind::Bus, .id = id};
  bus.bus = static_cast<std::uint8_t>(index);
  bus.bus_params = settings.bus;
  std::vector<MixCommand> out{bus};
  if (index == dsp::kGroupBuses) {
    MixCommand fx{.kind = MixCommand::Kind::Reverb};
    fx.reverb = settings.reverb;
    out.push_back(fx);
  } else if (index == dsp::kGroupBuses + 1) {
    MixCommand fx{.kind = MixCommand::Kind::Delay};
    fx.delay = settings.delay;
    out.push_back(fx);
  }
  return out;
}

MixCommand master_command(const dsp::MasterParams& params, std::uint32_t id) {
  MixCommand m{.kind = MixCommand::Kind::Master, .id = id};
  m.master = params;
  return m;
}

}  // namespace tl::mixer
