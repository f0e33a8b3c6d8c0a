// The sender thread's loop: its state and one step per job (registration, clock
// sync, datagrams in, blocks out, status, the wait for the next block).
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <memory>
#include <optional>

#include "tl/capture/cue_output.h"
#include "tl/capture/opus_packetizer.h"
#include "tl/capture/packetizer.h"
#include "tl/capture/producer.h"
#include "tl/capture/sender.h"
#include "tl/common/clock.h"
#include "tl/common/clock_estimator.h"
#include "tl/protocol/nack.h"
#include "tl/protocol/opus_cue.h"
#include "tl/protocol/opus_payload.h"
#include "tl/protocol/pcm.h"
#include "tl/protocol/sync.h"

namespace tl::capture {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSyncPeriod = 100 * kMs;  // the estimator's guidance: one exchange per 100 ms
constexpr std::size_t kStartExchanges = 4;  // a first estimate from this many exchanges starts a timeline
constexpr std::int64_t kStartAnyway = 1000 * kMs;  // or from fewer, once this long has passed
constexpr std::int64_t kSyncTimeout = 2000 * kMs;  // no reply at all: start again
constexpr std::int64_t kStatusPeriod = 5000 * kMs;
constexpr std::int64_t kAnchorPeriod = 500 * kMs;  // timestamp-map points for the mixer
constexpr std::int64_t kBlockSlackNs = 100'000;    // wake this long after a block is due

}  // namespace

class Sender::Loop {
 public:
  explicit Loop(Sender& sender);
  //! Until the sender is stopped.
  void run();

 private:
  void take_registration(std::int64_t now);
  void open_socket(std::int64_t now);
  void choose_payload_budget(bool via);
  void publish(std::int64_t now);
  void send_sync(std::int64_t now);
  void begin_sync(std::int64_t now);
  void follow_sync(std::int64_t now);
  void receive_all();
  void answer_nack(std::span<const std::uint8_t> payload);
  bool send_queued(std::int64_t now);
  void send_block(const BlockInfo& info, const float* planar, std::int64_t now);
  void note_held(const BlockInfo& info);
  void log_status(std::int64_t now);
  void wait(std::int64_t next_due, bool drained);
  Sender::SyncState sync_state() const;
  void set_state(Sender::SyncState s) { s_.state_.store(static_cast<int>(s), std::memory_order_relaxed); }

  Sender& s_;
  const Config& config_;
  asio::io_context io_;
  asio::ip::udp::socket socket_{io_};
  // Resends come from the spool, in its format (24-bit PCM for an Opus node), in
  // packets of at most 256 frames (PCM of a 10 or 20 ms Opus block would not fit one).
  const protocol::SampleFormat wire_format_;
  const std::uint16_t resend_frames_;
  const std::size_t frame_bytes_;
  Packetizer packetizer_;
  std::optional<OpusPacketizer> opus_;
  ClockEstimator est_;
  std::array<std::uint8_t, protocol::kMaxPacketBytes> out_{};
  std::array<std::uint8_t, 2048> in_{};
  std::array<std::int64_t, 16> outstanding_{};  // t1 of recent requests
  std::size_t outstanding_next_ = 0;
  std::vector<std::uint8_t> resend_;
  std::vector<std::uint8_t> resend_have_;
  std::array<protocol::NackRange, protocol::kMaxNackRanges> nack_ranges_{};
  std::array<float, 2 * protocol::kMaxFrames> cue_samples_{};
  // An Opus cue's decoder (made with the loop: the thread never allocates after).
  std::unique_ptr<protocol::CueDecoder> cue_decoder_;
  double cue_hold_since_ = -1.0;  // session frames: when packets began to wait for a gap
  //! Decodes an authenticated Opus cue packet and plays what is now in order.
  void receive_opus_cue(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                        double session_now);
  //! Gives up a gap in the Opus cue whose audio is nearly due to play.
  void conceal_due_cue(double session_now);
  //! Publishes the decoder's counters.
  void publish_cue_counters();
  Seq sync_seq_ = 0;

