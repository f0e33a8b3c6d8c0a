#include "tl/ctl/transport_words.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <vector>

#include "tl/ctl/target.h"
#include "tl/protocol/names.h"
#include "tl/protocol/ranges.h"

namespace tl::ctl {
namespace {

constexpr std::string_view kForms =
    "samples (96000), seconds (2.5s), minutes:seconds (1:30, 0:02.250) or bar.beat (5.1, at the tempo)";

//! A whole non-negative number of the whole text.
bool whole(std::string_view t, std::int64_t& out) {
  if (t.empty()) return false;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc{} && ptr == t.data() + t.size() && out >= 0;
}

//! A non-negative decimal of the whole text ("2", "2.5", ".5").
bool decimal(std::string_view t, double& out) {
  if (t.empty() || t.front() == '-' || t.front() == '+') return false;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc{} && ptr == t.data() + t.size() && std::isfinite(out) && out >= 0.0;
}

}  // namespace

Result<tl::proto::TimelinePosition> parse_position(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error{fmt::format("bad position '{}': {}; write {}", text, why, kForms)};
  };
  tl::proto::TimelinePosition p;
  std::int64_t samples = 0;
  if (whole(text, samples)) {
    p.set_samples(samples);
    return p;
  }
  double seconds = 0.0;
  if (text.ends_with('s') && decimal(text.substr(0, text.size() - 1), seconds)) {
    p.set_in_seconds(true);
    p.set_seconds(seconds);
    return p;
  }
  if (const auto dot = text.find('.');
      dot != std::string_view::npos && text.find(':') == std::string_view::npos) {
    std::int64_t bar = 0, beat = 0;
    if (whole(text.substr(0, dot), bar) && whole(text.substr(dot + 1), beat) && bar >= 1 && beat >= 1 &&
        bar <= 1'000'000 && beat <= 16) {
      p.set_in_bars(true);
      p.set_bar(static_cast<std::uint32_t>(bar));
      p.set_beat(static_cast<std::uint32_t>(beat));
      return p;
    }
    return bad(text.starts_with('-') ? "the timeline starts at 0" : "bars and beats count from 1 (1.1)");
  }
  if (text.find(':') == std::string_view::npos) {
    return bad(text.starts_with('-') ? "the timeline starts at 0" : "not a position");
  }
  // [h:]m:ss[.fff]: every field but the last whole, the last under 60 seconds.
  std::vector<std::string_view> fields;
  for (std::size_t from = 0;;) {
    const auto colon = text.find(':', from);
    fields.push_back(
        text.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
    if (colon == std::string_view::npos) break;
    from = colon + 1;
  }
  if (fields.size() > 3) return bad("too many ':'");
  double total = 0.0;
  for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
    std::int64_t v = 0;
    if (!whole(fields[i], v)) return bad("hours and minutes are whole numbers");
    if (i > 0 && v >= 60) return bad("minutes after hours are under 60");
    total = total * 60.0 + static_cast<double>(v);
  }
  double last = 0.0;
  if (!decimal(fields.back(), last) || last >= 60.0) return bad("seconds after ':' are 0 to 59.999");
  p.set_in_seconds(true);
  p.set_seconds(total * 60.0 + last);
  return p;
}

Result<tl::proto::TempoRequest> parse_tempo(const std::vector<std::string>& words) {
  constexpr protocol::Range bpms = protocol::kTempoBpm, bars = protocol::kBeatsPerBar;
  const std::string usage =
      fmt::format("expected tempo BPM [BEATS]: {}-{} beats a minute, {}-{} beats a bar (4)", bpms.lo, bpms.hi,
                  bars.lo, bars.hi);
  if (words.empty() || words.size() > 2) return Error{usage};
  tl::proto::TempoRequest r;
  double bpm = 0.0;
  if (!decimal(words[0], bpm) || !bpms.contains(bpm)) return Error{"bad tempo '" + words[0] + "': " + usage};
  r.set_bpm(bpm);
  std::int64_t beats = 4;
  if (words.size() == 2) {
    const std::string_view b = std::string_view(words[1]).substr(0, words[1].find('/'));  // 3/4 is 3 a bar
    if (!whole(b, beats) || !bars.contains(static_cast<double>(beats)))
      return Error{"bad beats a bar '" + words[1] + "': " + usage};
  }
  r.set_beats_per_bar(static_cast<std::uint32_t>(beats));
  return r;
}

