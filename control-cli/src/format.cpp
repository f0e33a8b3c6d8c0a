#include "tl/ctl/format.h"
#include "tl/ctl/text.h"
#include "tl/ctl/transport_words.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

namespace tl::ctl {
namespace {

//! Aligned columns: two spaces apart, numbers right-aligned, no trailing blanks.
class Table {
 public:
  enum class Align { Left, Right };
  Table(std::vector<std::string> header, std::vector<Align> align) : align_(std::move(align)) {
    rows_.push_back(std::move(header));
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  //! Extra text printed under the row added last, not aligned.
  void note(std::string line) { notes_[rows_.size() - 1].push_back(std::move(line)); }

  std::string str() const {
    std::vector<std::size_t> width(align_.size(), 0);
    for (const auto& r : rows_) {
      for (std::size_t c = 0; c < r.size() && c < width.size(); ++c)
        width[c] = std::max(width[c], r[c].size());
    }
    std::string out;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      std::string line;
      const auto& r = rows_[i];
      for (std::size_t c = 0; c < r.size(); ++c) {
        if (c > 0) line += "  ";
        const std::string pad(width[c] - r[c].size(), ' ');
        const bool last = c + 1 == r.size();
        if (align_[c] == Align::Right) {
          line += pad + r[c];
        } else {
          line += r[c];
          if (!last) line += pad;
        }
      }
      out += line + "\n";
      if (auto it = notes_.find(i); it != notes_.end()) {
        for (const auto& n : it->second) out += n + "\n";
      }
    }
    return out;
  }

 private:
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
  std::map<std::size_t, std::vector<std::string>> notes_;
};

}  // namespace

std::string format_db(double db) {
  if (!(db > -150.0)) return "-inf";  // also NaN
  std::string s = fmt("%.1f", db);
  if (s == "-0.0") s = "0.0";
  return s;
}

std::string format_last_heard(double seconds) {
  if (seconds < 0) return "never";
  if (seconds < 60.0) return fmt("%.1fs ago", seconds);
  const auto whole = static_cast<long long>(seconds);
  if (whole < 3600) return fmt("%lldm%02llds ago", whole / 60, whole % 60);
  return fmt("%lldh%02lldm ago", whole / 3600, (whole % 3600) / 60);
}

std::string state_name(tl::proto::NodeState state) {
  switch (state) {
    case tl::proto::NODE_STREAMING:
      return "streaming";
    case tl::proto::NODE_SILENT:
      return "silent";
    case tl::proto::NODE_GONE:
      return "gone";
    default:
      return "unknown";
  }
}

std::string sync_name(tl::proto::SyncState state) {
  switch (state) {
    case tl::proto::SYNC_ACQUIRING:
      return "acquiring";
    case tl::proto::SYNC_LOCKED:
      return "locked";
    case tl::proto::SYNC_LOST:
      return "lost";
    default:
      return "unknown";
  }
}

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) return "{}";
  return out;
}

std::string format_channel(const std::string& node, const tl::proto::ChannelInfo& info) {
  return fmt("%s/%u  gain %s dB  pan %+.2f  mute %-3s  solo %-3s  peak %s dBFS  rms %s dBFS", node.c_str(),
             info.channel(), format_db(info.gain_db()).c_str(), static_cast<double>(info.pan()),
             on_off(info.mute()).c_str(), on_off(info.solo()).c_str(), format_db(info.peak_dbfs()).c_str(),
             format_db(info.rms_dbfs()).c_str());
}

