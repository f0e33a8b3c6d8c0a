#include "tl/mixer/transport_control.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "tl/mixer/engine_post.h"
#include "tl/mixer/take_punch.h"
#include "tl/protocol/names.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {
namespace {
constexpr auto kPoll = std::chrono::milliseconds(2);
constexpr int kPolls = 1000;                         // 2 s: a slow disk still plays (with underruns counted)
constexpr double kLongestSeconds = 7 * 24 * 3600.0;  // a week: any song, and no overflow
constexpr double kShortestLoopSeconds = 0.25;        // a loop's laps: each a pass of a take

//! The armed punch and the loop, as TransportState and TransportSetup both carry them.
template <class Message>
void put_ranges(Message& t, const std::optional<proto::Punch>& punch, const TimelineLoop& loop) {
  if (punch) *t.mutable_punch() = *punch;
  if (loop.on()) {
    t.mutable_loop()->set_from(loop.from);
    t.mutable_loop()->set_to(loop.to);
  }
}
}  // namespace

Result<MediaTime> TransportControl::samples(const proto::TimelinePosition& p) const {
  if (p.in_bars()) {
    if (p.bar() < 1 || p.beat() < 1 || p.beat() > beats_per_bar_) {
      return Error{"bar " + std::to_string(p.bar()) + " beat " + std::to_string(p.beat()) +
                   ": bars count from 1, beats from 1 to " + std::to_string(beats_per_bar_) + " (tempo " +
                   std::to_string(std::lround(bpm_)) + " BPM, " + std::to_string(beats_per_bar_) +
                   " beats a bar: tlctl tempo)"};
    }
    const double beats = static_cast<double>(p.bar() - 1) * beats_per_bar_ + (p.beat() - 1);
    if (beats * 60.0 / bpm_ > kLongestSeconds) return Error{"a timeline position within a week"};
    return static_cast<MediaTime>(std::llround(beats * beat_frames()));
  }
  if (!p.in_seconds()) {
    if (p.samples() < 0) return Error{"a timeline position is 0 or later (the song's start)"};
    return p.samples();
  }
  if (!(p.seconds() >= 0.0) || p.seconds() > kLongestSeconds) {
    return Error{"a timeline position is 0 or later (the song's start), and within a week"};
  }
  return static_cast<MediaTime>(std::llround(p.seconds() * rate_));
}

void TransportControl::reply_state(ControlSession& s, std::uint64_t id, const proto::TransportState& st) {
  proto::Envelope reply;
  *reply.mutable_transport_state() = st;
  s.reply(id, std::move(reply));
}

proto::TransportState TransportControl::state() const {
  proto::TransportState t;
  t.set_playing(engine_.transport_playing());
  t.set_position(engine_.transport_position());
  t.set_sample_rate(rate_);
  t.set_backing_tracks(static_cast<std::uint32_t>(backing_.size()));
  t.set_underruns(backing_.underruns());
  t.set_tempo_bpm(bpm_);
  t.set_beats_per_bar(beats_per_bar_);
  t.set_click_on(click_on_);
  t.set_click_level_db(click_level_db_);
  t.set_click_count_in_bars(count_in_bars_);
  put_ranges(t, punch_, loop_);
  t.set_looping(engine_.transport_looping());
  return t;
}

std::optional<TakePunch> TransportControl::punch_for_take() const {
  if (!punch_ && loop_.on()) {
    return TakePunch{.from = loop_.from,
                     .to = loop_.to,
                     .fade_samples = std::llround(kPunchFadeSeconds * rate_),
                     .from_loop = true};
  }
  if (!punch_) return std::nullopt;
  TakePunch p{.from = punch_->from(),
              .to = punch_->to(),
              .fade_samples = std::llround(kPunchFadeSeconds * rate_),
              .nodes = {punch_->nodes().begin(), punch_->nodes().end()}};
  return p;
}

Result<MediaTime> TransportControl::range_end(const proto::TransportRequest& r, MediaTime from,
                                              MediaTime min_frames, const char* what) const {
  if (!r.has_position() || !r.has_to())
    return Error{fmt::format("{} needs its start and end: FROM TO", what)};
  auto to = samples(r.to());
  if (!to) return to;
  if (to.value() - from < min_frames) {
    return Error{fmt::format("{} ends {}after it starts (from timeline {} to {})", what,
                             min_frames > 1 ? fmt::format("at least {:g} s ", kShortestLoopSeconds) : "",
                             from, to.value())};
  }
  return to;
}