Result<tl::proto::ClickRequest> parse_click(const std::vector<std::string>& words) {
  constexpr protocol::Range levels = protocol::kClickLevelDb, bars = protocol::kCountInBars;
  tl::proto::ClickRequest r;
  const std::string usage = fmt::format(
      "expected click, click on, click off, click level DB ({} to {}) or click count-in BARS ({} to {})",
      levels.lo, levels.hi, bars.lo, bars.hi);
  if (words.empty()) return r;  // STATUS
  if (words.size() == 1 && (words[0] == "on" || words[0] == "off")) {
    r.set_action(words[0] == "on" ? tl::proto::ClickRequest::ON : tl::proto::ClickRequest::OFF);
    return r;
  }
  if (words.size() == 2 && words[0] == "level") {
    // tlctl hands a negative word over as "=-12" (see protect_negative_numbers).
    const std::string text = words[1].starts_with('=') ? words[1].substr(1) : words[1];
    auto db = parse_number(text);
    if (!db || !levels.contains(db.value())) return Error{"bad click level '" + text + "': " + usage};
    r.set_action(tl::proto::ClickRequest::LEVEL);
    r.set_level_db(db.value());
    return r;
  }
  if (words.size() == 2 && words[0] == "count-in") {
    auto n = parse_number(words[1]);
    if (!n || !bars.contains(n.value()) || n.value() != std::floor(n.value()))
      return Error{"bad count-in '" + words[1] + "': " + usage};
    r.set_action(tl::proto::ClickRequest::COUNT_IN);
    r.set_count_in_bars(static_cast<std::uint32_t>(n.value()));
    return r;
  }
  return Error{usage};
}

namespace {

//! FROM TO of a punch or a loop into r (its action set by the caller): TO after FROM when
//! both are written in the same form (bars need the mixer's tempo: it checks the rest).
Status parse_range(const std::string& from_text, const std::string& to_text, const char* what,
                   tl::proto::TransportRequest& r) {
  auto from = parse_position(from_text);
  if (!from) return Error{from.error()};
  auto to = parse_position(to_text);
  if (!to) return Error{to.error()};
  const auto& a = from.value();
  const auto& b = to.value();
  const bool same_form = a.in_bars() == b.in_bars() && a.in_seconds() == b.in_seconds();
  const bool after = a.in_bars()      ? std::pair(b.bar(), b.beat()) > std::pair(a.bar(), a.beat())
                     : a.in_seconds() ? b.seconds() > a.seconds()
                                      : b.samples() > a.samples();
  if (same_form && !after) {
    return Error{fmt::format("bad {} {} {}: its end comes after its start", what, from_text, to_text)};
  }
  *r.mutable_position() = a;
  *r.mutable_to() = b;
  return Status::success();
}

}  // namespace

Result<tl::proto::TransportRequest> parse_punch(const std::vector<std::string>& words) {
  constexpr std::string_view usage = "expected record punch FROM TO [NODE...] or record punch off";
  tl::proto::TransportRequest r;
  if (words.size() == 1 && words[0] == "off") {
    r.set_action(tl::proto::TransportRequest::PUNCH_OFF);
    return r;
  }
  if (words.size() < 2) return Error{fmt::format("{} (positions: {})", usage, kForms)};
  r.set_action(tl::proto::TransportRequest::PUNCH);
  if (const Status s = parse_range(words[0], words[1], "punch", r); !s) return Error{s.error()};
  for (std::size_t i = 2; i < words.size(); ++i) {
    if (!protocol::valid_node_name(words[i])) {
      return Error{fmt::format("bad node name '{}' in record punch: 1-32 of A-Z a-z 0-9 - _ .", words[i])};
    }
    r.add_punch_nodes(words[i]);
  }
  return r;
}

