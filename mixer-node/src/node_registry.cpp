#include "tl/mixer/node_registry.h"

#include <algorithm>
#include <charconv>

#include "tl/protocol/names.h"

namespace tl::mixer {

protocol::SampleFormat wire_format(proto::SampleFormat f) {
  switch (f) {
    case proto::FORMAT_PCM16:
      return protocol::SampleFormat::Pcm16;
    case proto::FORMAT_F32:
      return protocol::SampleFormat::F32;
    case proto::FORMAT_OPUS:
      return protocol::SampleFormat::Opus;
    default:
      return protocol::SampleFormat::Pcm24;
  }
}
NodeRegistry::NodeRegistry(RegistryConfig config) : config_(config) {}

Result<NodeSlot*> NodeRegistry::register_node(const proto::RegisterNode& req,
                                              const protocol::SessionKey& key) {
  if (!protocol::valid_node_name(req.name())) {
    return Error{"bad node name '" + req.name() + "': use 1-32 of A-Z a-z 0-9 - _ ."};
  }
  if (req.channels() == 0 || req.channels() > kMaxChannelsPerNode) {
    return Error{"node '" + req.name() + "' asks for " + std::to_string(req.channels()) + " channels; 1-" +
                 std::to_string(kMaxChannelsPerNode) + " are supported"};
  }
  if (req.sample_rate() != config_.sample_rate) {
    return Error{"node '" + req.name() + "' runs at " + std::to_string(req.sample_rate()) +
                 " Hz but the session runs at " + std::to_string(config_.sample_rate) +
                 " Hz: start tl-capture with --rate " + std::to_string(config_.sample_rate)};
  }
  if (req.frames_per_packet() == 0 || req.frames_per_packet() > protocol::kMaxFrames) {
    return Error{"node '" + req.name() + "': frames per packet must be 1-" +
                 std::to_string(protocol::kMaxFrames)};
  }
  const protocol::SampleFormat format = wire_format(req.format());
  std::unique_ptr<OpusLive> opus;
  if (format == protocol::SampleFormat::Opus) {
    // Fresh decoders for each registration: the node's encoders start afresh too.
    auto live = OpusLive::create(
        {.channels = req.channels(), .rate = req.sample_rate(), .frames = req.frames_per_packet()});
    if (!live) return Error{"node '" + req.name() + "': " + live.error()};
    opus = std::move(live.value());
  }

  NodeSlot* slot = by_name(req.name());
  if (slot != nullptr) {
    if (slot->fed_frames()) {
      return Error{"'" + req.name() + "' is a backing track's name on this mixer; choose another --name"};
    }
    if (slot->channels != req.channels()) {
      return Error{"node '" + req.name() + "' was registered with " + std::to_string(slot->channels) +
                   " channels and now asks for " + std::to_string(req.channels()) +
                   ": restart it with the same --channels, or use another --name"};
    }
    if (slot->control_connected) {
      return Error{"a node named '" + req.name() + "' is already connected (pid " +
                   std::to_string(slot->pid) + " on " + slot->host + "); choose another --name"};
    }
  } else {
    auto fresh = create_slot(req.name(), req.channels(), nullptr);
    if (!fresh) return Error{fresh.error()};
    slot = fresh.value();
  }
  slot->opus = std::move(opus);
  slot->frames_per_packet = req.frames_per_packet();
  slot->format = format;
  slot->key = key;
  slot->source = req.source();
  slot->host = req.host();
  slot->pid = req.pid();
  slot->wants_cue = req.wants_cue();
  // A rate Opus cannot take is held to what it can (6 kb/s to 510 kb/s).
  slot->cue_opus_bitrate =
      req.cue_opus_bitrate() == 0 ? 0 : std::clamp(req.cue_opus_bitrate(), 6000u, 510000u);
  slot->control_connected = true;
  slot->connects += 1;
  if (slot->seq_started) {
    // A restarted node begins a new sequence; keep the loss it had.
    const std::uint64_t expected = static_cast<std::uint32_t>(slot->highest_seq - slot->first_seq) + 1ull;
    if (expected > slot->seq_received) slot->lost_before += expected - slot->seq_received;
    slot->seq_started = false;
    slot->seq_received = 0;
  }
  return slot;
}

Result<NodeSlot*> NodeRegistry::create_slot(const std::string& name, std::uint32_t channels,
                                            FrameSource* frames) {
  const std::uint16_t id = static_cast<std::uint16_t>(highest_.load(std::memory_order_relaxed) + 1);
  if (id > kMaxNodes) {
    return Error{"the mixer already has " + std::to_string(kMaxNodes) + " nodes and backing tracks"};
  }
  auto fresh = std::make_unique<NodeSlot>();
  fresh->id = id;
  fresh->name = name;
  fresh->channels = channels;
  fresh->sample_rate = config_.sample_rate;
  fresh->frames = frames;
  // A backing track takes no packets: the smallest ring and jitter buffer will do.
  fresh->to_mix =
      std::make_unique<PacketRing>(packet_ring_bytes(frames != nullptr ? 4 : config_.mix_queue_packets));
  fresh->jitter =
      std::make_unique<JitterBuffer>(channels, frames != nullptr ? 64 : config_.jitter_capacity_frames);
  fresh->levels = std::make_unique<ChannelLevels[]>(channels);
  fresh->strips.resize(channels);
  // Channel strips allocate here, on the io thread, never in the mix pass.
  fresh->dsp = std::make_unique<dsp::ChannelStrip[]>(channels);
  const dsp::ProcessSpec mono{.sample_rate = static_cast<double>(config_.sample_rate),
                              .max_block = config_.max_block_frames,
                              .channels = 1};
  for (std::uint32_t c = 0; c < channels; ++c)
    fresh->dsp[c].prepare(mono, {}, {.max_delay_samples = config_.max_delay_samples});
  fresh->conceal = std::make_unique<dsp::Concealer[]>(channels);
  for (std::uint32_t c = 0; c < channels; ++c) fresh->conceal[c].prepare(mono);
  NodeSlot* slot = fresh.get();
  slots_[id] = std::move(fresh);
  slot->active.store(true, std::memory_order_release);
  highest_.store(id, std::memory_order_release);
  return slot;
}

Result<NodeSlot*> NodeRegistry::add_source(const std::string& name, std::uint32_t channels,
                                           FrameSource& frames) {
  if (!protocol::valid_node_name(name)) {
    return Error{"bad backing track name '" + name + "': use 1-32 of A-Z a-z 0-9 - _ ."};
  }
  if (channels == 0 || channels > kMaxChannelsPerNode) {
    return Error{"a backing track of " + std::to_string(channels) + " channels: 1-" +
                 std::to_string(kMaxChannelsPerNode) + " are supported"};
  }
  if (by_name(name) != nullptr) return Error{"'" + name + "' is already a node's or a backing track's name"};
  return create_slot(name, channels, &frames);
}

NodeSlot* NodeRegistry::slot_at(std::uint16_t id) const noexcept {
  if (id == 0 || id > highest_.load(std::memory_order_acquire)) return nullptr;
  NodeSlot* slot = slots_[id].get();
  return (slot != nullptr && slot->registered()) ? slot : nullptr;
}

NodeSlot* NodeRegistry::by_name(const std::string& name) noexcept {
  const std::uint16_t high = highest_.load(std::memory_order_acquire);
  for (std::uint16_t id = 1; id <= high; ++id) {
    if (slots_[id] && slots_[id]->name == name) return slots_[id].get();
  }
  return nullptr;
}

proto::NodeState NodeRegistry::state_of(const NodeSlot& slot, std::int64_t now_ns) const noexcept {
  if (!slot.control_connected) return proto::NODE_GONE;
  if (slot.last_heard_ns < 0 || now_ns - slot.last_heard_ns > 1'000'000'000) return proto::NODE_SILENT;
  return proto::NODE_STREAMING;
}

Result<std::pair<NodeSlot*, std::uint32_t>> resolve_target(NodeRegistry& registry,
                                                           const std::string& target) {
  const auto slash = target.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
    return Error{"bad channel '" + target + "': expected node/channel, e.g. room-a/1"};
  }
  const std::string node = target.substr(0, slash);
  const std::string ch = target.substr(slash + 1);
  unsigned channel = 0;
  const auto [ptr, ec] = std::from_chars(ch.data(), ch.data() + ch.size(), channel);
  if (ec != std::errc{} || ptr != ch.data() + ch.size() || channel == 0) {
    return Error{"bad channel number '" + ch + "' in '" + target + "': channels count from 1"};
  }
  NodeSlot* slot = registry.by_name(node);
  if (slot == nullptr) return Error{"no node named '" + node + "' (see tlctl nodes)"};
  if (channel > slot->channels) {
    return Error{"node '" + node + "' has " + std::to_string(slot->channels) + " channel(s); '" + target +
                 "' is out of range"};
  }
  return std::make_pair(slot, static_cast<std::uint32_t>(channel - 1));
}

}  // namespace tl::mixer