void TransportControl::loop(ControlSession& s, std::uint64_t id, const proto::TransportRequest& r,
                            MediaTime from) {
  if (r.action() == proto::TransportRequest::LOOP_OFF) {
    if (loop_.on()) spdlog::info("loop off, set by {}", s.who());
    loop_ = {};
  } else {
    auto to = range_end(r, from, std::llround(kShortestLoopSeconds * rate_), "a loop");
    if (!to) {
      s.send_error(id, proto::ErrorReply::BAD_VALUE, to.error());
      return;
    }
    loop_ = {.from = from, .to = to.value()};
    spdlog::info("loop timeline {}..{}, set by {}: from the next play or locate", from, to.value(), s.who());
  }
  ++changes_;
  reply_state(s, id, state());
}

void TransportControl::punch(ControlSession& s, std::uint64_t id, const proto::TransportRequest& r,
                             MediaTime from) {
  if (r.action() == proto::TransportRequest::PUNCH_OFF) {
    if (punch_) spdlog::info("punch off, set by {}", s.who());
    punch_.reset();
    ++changes_;
    reply_state(s, id, state());
    return;
  }
  auto to = range_end(r, from, 1, "a punch");
  if (!to) {
    s.send_error(id, proto::ErrorReply::BAD_VALUE, to.error());
    return;
  }
  for (const std::string& node : r.punch_nodes()) {
    if (!protocol::valid_node_name(node)) {
      s.send_error(id, proto::ErrorReply::BAD_VALUE, fmt::format("punch: '{}' is not a node name", node));
      return;
    }
  }
  proto::Punch p;
  p.set_from(from);
  p.set_to(to.value());
  *p.mutable_nodes() = r.punch_nodes();
  punch_ = std::move(p);
  ++changes_;
  spdlog::info("punch armed at timeline {}..{} for {}, set by {}: takes that start now keep each pass", from,
               to.value(),
               r.punch_nodes().empty() ? std::string("every node")
                                       : fmt::format("{}", fmt::join(r.punch_nodes(), ", ")),
               s.who());
  reply_state(s, id, state());
}

MixCommand TransportControl::click_command() const {
  MixCommand cmd{.kind = MixCommand::Kind::Click, .value = static_cast<float>(db_to_gain(click_level_db_))};
  cmd.click_on = click_on_;
  cmd.beat_frames = beat_frames();
  cmd.beats_per_bar = static_cast<std::uint8_t>(beats_per_bar_);
  return cmd;
}

bool TransportControl::post_click(ControlSession& s, std::uint64_t id) {
  if (!post_or_answer(engine_, s, id, click_command())) return false;
  ++changes_;
  return true;
}

Status TransportControl::pan_new_track(const BackingTracks::Added& added) {
  if (!added.fresh || added.slot->channels != 2) return {};
  for (std::uint16_t c = 0; c < 2; ++c) {
    const float pan = c == 0 ? -1.0f : 1.0f;
    if (auto st = post_change(
            engine_,
            MixCommand{.kind = MixCommand::Kind::Pan, .node = added.slot->id, .channel = c, .value = pan});
        !st)
      return st;
    added.slot->strips[c].pan = pan;
  }
  return {};
}

proto::TransportSetup TransportControl::setup() const {
  proto::TransportSetup t;
  t.set_tempo_bpm(bpm_);
  t.set_beats_per_bar(beats_per_bar_);
  t.set_click_on(click_on_);
  t.set_click_level_db(click_level_db_);
  t.set_count_in_bars(count_in_bars_);
  t.set_position(engine_.transport_position());
  put_ranges(t, punch_, loop_);
  const proto::BackingList list = backing_.list();  // (a temporary's tracks would dangle)
  for (const proto::BackingTrack& b : list.tracks()) {
    proto::BackingTrack* kept = t.add_backing();
    kept->set_name(b.name());
    kept->set_path(b.path());
    kept->set_at(b.at());
  }
  return t;
}

