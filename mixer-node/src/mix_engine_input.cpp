// The mix engine's input side: each node's packets drained from its ring into its
// jitter buffer (or its frames taken from a FrameSource), the play-out delay each needs,
// and every channel read for the block, concealed where audio is missing (and the
// concealment reported for tl-render --as-live).
#include <algorithm>
#include <cmath>

#include "tl/mixer/mix_engine.h"
#include "tl/protocol/pcm.h"

namespace tl::mixer {

double MixEngine::needed_delay(const NodeMix& state, MediaTime media_ts, std::int64_t arrival_ns,
                               MediaTime pos, std::size_t frames, bool late) const noexcept {
  const VarispeedControl& cursor = state.varispeed;
  // The play-out position whose block first reads media_ts: the cursor runs lead ahead
  // of the play-out position, and the varispeed's kernel reaches half its taps past it.
  const MediaTime lead = cursor.cursor() - pos;
  const MediaTime reach = cursor.engaged() ? varispeed_.half_taps() : 0;
  const auto b = static_cast<MediaTime>(frames);
  const MediaTime block_end = pos + floor_div(media_ts - lead - reach - pos, b) * b + b;
  // That block is computed once the session clock passes its end plus the delay.
  const double arrival = static_cast<double>(arrival_ns) * config_.sample_rate / 1e9;
  double need = arrival - static_cast<double>(block_end);
  // A late packet was not here when the last block was computed (at pos + the delay
  // then): a stamp taken before a stall on the io thread must not hide that.
  if (late) need = std::max(need, static_cast<double>(pos + last_block_latency_ - block_end));
  return need;
}

void MixEngine::update_ask(NodeSlot& slot, NodeMix& state) noexcept {
  double need = 0.0;
  if (!state.need.need(need)) return;
  slot.need_ms.store(static_cast<float>(need * 1e3 / config_.sample_rate), std::memory_order_relaxed);
  double usual = -1.0;
  if (!state.need.usual(usual)) usual = -1.0;
  slot.usual_need_ms.store(static_cast<float>(usual * 1e3 / config_.sample_rate), std::memory_order_relaxed);
  const std::int64_t own_min = slot.latency_min_frames.load(std::memory_order_relaxed);
  const std::int64_t own_max = slot.latency_max_frames.load(std::memory_order_relaxed);
  const double lo = static_cast<double>(own_min >= 0 ? own_min : config_.latency_min_frames);
  const double hi = static_cast<double>(own_max >= 0 ? own_max : config_.latency_max_frames);
  state.ask = playout_.ask(need, lo, hi);
}

void MixEngine::drain(NodeSlot& slot, NodeMix& state, MediaTime pos, std::size_t frames) noexcept {
  VarispeedControl& cursor = state.varispeed;
  while (PacketSlot* p = slot.to_mix->front()) {
    protocol::PacketHeader h;
    std::span<const std::uint8_t> payload;
    // Already validated and authenticated by the receiver; parse() re-reads the fields.
    if (protocol::parse(p->datagram(), h, payload) == protocol::DecodeError::Ok &&
        protocol::bytes_per_sample(h.format) != 0) {
      const std::size_t n = static_cast<std::size_t>(h.frame_count) * h.channel_count;
      const std::span<float> samples(scratch_.get(), n);
      protocol::unpack_pcm(payload, h.format, samples);
      // The oldest position still to be read (the varispeed's kernel reaches back).
      const MediaTime read_pos =
          cursor.cursor() - (cursor.engaged() ? static_cast<MediaTime>(varispeed_.half_taps() - 1) : 0);
      const bool resent = (h.flags & protocol::kFlagRetransmit) != 0;
      // Opus's own concealment or FEC (decoded on the io thread) stands in for a lost packet.
      const bool guess = protocol::is_guess(h.flags);
      // After the mix read (some of) its audio: missing there.
      const bool late = h.media_ts < read_pos;
      // Resent audio arrives late by design, and a guess is made when it is due: neither
      // says anything about the path or the node's clock.
      if (!resent && !guess) {
        state.heard_until = std::max(state.heard_until, h.media_ts + h.frame_count);
        if (late) slot.late.fetch_add(1, std::memory_order_relaxed);
        const std::int64_t ready_ns = p->ready_ns != 0 ? p->ready_ns : p->arrival_ns;
        if (state.need.observe(needed_delay(state, h.media_ts, ready_ns, pos, frames, late),
                               static_cast<double>(ready_ns) * config_.sample_rate / 1e9)) {
          update_ask(slot, state);
        }
      }
      switch (slot.jitter->write(h.media_ts, h.first_channel, h.channel_count, samples, read_pos, guess)) {
        case JitterBuffer::WriteResult::Ok: {
          if (guess) slot.concealed.fetch_add(n, std::memory_order_relaxed);
          // A new timeline (the node restarted or rejoined), or audio after a silence of
          // over a second: a new stretch, placed by its own timestamps from here on.
          if ((!resent && (h.flags & protocol::kFlagDiscontinuity) != 0) ||
              state.written_until < read_pos - static_cast<MediaTime>(config_.sample_rate)) {
            state.stream_start = h.media_ts;
            cursor.restart(pos);
          }
          state.written_until = std::max(state.written_until, h.media_ts + h.frame_count);
          if (!resent && !guess) cursor.observe(h.media_ts + h.frame_count, p->arrival_ns);
          break;
        }
        case JitterBuffer::WriteResult::Late:
          if (resent || guess) slot.late.fetch_add(1, std::memory_order_relaxed);
          break;
        case JitterBuffer::WriteResult::TooEarly:
          slot.too_early.fetch_add(1, std::memory_order_relaxed);
          break;
      }
    }
    slot.to_mix->pop();
  }
}

void MixEngine::note_frames(FrameSource& source, NodeMix& state, MediaTime pos, std::size_t frames) noexcept {
  source.begin_block(pos, frames);
  // A stretch starts at the first block; its end is the latest frame with audio, as a
  // packet's end would be.
  if (state.stream_start == INT64_MAX) state.stream_start = pos;
  const MediaTime until = source.audio_until(pos + static_cast<MediaTime>(frames));
  state.written_until = std::max(state.written_until, until);
  state.heard_until = state.written_until;
}

std::uint32_t MixEngine::read_channel(NodeSlot& slot, std::uint32_t channel,
                                      const VarispeedControl::Block& block, std::size_t window,
                                      std::size_t moved, std::span<float> out, bool& marked) noexcept {
  const std::span<std::uint8_t> marks(missing_.get(), out.size());
  if (slot.frames != nullptr) {
    const std::uint32_t missing = slot.frames->read(channel, block.base, out, marks);
    marked = missing != 0;
    return missing;
  }
  if (block.exact) {
    std::uint32_t guesses = 0;
    const std::uint32_t missing = slot.jitter->read(channel, block.base, out, marks, &guesses);
    marked = missing != 0 || guesses != 0;
    return missing;
  }
  // The window starts half a kernel before the cursor. Missing samples are counted
  // over the whole samples the cursor moves past, so a gap is counted once.
  const auto head = static_cast<std::size_t>(varispeed_.half_taps() - 1);
  const std::span<float> w(window_.get(), window);
  const std::span<std::uint8_t> wm(window_missing_.get(), window);
  slot.jitter->read(channel, block.base - static_cast<MediaTime>(head), w.first(head), wm.first(head));
  const std::uint32_t missing =
      slot.jitter->read(channel, block.base, w.subspan(head, moved), wm.subspan(head, moved));
  slot.jitter->read(channel, block.base + static_cast<MediaTime>(moved), w.subspan(head + moved),
                    wm.subspan(head + moved));
  varispeed_.apply(w, out);
  // An output frame is missing when any sample its kernel reaches is missing:
  // near[k] says whether [k, k + taps) holds one (a running count over the window).
  const auto taps = static_cast<std::size_t>(varispeed_.taps());
  // A guess (mark 2) in reach marks the frame 2, unless a missing one does.
  std::uint32_t count = 0, guesses = 0;
  for (std::size_t j = 0; j < std::min(taps, window); ++j) count += wm[j] & 1, guesses += wm[j] >> 1;
  for (std::size_t k = 0; k < window; ++k) {
    near_[k] = count != 0 ? 1 : guesses != 0 ? 2 : 0;
    count -= wm[k] & 1;
    guesses -= wm[k] >> 1;
    if (k + taps < window) count += wm[k + taps] & 1, guesses += wm[k + taps] >> 1;
  }
  std::uint8_t any = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    marks[i] = near_[std::min(varispeed_.first_index(i), window - 1)];
    any |= marks[i];
  }
  marked = any != 0;
  return missing;
}

void MixEngine::report_concealed(std::uint16_t node, std::uint32_t channel, MediaTime base,
                                 std::size_t frames, bool exact) noexcept {
  if (concealed_out_ == nullptr) return;
  const std::uint8_t* marks = missing_.get();
  for (std::size_t i = 0; i < frames;) {
    if (marks[i] == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < frames && marks[j] != 0) ++j;
    const ConcealedRun run{.from = base + static_cast<MediaTime>(i),
                           .frames = static_cast<std::uint32_t>(j - i),
                           .node = node,
                           .channel = static_cast<std::uint16_t>(channel),
                           .exact = exact};
    if (!concealed_out_->try_push(run)) concealed_dropped_.fetch_add(1, std::memory_order_relaxed);
    i = j;
  }
}

}  // namespace tl::mixer