  std::uint64_t seen_generation_ = 0;
  Registration reg_;
  enum class Phase { Idle, Syncing, Streaming };
  Phase phase_ = Phase::Idle;
  std::uint32_t epoch_ = 0;            // the current timeline (0: none yet)
  std::int64_t timeline_session_ = 0;  // the session it was stamped for
  bool keep_timeline_ = false;         // this registration rejoins that session
  const bool spooling_;                // a spool is attached: blocks can be kept while away
  std::int64_t next_sync_ = 0;
  std::int64_t sync_started_ = 0;
  std::int64_t next_status_;
  std::int64_t next_anchor_ = 0;
  bool warned_no_reply_ = false;
  bool warned_lost_ = false;
  std::string peer_;  // where UDP goes, for log lines
  // The source's block period, and when the last block sent began (node clock).
  const std::int64_t block_ns_;
  std::int64_t last_capture_ns_ = 0;
  std::int64_t streaming_since_ = 0;  // when this registration began streaming (node clock)
  std::int64_t held_max_ = 0;         // the longest a block captured since then waited here
  bool in_spell_ = false;             // the last block sent was held kLongHoldNs or more
};

Sender::Loop::Loop(Sender& sender)
    : s_(sender),
      config_(sender.config_),
      wire_format_(protocol::spool_format(config_.format)),
      resend_frames_(std::min<std::uint16_t>(config_.frames, 256)),
      frame_bytes_(config_.channels * protocol::bytes_per_sample(wire_format_)),
      packetizer_(config_.channels, resend_frames_, wire_format_),
      resend_(static_cast<std::size_t>(resend_frames_) * frame_bytes_),
      resend_have_(resend_frames_),
      spooling_(sender.has_spool()),
      next_status_(sender.clock_.now() + kStatusPeriod),
      block_ns_(frames_to_ns(config_.frames, config_.rate)) {
  if (spooling_ && s_.resume_) {
    s_.stamper_.publish(s_.resume_->map);
    epoch_ = s_.stamper_.restart();
    timeline_session_ = s_.resume_->session_epoch;
  }
  if (s_.cue_ != nullptr) {
    auto made = protocol::CueDecoder::create();
    if (made) {
      cue_decoder_ = std::move(made.value());
    } else {
      spdlog::error("{}: an Opus cue mix cannot be played", made.error());
    }
  }
  if (config_.format == protocol::SampleFormat::Opus) {
    auto made = OpusPacketizer::create({.channels = config_.channels,
                                        .rate = config_.rate,
                                        .frames = config_.frames,
                                        .bitrate = config_.bitrate});
    if (made) {
      opus_.emplace(std::move(made.value()));
    } else {
      spdlog::error("{}: no audio will be sent", made.error());
    }
  }
}

void Sender::Loop::run() {
  while (s_.running_.load(std::memory_order_relaxed)) {
    std::int64_t now = s_.clock_.now();
    take_registration(now);
    if (socket_.is_open()) {
      receive_all();
      if (cue_decoder_ && est_.has_estimate())
        conceal_due_cue(static_cast<double>(est_.to_session_ns(s_.clock_.now())) * config_.rate / 1e9);
    }
    now = s_.clock_.now();
    follow_sync(now);

    // A source paced here renders what is due now; the queue then holds it.
    std::int64_t next_due = 0;
    if (s_.source_ != nullptr) next_due = s_.source_->pump(s_.clock_.now());
    const bool drained = send_queued(now);
    log_status(s_.clock_.now());
    wait(next_due, drained);
  }
}

Sender::SyncState Sender::Loop::sync_state() const {
  switch (est_.state()) {
    case ClockSyncState::Locked:
      return SyncState::Locked;
    case ClockSyncState::Lost:
      return SyncState::Lost;
    default:
      return SyncState::Acquiring;
  }
}