std::vector<std::string> TransportControl::restore(const proto::TransportSetup& t) {
  if (protocol::kTempoBpm.contains(t.tempo_bpm()) && protocol::kBeatsPerBar.contains(t.beats_per_bar())) {
    bpm_ = t.tempo_bpm();
    beats_per_bar_ = t.beats_per_bar();
  } else {
    spdlog::warn("the last desk's tempo ({:g} BPM, {} beats a bar) is out of range: not taken back",
                 t.tempo_bpm(), t.beats_per_bar());
  }
  if (protocol::kClickLevelDb.contains(t.click_level_db())) click_level_db_ = t.click_level_db();
  click_on_ = t.click_on();
  if (t.has_punch() && t.punch().to() > t.punch().from() && t.punch().from() >= 0) punch_ = t.punch();
  if (t.has_loop() && t.loop().from() >= 0 && t.loop().to() > t.loop().from())
    loop_ = {.from = t.loop().from(), .to = t.loop().to()};
  if (protocol::kCountInBars.contains(static_cast<float>(t.count_in_bars())))
    count_in_bars_ = t.count_in_bars();
  if (auto st = post_change(engine_, click_command()); !st)
    spdlog::warn("the last desk's click: {}", st.error());
  std::vector<std::string> added;
  for (const proto::BackingTrack& b : t.backing()) {
    auto track = backing_.add(b.path(), b.name(), b.at());
    if (!track) {
      spdlog::warn("the last desk's backing track '{}': {}; not taken back", b.name(), track.error());
      continue;
    }
    if (track->already) continue;
    if (auto st = pan_new_track(*track); !st) spdlog::warn("backing track '{}': {}", b.name(), st.error());
    added.push_back(b.name());
  }
  if (!added.empty()) changed_();
  const MediaTime position = std::max<MediaTime>(t.position(), 0);
  MixCommand stand{.kind = MixCommand::Kind::Transport, .value = kTransportStand};
  stand.at = position;
  stand.generation = backing_.prepare(position);
  post_when_ready({}, 0, stand, std::make_shared<asio::steady_timer>(io_), kPolls);
  spdlog::info(
      "transport taken back from the last desk: tempo {:g} BPM, {} beats a bar, click {} at {:g} dBFS, "
      "count-in {} bar(s), {} backing track(s), standing at timeline {}",
      bpm_, beats_per_bar_, click_on_ ? "on" : "off", click_level_db_, count_in_bars_, added.size(),
      position);
  return added;
}

void TransportControl::tempo(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                             const proto::TempoRequest& r) {
  constexpr protocol::Range bpms = protocol::kTempoBpm, bars = protocol::kBeatsPerBar;
  if (!bpms.contains(r.bpm()) || !bars.contains(r.beats_per_bar())) {
    s->send_error(
        id, proto::ErrorReply::BAD_VALUE,
        fmt::format("a tempo is {}-{} BPM with {}-{} beats a bar", bpms.lo, bpms.hi, bars.lo, bars.hi));
    return;
  }
  bpm_ = r.bpm();
  beats_per_bar_ = r.beats_per_bar();
  if (!post_click(*s, id)) return;
  spdlog::info("tempo {:g} BPM, {} beats a bar, set by {}", bpm_, beats_per_bar_, s->who());
  reply_state(*s, id, state());
}

void TransportControl::click(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                             const proto::ClickRequest& r) {
  switch (r.action()) {
    case proto::ClickRequest::ON:
    case proto::ClickRequest::OFF:
      click_on_ = r.action() == proto::ClickRequest::ON;
      break;
    case proto::ClickRequest::LEVEL:
      if (!protocol::kClickLevelDb.contains(r.level_db())) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE,
                      fmt::format("a click level is {} to {} dBFS", protocol::kClickLevelDb.lo,
                                  protocol::kClickLevelDb.hi));
        return;
      }
      click_level_db_ = r.level_db();
      click_on_ = true;
      break;
    case proto::ClickRequest::COUNT_IN:
      if (!protocol::kCountInBars.contains(static_cast<float>(r.count_in_bars()))) {
        s->send_error(
            id, proto::ErrorReply::BAD_VALUE,
            fmt::format("a count-in is {} to {} bars", protocol::kCountInBars.lo, protocol::kCountInBars.hi));
        return;
      }
      count_in_bars_ = r.count_in_bars();
      ++changes_;
      spdlog::info("count-in {} bar(s), set by {}", count_in_bars_, s->who());
      reply_state(*s, id, state());
      return;
    case proto::ClickRequest::STATUS:
    default:
      reply_state(*s, id, state());
      return;
  }
  if (!post_click(*s, id)) return;
  reply_state(*s, id, state());
}

