#include "tl/ctl/strip_format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "tl/common/text.h"
#include "tl/ctl/suggest.h"
#include "tl/ctl/target.h"
#include "tl/ctl/text.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {
namespace {

using protocol::StripKey;
using protocol::StripSection;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

//! A number with an optional unit: "2.5k", "80hz", "10ms", "-3db".
Result<float> parse_value(const std::string& key, std::string text) {
  text = ascii_lower(text);
  if (key == "detect") {
    if (text == "rms") return 1.0f;
    if (text == "peak") return 0.0f;
    return Error{"detect must be peak or rms, not '" + text + "'"};
  }
  if (key == "type") {
    if (text == "low-shelf" || text == "lowshelf" || text == "ls") return 0.0f;
    if (text == "peak" || text == "peaking" || text == "bell") return 1.0f;
    if (text == "high-shelf" || text == "highshelf" || text == "hs") return 2.0f;
    return Error{"type must be low-shelf, peak or high-shelf, not '" + text + "'"};
  }
  if (key == "to") {  // route: master or busN
    if (text == "master") return 0.0f;
    if (text.rfind("bus", 0) == 0) text = text.substr(3);
    auto n = parse_number(text);
    if (!n || n.value() != std::floor(n.value()))
      return Error{"route to master or bus1-bus8, not '" + text + "'"};
    return n.value();
  }
  if (key == "division") {
    const char* names[] = {"1/1", "1/2", "1/4", "1/8", "1/16", "1/4d", "1/8d", "1/4t", "1/8t"};
    for (int i = 0; i < 9; ++i) {
      if (text == names[i]) return static_cast<float>(i);
    }
    return Error{"division must be 1/1 1/2 1/4 1/8 1/16 1/4d 1/8d 1/4t or 1/8t, not '" + text + "'"};
  }
  if (key == "on" || key == "pre" || key == "pingpong") {
    auto s = parse_switch(text);
    if (!s) return Error{s.error()};
    return s.value() ? 1.0f : 0.0f;
  }
  float scale = 1.0f;
  for (const char* unit : {"hz", "ms", "db", "dbtp"}) {
    if (ends_with(text, unit)) text.resize(text.size() - std::char_traits<char>::length(unit));
  }
  if (ends_with(text, "k")) {
    text.pop_back();
    scale = 1000.0f;
  }
  auto v = parse_number(text);
  if (!v) return Error{"bad value for " + key + ": " + v.error()};
  return v.value() * scale;
}

std::string freq(double hz) {
  return hz >= 1000.0 ? fmt("%.3gk", hz / 1000.0) : fmt("%.0f", hz);
}

}  // namespace

Result<tl::proto::SetStrip> parse_strip_args(const std::vector<std::string>& words, StripKind kind) {
  tl::proto::SetStrip out;
  if (words.empty()) return Error{"give a section (e.g. eq, hpf, comp) or show"};
  const std::string name = ascii_lower(words[0]);
  if (name == "show") {
    if (words.size() > 1) return Error{"show takes no values"};
    out.set_section("show");
    return out;
  }
  const StripSection* sec = nullptr;
  std::string names;
  std::vector<std::string_view> known_sections;
  const char* what = kind == StripKind::Master ? "master" : kind == StripKind::Bus ? "bus" : "strip";
  const unsigned place = kind == StripKind::Master ? protocol::kOnMaster
                         : kind == StripKind::Bus  ? protocol::kOnBus
                                                   : protocol::kOnChannel;
  for (const StripSection& s : protocol::kStripSections) {
    if ((s.places & place) == 0) continue;
    names += (names.empty() ? "" : ", ") + std::string(s.name);
    known_sections.push_back(s.name);
    if (name == s.name) sec = &s;
  }
  if (sec == nullptr) {
    return Error{"unknown " + std::string(what) + " section '" + words[0] + "'" +
                 did_you_mean(name, known_sections) + " (" + names + ", show)"};
  }
  const std::string section(sec->name);
  out.set_section(section);
  std::size_t i = 1;
  if (sec->bands > 0 && i < words.size() && !words[i].empty() &&
      std::isdigit(static_cast<unsigned char>(words[i][0]))) {
    auto b = parse_number(words[i]);
    if (!b || b.value() < 1.0f || b.value() > static_cast<float>(sec->bands) ||
        b.value() != std::floor(b.value())) {
      return Error{"bad " + section + " number '" + words[i] + "': 1-" + std::to_string(sec->bands)};
    }
    out.set_band(static_cast<std::uint32_t>(b.value()));
    ++i;
  }
  auto add = [&](const std::string& key, const std::string& text) -> Status {
    const StripKey* k = nullptr;
    std::string known;
    std::vector<std::string_view> keys;
    for (const StripKey& r : sec->keys) {
      known += (known.empty() ? "" : ", ") + std::string(r.name);
      keys.push_back(r.name);
      if (key == r.name) k = &r;
    }
    if (k == nullptr) {
      return Error{"unknown key '" + key + "' for " + section + did_you_mean(key, keys) +
                   " (known: " + known + ")"};
    }
    auto v = parse_value(key, text);
    if (!v) return Error{v.error()};
    if (!k->range.contains(v.value())) {
      return Error{fmt("%s %s=%s is out of range (%g .. %g)", section.c_str(), key.c_str(), text.c_str(),
                       static_cast<double>(k->range.lo), static_cast<double>(k->range.hi))};
    }
    auto* p = out.add_params();
    p->set_key(key);
    p->set_value(v.value());
    return Status::success();
  };
  const std::string bare_key(sec->bare_key);
  for (; i < words.size(); ++i) {
    const std::string w = ascii_lower(words[i]);
    const auto eq = w.find('=');
    if (eq == 0 && !bare_key.empty()) {  // a bare (negative) value, "=-3"
      if (auto s = add(bare_key, w.substr(1)); !s) return Error{s.error()};
      continue;
    }
    Status s = Status::success();
    // A bare word: on/off switches the section; anything else is the section's value
    // ("fader 0" is 0 dB, not off), or a switch where the section has no value.
    const bool on_off_word = w == "on" || w == "off";
    if (eq != std::string::npos) {
      s = add(w.substr(0, eq), w.substr(eq + 1));
    } else if (on_off_word || (bare_key.empty() && parse_switch(w))) {
      s = add("on", w);
    } else if (!bare_key.empty()) {
      // delay: "1.5ms" is milliseconds, a bare number samples.
      s = section == "delay" && ends_with(w, "ms") ? add("ms", w) : add(bare_key, w);
    } else {
      s = Error{"'" + words[i] + "': expected key=value, on or off"};
    }
    if (!s) return Error{s.error()};
  }
  if (section == "eq" && out.band() == 0) {
    for (const auto& p : out.params()) {
      if (p.key() != "on")
        return Error{"eq " + p.key() + " needs a band number first, e.g. eq 2 " + p.key() + "=..."};
    }
  }
  if (section == "send" && out.band() == 0) {
    return Error{"send needs its number first: send 1 (fx1) or send 2 (fx2)"};
  }
  if (out.params_size() == 0) return Error{section + ": nothing to change (give values, on or off)"};
  return out;
}