// A new registration (or none): the socket is closed, and opened again towards the new one.
void Sender::Loop::take_registration(std::int64_t now) {
  if (s_.generation_.load(std::memory_order_acquire) == seen_generation_) return;
  bool active = false;
  {
    std::lock_guard lock(s_.mutex_);
    seen_generation_ = s_.generation_.load(std::memory_order_relaxed);
    reg_ = s_.pending_;
    active = s_.pending_active_;
  }
  std::error_code ec;
  if (socket_.is_open()) socket_.close(ec);
  phase_ = Phase::Idle;
  set_state(SyncState::Idle);
  keep_timeline_ =
      active && epoch_ != 0 && reg_.session_epoch != 0 && reg_.session_epoch == timeline_session_;
  if (active) open_socket(now);
}

void Sender::Loop::open_socket(std::int64_t now) {
  // --audio-to (e.g. an impairment proxy) replaces the mixer's advertised audio port. The
  // socket is connected to that address, which is also where sync replies come back from.
  const bool via = !config_.audio_to_host.empty();
  const std::string host = via ? config_.audio_to_host : reg_.host;
  const std::uint16_t port = via ? config_.audio_to_port : reg_.audio_port;
  peer_ = host + ":" + std::to_string(port);
  std::error_code ec;
  asio::ip::udp::resolver resolver(io_);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (!ec && !results.empty()) {
    const auto endpoint = results.begin()->endpoint();
    socket_.open(endpoint.protocol(), ec);
    if (!ec) socket_.connect(endpoint, ec);
    if (!ec) socket_.non_blocking(true, ec);
  }
  if (ec) {
    spdlog::error(
        "cannot open the audio socket to {}: {} — no audio will be sent until the node "
        "reconnects",
        peer_, ec.message());
    if (socket_.is_open()) socket_.close(ec);
    return;
  }
  choose_payload_budget(via);
  begin_sync(now);
  warned_no_reply_ = false;
  warned_lost_ = false;
}

// Fewer, larger datagrams where the route takes them (loopback, a jumbo-frame LAN) and
// the mixer accepts them: a block of 8 channels in one datagram instead of three costs
// the mixer a third of the per-packet work. Through --audio-to (an impairment proxy
// standing in for some other path) the node keeps to the size any path takes.
void Sender::Loop::choose_payload_budget(bool via) {
  std::size_t mtu = 0;
  std::error_code ec;
  const auto local = socket_.local_endpoint(ec);
  const bool v6 = !ec && local.address().is_v6();
  if (!via) {
    int value = 0;
    socklen_t len = sizeof value;
    const int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    const int name = v6 ? IPV6_MTU : IP_MTU;
    if (::getsockopt(socket_.native_handle(), level, name, &value, &len) == 0 && value > 0) {
      mtu = static_cast<std::size_t>(value);
    }
  }
  const std::size_t budget = protocol::payload_budget(reg_.max_payload, mtu, v6);
  packetizer_.set_payload_budget(budget);
  spdlog::info("audio to {}: {} channel(s) per datagram ({} payload bytes at most; route MTU {})", peer_,
               packetizer_.channels_per_packet(), budget,
               mtu == 0 ? std::string("not asked") : std::to_string(mtu));
}

// Publishes the estimate: to the stamper (for the next timeline) and to stats().
void Sender::Loop::publish(std::int64_t now) {
  if (!est_.has_estimate()) return;
  s_.stamper_.publish(est_.mapping(now));
  s_.offset_ns_.store(est_.offset_ns_at(now), std::memory_order_relaxed);
  s_.rtt_ns_.store(est_.min_rtt_ns(), std::memory_order_relaxed);
  s_.drift_ppm_.store(est_.skew_ppm(), std::memory_order_relaxed);
  s_.error_ns_.store(est_.error_estimate_ns(), std::memory_order_relaxed);
  s_.estimate_exchanges_.store(est_.exchanges_used(), std::memory_order_relaxed);
  set_state(sync_state());
}