std::string format_nodes(const tl::proto::NodeList& list, bool verbose) {
  if (list.nodes().empty()) return "no nodes registered\n";
  using A = Table::Align;
  Table t({"NAME", "ID", "STATE", "CH", "RATE", "PACKETS", "LOSS%", "LATE", "CONCEALED", "BAD", "TRANSIT(ms)",
           "LATENCY(ms)", "SYNC", "OFFSET(ms)", "RTT(ms)", "DRIFT(ppm)", "VARISPEED(ppm)", "LAST-HEARD"},
          {A::Left, A::Right, A::Left, A::Right, A::Right, A::Right, A::Right, A::Right, A::Right, A::Right,
           A::Right, A::Right, A::Left, A::Right, A::Right, A::Right, A::Right, A::Left});
  for (const auto& n : list.nodes()) {
    // No NodeReport yet: the sync cells say so rather than show zeros.
    const bool reported = n.sync_state() != tl::proto::SYNC_UNKNOWN;
    t.add({n.name(), std::to_string(n.node_id()), state_name(n.state()), std::to_string(n.channels()),
           std::to_string(n.sample_rate()), std::to_string(n.packets()), fmt("%.2f", n.loss_pct()),
           std::to_string(n.late()), std::to_string(n.concealed_samples()), std::to_string(n.bad()),
           fmt("%.1f", n.transit_ms()), fmt("%.1f", n.latency_ms()),
           reported ? sync_name(n.sync_state()) : "-", reported ? fmt("%.3f", n.offset_ms()) : "-",
           reported ? fmt("%.3f", n.rtt_ms()) : "-", reported ? fmt("%+.1f", n.drift_ppm()) : "-",
           n.varispeed_ppm() == 0.0 ? "exact" : fmt("%+.1f", n.varispeed_ppm()),
           format_last_heard(n.last_heard_s())});
    if (!verbose) continue;
    t.note(
        fmt("    sync %s  offset %.3f ms  rtt %.3f ms  drift %+.1f ppm  lost %llu  concealed %llu in %llu "
            "blocks  "
            "dropped-at-node %llu  connects %u  source %s  host %s  pid %llu",
            sync_name(n.sync_state()).c_str(), n.offset_ms(), n.rtt_ms(), n.drift_ppm(),
            static_cast<unsigned long long>(n.lost()), static_cast<unsigned long long>(n.concealed_samples()),
            static_cast<unsigned long long>(n.concealed_blocks()),
            static_cast<unsigned long long>(n.node_frames_dropped()), n.connects(),
            n.source().empty() ? "-" : n.source().c_str(), n.host().empty() ? "-" : n.host().c_str(),
            static_cast<unsigned long long>(n.pid())));
    t.note(
        fmt("    live varispeed %+.1f ppm  drift measured %+.1f ppm  margin %.1f ms  jitter %.2f ms  "
            "nacks %llu  resent %llu  held at node up to %.1f ms",
            n.varispeed_ppm(), n.live_drift_ppm(), n.margin_ms(), n.jitter_ms(),
            static_cast<unsigned long long>(n.nacks_sent()), static_cast<unsigned long long>(n.retransmits()),
            n.held_max_ms()));
    t.note("    play-out " + format_node_latency(n));
    if (n.cue_on()) {
      t.note(n.cue_output().empty()
                 ? std::string("    cue mix on; the node plays it nowhere")
                 : fmt("    cue mix on %s  latency %.1f ms  packets %llu  underrun %llu frames%s",
                       n.cue_output().c_str(), n.cue_latency_ms(),
                       static_cast<unsigned long long>(n.cue_packets()),
                       static_cast<unsigned long long>(n.cue_underruns()),
                       n.cue_codec() == "opus"
                           ? fmt("  opus: concealed %llu frames, late %llu",
                                 static_cast<unsigned long long>(n.cue_concealed_frames()),
                                 static_cast<unsigned long long>(n.cue_late_packets()))
                                 .c_str()
                           : ""));
    }
    if (n.has_cue_play_delay_ms() || n.has_round_trip_ms()) t.note("    " + format_placement(n));
    if (n.address_changes() != 0) {
      t.note(fmt("    sent from a new address %llu time(s) (a NAT rebinding or a new network): followed",
                 static_cast<unsigned long long>(n.address_changes())));
    }
    if (n.format() == tl::proto::FORMAT_OPUS) {
      t.note(
          fmt("    opus %u frames  plc %llu samples  fec %llu samples  late %llu  held %llu (recorded from "
              "its spool, not from Opus)",
              n.frames_per_packet(), static_cast<unsigned long long>(n.opus_plc_samples()),
              static_cast<unsigned long long>(n.opus_fec_samples()),
              static_cast<unsigned long long>(n.opus_late_packets()),
              static_cast<unsigned long long>(n.opus_held_packets())));
    }
    for (const auto& ch : n.channel_info()) t.note("    " + format_channel(n.name(), ch));
  }
  return t.str();
}

