// The sender's control side: start and stop, registrations, stats and the spool. Its
// thread's loop is in sender_loop.cpp.
#include "tl/capture/sender.h"

#include <spdlog/spdlog.h>

#include "tl/common/realtime.h"
#include "tl/protocol/opus_payload.h"
#include "tl/protocol/pcm.h"

namespace tl::capture {

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
  s.frames_spooled_away = frames_spooled_away_.load(std::memory_order_relaxed);
  s.cue_opus = cue_opus_.load(std::memory_order_relaxed);
  s.cue_concealed_frames = cue_concealed_.load(std::memory_order_relaxed);
  s.cue_late_packets = cue_late_.load(std::memory_order_relaxed);
  s.offset_ns = offset_ns_.load(std::memory_order_relaxed);
  s.rtt_ns = rtt_ns_.load(std::memory_order_relaxed);
  s.drift_ppm = drift_ppm_.load(std::memory_order_relaxed);
  s.error_ns = error_ns_.load(std::memory_order_relaxed);
  s.exchanges = exchanges_.load(std::memory_order_relaxed);
  s.estimate_exchanges = estimate_exchanges_.load(std::memory_order_relaxed);
  s.state = static_cast<SyncState>(state_.load(std::memory_order_relaxed));
  {
    std::lock_guard lock(anchor_mutex_);
    s.has_anchor = has_anchor_;
    s.anchor_media_ts = anchor_media_ts_;
    s.anchor_session_pos = anchor_session_pos_;
    s.has_timeline = has_timeline_;
    s.timeline_start = timeline_start_;
    s.held_max_ns = held_max_ns_;
    s.held_max_at = held_max_at_;
    const std::size_t n = std::min(long_hold_count_, long_holds_.size());
    for (std::size_t i = 0; i < n; ++i) {
      s.long_holds[i] = long_holds_[(long_hold_count_ - n + i) % long_holds_.size()];
    }
    s.long_hold_count = n;
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

std::optional<MediaTime> Sender::spool_first() const {
  std::lock_guard lock(spool_mutex_);
  if (!spool_) return std::nullopt;
  return spool_->first();
}

Sender::SpoolStats Sender::spool_stats() const noexcept {
  return SpoolStats{.nacks = nacks_.load(std::memory_order_relaxed),
                    .resent_packets = resent_packets_.load(std::memory_order_relaxed),
                    .nack_frames_missing = nack_missing_.load(std::memory_order_relaxed),
                    .append_errors = spool_errors_.load(std::memory_order_relaxed)};
}

std::optional<Sender::TimelineMemo> Sender::timeline_memo() const {
  std::lock_guard lock(anchor_mutex_);
  return memo_;
}

bool Sender::has_spool() const {
  std::lock_guard lock(spool_mutex_);
  return spool_ != nullptr;
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

}  // namespace tl::capture