std::string format_strip_state(const tl::proto::StripState& s) {
  std::string out;
  const bool master = s.target() == "master";
  const bool bus = s.target().rfind("bus", 0) == 0 || s.target().rfind("fx", 0) == 0;
  if (master) {
    out += "master\n";
  } else if (bus) {
    out +=
        fmt("%s  fader %.1f dB  mute %s  peak %.1f dBFS\n", s.target().c_str(),
            static_cast<double>(s.fader_db()), on_off(s.mute()).c_str(), static_cast<double>(s.peak_dbfs()));
    if (s.has_reverb()) {
      const auto& r = s.reverb();
      out += fmt("  reverb decay %.2f s  predelay %.0f ms  damping %s  level %.1f dB\n",
                 static_cast<double>(r.decay_s()), static_cast<double>(r.predelay_ms()),
                 r.damping_hz() > 0.0f ? (freq(r.damping_hz()) + " Hz").c_str() : "off",
                 static_cast<double>(r.level_db()));
    }
    if (s.has_delay()) {
      const auto& d = s.delay();
      out += fmt("  delay  %.1f bpm  %s  feedback %.2f  damping %s  level %.1f dB  ping-pong %s\n",
                 static_cast<double>(d.bpm()), d.division().c_str(), static_cast<double>(d.feedback()),
                 d.damping_hz() > 0.0f ? (freq(d.damping_hz()) + " Hz").c_str() : "off",
                 static_cast<double>(d.level_db()), on_off(d.ping_pong()).c_str());
    }
  } else {
    const auto& c = s.channel();
    out += fmt("%s  gain %.1f dB  pan %+.2f  mute %s  solo %s\n", s.target().c_str(),
               static_cast<double>(c.gain_db()), static_cast<double>(c.pan()), on_off(c.mute()).c_str(),
               on_off(c.solo()).c_str());
    out +=
        fmt("  trim   %+.1f dB   phase %s   delay %d samples (%.2f ms)\n", static_cast<double>(s.trim_db()),
            s.phase_invert() ? "inverted" : "normal", s.delay_samples(), s.delay_ms());
    out += fmt("  hpf    %-3s %s Hz %u dB/oct\n", on_off(s.hpf().on()).c_str(),
               freq(s.hpf().freq_hz()).c_str(), s.hpf().slope_db());
    out += fmt("  lpf    %-3s %s Hz %u dB/oct\n", on_off(s.lpf().on()).c_str(),
               freq(s.lpf().freq_hz()).c_str(), s.lpf().slope_db());
    out += "  route  " + (s.route() == 0 ? std::string("master") : "bus" + std::to_string(s.route())) + "\n";
    for (const auto& send : s.sends()) {
      out +=
          fmt("  send %u (fx%u) %-3s %.1f dB %s-fader\n", send.send(), send.send(), on_off(send.on()).c_str(),
              static_cast<double>(send.level_db()), send.pre() ? "pre" : "post");
    }
  }
  out += fmt("  eq     %s\n", on_off(s.eq_on()).c_str());
  for (const auto& b : s.eq()) {
    out +=
        fmt("    %u %-10s %-3s %s Hz  %+.1f dB  q %.2f\n", b.band(), b.type().c_str(), on_off(b.on()).c_str(),
            freq(b.freq_hz()).c_str(), static_cast<double>(b.gain_db()), static_cast<double>(b.q()));
  }
  if (!master && !bus) {
    const auto& g = s.gate();
    out += fmt(
        "  gate   %-3s threshold %.1f dB  range %.1f dB  ratio %.1f  attack %.2f ms  hold %.0f ms  release "
        "%.0f ms  (now %.1f dB)\n",
        on_off(g.on()).c_str(), static_cast<double>(g.threshold_db()), static_cast<double>(g.range_db()),
        static_cast<double>(g.ratio()), static_cast<double>(g.attack_ms()), static_cast<double>(g.hold_ms()),
        static_cast<double>(g.release_ms()), static_cast<double>(g.gain_db()));
  }
  const auto& c = s.comp();
  out +=
      fmt("  comp   %-3s threshold %.1f dB  ratio %.1f  attack %.1f ms  release %.0f ms  makeup %+.1f dB  "
          "knee %.1f "
          "dB  detect %s  sc-hpf %s  (gr %.1f dB)\n",
          on_off(c.on()).c_str(), static_cast<double>(c.threshold_db()), static_cast<double>(c.ratio()),
          static_cast<double>(c.attack_ms()), static_cast<double>(c.release_ms()),
          static_cast<double>(c.makeup_db()), static_cast<double>(c.knee_db()), c.rms() ? "rms" : "peak",
          c.sc_hpf_hz() > 0.0f ? (freq(c.sc_hpf_hz()) + " Hz").c_str() : "off",
          static_cast<double>(c.gain_reduction_db()));
  if (master) {
    out += fmt("  limiter %-3s ceiling %.1f dBTP  release %.0f ms  (gr %.1f dB)\n",
               on_off(s.limiter_on()).c_str(), static_cast<double>(s.ceiling_dbtp()),
               static_cast<double>(s.limiter_release_ms()), static_cast<double>(s.limiter_gr_db()));
  }
  return out;
}