void TransportControl::request(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                               const proto::TransportRequest& r) {
  const auto answer = [&](const proto::TransportState& st) { reply_state(*s, id, st); };
  MediaTime position = engine_.transport_position();
  if (r.has_position()) {
    auto p = samples(r.position());
    if (!p) {
      s->send_error(id, proto::ErrorReply::BAD_VALUE, p.error());
      return;
    }
    position = p.value();
  }
  const bool playing = engine_.transport_playing();
  switch (r.action()) {
    case proto::TransportRequest::STOP: {
      if (!post_or_answer(engine_, *s, id,
                          MixCommand{.kind = MixCommand::Kind::Transport, .value = kTransportStop}))
        return;
      proto::TransportState st = state();
      st.set_playing(false);
      spdlog::info("transport stopped by {}", s->who());
      answer(st);
      return;
    }
    case proto::TransportRequest::PLAY:
    case proto::TransportRequest::LOCATE: {
      if (r.action() == proto::TransportRequest::LOCATE && !r.has_position()) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, "locate needs a position");
        return;
      }
      if (r.action() == proto::TransportRequest::PLAY && !r.has_position() && playing) {
        answer(state());  // already playing from where it stands: nothing to do
        return;
      }
      const bool play = r.action() == proto::TransportRequest::PLAY || playing;
      MixCommand cmd{.kind = MixCommand::Kind::Transport, .value = play ? kTransportPlay : kTransportStand};
      cmd.at = position;
      if (r.action() == proto::TransportRequest::PLAY && count_in_bars_ > 0) {
        // Count-in: the transport starts whole bars early (on the song's beat grid, the
        // backing playing too) and the click sounds up to the position asked for.
        cmd.at = position - std::llround(count_in_bars_ * beats_per_bar_ * beat_frames());
        cmd.count_in_to = position;
      }
      // A play from before the loop's end loops; one after it plays straight on.
      if (play && loop_.on() && cmd.at < loop_.to) cmd.loop = loop_;
      cmd.generation = backing_.prepare(cmd.at, cmd.loop);
      spdlog::info("transport {} at timeline {} by {}{}", play ? "plays" : "stands", cmd.at, s->who(),
                   cmd.count_in_to == kNoCountIn
                       ? std::string()
                       : fmt::format(", counting in {} bar(s) to {}", count_in_bars_, position));
      post_when_ready(s, id, cmd, std::make_shared<asio::steady_timer>(io_), kPolls);
      return;
    }
    case proto::TransportRequest::PUNCH:
    case proto::TransportRequest::PUNCH_OFF:
      punch(*s, id, r, position);
      return;
    case proto::TransportRequest::LOOP:
    case proto::TransportRequest::LOOP_OFF:
      loop(*s, id, r, position);
      return;
    case proto::TransportRequest::STATUS:
    default:
      answer(state());
      return;
  }
}

void TransportControl::post_when_ready(const std::weak_ptr<ControlSession>& s, std::uint64_t id,
                                       MixCommand command, std::shared_ptr<asio::steady_timer> timer,
                                       int tries_left) {
  if (!backing_.ready(command.generation) && tries_left > 0) {
    timer->expires_after(kPoll);
    timer->async_wait([this, s, id, command, timer, tries_left](const std::error_code& ec) {
      if (!ec) post_when_ready(s, id, command, timer, tries_left - 1);
    });
    return;
  }
  if (tries_left == 0)
    spdlog::warn("backing tracks not read ahead in 2 s: playing anyway (underruns counted)");
  auto session = s.lock();
  // A later play or locate took over while this one waited: that one is posted instead.
  if (command.generation != backing_.generation()) {
    if (session) reply_state(*session, id, state());
    return;
  }
  // Posted whether or not the operator still waits: the read it names is the one the
  // tracks now hold, and a transport left on the last one would play silence.
  const Status posted = post_change(engine_, command);
  if (!session) return;
  if (!posted) {
    session->send_error(id, proto::ErrorReply::INTERNAL, posted.error());
    return;
  }
  proto::TransportState st = state();
  st.set_playing(command.value == kTransportPlay);
  st.set_looping(command.loop.on());
  st.set_position(command.at);
  if (command.count_in_to != kNoCountIn) st.set_count_in_to(command.count_in_to);
  reply_state(*session, id, st);
}

void TransportControl::backing(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                               const proto::BackingRequest& r) {
  proto::Envelope reply;
  switch (r.action()) {
    case proto::BackingRequest::ADD: {
      if (r.path().empty()) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, "backing add needs a file's path");
        return;
      }
      auto at = samples(r.at());
      if (!at) {
        s->send_error(id, proto::ErrorReply::BAD_VALUE, at.error());
        return;
      }
      auto added = backing_.add(r.path(), r.name(), at.value());
      if (!added) {  // a file it cannot play, or a name taken: refused (tlctl checked the words)
        s->send_error(id, proto::ErrorReply::NOT_FOUND, added.error());
        return;
      }
      if (added->already) {
        *reply.mutable_backing_list() = backing_.list();
        reply.mutable_backing_list()->set_message("'" + added->track.name() + "' is already there, as asked");
        break;
      }
      if (auto st = pan_new_track(*added); !st) {
        s->send_error(id, proto::ErrorReply::INTERNAL, st.error());
        return;
      }
      ++changes_;
      changed_();
      *reply.mutable_backing_list() = backing_.list();
      reply.mutable_backing_list()->set_message("added '" + added->track.name() + "'");
      break;
    }
    case proto::BackingRequest::REMOVE:
      if (const Status st = backing_.remove(r.name()); !st) {
        s->send_error(id, proto::ErrorReply::NOT_FOUND, st.error());
        return;
      }
      ++changes_;
      changed_();
      *reply.mutable_backing_list() = backing_.list();
      reply.mutable_backing_list()->set_message("removed '" + r.name() + "'");
      break;
    case proto::BackingRequest::LIST:
    default:
      *reply.mutable_backing_list() = backing_.list();
      break;
  }
  s->reply(id, std::move(reply));
}

}  // namespace tl::mixer