std::string format_placement(const tl::proto::NodeInfo& n) {
  if (n.has_cue_play_delay_ms() && n.has_round_trip_ms()) {
    return fmt(
        "overdubs placed back %.2f ms: the cue plays %.2f ms after its mix position, round trip %.2f ms "
        "(%s)%s",
        n.cue_play_delay_ms() + n.round_trip_ms(), n.cue_play_delay_ms(), n.round_trip_ms(),
        n.round_trip_from().c_str(),
        n.cue_delay_changes() != 0 ? fmt("; the cue's delay grew %llu time(s)",
                                         static_cast<unsigned long long>(n.cue_delay_changes()))
                                         .c_str()
                                   : "");
  }
  return n.has_round_trip_ms()
             ? fmt("overdubs not placed back: its cue output cannot say when it plays (round trip %.2f ms)",
                   n.round_trip_ms())
             : "overdubs not placed back: no round trip (tl-capture --calibrate, or --round-trip-ms)";
}

std::string format_record_started(const tl::proto::RecordStarted& r) {
  return r.take_name() + "\npath: " + r.path() + "\nstart sample: " + std::to_string(r.start_sample()) + "\n";
}

namespace {
//! Frames per second of a take: its frames over its seconds (48000 when unknown).
double take_rate(const tl::proto::RecordStopped& take) {
  return take.seconds() > 0.0 && take.frames() > 0
             ? std::round(static_cast<double>(take.frames()) / take.seconds())
             : 48000.0;
}
}  // namespace

std::string format_record_stopped(const tl::proto::RecordStopped& r) {
  std::string out = r.take_name() + "\npath: " + r.path() + "\n";
  out += fmt("duration: %.3f s (%llu frames from sample %lld)\n", r.seconds(),
             static_cast<unsigned long long>(r.frames()), static_cast<long long>(r.start_sample()));
  if (!r.state().empty()) out += "state: " + r.state() + "\n";
  const auto rate = static_cast<std::uint32_t>(take_rate(r));
  const auto song_position = [rate](std::int64_t at) {
    std::string text = at < 0 ? "-" : "";  // a take that began before the song's start
    text.append(format_position(at < 0 ? -at : at, rate));
    return text;
  };
  for (const auto& tr : r.tracks()) {
    if (tr.file() != "mix.wav" || !tr.has_timeline_sample()) continue;
    out.append("timeline: mix.wav starts at " + song_position(tr.timeline_sample()) + " (song sample " +
               std::to_string(tr.timeline_sample()) + ")\n");
  }
  if (r.has_punch() && r.state() != "recording") {
    const std::string from = song_position(r.punch().from()), to = song_position(r.punch().to());
    if (r.punch_passes() == 0) {
      out +=
          fmt("punch: %s to %s, never played through while recording: no pass\n", from.c_str(), to.c_str());
    } else {
      out += fmt("punch: %u pass(es) of %s to %s in punch-1/", r.punch_passes(), from.c_str(), to.c_str());
      out += r.punch_passes() > 1 ? fmt(" .. punch-%u/\n", r.punch_passes()) : std::string("\n");
    }
  }
  if (r.tracks_conforming() != 0) {
    out +=
        fmt("  %u track file(s) still being conformed (moved or resampled from raw/) in the background: "
            "`tlctl takes` shows how many are left\n",
            r.tracks_conforming());
  }
  // One line per track; every value carries its label, numbers right-aligned.
  std::size_t wf = 0, wp = 0, wr = 0, wl = 0, wc = 0;
  for (const auto& tr : r.tracks()) {
    wf = std::max(wf, tr.file().size());
    wp = std::max(wp, format_db(tr.peak_dbfs()).size());
    wr = std::max(wr, format_db(tr.rms_dbfs()).size());
    wl = std::max(wl, std::to_string(tr.lost_samples()).size());
    wc = std::max(wc, std::to_string(tr.clipped_samples()).size());
  }
  for (const auto& tr : r.tracks()) {
    out +=
        fmt("%-*s  peak %*s dBFS  rms %*s dBFS  lost %*s  clipped %*s\n", static_cast<int>(wf),
            tr.file().c_str(), static_cast<int>(wp), format_db(tr.peak_dbfs()).c_str(), static_cast<int>(wr),
            format_db(tr.rms_dbfs()).c_str(), static_cast<int>(wl), std::to_string(tr.lost_samples()).c_str(),
            static_cast<int>(wc), std::to_string(tr.clipped_samples()).c_str());
    if (tr.recovered_samples() != 0)
      out.insert(out.size() - 1,
                 fmt("  recovered %llu", static_cast<unsigned long long>(tr.recovered_samples())));
    if (tr.has_compensation_samples() && tr.has_timeline_sample()) {
      out.insert(out.size() - 1, "  at " + song_position(tr.timeline_sample()) +
                                     fmt(" (placed back %.2f ms)",
                                         static_cast<double>(tr.compensation_samples()) * 1000.0 / rate));
    }
    if (tr.lost_samples() != 0) {
      out += fmt("    %zu range(s) missing: %s\n", static_cast<std::size_t>(tr.missing_size()),
                 tr.missing_reason().empty() ? "unknown reason" : tr.missing_reason().c_str());
    }
  }
  return out;
}

