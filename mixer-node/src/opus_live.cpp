#include "tl/mixer/opus_live.h"

#include <opus.h>

#include <algorithm>
#include <string>

#include "tl/protocol/opus_payload.h"

namespace tl::mixer {

OpusLive::OpusLive(const Config& config)
    : config_(config),
      cursor_(config.channels, kUnset),
      group_size_(config.channels, 0),
      planar_(static_cast<std::size_t>(config.channels) * config.frames),
      interleaved_(static_cast<std::size_t>(config.channels) * config.frames),
      hold_(std::make_unique<std::array<Held, kHold>>()) {}

Result<std::unique_ptr<OpusLive>> OpusLive::create(const Config& config) {
  if (!protocol::opus_frame_size_ok(config.rate, config.frames)) {
    return Error{"Opus needs 48000 Hz and 120, 240, 480 or 960 frames per packet; the node asks for " +
                 std::to_string(config.rate) + " Hz, " + std::to_string(config.frames) + " frames"};
  }
  std::unique_ptr<OpusLive> live(new OpusLive(config));
  for (std::uint32_t c = 0; c < config.channels; ++c) {
    int err = OPUS_OK;
    OpusDecoder* dec = opus_decoder_create(static_cast<opus_int32>(config.rate), 1, &err);
    if (dec == nullptr || err != OPUS_OK)
      return Error{std::string("cannot create an Opus decoder: ") + opus_strerror(err)};
    live->decoders_.push_back(dec);
  }
  return live;
}

OpusLive::~OpusLive() {
  for (OpusDecoder* d : decoders_) opus_decoder_destroy(d);
}

void OpusLive::reset_decoders(std::uint32_t g, std::uint32_t count) noexcept {
  for (std::uint32_t c = g; c < g + count; ++c) opus_decoder_ctl(decoders_[c], OPUS_RESET_STATE);
}

void OpusLive::restart_group(std::uint32_t g, std::uint32_t count, MediaTime at) noexcept {
  reset_decoders(g, count);
  for (Held& h : *hold_) {
    if (h.used && h.header.first_channel == g) h.used = false;
  }
  cursor_[g] = at;
  group_size_[g] = static_cast<std::uint8_t>(count);
}

bool OpusLive::accept(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                      std::int64_t arrival_ns, Sink& sink) noexcept {
  const std::uint32_t g = h.first_channel;
  std::array<std::span<const std::uint8_t>, 256> frames{};
  if (h.frame_count != config_.frames || g + h.channel_count > config_.channels ||
      !protocol::split_opus_payload(payload, h.channel_count, frames)) {
    ++counters_.bad_packets;
    return false;
  }
  const bool restart = (h.flags & protocol::kFlagDiscontinuity) != 0;
  if (restart || cursor_[g] == kUnset || group_size_[g] != h.channel_count) {
    restart_group(g, h.channel_count, h.media_ts);
  }
  if (h.media_ts < cursor_[g]) {
    ++counters_.late_packets;  // its gap was concealed already, or a duplicate
    return true;
  }
  if (h.media_ts == cursor_[g]) {
    const bool ok = decode(h, payload, arrival_ns, false, sink);
    release(g, sink);
    return ok;
  }
  // Past a gap: wait for the packets before it (or for the gap to fall due).
  Held* slot = nullptr;
  for (Held& held : *hold_) {
    if (held.used && held.header.first_channel == g && held.header.media_ts == h.media_ts)
      return true;  // duplicate
    if (!held.used && slot == nullptr) slot = &held;
  }
  if (slot == nullptr) {
    // The hold is full: give up the oldest gap of this group now.
    Held* first = earliest_held(g);
    if (first == nullptr) {
      ++counters_.bad_packets;  // full with other groups' packets: cannot happen with sane groups
      return false;
    }
    deliver_due(first->header.media_ts, played_, arrival_ns, sink);
    return accept(h, payload, arrival_ns, sink);
  }
  slot->used = true;
  slot->header = h;
  slot->arrival_ns = arrival_ns;
  slot->size = static_cast<std::uint16_t>(payload.size());
  std::copy(payload.begin(), payload.end(), slot->payload.begin());
  ++counters_.held_packets;
  return true;
}

OpusLive::Held* OpusLive::earliest_held(std::uint32_t g) noexcept {
  Held* best = nullptr;
  for (Held& held : *hold_) {
    if (held.used && held.header.first_channel == g &&
        (best == nullptr || held.header.media_ts < best->header.media_ts))
      best = &held;
  }
  return best;
}

void OpusLive::release(std::uint32_t g, Sink& sink) noexcept {
  for (Held* next = earliest_held(g); next != nullptr && next->header.media_ts <= cursor_[g];
       next = earliest_held(g)) {
    next->used = false;
    if (next->header.media_ts == cursor_[g]) {
      decode(next->header, {next->payload.data(), next->size}, next->arrival_ns, false, sink);
    } else {
      ++counters_.late_packets;
    }
  }
}

bool OpusLive::decode(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                      std::int64_t arrival_ns, bool fec, Sink& sink) noexcept {
  const std::uint32_t g = h.first_channel, count = h.channel_count, n = config_.frames;
  std::array<std::span<const std::uint8_t>, 256> frames{};
  protocol::split_opus_payload(payload, count, frames);  // checked by accept()
  bool ok = true, all_celt = true;
  for (std::uint32_t c = 0; c < count; ++c) {
    float* out = planar_.data() + static_cast<std::size_t>(c) * n;
    // The TOC's configuration: 0-11 SILK, 12-15 hybrid, 16-31 CELT only (RFC 6716, 3.1).
    all_celt = all_celt && (frames[c][0] >> 3) >= 16;
    const int got =
        opus_decode_float(decoders_[g + c], frames[c].data(), static_cast<opus_int32>(frames[c].size()), out,
                          static_cast<int>(n), fec ? 1 : 0);
    if (got != static_cast<int>(n)) {
      ok = false;
      std::fill_n(out, n, 0.0f);
    }
  }
  if (!ok) ++counters_.bad_packets;
  Decoded run{.media_ts = fec ? h.media_ts - n : h.media_ts,
              .frames = static_cast<std::uint16_t>(n),
              .first_channel = static_cast<std::uint8_t>(g),
              .channel_count = static_cast<std::uint8_t>(count),
              .flags = static_cast<std::uint16_t>(protocol::kFlagLossy),
              .arrival_ns = arrival_ns,
              .seq = h.seq,
              .interleaved = interleave(count)};
  if (fec) {
    // A CELT-only packet carries no FEC: what Opus gave back is its concealment.
    run.flags |= all_celt ? protocol::kFlagConcealed : protocol::kFlagFec;
    (all_celt ? counters_.concealed_samples : counters_.fec_samples) += n * count;
  } else {
    run.flags |= static_cast<std::uint16_t>(h.flags & ~protocol::kFlagRetransmit);
    counters_.decoded_samples += n * count;
  }
  cursor_[g] = (fec ? h.media_ts : h.media_ts + n);
  if (unplayed(run.media_ts + n)) sink.deliver(run);
  return ok;
}

std::span<const float> OpusLive::interleave(std::uint32_t count) noexcept {
  const std::uint32_t n = config_.frames;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t c = 0; c < count; ++c) interleaved_[i * count + c] = planar_[c * n + i];
  }
  return {interleaved_.data(), static_cast<std::size_t>(n) * count};
}