Result<tl::proto::TransportRequest> parse_loop(const std::vector<std::string>& words) {
  tl::proto::TransportRequest r;
  if (words.empty()) return r;  // STATUS
  if (words.size() == 1 && words[0] == "off") {
    r.set_action(tl::proto::TransportRequest::LOOP_OFF);
    return r;
  }
  if (words.size() != 2)
    return Error{fmt::format("expected loop FROM TO, loop off or loop (positions: {})", kForms)};
  r.set_action(tl::proto::TransportRequest::LOOP);
  if (const Status s = parse_range(words[0], words[1], "loop", r); !s) return Error{s.error()};
  return r;
}

std::string format_position(std::int64_t samples, std::uint32_t rate) {
  if (rate == 0) return "-";
  const bool negative = samples < 0;
  const std::int64_t ms = std::llround(static_cast<double>(negative ? -samples : samples) * 1000.0 / rate);
  const std::int64_t minutes = ms / 60000;
  return fmt::format("{}{}:{:02}.{:03}", negative ? "-" : "", minutes, (ms / 1000) % 60, ms % 1000);
}

namespace {
//! "0:01.000 to 0:02.000 (samples 48000..96000)": a punch's or a loop's range.
std::string format_range(std::int64_t from, std::int64_t to, std::uint32_t rate) {
  return fmt::format("{} to {} (samples {}..{})", format_position(from, rate), format_position(to, rate),
                     from, to);
}
}  // namespace

std::string format_transport(const tl::proto::TransportState& s) {
  std::string out = fmt::format("{} at {} (sample {})\n", s.playing() ? "playing" : "stopped",
                                format_position(s.position(), s.sample_rate()), s.position());
  out += fmt::format("backing tracks: {}, underruns: {} frames{}\n", s.backing_tracks(), s.underruns(),
                     s.underruns() != 0 ? " (played as silence: the disk was slow)" : "");
  if (s.tempo_bpm() > 0.0) {
    out +=
        fmt::format("tempo: {:g} BPM, {} beats a bar; click {}", s.tempo_bpm(), s.beats_per_bar(),
                    s.click_on() ? fmt::format("on at {:g} dBFS", s.click_level_db()) : std::string("off"));
    if (s.click_count_in_bars() > 0) out += fmt::format("; count-in {} bar(s)", s.click_count_in_bars());
    out += "\n";
  }
  if (s.has_punch()) {
    const auto& p = s.punch();
    const std::string nodes = fmt::format("{}", fmt::join(p.nodes(), ", "));
    out += fmt::format("punch: {}, {}\n", format_range(p.from(), p.to(), s.sample_rate()),
                       nodes.empty() ? std::string("every node") : nodes);
  }
  if (s.has_loop()) {
    out += fmt::format("loop: {}, {}\n", format_range(s.loop().from(), s.loop().to(), s.sample_rate()),
                       s.looping() ? "playing it" : "from the next play or locate before its end");
  }
  if (s.has_count_in_to()) {
    out += fmt::format("counting in to {} (sample {})\n", format_position(s.count_in_to(), s.sample_rate()),
                       s.count_in_to());
  }
  return out;
}

std::string format_backing_list(const tl::proto::BackingList& list) {
  const std::uint32_t rate = list.sample_rate();
  std::string out;
  if (!list.message().empty()) out += list.message() + "\n";
  if (list.tracks().empty()) return out + "no backing tracks (tlctl backing add PATH)\n";
  out += fmt::format("{:<16} {:>3} {:>10} {:>10} {:>6} {:>9}  {}\n", "NAME", "CH", "LENGTH", "AT", "RATE",
                     "UNDERRUNS", "PATH");
  for (const auto& t : list.tracks()) {
    // The length and place are at the session rate; without it (a reply alone) in samples.
    const auto when = [&](std::int64_t v) {
      return rate != 0 ? format_position(v, rate) : std::to_string(v);
    };
    out += fmt::format("{:<16} {:>3} {:>10} {:>10} {:>6} {:>9}  {}\n", t.name(), t.channels(),
                       when(t.frames()), when(t.at()), t.file_rate(), t.underruns(), t.path());
  }
  return out;
}

}  // namespace tl::ctl
