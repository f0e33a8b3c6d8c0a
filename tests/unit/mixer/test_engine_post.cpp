#include <gtest/gtest.h>

#include <vector>

#include "tl/mixer/engine_post.h"

namespace tl::mixer {
namespace {

TEST(EnginePost, AFullQueueRefusesWithTheOperatorsError) {
  NodeRegistry registry{RegistryConfig{}};
  SpscRing<MixChunk> chunks{64};
  MixEngine engine{registry, chunks, MixConfig{.max_block_frames = 256, .master_chain = false}};
  const MixCommand mute{.kind = MixCommand::Kind::Mute, .node = 1, .value = 1.0f};
  EXPECT_EQ(queue_full_error(), "mix engine command queue is full; try again");
  EXPECT_EQ(queue_full_error("recall again"), "mix engine command queue is full; recall again");

  const std::vector<MixCommand> three(3, mute);
  ASSERT_TRUE(post_changes(engine, three));
  int posted = 3;
  while (post_change(engine, mute)) ++posted;  // the queue is sized once: it fills
  EXPECT_GT(posted, 100);
  const Status refused = post_change(engine, mute);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "mix engine command queue is full; try again");
  const Status scene = post_changes(engine, three, "scene 'a' only partly applied, recall again");
  ASSERT_FALSE(scene);
  EXPECT_EQ(scene.error(), "mix engine command queue is full; scene 'a' only partly applied, recall again");
}

}  // namespace
}  // namespace tl::mixer
