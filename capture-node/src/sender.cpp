#include "tl/capture/sender.h"

#include "tl/capture/cue_output.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <optional>

#include "tl/capture/opus_packetizer.h"
#include "tl/capture/packetizer.h"
#include "tl/capture/producer.h"
#include "tl/common/clock.h"
#include "tl/common/clock_estimator.h"
#include "tl/common/realtime.h"
#include "tl/protocol/nack.h"
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

enum class Phase { Idle, Syncing, Streaming };

}  // namespace

Sender::Sender(BlockQueue& queue, MediaStamper& stamper, Config config, const SimClock& clock)
    : queue_(queue), stamper_(stamper), config_(std::move(config)), clock_(clock) {}

Sender::~Sender() {
  stop();
}

int Sender::start(bool realtime) {
  if (running_.exchange(true)) return 0;
  thread_ = std::thread([this] { run(); });
  return realtime ? rt::set_realtime_priority(thread_, kPriority) : 0;
}

void Sender::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

void Sender::connect(const Registration& reg) {
  std::lock_guard lock(mutex_);
  pending_ = reg;
  pending_active_ = true;
  generation_.fetch_add(1, std::memory_order_release);
}

void Sender::disconnect() {
  std::lock_guard lock(mutex_);
  pending_active_ = false;
  generation_.fetch_add(1, std::memory_order_release);
}

Sender::Stats Sender::stats() const noexcept {
  Stats s;
  s.packets_sent = packets_sent_.load(std::memory_order_relaxed);
  s.frames_sent = frames_sent_.load(std::memory_order_relaxed);
  s.frames_dropped = frames_discarded_.load(std::memory_order_relaxed) + queue_.overflows() * config_.frames;
  s.offset_ns = offset_ns_.load(std::memory_order_relaxed);
  s.rtt_ns = rtt_ns_.load(std::memory_order_relaxed);
  s.drift_ppm = drift_ppm_.load(std::memory_order_relaxed);
  s.error_ns = error_ns_.load(std::memory_order_relaxed);
  s.exchanges = exchanges_.load(std::memory_order_relaxed);
  s.state = static_cast<SyncState>(state_.load(std::memory_order_relaxed));
  {
    std::lock_guard lock(anchor_mutex_);
    s.has_anchor = has_anchor_;
    s.anchor_media_ts = anchor_media_ts_;
    s.anchor_session_pos = anchor_session_pos_;
    s.has_timeline = has_timeline_;
    s.timeline_start = timeline_start_;
  }
  return s;
}

void Sender::attach_spool(std::unique_ptr<Spool> spool) {
  std::lock_guard lock(spool_mutex_);
  spool_ = std::move(spool);
  spool_interleaved_.assign(config_.channels * config_.frames, 0.0f);
  spool_wire_.assign(
      config_.channels * config_.frames * protocol::bytes_per_sample(protocol::spool_format(config_.format)),
      0);
}

std::size_t Sender::read_spool(MediaTime from, std::uint32_t frames, std::span<std::uint8_t> out,
                               std::span<std::uint8_t> have) {
  std::lock_guard lock(spool_mutex_);
  if (!spool_) return 0;
  return spool_->read(from, frames, out, have);
}

Sender::SpoolStats Sender::spool_stats() const noexcept {
  return SpoolStats{.nacks = nacks_.load(std::memory_order_relaxed),
                    .resent_packets = resent_packets_.load(std::memory_order_relaxed),
                    .nack_frames_missing = nack_missing_.load(std::memory_order_relaxed),
                    .append_errors = spool_errors_.load(std::memory_order_relaxed)};
}