std::string format_meters(const tl::proto::NodeList& nodes, const tl::proto::MixerStatus& st) {
  std::string out = fmt("%-20s %8s %8s %7s %7s\n", "CHANNEL", "PEAK", "RMS", "COMP", "GATE");
  for (const auto& n : nodes.nodes()) {
    for (const auto& c : n.channel_info()) {
      const std::string name = n.name() + "/" + std::to_string(c.channel());
      const int bar = std::clamp(static_cast<int>((c.peak_dbfs() + 60.0f) / 3.0f), 0, 20);
      out += fmt("%-20s %8.1f %8.1f %7.1f %7.1f  %s\n", name.c_str(), static_cast<double>(c.peak_dbfs()),
                 static_cast<double>(c.rms_dbfs()), static_cast<double>(c.comp_gr_db()),
                 static_cast<double>(c.gate_db()), std::string(static_cast<std::size_t>(bar), '#').c_str());
    }
  }
  if (st.buses_size() > 0) {
    // One line for the ten buses: each one's output peak (-inf: nothing through it).
    std::string line = "buses  ";
    for (const auto& b : st.buses()) {
      line +=
          b.name() + " " +
          (b.peak_dbfs() <= -150.0f ? std::string("-inf") : fmt("%.1f", static_cast<double>(b.peak_dbfs()))) +
          (b.mute() ? " (muted)" : "") + "  ";
    }
    line.resize(line.size() - 2);
    out += line + "\n";
  }
  out += fmt(
      "master  peak %.1f dBFS  true peak %.1f dBTP  M %.1f  S %.1f  I %.1f LUFS  comp %s (gr %.1f dB)  "
      "limiter %s (gr %.1f dB)  clipped %llu\n",
      static_cast<double>(st.master_peak_dbfs()), static_cast<double>(st.master_true_peak_dbtp()),
      static_cast<double>(st.master_momentary_lufs()), static_cast<double>(st.master_short_term_lufs()),
      static_cast<double>(st.master_integrated_lufs()), on_off(st.master_comp_on()).c_str(),
      static_cast<double>(st.master_comp_gr_db()), on_off(st.master_limiter_on()).c_str(),
      static_cast<double>(st.master_limiter_gr_db()), static_cast<unsigned long long>(st.clipped_samples()));
  return out;
}

std::string format_scene_reply(const tl::proto::SceneReply& r) {
  if (r.action() == "list") {
    if (r.scenes_size() == 0) return "no scenes saved (in " + r.path() + ")\n";
    std::string out;
    for (const auto& n : r.scenes()) out += n + "\n";
    return out;
  }
  if (r.action() == "save") {
    return fmt("scene '%s' saved: %u strips and the master, %s\n", r.name().c_str(), r.channels(),
               r.path().c_str());
  }
  std::string out = fmt("scene '%s' recalled: %u strips and the master\n", r.name().c_str(), r.channels());
  for (const auto& t : r.skipped()) out += "  skipped " + t + " (no such node or channel here)\n";
  return out;
}

}  // namespace tl::ctl