void Sender::Loop::send_sync(std::int64_t now) {
  const std::size_t n = protocol::encode_sync_request(reg_.node_id, sync_seq_++, now, reg_.key, out_);
  outstanding_[outstanding_next_++ % outstanding_.size()] = now;
  std::error_code ec;
  socket_.send(asio::buffer(out_.data(), n), 0, ec);  // errors (e.g. refused) just lose this request
}

void Sender::Loop::begin_sync(std::int64_t now) {
  est_.reset();
  outstanding_.fill(0);
  next_sync_ = now;
  sync_started_ = now;
  phase_ = Phase::Syncing;
  set_state(SyncState::Acquiring);
}

// A request every kSyncPeriod; a timeline starts once the estimate is good enough, and
// the operator hears when replies stop or come back.
void Sender::Loop::follow_sync(std::int64_t now) {
  if (phase_ != Phase::Idle && now >= next_sync_) {
    send_sync(now);
    next_sync_ += kSyncPeriod;
    if (next_sync_ < now) next_sync_ = now + kSyncPeriod;
    est_.poll(now);
    publish(now);
    if (phase_ == Phase::Streaming &&
        est_.state() == ClockSyncState::Locked) {  // for the spool's timeline file
      std::lock_guard lock(s_.anchor_mutex_);
      s_.memo_ = TimelineMemo{.map = est_.mapping(now), .session_epoch = timeline_session_};
    }
  }
  if (phase_ == Phase::Syncing) {
    if (est_.has_estimate() &&
        (est_.exchanges_used() >= kStartExchanges || now >= sync_started_ + kStartAnyway)) {
      publish(now);
      // The same session again (its mixer restarted): the timeline goes on, so the
      // audio spooled meanwhile sits where the take expects it. Else a new timeline.
      if (!keep_timeline_) {
        epoch_ = s_.stamper_.restart();
        timeline_session_ = reg_.session_epoch;
      }
      phase_ = Phase::Streaming;
      streaming_since_ = now;
      held_max_ = 0;
      in_spell_ = false;
      {
        std::lock_guard lock(s_.anchor_mutex_);
        s_.held_max_ns_ = 0;
        s_.held_max_at_ = 0;
        s_.long_hold_count_ = 0;
      }
      spdlog::info("streaming as node {} to {} (clock offset {:.3f} ms, rtt {:.3f} ms, {} exchanges{})",
                   reg_.node_id, peer_, static_cast<double>(est_.offset_ns_at(now)) / 1e6,
                   static_cast<double>(est_.min_rtt_ns()) / 1e6, est_.exchanges_used(),
                   keep_timeline_ ? "; the same session: its timeline goes on" : "");
    } else if (!est_.has_estimate() && now >= sync_started_ + kSyncTimeout) {
      if (!warned_no_reply_) {
        spdlog::warn("no clock-sync reply from {} within 2 s; retrying (is that UDP port blocked?)", peer_);
        warned_no_reply_ = true;
      }
      begin_sync(now);
    }
  } else if (phase_ == Phase::Streaming) {
    if (!warned_lost_ && est_.state() == ClockSyncState::Lost) {
      spdlog::warn(
          "no clock-sync reply for 5 s: the network path to {} may be down; still sending, "
          "timestamps keep the timeline they started with",
          peer_);
      warned_lost_ = true;
    } else if (warned_lost_ && est_.state() != ClockSyncState::Lost) {
      spdlog::info("clock-sync replies from {} are back", peer_);
      warned_lost_ = false;
    }
  }
}