void OpusLive::conceal(std::uint32_t g, std::uint32_t count, MediaTime at, std::int64_t now_ns,
                       Sink& sink) noexcept {
  const std::uint32_t n = config_.frames;
  for (std::uint32_t c = 0; c < count; ++c) {
    float* out = planar_.data() + static_cast<std::size_t>(c) * n;
    if (opus_decode_float(decoders_[g + c], nullptr, 0, out, static_cast<int>(n), 0) != static_cast<int>(n)) {
      std::fill_n(out, n, 0.0f);
    }
  }
  counters_.concealed_samples += n * count;
  cursor_[g] = at + n;
  if (!unplayed(at + n)) return;
  sink.deliver(Decoded{.media_ts = at,
                       .frames = static_cast<std::uint16_t>(n),
                       .first_channel = static_cast<std::uint8_t>(g),
                       .channel_count = static_cast<std::uint8_t>(count),
                       .flags = static_cast<std::uint16_t>(protocol::kFlagLossy | protocol::kFlagConcealed),
                       .arrival_ns = now_ns,
                       .interleaved = interleave(count)});
}

void OpusLive::deliver_due(MediaTime due, MediaTime played, std::int64_t now_ns, Sink& sink) noexcept {
  played_ = played;
  const MediaTime n = config_.frames;
  for (std::uint32_t g = 0; g < config_.channels; ++g) {
    if (group_size_[g] == 0) continue;
    for (Held* next = earliest_held(g); next != nullptr && cursor_[g] < due; next = earliest_held(g)) {
      const MediaTime gap = next->header.media_ts - cursor_[g];
      if (gap % n != 0 || gap / n > kMaxConcealFrames) {
        // Not on this stream's frame grid, or too long to conceal frame by frame:
        // the decoders start afresh at the waiting packet.
        reset_decoders(g, group_size_[g]);
        cursor_[g] = next->header.media_ts;
        release(g, sink);
        continue;
      }
      // Every lost frame but the last: concealment; the last: the next packet's FEC.
      while (next->header.media_ts - cursor_[g] > n) conceal(g, group_size_[g], cursor_[g], now_ns, sink);
      decode(next->header, {next->payload.data(), next->size}, now_ns, true, sink);
      release(g, sink);
    }
  }
}

}  // namespace tl::mixer
