#include "tl/capture/sender.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>

#include "tl/capture/packetizer.h"
#include "tl/common/clock.h"
#include "tl/protocol/sync.h"

namespace tl::capture {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr int kBurst = 8;
constexpr std::int64_t kBurstSpacing = 20 * kMs;
constexpr std::int64_t kBurstGrace = 30 * kMs;     // after the last burst request, for its reply
constexpr std::int64_t kSyncTimeout = 2000 * kMs;  // no reply at all: start the burst again
constexpr std::int64_t kSyncPeriod = 1000 * kMs;
constexpr std::int64_t kStatusPeriod = 5000 * kMs;

enum class Phase { Idle, Syncing, Streaming };

}  // namespace

Sender::Sender(BlockQueue& queue, MediaStamper& stamper, Config config)
    : queue_(queue), stamper_(stamper), config_(config) {}

Sender::~Sender() {
  stop();
}

void Sender::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
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
  s.state = static_cast<SyncState>(state_.load(std::memory_order_relaxed));
  return s;
}

void Sender::run() {
  asio::io_context io;
  asio::ip::udp::socket socket(io);
  Packetizer packetizer(config_.channels, config_.frames, config_.format);
  ClockSync sync;
  std::array<std::uint8_t, protocol::kMaxPacketBytes> out{};
  std::array<std::uint8_t, 2048> in{};
  std::array<std::int64_t, 16> outstanding{};  // t1 of recent requests
  std::size_t outstanding_next = 0;
  Seq sync_seq = 0;

  std::uint64_t seen_generation = 0;
  Registration reg;
  Phase phase = Phase::Idle;
  std::uint32_t epoch = 0;
  int burst_sent = 0;
  std::int64_t next_sync = 0;
  std::int64_t sync_started = 0;
  std::int64_t last_burst = 0;
  std::int64_t next_status = monotonic_ns() + kStatusPeriod;
  bool warned_no_reply = false;
  std::int64_t last_reply = 0;
  bool warned_silent_sync = false;

  auto set_state = [&](SyncState s) { state_.store(static_cast<int>(s), std::memory_order_relaxed); };

  auto send_sync = [&](std::int64_t now) {
    const std::size_t n = protocol::encode_sync_request(reg.node_id, sync_seq++, now, reg.key, out);
    outstanding[outstanding_next++ % outstanding.size()] = now;
    std::error_code ec;
    socket.send(asio::buffer(out.data(), n), 0, ec);  // errors (e.g. refused) just lose this request
  };

  auto receive_all = [&] {
    for (;;) {
      std::error_code ec;
      const std::size_t n = socket.receive(asio::buffer(in), 0, ec);
      if (ec) return;  // would_block, or a refused port from an earlier send
      const std::int64_t t4 = monotonic_ns();
      const std::span<const std::uint8_t> datagram(in.data(), n);
      protocol::PacketHeader h;
      std::span<const std::uint8_t> payload;
      if (protocol::parse(datagram, h, payload) != protocol::DecodeError::Ok) continue;
      if (h.type != protocol::PacketType::SyncReply || h.node_id != reg.node_id) continue;
      if (!protocol::verify_tag(datagram, reg.key)) continue;
      auto sample = protocol::parse_sync_reply(payload);
      if (!sample) continue;
      bool ours = false;
      for (const auto t1 : outstanding) ours = ours || (t1 != 0 && t1 == sample->t1);
      if (!ours) continue;
      sample->t4 = t4;
      last_reply = t4;
      if (warned_silent_sync) {
        spdlog::info("clock-sync replies from the mixer are back");
        warned_silent_sync = false;
        set_state(SyncState::Locked);
      }
      if (sync.add_sample(*sample)) {
        offset_ns_.store(sync.offset_ns(), std::memory_order_relaxed);
        rtt_ns_.store(sync.rtt_ns(), std::memory_order_relaxed);
      }
    }
  };

  auto begin_sync = [&](std::int64_t now) {
    sync.reset();
    outstanding.fill(0);
    burst_sent = 0;
    next_sync = now;
    sync_started = now;
    phase = Phase::Syncing;
    set_state(SyncState::Acquiring);
  };

  while (running_.load(std::memory_order_relaxed)) {
    std::int64_t now = monotonic_ns();

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
        asio::ip::udp::resolver resolver(io);
        const auto results = resolver.resolve(reg.host, std::to_string(reg.audio_port), ec);
        if (!ec && !results.empty()) {
          const auto endpoint = results.begin()->endpoint();
          socket.open(endpoint.protocol(), ec);
          if (!ec) socket.connect(endpoint, ec);
          if (!ec) socket.non_blocking(true, ec);
        }
        if (ec) {
          spdlog::error(
              "cannot open the audio socket to {}:{}: {} — no audio will be sent until the node "
              "reconnects",
              reg.host, reg.audio_port, ec.message());
          if (socket.is_open()) socket.close(ec);
        } else {
          begin_sync(now);
          warned_no_reply = false;
        }
      }
    }

    if (socket.is_open()) receive_all();
    now = monotonic_ns();

    if (phase == Phase::Syncing) {
      if (burst_sent < kBurst && now >= next_sync) {
        send_sync(now);
        ++burst_sent;
        last_burst = now;
        next_sync += kBurstSpacing;
      }
      if (burst_sent == kBurst && sync.has_estimate() && now >= last_burst + kBurstGrace) {
        epoch = stamper_.restart(sync.offset_ns());
        last_reply = now;
        warned_silent_sync = false;
        phase = Phase::Streaming;
        set_state(SyncState::Locked);
        next_sync = now + kSyncPeriod;
        spdlog::info("streaming as node {} to {}:{} (clock offset {:.3f} ms, rtt {:.3f} ms)", reg.node_id,
                     reg.host, reg.audio_port, static_cast<double>(sync.offset_ns()) / 1e6,
                     static_cast<double>(sync.rtt_ns()) / 1e6);
      } else if (!sync.has_estimate() && now >= sync_started + kSyncTimeout) {
        if (!warned_no_reply) {
          spdlog::warn(
              "no clock-sync reply from the mixer at {}:{} within 2 s; retrying (is UDP port {} "
              "blocked?)",
              reg.host, reg.audio_port, reg.audio_port);
          warned_no_reply = true;
        }
        begin_sync(now);
      }
    } else if (phase == Phase::Streaming && now >= next_sync) {
      if (!warned_silent_sync && now - last_reply > 5 * kSyncPeriod) {
        spdlog::warn(
            "no clock-sync reply from the mixer for 5 s: the network path to {}:{} may be down; "
            "still sending with the last clock offset",
            reg.host, reg.audio_port);
        warned_silent_sync = true;
        set_state(SyncState::Idle);
      }
      send_sync(now);
      next_sync += kSyncPeriod;
      if (next_sync < now) next_sync = now + kSyncPeriod;
    }

    // Drain the queue: send blocks of the current timeline, drop the rest.
    const BlockInfo* info = nullptr;
    const float* planar = nullptr;
    while (queue_.front(info, planar)) {
      if (phase == Phase::Streaming && info->epoch == epoch && !finished_.load(std::memory_order_relaxed)) {
        for (const Packet& p : packetizer.packetize(*info, planar, reg.node_id, reg.key)) {
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

    now = monotonic_ns();
    if (now >= next_status) {
      next_status = now + kStatusPeriod;
      const Stats s = stats();
      spdlog::info(
          "status: {} packets sent, {} frames sent, {} frames dropped, offset {:.3f} ms, rtt {:.3f} ms{}",
          s.packets_sent, s.frames_sent, s.frames_dropped, static_cast<double>(s.offset_ns) / 1e6,
          static_cast<double>(s.rtt_ns) / 1e6, phase == Phase::Streaming ? "" : " (not streaming)");
    }

    // Wait for a sync reply or about half a millisecond, whichever comes first.
    if (socket.is_open()) {
      pollfd pfd{socket.native_handle(), POLLIN, 0};
      const timespec ts{0, 500'000};
      ::ppoll(&pfd, 1, &ts, nullptr);
    } else {
      sleep_until_ns(monotonic_ns() + 1 * kMs);
    }
  }
}

}  // namespace tl::capture