std::string format_master_progress(const tl::proto::MasterTakeState& s) {
  return fmt("mastering %s (%s): %3.0f%% %s", s.take_name().c_str(), s.preset().c_str(), 100.0 * s.progress(),
             s.stage().c_str());
}

std::string format_master_take(const tl::proto::MasterTakeState& s) {
  const std::string take = "take '" + s.take_name() + "'";
  if (s.state() == "none") return take + ": no mastering job since the mixer started\n";
  if (s.state() == "running") return format_master_progress(s) + " -> " + s.output() + "\n";
  if (s.state() == "done") {
    return take + " mastered (" + s.preset() + ") in " + fmt("%.1f", s.seconds()) + " s: " + s.output() +
           fmt(", %.1f LUFS integrated, %.1f dBTP true peak, %.1f LU range, gain %+.1f dB\n",
               s.integrated_lufs(), s.true_peak_dbtp(), s.loudness_range_lu(), s.gain_db());
  }
  return take + ": mastering (" + s.preset() + ") " + s.state() + ": " + s.message() + "\n";
}

std::string format_takes(const tl::proto::TakeList& list) {
  std::string out;
  if (list.takes().empty()) {
    out = "no takes\n";
  } else {
    using A = Table::Align;
    Table t({"NAME", "STATE", "DURATION(s)", "TRACKS", "START", "PATH"},
            {A::Left, A::Left, A::Right, A::Right, A::Right, A::Left});
    for (const auto& take : list.takes()) {
      const bool unfinished = take.state() == "unfinished";
      std::uint64_t lost = 0;
      int tracks = 0;
      for (const auto& tr : take.tracks()) {
        if (tr.node() != "mix") ++tracks;
        lost += tr.lost_samples();
      }
      // The take's own state word; a mixer older than "incomplete" is read by its losses.
      const std::string state = !take.state().empty() && take.state() != "complete" ? take.state()
                                : lost == 0                                         ? "complete"
                                                                                    : "incomplete";
      t.add({take.take_name(),
             state == "incomplete"   ? fmt("incomplete (%llu lost)", static_cast<unsigned long long>(lost))
             : state == "conforming" ? fmt("conforming (%u left)", take.tracks_conforming())
                                     : state,
             fmt("%.3f", take.seconds()), std::to_string(tracks), std::to_string(take.start_sample()),
             take.path()});
      if (unfinished) {
        t.note("    the mixer stopped while recording it: files readable to " + fmt("%.3f", take.seconds()) +
               " s; the node spools still hold the audio");
      }
      // Each track still missing audio: its ranges (take seconds) and why.
      const double rate = take_rate(take);
      for (const auto& tr : take.tracks()) {
        if (tr.missing().empty()) continue;
        std::string ranges;
        for (int i = 0; i < tr.missing_size() && i < 4; ++i) {
          const double from = static_cast<double>(tr.missing(i).from() - take.start_sample()) / rate;
          ranges += fmt("%s%.3f-%.3f s", i == 0 ? "" : ", ", from,
                        from + static_cast<double>(tr.missing(i).frames()) / rate);
        }
        if (tr.missing_size() > 4) ranges += fmt(" and %d more", tr.missing_size() - 4);
        t.note(fmt("    %s: %llu samples missing in %d range(s): %s (%s)", tr.file().c_str(),
                   static_cast<unsigned long long>(tr.lost_samples()), tr.missing_size(), ranges.c_str(),
                   tr.missing_reason().empty() ? "reason unknown" : tr.missing_reason().c_str()));
      }
    }
    out = t.str();
  }
  if (!list.recording().empty()) out += "recording: " + list.recording() + "\n";
  return out;
}

