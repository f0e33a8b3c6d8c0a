#pragma once
//! A MixEngine on a real NodeRegistry, fed PCM24 packets as the receiver would queue them:
//! the rig the engine's unit tests share.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tl/mixer/mix_engine.h"
#include "tl/protocol/pcm.h"

namespace tl::mixer::rig {

constexpr std::uint32_t kBlock = 48;

struct Rig {
  NodeRegistry registry{
      RegistryConfig{.sample_rate = 48000, .jitter_capacity_frames = 8192, .mix_queue_packets = 256}};
  SpscRing<MixChunk> chunks{1024};
  bool master_chain = false;  // the channel tests look at the undelayed sum
  MixEngine engine{
      registry, chunks,
      MixConfig{
          .sample_rate = 48000, .max_block_frames = 1024, .latency_frames = 0, .master_chain = master_chain}};

  Rig() = default;
  explicit Rig(bool with_master) : master_chain(with_master) {}
  protocol::SessionKey key{};
  Seq seq = 0;

  NodeSlot* add_node(const std::string& name, std::uint32_t channels) {
    proto::RegisterNode r;
    r.set_name(name);
    r.set_channels(channels);
    r.set_sample_rate(48000);
    r.set_frames_per_packet(kBlock);
    r.set_format(proto::FORMAT_PCM24);
    auto slot = registry.register_node(r, key);
    EXPECT_TRUE(slot) << slot.error();
    return slot.value();
  }

  //! Queues one packet of constant value per channel (value + channel index * 0.01).
  //! arrival_ns: when the receiver saw it (session clock), for the node's varispeed.
  void send(NodeSlot& slot, MediaTime ts, float value, std::int64_t arrival_ns = 0) {
    std::vector<float> frames(kBlock * slot.channels);
    for (std::uint32_t f = 0; f < kBlock; ++f) {
      for (std::uint32_t c = 0; c < slot.channels; ++c)
        frames[f * slot.channels + c] = value + 0.01f * static_cast<float>(c);
    }
    send_frames(slot, ts, frames, arrival_ns);
  }

  //! Queues one PCM24 packet of kBlock interleaved frames (every channel of the node).
  void send_frames(NodeSlot& slot, MediaTime ts, const std::vector<float>& frames, std::int64_t arrival_ns) {
    std::vector<std::uint8_t> payload(frames.size() * 3);
    protocol::pack_pcm(frames, protocol::SampleFormat::Pcm24, payload);
    protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                             .node_id = slot.id,
                             .seq = seq++,
                             .media_ts = ts,
                             .frame_count = kBlock,
                             .channel_count = static_cast<std::uint8_t>(slot.channels),
                             .format = protocol::SampleFormat::Pcm24};
    PacketSlot* p = slot.to_mix->begin_write(protocol::kMaxPacketBytes);
    ASSERT_NE(p, nullptr);
    p->arrival_ns = arrival_ns;
    p->size = static_cast<std::uint32_t>(protocol::encode(h, payload, key, p->space()));
    slot.to_mix->commit_write();
  }
};

inline float q24(float v) {
  return std::nearbyint(v * 8388608.0f) / 8388608.0f;
}

//! One mono node with a constant input; the left side of the mix after `blocks` blocks.
struct BusRig : Rig {
  NodeSlot* a = add_node("a", 1);
  std::vector<float> l = std::vector<float>(kBlock), r = std::vector<float>(kBlock);
  int block = 0;
  BusRig() { engine.start_at(0); }
  void run(int blocks, float value = 0.25f) {
    for (int i = 0; i < blocks; ++i, ++block) {
      if (value != 0.0f) send(*a, block * kBlock, value);
      engine.process(l, r);
    }
  }
  void strip(const dsp::StripParams& p) {
    MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = a->id, .channel = 0};
    cmd.strip = p;
    ASSERT_TRUE(engine.post(cmd));
  }
};

}  // namespace tl::mixer::rig