// Every datagram waiting: sync replies, NACKs, the cue mix.
void Sender::Loop::receive_all() {
  for (;;) {
    std::error_code ec;
    const std::size_t n = socket_.receive(asio::buffer(in_), 0, ec);
    if (ec) return;  // would_block, or a refused port from an earlier send
    const std::int64_t t4 = s_.clock_.now();
    const std::span<const std::uint8_t> datagram(in_.data(), n);
    protocol::PacketHeader h;
    std::span<const std::uint8_t> payload;
    if (protocol::parse(datagram, h, payload) != protocol::DecodeError::Ok) continue;
    if (h.type == protocol::PacketType::Cue && h.node_id == reg_.node_id) {
      const std::size_t samples = 2 * static_cast<std::size_t>(h.frame_count);
      if (s_.cue_ == nullptr || h.channel_count != 2 || !est_.has_estimate() ||
          !protocol::verify_tag(datagram, reg_.key))
        continue;
      const double session_now = static_cast<double>(est_.to_session_ns(t4)) * config_.rate / 1e9;
      if (h.format == protocol::SampleFormat::Opus) {
        receive_opus_cue(h, payload, session_now);
      } else if (h.format == protocol::SampleFormat::Pcm24 && payload.size() == 3 * samples &&
                 samples <= cue_samples_.size()) {
        const std::span<float> stereo(cue_samples_.data(), samples);
        protocol::unpack_pcm(payload, h.format, stereo);
        s_.cue_->deliver(h.media_ts, stereo, session_now);
      }
      continue;
    }
    if (h.type == protocol::PacketType::Nack && h.node_id == reg_.node_id) {
      if (protocol::verify_tag(datagram, reg_.key)) answer_nack(payload);
      continue;
    }
    if (h.type != protocol::PacketType::SyncReply || h.node_id != reg_.node_id) continue;
    if (!protocol::verify_tag(datagram, reg_.key)) continue;
    auto sample = protocol::parse_sync_reply(payload);
    if (!sample) continue;
    bool ours = false;
    for (const auto t1 : outstanding_) ours = ours || (t1 != 0 && t1 == sample->t1);
    if (!ours) continue;
    if (est_.add(SyncExchange{.t1 = sample->t1, .t2 = sample->t2, .t3 = sample->t3, .t4 = t4})) {
      s_.exchanges_.fetch_add(1, std::memory_order_relaxed);
      publish(t4);
    }
  }
}

void Sender::Loop::receive_opus_cue(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                                    double session_now) {
  if (!cue_decoder_) return;
  s_.cue_opus_.store(true, std::memory_order_relaxed);
  cue_decoder_->accept(h.media_ts, h.frame_count, payload, [&](MediaTime at, std::span<const float> stereo) {
    s_.cue_->deliver(at, stereo, session_now);
  });
  if (!cue_decoder_->holding()) {
    cue_hold_since_ = -1.0;
  } else if (cue_hold_since_ < 0.0) {
    cue_hold_since_ = session_now;
  }
  publish_cue_counters();
}

void Sender::Loop::conceal_due_cue(double session_now) {
  if (!cue_decoder_ || !cue_decoder_->holding()) return;
  // A gap is given up 2 ms before its audio plays (the output's play-out delay says when),
  // so every packet the link merely reordered is waited for; an output that cannot say
  // (not settled yet, or a device) gives a missing packet 20 ms from when the next waited.
  const MediaTime delay = s_.cue_->play_delay();
  MediaTime due = INT64_MIN;
  if (delay >= 0) {
    due = static_cast<MediaTime>(session_now) - delay + config_.rate / 500;
  } else if (cue_hold_since_ >= 0.0 && session_now - cue_hold_since_ >= config_.rate / 50.0) {
    due = INT64_MAX;
  }
  const MediaTime before = cue_decoder_->next();
  cue_decoder_->give_up_before(
      due, [&](MediaTime at, std::span<const float> stereo) { s_.cue_->deliver(at, stereo, session_now); });
  if (!cue_decoder_->holding()) {
    cue_hold_since_ = -1.0;
  } else if (cue_decoder_->next() != before) {
    cue_hold_since_ = session_now;  // one gap given up: the next one waits afresh
  }
  publish_cue_counters();
}

void Sender::Loop::publish_cue_counters() {
  const auto& c = cue_decoder_->counters();
  s_.cue_concealed_.store(c.concealed_frames, std::memory_order_relaxed);
  s_.cue_late_.store(c.late_packets, std::memory_order_relaxed);
}