std::string format_node_latency(const tl::proto::NodeInfo& n) {
  const auto bound = [](double ms) { return ms > 0.0 ? fmt("%.1f", ms) : std::string("mixer's"); };
  std::string text = n.need_ms() >= 0.0
                         ? fmt("needs %.1f ms (every packet of the hold; 99.9%% needed %.1f ms)", n.need_ms(),
                               n.need_p999_ms())
                         : "need not measured";
  text += fmt(", mix delay %.1f ms", n.latency_ms());
  if (n.latency_min_ms() > 0.0 || n.latency_max_ms() > 0.0) {
    text += ", own range " + bound(n.latency_min_ms()) + " - " + bound(n.latency_max_ms()) + " ms";
  }
  return text;
}

std::string format_latency_state(const tl::proto::LatencyState& s) {
  const auto bound = [](double ms) { return ms > 0.0 ? fmt("%.1f ms", ms) : std::string("the mixer's"); };
  std::string out =
      s.node() + ": play-out delay range min " + bound(s.min_ms()) + ", max " + bound(s.max_ms()) + "\n";
  out += s.need_ms() >= 0.0 ? fmt("needs %.1f ms for every packet of the hold; ", s.need_ms())
                            : std::string("need not measured yet; ");
  return out + fmt("the mix runs %.1f ms behind the session clock\n", s.latency_ms());
}

std::string format_cue_state(const tl::proto::CueState& s) {
  if (!s.on()) return s.node() + ": no cue mix (tlctl cue " + s.node() + " on)\n";
  std::string out = s.node() + ": cue mix on";
  out += s.output().empty() ? std::string(", the node plays it nowhere (start it with tl-capture --cue)")
                            : ", played on " + s.output();
  if (s.packets() != 0) {
    out += fmt("; latency %.1f ms, %llu packets, %llu frames underrun", s.latency_ms(),
               static_cast<unsigned long long>(s.packets()), static_cast<unsigned long long>(s.underruns()));
  }
  out += fmt("; limiter ceiling %.1f dBTP", static_cast<double>(s.limit_dbtp()));
  out += "\n  levels: every node as in the mix";
  for (const auto& l : s.levels()) {
    out += (l.source() == s.node() ? ", me " : ", " + l.source() + " ") + fmt("%+.1f dB", l.level_db());
  }
  return out + "\n";
}

