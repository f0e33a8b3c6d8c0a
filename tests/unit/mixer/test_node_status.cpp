#include <gtest/gtest.h>

#include <string>

#include "tl/mixer/node_status.h"

namespace tl::mixer {
namespace {

struct Rig {
  NodeRegistry registry{
      RegistryConfig{.sample_rate = 48000, .jitter_capacity_frames = 4096, .mix_queue_packets = 16}};
  SessionClock clock{48000};
  SpscRing<MixChunk> chunks{64};
  MixEngine engine{
      registry, chunks,
      MixConfig{.sample_rate = 48000, .max_block_frames = 256, .latency_frames = 960, .master_chain = false}};
  NodeStatus status{registry, clock, engine};

  NodeSlot* add_node(const std::string& name, std::uint32_t channels) {
    proto::RegisterNode r;
    r.set_name(name);
    r.set_channels(channels);
    r.set_sample_rate(48000);
    r.set_frames_per_packet(48);
    r.set_format(proto::FORMAT_PCM16);
    auto slot = registry.register_node(r, {});
    EXPECT_TRUE(slot) << slot.error();
    return slot.value();
  }
};

TEST(NodeStatus, LossCountsGapsInTheSequenceAcrossItsWrapAndRestarts) {
  NodeSlot slot;
  EXPECT_EQ(lost_packets(slot), 0u);
  slot.lost_before = 4;
  EXPECT_EQ(lost_packets(slot), 4u) << "no sequence yet: only the loss before the restart";
  slot.seq_started = true;
  slot.first_seq = 0xFFFFFFF0u;
  slot.highest_seq = 9;  // 26 packets expected across the wrap
  slot.seq_received = 20;
  EXPECT_EQ(lost_packets(slot), 4u + 6u);
  slot.seq_received = 30;  // duplicates: no negative loss
  EXPECT_EQ(lost_packets(slot), 4u);
}

TEST(NodeStatus, NodeInfoShowsTheSlotAndEachChannel) {
  Rig rig;
  NodeSlot* slot = rig.add_node("room-a", 2);
  slot->packets = 90;
  slot->seq_started = true;
  slot->first_seq = 0;
  slot->highest_seq = 99;
  slot->seq_received = 90;
  slot->last_heard_ns = 1'000'000'000;
  slot->latency_min_frames.store(480);
  slot->strips[1].gain_db = -6.0f;
  slot->strips[1].mute = true;
  slot->levels[1].peak.store(0.5f);
  slot->levels[1].comp_gr_db.store(-3.0f);  // shown only while its compressor is on

  proto::NodeInfo info;
  rig.status.fill(*slot, info, 1'500'000'000);
  EXPECT_EQ(info.name(), "room-a");
  EXPECT_EQ(info.format(), proto::FORMAT_PCM16);
  EXPECT_EQ(info.state(), proto::NODE_STREAMING);
  EXPECT_DOUBLE_EQ(info.last_heard_s(), 0.5);
  EXPECT_EQ(info.lost(), 10u);
  EXPECT_DOUBLE_EQ(info.loss_pct(), 10.0);
  EXPECT_DOUBLE_EQ(info.latency_ms(), 20.0);
  EXPECT_DOUBLE_EQ(info.latency_min_ms(), 10.0);
  EXPECT_DOUBLE_EQ(info.latency_max_ms(), 0.0) << "the mixer's";
  ASSERT_EQ(info.channel_info_size(), 2);
  const proto::ChannelInfo& ch = info.channel_info(1);
  EXPECT_EQ(ch.channel(), 2u);
  EXPECT_FLOAT_EQ(ch.gain_db(), -6.0f);
  EXPECT_TRUE(ch.mute());
  EXPECT_NEAR(ch.peak_dbfs(), -6.02f, 0.01f);
  EXPECT_FLOAT_EQ(ch.rms_dbfs(), -150.0f) << "silence reads -150 dBFS";
  EXPECT_FLOAT_EQ(ch.comp_gr_db(), 0.0f);

  proto::ChannelInfo alone;
  fill_channel_info(*slot, 1, alone);
  EXPECT_EQ(alone.SerializeAsString(), ch.SerializeAsString());

  rig.add_node("booth", 1);
  const proto::NodeList list = rig.status.list();
  ASSERT_EQ(list.nodes_size(), 2);
  EXPECT_EQ(list.nodes(1).name(), "booth");
}

}  // namespace
}  // namespace tl::mixer
