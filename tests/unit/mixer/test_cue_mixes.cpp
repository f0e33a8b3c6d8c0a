#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tl/mixer/cue_mixes.h"

namespace tl::mixer {
namespace {

struct Rig {
  NodeRegistry registry{
      RegistryConfig{.sample_rate = 48000, .jitter_capacity_frames = 4096, .mix_queue_packets = 16}};
  SpscRing<MixChunk> chunks{64};
  MixEngine engine{registry, chunks,
                   MixConfig{.sample_rate = 48000, .max_block_frames = 256, .master_chain = false}};
  CueMixes cues{registry, engine};

  NodeSlot* add_node(const std::string& name) {
    proto::RegisterNode r;
    r.set_name(name);
    r.set_channels(1);
    r.set_sample_rate(48000);
    r.set_frames_per_packet(48);
    auto slot = registry.register_node(r, {});
    EXPECT_TRUE(slot) << slot.error();
    return slot.value();
  }
};

TEST(CueMixes, FreeCueIsTheLowestNoNodeHolds) {
  Rig rig;
  EXPECT_EQ(free_cue(rig.registry), 0);
  std::vector<NodeSlot*> nodes;
  for (std::size_t i = 0; i < kMaxCues; ++i)
    nodes.push_back(rig.add_node(std::to_string(i).insert(0, 1, 'n')));
  for (std::size_t i = 0; i < kMaxCues; ++i) nodes[i]->cue = static_cast<int>(kMaxCues - 1 - i);
  EXPECT_EQ(free_cue(rig.registry), std::nullopt) << "all " << kMaxCues << " taken";
  nodes[5]->cue = -1;
  EXPECT_EQ(free_cue(rig.registry), static_cast<int>(kMaxCues - 1 - 5));
}

TEST(CueMixes, NinthCueIsRefusedUntilOneGoesOff) {
  Rig rig;
  std::vector<NodeSlot*> nodes;
  for (std::size_t i = 0; i <= kMaxCues; ++i)
    nodes.push_back(rig.add_node(std::to_string(i).insert(0, 1, 'n')));
  for (std::size_t i = 0; i < kMaxCues; ++i) {
    const Status on = rig.cues.set_on(*nodes[i], true);
    ASSERT_TRUE(on) << on.error();
    EXPECT_TRUE(nodes[i]->cue_on);
    EXPECT_EQ(nodes[i]->cue, static_cast<int>(i));
    EXPECT_NE(nodes[i]->cue_out, nullptr);
  }
  NodeSlot& ninth = *nodes[kMaxCues];
  const Status refused = rig.cues.set_on(ninth, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "every one of the 8 cue mixes is taken (turn one off)");
  EXPECT_FALSE(ninth.cue_on);
  EXPECT_EQ(ninth.cue, -1);

  ASSERT_TRUE(rig.cues.set_on(*nodes[3], false));
  EXPECT_FALSE(nodes[3]->cue_on);
  EXPECT_EQ(nodes[3]->cue, -1) << "its cue goes back";
  ASSERT_TRUE(rig.cues.set_on(ninth, true));
  EXPECT_EQ(ninth.cue, 3);
  EXPECT_TRUE(rig.cues.set_on(*nodes[2], false));
  EXPECT_TRUE(rig.cues.set_on(*nodes[2], false)) << "off twice is harmless";
}

}  // namespace
}  // namespace tl::mixer