std::string format_status(const tl::proto::MixerStatus& s) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"version", s.version()},
      {"sample rate", std::to_string(s.sample_rate()) + " Hz"},
      {"block", std::to_string(s.block_frames()) + " frames"},
      {"clock", s.clock()},
      {"latency",
       s.latency_adaptive()
           ? fmt("%.1f ms (adapts within %.1f-%.1f ms, need + %.1f ms held %.0f s; %s)", s.latency_ms(),
                 s.latency_min_ms(), s.latency_max_ms(), s.latency_margin_ms(), s.latency_hold_s(),
                 s.latency_wanted_ms() > 0.0
                     ? fmt("the neediest node asks %.1f ms", s.latency_wanted_ms()).c_str()
                     : "no node measured")
           : fmt("%.1f ms (fixed)", s.latency_ms())},
      {"recording", s.recording() ? fmt("yes: %s, %.1f s", s.take_name().c_str(), s.take_seconds()) : "no"},
      {"mix blocks", std::to_string(s.mix_blocks())},
      {"mix overruns", std::to_string(s.mix_overruns())},
      {"mix concealed", fmt("%llu blocks, %llu frames", static_cast<unsigned long long>(s.concealed_blocks()),
                            static_cast<unsigned long long>(s.concealed_frames()))},
      {"mix wake-up",
       fmt("late by %.2f ms (99.9%%), %.2f ms at worst", s.mix_wake_p999_ms(), s.mix_wake_max_ms())},
      {"real-time", s.realtime().empty() ? std::string("yes (SCHED_FIFO)") : "no: " + s.realtime()},
      {"clipped samples", std::to_string(s.clipped_samples())},
      {"bad packets", std::to_string(s.bad_packets())},
      {"record dropped", std::to_string(s.record_dropped())},
      {"record dir", s.record_dir()},
      {"disk left", s.record_free_bytes() == 0 && s.record_minutes_left() == 0.0
                        ? std::string("unknown")
                        : fmt("%.1f GiB: about %.0f min at %u channel(s) + the mix",
                              static_cast<double>(s.record_free_bytes()) / (1u << 30),
                              s.record_minutes_left(), s.record_channels())},
      {"uptime", fmt("%.1f s", s.uptime_s())},
  };
  std::size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size() + 1);
  std::string out;
  for (const auto& [k, v] : rows) out += k + ":" + std::string(width - k.size(), ' ') + v + "\n";
  return out;
}

std::string format_channel_state(const tl::proto::ChannelState& s) {
  return fmt("%s/%u  gain %s dB  pan %+.2f  mute %s  solo %s", s.node().c_str(), s.info().channel(),
             format_db(s.info().gain_db()).c_str(), static_cast<double>(s.info().pan()),
             on_off(s.info().mute()).c_str(), on_off(s.info().solo()).c_str()) +
         "\n";
}

std::string format_pong(const std::string& mixer, const tl::proto::Pong& pong, double rtt_ms) {
  return fmt("pong from %s: rtt %.3f ms, session clock %.6f s\n", mixer.c_str(), rtt_ms,
             static_cast<double>(pong.session_time_ns()) / 1e9);
}

std::string format_event(const tl::proto::Event& e) {
  switch (e.kind_case()) {
    case tl::proto::Event::kLevels: {
      std::string line = "levels";
      for (const auto& n : e.levels().nodes()) {
        for (const auto& ch : n.channel_info()) {
          line += fmt("  %s/%u %s/%s", n.name().c_str(), ch.channel(), format_db(ch.peak_dbfs()).c_str(),
                      format_db(ch.rms_dbfs()).c_str());
        }
      }
      if (e.levels().nodes().empty()) line += "  (no nodes)";
      return line;
    }
    case tl::proto::Event::kNode: {
      const auto& n = e.node();
      return fmt("node    %s (id %u) %s  ch %u  loss %.2f%%  late %llu  bad %llu  last heard %s",
                 n.name().c_str(), n.node_id(), state_name(n.state()).c_str(), n.channels(), n.loss_pct(),
                 static_cast<unsigned long long>(n.late()), static_cast<unsigned long long>(n.bad()),
                 format_last_heard(n.last_heard_s()).c_str());
    }
    case tl::proto::Event::kRecordStarted:
      return fmt("record  started %s at sample %lld: %s", e.record_started().take_name().c_str(),
                 static_cast<long long>(e.record_started().start_sample()),
                 e.record_started().path().c_str());
    case tl::proto::Event::kRecordStopped:
      return fmt("record  stopped %s: %.3f s, %d tracks: %s", e.record_stopped().take_name().c_str(),
                 e.record_stopped().seconds(), e.record_stopped().tracks_size(),
                 e.record_stopped().path().c_str());
    case tl::proto::Event::kFault:
      return "fault   " + e.fault();
    default:
      return "event   (unknown kind)";
  }
}

}  // namespace tl::ctl
