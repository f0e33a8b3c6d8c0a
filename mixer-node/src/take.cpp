#include "tl/mixer/take.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tl/protocol/opus_payload.h"
#include "tl/protocol/pcm.h"

namespace tl::mixer {

void Take::open_tracks(const NodeSlot& slot, std::uint32_t sample_rate, std::uint32_t window_frames) {
  auto& node_tracks = tracks[slot.id];
  if (!node_tracks.empty()) return;
  concealed_at_start[slot.id] = slot.concealed.load(std::memory_order_relaxed);
  node_tracks.resize(slot.channels);
  if (auto resumed = waiting.find(slot.name); resumed != waiting.end()) {
    for (std::uint32_t c = 0; c < slot.channels && c < resumed->second.size(); ++c)
      node_tracks[c] = std::move(resumed->second[c]);
    waiting.erase(resumed);
  }
  for (std::uint32_t c = 0; c < slot.channels; ++c) {
    if (node_tracks[c]) continue;  // taken up from before the mixer restarted
    const std::string file = track_file_name(slot.name, c);
    auto writer = TrackWriter::open((dir / file).string(),
                                    node_track_info(name, slot.name, c, sample_rate, start), window_frames);
    if (!writer) {
      spdlog::error("take '{}': {} — this track is not recorded; check disk space and permissions", name,
                    writer.error());
      continue;
    }
    node_tracks[c] = std::move(writer.value());
  }
}

void Take::put_packet(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                      std::int64_t arrival_ns, const NodeSlot& slot, std::uint32_t sample_rate) {
  heard_until[slot.id] = std::max<MediaTime>(heard_until[slot.id], h.media_ts + h.frame_count);
  const MediaTime begin = std::max(h.media_ts, start);
  const MediaTime end = std::min<MediaTime>(h.media_ts + h.frame_count, stop);
  if (begin >= end) return;
  // Decoded Opus stands in until the node's exact samples come from its spool.
  const bool lossy = (h.flags & protocol::kFlagLossy) != 0;
  const bool guess = protocol::is_guess(h.flags);
  if (h.type == protocol::PacketType::Audio && h.first_channel == 0 && !guess) {
    auto& tracker = drift[slot.id];
    if (!tracker) tracker = std::make_unique<DriftTracker>(sample_rate);
    tracker->add(h.media_ts, h.frame_count, arrival_ns, (h.flags & protocol::kFlagDiscontinuity) != 0);
  }
  const std::size_t n = static_cast<std::size_t>(h.frame_count) * h.channel_count;
  protocol::unpack_pcm(payload, h.format, std::span<float>(scratch_.data(), n));
  const auto skip = static_cast<std::size_t>(begin - h.media_ts);
  const auto count = static_cast<std::size_t>(end - begin);
  auto& node_tracks = tracks[slot.id];
  for (std::uint32_t c = 0; c < h.channel_count; ++c) {
    const std::uint32_t channel = h.first_channel + c;
    if (channel >= node_tracks.size() || !node_tracks[channel]) continue;
    for (std::size_t i = 0; i < count; ++i) channel_[i] = scratch_[(skip + i) * h.channel_count + c];
    node_tracks[channel]->put(begin - start, std::span<const float>(channel_.data(), count), lossy);
  }
}

void Take::put_mix(const MixChunk& chunk) {
  const MediaTime begin = std::max(chunk.position, start);
  const MediaTime end = std::min<MediaTime>(chunk.position + chunk.frames, stop);
  if (begin < end) {
    const auto skip = static_cast<std::size_t>(begin - chunk.position);
    const auto count = static_cast<std::size_t>(end - begin);
    for (std::size_t i = 0; i < count; ++i) {
      interleaved_[2 * i] = chunk.left[skip + i];
      interleaved_[2 * i + 1] = chunk.right[skip + i];
    }
    mix->put(begin - start, std::span<const float>(interleaved_.data(), 2 * count));
    // A chunk across the take's start or stop: its count was of the whole chunk, the
    // range is of the part inside; no more frames than that part are counted.
    if (chunk.concealed != 0) {
      mix_concealed.note(begin - start, end - start,
                         std::min(chunk.concealed, static_cast<std::uint32_t>(end - begin)));
    }
  }
  mix_end = std::max<std::int64_t>(mix_end, chunk.position + chunk.frames - start);
}

void Take::put_concealed(const ConcealedRun& run, const std::string& file) {
  if (run.from + run.frames <= start || run.from >= stop) return;
  live_concealed[file].note(run.from, run.from + run.frames, run.exact);
}

void Take::put_backfill(std::uint16_t node_id, const NodeSlot* slot, const proto::AudioData& data) {
  auto& node_tracks = tracks[node_id];
  // Resent audio comes in the format the node registered with, and nothing else.
  const auto format = slot != nullptr && data.format() != proto::FORMAT_UNSPECIFIED
                          ? wire_format(data.format())
                          : protocol::SampleFormat::None;
  if (slot != nullptr && format != protocol::spool_format(slot->format)) {
    spdlog::warn("take '{}': a backfill answer from node {} is not in the format it registered with; ignored",
                 name, node_id);
    return;
  }
  const std::size_t bps = protocol::bytes_per_sample(format);
  const std::size_t samples = static_cast<std::size_t>(data.frames()) * data.channels();
  if (bps == 0 || data.channels() != node_tracks.size() || data.samples().size() != samples * bps ||
      samples == 0) {
    spdlog::warn(
        "take '{}': a backfill answer from node {} does not fit its tracks ({} channels, {} bytes); ignored",
        name, node_id, data.channels(), data.samples().size());
    return;
  }
  std::vector<float> interleaved(samples);
  protocol::unpack_pcm(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.samples().data()),
                                    data.samples().size()),
      format, interleaved);
  // Only what lies inside the take.
  const MediaTime begin = std::max<MediaTime>(data.from(), start);
  const MediaTime end = std::min<MediaTime>(data.from() + data.frames(), stop);
  if (begin >= end) return;
  const auto skip = static_cast<std::size_t>(begin - data.from());
  const auto count = static_cast<std::size_t>(end - begin);
  std::vector<float> channel(count);
  for (std::uint32_t c = 0; c < node_tracks.size(); ++c) {
    if (!node_tracks[c]) continue;
    for (std::size_t i = 0; i < count; ++i) channel[i] = interleaved[(skip + i) * data.channels() + c];
    node_tracks[c]->put(begin - start, channel);
  }
}

void Take::flush(std::int64_t to, std::int64_t block) {
  for (auto& node_tracks : tracks) {
    for (auto& t : node_tracks) {
      if (t && to - t->head() >= block) t->flush_until(to);
    }
  }
  const std::int64_t mix_to = std::min(to, mix_end);
  if (mix_to - mix->head() >= block) mix->flush_until(mix_to);
}

void Take::update_headers() {
  for (auto& node_tracks : tracks) {
    for (auto& t : node_tracks) {
      if (t) t->update_header();
    }
  }
  mix->update_header();
}

void Take::run_to_end(std::uint16_t node_id, TrackWriter& track, std::int64_t length) const {
  track.flush_until(length);
  // Heard past a gap (even past the stop): the gap is a loss, not the end of its audio.
  if (heard_until[node_id] != INT64_MIN) {
    track.note_audio_until(std::min<std::int64_t>(heard_until[node_id] - start, length));
  }
}

}  // namespace tl::mixer