// Resends what the mixer missed, from the spool, a block at a time (at most a
// second per range: older gaps are the take-end backfill's job).
void Sender::Loop::answer_nack(std::span<const std::uint8_t> payload) {
  s_.nacks_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t n = protocol::parse_nack(payload, nack_ranges_);
  for (std::size_t r = 0; r < n; ++r) {
    const MediaTime end = nack_ranges_[r].from + std::min<MediaTime>(nack_ranges_[r].frames, config_.rate);
    for (MediaTime at = nack_ranges_[r].from; at < end; at += resend_frames_) {
      const auto want = static_cast<std::uint32_t>(std::min<MediaTime>(resend_frames_, end - at));
      std::fill(resend_have_.begin(), resend_have_.end(), std::uint8_t{0});
      const std::size_t found = s_.read_spool(at, want, resend_, resend_have_);
      s_.nack_missing_.fetch_add(want - found, std::memory_order_relaxed);
      // Each run of frames the spool holds becomes its own packets.
      for_each_run(
          std::span<const std::uint8_t>(resend_have_.data(), want), [&](std::size_t i, std::size_t count) {
            const auto wire =
                std::span<const std::uint8_t>(resend_).subspan(i * frame_bytes_, count * frame_bytes_);
            for (const Packet& p :
                 packetizer_.packetize_wire(at + static_cast<MediaTime>(i), static_cast<std::uint16_t>(count),
                                            0, wire, reg_.node_id, reg_.key)) {
              std::error_code ec;
              socket_.send(asio::buffer(p.bytes.data(), p.size), 0, ec);
              s_.resent_packets_.fetch_add(1, std::memory_order_relaxed);
            }
            return true;
          });
    }
  }
}

// Drains the queue: sends blocks of the current timeline, drops (and counts) the rest.
// True when there was a block.
bool Sender::Loop::send_queued(std::int64_t now) {
  const BlockInfo* info = nullptr;
  const float* planar = nullptr;
  bool drained = false;
  while (s_.queue_.front(info, planar)) {
    drained = true;
    last_capture_ns_ = info->capture_ns;
    const bool finished = s_.finished_.load(std::memory_order_relaxed);
    if (phase_ == Phase::Streaming && info->epoch == epoch_ && !finished) {
      send_block(*info, planar, now);
    } else if (spooling_ && epoch_ != 0 && info->epoch == epoch_ && !finished) {
      // The mixer is away (or syncing again): kept on disk for it, not sent.
      if ((info->flags & protocol::kFlagDiscontinuity) != 0) {  // a timeline resumed before any mixer
        std::lock_guard lock(s_.anchor_mutex_);
        s_.has_timeline_ = true;
        s_.timeline_start_ = info->media_ts;
      }
      s_.append_to_spool(*info, planar);
      s_.frames_spooled_away_.fetch_add(config_.frames, std::memory_order_relaxed);
    } else if (info->epoch != 0 && !finished) {
      s_.frames_discarded_.fetch_add(config_.frames, std::memory_order_relaxed);
    }
    s_.queue_.pop();
  }
  return drained;
}

void Sender::Loop::send_block(const BlockInfo& info, const float* planar, std::int64_t now) {
  if (est_.state() == ClockSyncState::Locked && now >= next_anchor_) {
    // Where the converged estimate puts this block: the mixer corrects the
    // timeline's start (stamped from an early estimate) with these.
    next_anchor_ = now + kAnchorPeriod;
    const double pos = static_cast<double>(est_.to_session_ns(info.capture_ns)) * config_.rate / 1e9;
    std::lock_guard lock(s_.anchor_mutex_);
    s_.has_anchor_ = true;
    s_.anchor_media_ts_ = info.media_ts;
    s_.anchor_session_pos_ = pos;
  }
  if ((info.flags & protocol::kFlagDiscontinuity) != 0) {
    std::lock_guard lock(s_.anchor_mutex_);
    s_.has_timeline_ = true;
    s_.timeline_start_ = info.media_ts;
  }
  note_held(info);
  s_.append_to_spool(info, planar);  // on disk before it is on the wire
  const auto packets = opus_ ? opus_->packetize(info, planar, reg_.node_id, reg_.key)
                             : packetizer_.packetize(info, planar, reg_.node_id, reg_.key);
  for (const Packet& p : packets) {
    std::error_code ec;
    socket_.send(asio::buffer(p.bytes.data(), p.size), 0, ec);
    s_.packets_sent_.fetch_add(1, std::memory_order_relaxed);
  }
  const auto sent = s_.frames_sent_.fetch_add(config_.frames, std::memory_order_relaxed) + config_.frames;
  if (config_.stop_after_frames > 0 && sent >= static_cast<std::uint64_t>(config_.stop_after_frames)) {
    s_.finished_.store(true, std::memory_order_release);
  }
}