void Sender::append_to_spool(const BlockInfo& info, const float* planar) {
  std::lock_guard lock(spool_mutex_);
  if (!spool_) return;
  const std::size_t channels = config_.channels, frames = config_.frames;
  for (std::size_t i = 0; i < frames; ++i) {
    for (std::size_t c = 0; c < channels; ++c) spool_interleaved_[i * channels + c] = planar[c * frames + i];
  }
  protocol::pack_pcm(spool_interleaved_, protocol::spool_format(config_.format), spool_wire_);
  const auto flags = static_cast<std::uint16_t>(info.flags & protocol::kFlagSilence);
  if (auto st = spool_->append(info.media_ts, config_.frames, flags, spool_wire_); !st) {
    if (spool_errors_.fetch_add(1, std::memory_order_relaxed) == 0) {
      spdlog::error(
          "spool: {} — audio is still sent, but what the mixer misses cannot be resent; check the disk",
          st.error());
    }
  }
}

void Sender::run() {
  asio::io_context io;
  asio::ip::udp::socket socket(io);
  // Resends come from the spool, in its format (24-bit PCM for an Opus node), in
  // packets of at most 256 frames (PCM of a 10 or 20 ms Opus block would not fit one).
  const auto wire_format = protocol::spool_format(config_.format);
  const auto resend_frames = std::min<std::uint16_t>(config_.frames, 256);
  Packetizer packetizer(config_.channels, resend_frames, wire_format);
  std::optional<OpusPacketizer> opus;
  if (config_.format == protocol::SampleFormat::Opus) {
    auto made = OpusPacketizer::create({.channels = config_.channels,
                                        .rate = config_.rate,
                                        .frames = config_.frames,
                                        .bitrate = config_.bitrate});
    if (made) {
      opus.emplace(std::move(made.value()));
    } else {
      spdlog::error("{}: no audio will be sent", made.error());
    }
  }
  ClockEstimator est;
  std::array<std::uint8_t, protocol::kMaxPacketBytes> out{};
  std::array<std::uint8_t, 2048> in{};
  std::array<std::int64_t, 16> outstanding{};  // t1 of recent requests
  const std::size_t frame_bytes = config_.channels * protocol::bytes_per_sample(wire_format);
  std::vector<std::uint8_t> resend(static_cast<std::size_t>(resend_frames) * frame_bytes);
  std::vector<std::uint8_t> resend_have(resend_frames);
  std::array<protocol::NackRange, protocol::kMaxNackRanges> nack_ranges{};
  std::size_t outstanding_next = 0;
  Seq sync_seq = 0;

  std::uint64_t seen_generation = 0;
  Registration reg;
  Phase phase = Phase::Idle;
  std::uint32_t epoch = 0;
  std::int64_t next_sync = 0;
  std::int64_t sync_started = 0;
  std::int64_t next_status = clock_.now() + kStatusPeriod;
  std::int64_t next_anchor = 0;
  bool warned_no_reply = false;
  bool warned_lost = false;
  std::string peer;  // where UDP goes, for log lines
  // The source's block period, and when the last block sent began (node clock).
  const std::int64_t block_ns = frames_to_ns(config_.frames, config_.rate);
  std::int64_t last_capture_ns = 0;

  auto set_state = [&](SyncState s) { state_.store(static_cast<int>(s), std::memory_order_relaxed); };
  auto sync_state = [&] {
    switch (est.state()) {
      case ClockSyncState::Locked:
        return SyncState::Locked;
      case ClockSyncState::Lost:
        return SyncState::Lost;
      default:
        return SyncState::Acquiring;
    }
  };
  // Publishes the estimate: to the stamper (for the next timeline) and to stats().
  auto publish = [&](std::int64_t now) {
    if (!est.has_estimate()) return;
    stamper_.publish(est.mapping(now));
    offset_ns_.store(est.offset_ns_at(now), std::memory_order_relaxed);
    rtt_ns_.store(est.min_rtt_ns(), std::memory_order_relaxed);
    drift_ppm_.store(est.skew_ppm(), std::memory_order_relaxed);
    error_ns_.store(est.error_estimate_ns(), std::memory_order_relaxed);
    set_state(sync_state());
  };

  auto send_sync = [&](std::int64_t now) {
    const std::size_t n = protocol::encode_sync_request(reg.node_id, sync_seq++, now, reg.key, out);
    outstanding[outstanding_next++ % outstanding.size()] = now;
    std::error_code ec;
    socket.send(asio::buffer(out.data(), n), 0, ec);  // errors (e.g. refused) just lose this request
  };

  // Resends what the mixer missed, from the spool, a block at a time (at most a
  // second per range: older gaps are the take-end backfill's job).
  auto answer_nack = [&](std::span<const std::uint8_t> payload) {
    nacks_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t n = protocol::parse_nack(payload, nack_ranges);
    for (std::size_t r = 0; r < n; ++r) {
      const MediaTime end = nack_ranges[r].from + std::min<MediaTime>(nack_ranges[r].frames, config_.rate);
      for (MediaTime at = nack_ranges[r].from; at < end; at += resend_frames) {
        const auto want = static_cast<std::uint32_t>(std::min<MediaTime>(resend_frames, end - at));
        std::fill(resend_have.begin(), resend_have.end(), std::uint8_t{0});
        const std::size_t found = read_spool(at, want, resend, resend_have);
        nack_missing_.fetch_add(want - found, std::memory_order_relaxed);
        // Each run of frames the spool holds becomes its own packets.
        for_each_run(
            std::span<const std::uint8_t>(resend_have.data(), want), [&](std::size_t i, std::size_t count) {
              const auto wire =
                  std::span<const std::uint8_t>(resend).subspan(i * frame_bytes, count * frame_bytes);
              for (const Packet& p : packetizer.packetize_wire(at + static_cast<MediaTime>(i),
                                                               static_cast<std::uint16_t>(count), 0, wire,
                                                               reg.node_id, reg.key)) {
                std::error_code ec;
                socket.send(asio::buffer(p.bytes.data(), p.size), 0, ec);
                resent_packets_.fetch_add(1, std::memory_order_relaxed);
              }
              return true;
            });
      }
    }
  };

  std::array<float, 2 * protocol::kMaxFrames> cue_samples{};
  auto receive_all = [&] {
    for (;;) {
      std::error_code ec;
      const std::size_t n = socket.receive(asio::buffer(in), 0, ec);
      if (ec) return;  // would_block, or a refused port from an earlier send
      const std::int64_t t4 = clock_.now();
      const std::span<const std::uint8_t> datagram(in.data(), n);
      protocol::PacketHeader h;
      std::span<const std::uint8_t> payload;
      if (protocol::parse(datagram, h, payload) != protocol::DecodeError::Ok) continue;
      if (h.type == protocol::PacketType::Cue && h.node_id == reg.node_id) {
        const std::size_t samples = 2 * static_cast<std::size_t>(h.frame_count);
        if (cue_ != nullptr && h.channel_count == 2 && h.format == protocol::SampleFormat::Pcm24 &&
            payload.size() == 3 * samples && samples <= cue_samples.size() && est.has_estimate() &&
            protocol::verify_tag(datagram, reg.key)) {
          const std::span<float> stereo(cue_samples.data(), samples);
          protocol::unpack_pcm(payload, h.format, stereo);
          cue_->deliver(h.media_ts, stereo, static_cast<double>(est.to_session_ns(t4)) * config_.rate / 1e9);
        }
        continue;
      }
      if (h.type == protocol::PacketType::Nack && h.node_id == reg.node_id) {
        if (protocol::verify_tag(datagram, reg.key)) answer_nack(payload);
        continue;
      }
      if (h.type != protocol::PacketType::SyncReply || h.node_id != reg.node_id) continue;
      if (!protocol::verify_tag(datagram, reg.key)) continue;
      auto sample = protocol::parse_sync_reply(payload);
      if (!sample) continue;
      bool ours = false;
      for (const auto t1 : outstanding) ours = ours || (t1 != 0 && t1 == sample->t1);
      if (!ours) continue;
      if (est.add(SyncExchange{.t1 = sample->t1, .t2 = sample->t2, .t3 = sample->t3, .t4 = t4})) {
        exchanges_.fetch_add(1, std::memory_order_relaxed);
        publish(t4);
      }
    }
  };

  auto begin_sync = [&](std::int64_t now) {
    est.reset();
    outstanding.fill(0);
    next_sync = now;
    sync_started = now;
    phase = Phase::Syncing;
    set_state(SyncState::Acquiring);
  };

  while (running_.load(std::memory_order_relaxed)) {
    std::int64_t now = clock_.now();

    if (const auto g = generation_.load(std::memory_order_acquire); g != seen_generation) {
      bool active = false;
      {
        std::lock_guard lock(mutex_);
        seen_generation = generation_.load(std::memory_order_relaxed);
        reg = pending_;
        active = pending_active_;
      }
      std::error_code ec;
      if (socket.is_open()) socket.close(ec);
      phase = Phase::Idle;
      set_state(SyncState::Idle);
      if (active) {
        // --audio-to (e.g. an impairment proxy) replaces the mixer's advertised audio port. The
        // socket is connected to that address, which is also where sync replies come back from.
        const bool via = !config_.audio_to_host.empty();
        const std::string host = via ? config_.audio_to_host : reg.host;
        const std::uint16_t port = via ? config_.audio_to_port : reg.audio_port;
        peer = host + ":" + std::to_string(port);
        asio::ip::udp::resolver resolver(io);
        const auto results = resolver.resolve(host, std::to_string(port), ec);
        if (!ec && !results.empty()) {
          const auto endpoint = results.begin()->endpoint();
          socket.open(endpoint.protocol(), ec);
          if (!ec) socket.connect(endpoint, ec);
          if (!ec) socket.non_blocking(true, ec);
        }
        if (ec) {
          spdlog::error(
              "cannot open the audio socket to {}: {} — no audio will be sent until the node "
              "reconnects",
              peer, ec.message());
          if (socket.is_open()) socket.close(ec);
        } else {
          begin_sync(now);
          warned_no_reply = false;
          warned_lost = false;
        }
      }
    }

    if (socket.is_open()) receive_all();
    now = clock_.now();

    if (phase != Phase::Idle && now >= next_sync) {
      send_sync(now);
      next_sync += kSyncPeriod;
      if (next_sync < now) next_sync = now + kSyncPeriod;
      est.poll(now);
      publish(now);
    }

    if (phase == Phase::Syncing) {
      if (est.has_estimate() &&
          (est.exchanges_used() >= kStartExchanges || now >= sync_started + kStartAnyway)) {
        publish(now);
        epoch = stamper_.restart();
        phase = Phase::Streaming;
        spdlog::info("streaming as node {} to {} (clock offset {:.3f} ms, rtt {:.3f} ms, {} exchanges)",
                     reg.node_id, peer, static_cast<double>(est.offset_ns_at(now)) / 1e6,
                     static_cast<double>(est.min_rtt_ns()) / 1e6, est.exchanges_used());
      } else if (!est.has_estimate() && now >= sync_started + kSyncTimeout) {
        if (!warned_no_reply) {
          spdlog::warn("no clock-sync reply from {} within 2 s; retrying (is that UDP port blocked?)", peer);
          warned_no_reply = true;
        }
        begin_sync(now);
      }
    } else if (phase == Phase::Streaming) {
      if (!warned_lost && est.state() == ClockSyncState::Lost) {
        spdlog::warn(
            "no clock-sync reply for 5 s: the network path to {} may be down; still sending, "
            "timestamps keep the timeline they started with",
            peer);
        warned_lost = true;
      } else if (warned_lost && est.state() != ClockSyncState::Lost) {
        spdlog::info("clock-sync replies from {} are back", peer);
        warned_lost = false;
      }
    }

    // A source paced here renders what is due now; the queue then holds it.
    std::int64_t next_due = 0;
    if (source_ != nullptr) next_due = source_->pump(clock_.now());

    // Drain the queue: send blocks of the current timeline, drop the rest.
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    bool drained = false;
    while (queue_.front(info, planar)) {
      drained = true;
      last_capture_ns = info->capture_ns;
      if (phase == Phase::Streaming && info->epoch == epoch && !finished_.load(std::memory_order_relaxed)) {
        if (est.state() == ClockSyncState::Locked && now >= next_anchor) {
          // Where the converged estimate puts this block: the mixer corrects the
          // timeline's start (stamped from an early estimate) with these.
          next_anchor = now + kAnchorPeriod;
          const double pos = static_cast<double>(est.to_session_ns(info->capture_ns)) * config_.rate / 1e9;
          std::lock_guard lock(anchor_mutex_);
          has_anchor_ = true;
          anchor_media_ts_ = info->media_ts;
          anchor_session_pos_ = pos;
        }
        if ((info->flags & protocol::kFlagDiscontinuity) != 0) {
          std::lock_guard lock(anchor_mutex_);
          has_timeline_ = true;
          timeline_start_ = info->media_ts;
        }
        append_to_spool(*info, planar);  // on disk before it is on the wire
        const auto packets = opus ? opus->packetize(*info, planar, reg.node_id, reg.key)
                                  : packetizer.packetize(*info, planar, reg.node_id, reg.key);
        for (const Packet& p : packets) {
          std::error_code ec;
          socket.send(asio::buffer(p.bytes.data(), p.size), 0, ec);
          packets_sent_.fetch_add(1, std::memory_order_relaxed);
        }
        const auto sent = frames_sent_.fetch_add(config_.frames, std::memory_order_relaxed) + config_.frames;
        if (config_.stop_after_frames > 0 && sent >= static_cast<std::uint64_t>(config_.stop_after_frames)) {
          finished_.store(true, std::memory_order_release);
        }
      } else if (info->epoch != 0 && !finished_.load(std::memory_order_relaxed)) {
        frames_discarded_.fetch_add(config_.frames, std::memory_order_relaxed);
      }
      queue_.pop();
    }

    now = clock_.now();
    if (now >= next_status) {
      next_status = now + kStatusPeriod;
      const Stats s = stats();
      spdlog::info(
          "status: {} packets sent, {} frames sent, {} frames dropped, sync {}, offset {:.3f} ms, rtt {:.3f} "
          "ms, drift {:+.2f} ppm, error {:.1f} us{}",
          s.packets_sent, s.frames_sent, s.frames_dropped, to_string(est.state()),
          static_cast<double>(s.offset_ns) / 1e6, static_cast<double>(s.rtt_ns) / 1e6, s.drift_ppm,
          static_cast<double>(s.error_ns) / 1e3, phase == Phase::Streaming ? "" : " (not streaming)");
    }

    // Wait for a datagram (a sync reply, a NACK, the cue) or the next block, whichever
    // comes first: the source queues a block once its last frame is captured, so the next
    // is due a block after the last one's end (one wake-up per block, not every half
    // millisecond). Found no block at this wake: the source runs late; look again soon.
    std::int64_t wait_ns = 250'000;
    if (source_ != nullptr) {
      wait_ns = std::clamp<std::int64_t>(clock_.real_ns(next_due) - monotonic_ns(), 0, 5'000'000);
    } else if (drained && last_capture_ns != 0) {
      wait_ns = std::clamp<std::int64_t>(last_capture_ns + 2 * block_ns + kBlockSlackNs - clock_.now(),
                                         50'000, 5'000'000);
    }
    if (socket.is_open()) {
      pollfd pfd{socket.native_handle(), POLLIN, 0};
      const timespec ts{0, static_cast<long>(wait_ns)};
      ::ppoll(&pfd, 1, &ts, nullptr);
    } else {
      sleep_until_ns(monotonic_ns() + 1 * kMs);  // real time: sleeping is not a clock reading
    }
  }
}

}  // namespace tl::capture