// How long the block waited here after its last frame was captured: the largest, and
// the spells of long ones (blocks held kLongHoldNs or more one after another make one
// spell; the first of them waited longest, the rest were captured during it). Blocks
// captured before streaming began waited for the clock sync, not for a core: not counted.
void Sender::Loop::note_held(const BlockInfo& info) {
  if (info.capture_ns < streaming_since_) return;
  const std::int64_t held = s_.clock_.now() - (info.capture_ns + block_ns_);
  const bool is_long = held >= kLongHoldNs;
  const bool new_spell = is_long && !in_spell_;
  in_spell_ = is_long;
  if (held <= held_max_ && !is_long) return;
  std::lock_guard lock(s_.anchor_mutex_);
  if (held > held_max_) {
    held_max_ = held;
    s_.held_max_ns_ = held;
    s_.held_max_at_ = info.media_ts;
  }
  if (new_spell) {
    s_.long_holds_[s_.long_hold_count_++ % s_.long_holds_.size()] = Stats::Hold{info.media_ts, held};
  } else if (is_long) {
    Stats::Hold& spell = s_.long_holds_[(s_.long_hold_count_ - 1) % s_.long_holds_.size()];
    spell.held_ns = std::max(spell.held_ns, held);
  }
}

void Sender::Loop::log_status(std::int64_t now) {
  if (now < next_status_) return;
  next_status_ = now + kStatusPeriod;
  const Stats st = s_.stats();
  spdlog::info(
      "status: {} packets sent, {} frames sent, {} frames dropped, sync {}, offset {:.3f} ms, rtt {:.3f} "
      "ms, drift {:+.2f} ppm, error {:.1f} us{}",
      st.packets_sent, st.frames_sent, st.frames_dropped, to_string(est_.state()),
      static_cast<double>(st.offset_ns) / 1e6, static_cast<double>(st.rtt_ns) / 1e6, st.drift_ppm,
      static_cast<double>(st.error_ns) / 1e3, phase_ == Phase::Streaming ? "" : " (not streaming)");
}

// Waits for a datagram (a sync reply, a NACK, the cue) or the next block, whichever
// comes first: the source queues a block once its last frame is captured, so the next
// is due a block after the last one's end (one wake-up per block, not every half
// millisecond). Found no block at this wake: the source runs late; look again soon.
void Sender::Loop::wait(std::int64_t next_due, bool drained) {
  std::int64_t wait_ns = 250'000;
  if (s_.source_ != nullptr) {
    wait_ns = std::clamp<std::int64_t>(s_.clock_.real_ns(next_due) - monotonic_ns(), 0, 5'000'000);
  } else if (drained && last_capture_ns_ != 0) {
    wait_ns = std::clamp<std::int64_t>(last_capture_ns_ + 2 * block_ns_ + kBlockSlackNs - s_.clock_.now(),
                                       50'000, 5'000'000);
  }
  if (socket_.is_open()) {
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    const timespec ts{0, static_cast<long>(wait_ns)};
    ::ppoll(&pfd, 1, &ts, nullptr);
  } else {
    sleep_until_ns(monotonic_ns() + 1 * kMs);  // real time: sleeping is not a clock reading
  }
}

void Sender::run() {
  Loop(*this).run();
}

}  // namespace tl::capture
