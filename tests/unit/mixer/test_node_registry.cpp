#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "tl/mixer/node_registry.h"

namespace tl::mixer {
namespace {

proto::RegisterNode request(const std::string& name, std::uint32_t channels, std::uint32_t rate = 48000) {
  proto::RegisterNode r;
  r.set_name(name);
  r.set_channels(channels);
  r.set_sample_rate(rate);
  r.set_frames_per_packet(48);
  return r;
}

TEST(NodeRegistry, RestartedNodeRejoinsUnderItsIdOnceDisconnected) {
  NodeRegistry reg(RegistryConfig{});
  auto a = reg.register_node(request("room-a", 2), {});
  ASSERT_TRUE(a);
  auto b = reg.register_node(request("booth", 1), {});
  ASSERT_TRUE(b);
  EXPECT_NE((*a)->id, (*b)->id);
  auto dup = reg.register_node(request("room-a", 2), {});
  ASSERT_FALSE(dup) << "a second live node may not take the name";
  EXPECT_NE(dup.error().find("already connected"), std::string::npos);
  (*a)->control_connected = false;
  auto again = reg.register_node(request("room-a", 2), {});
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again.value(), a.value());
  EXPECT_EQ((*again)->connects, 2u);
}

//! A source of silence, for a slot that takes frames.
class Quiet final : public FrameSource {
 public:
  std::uint32_t read(std::uint32_t, MediaTime, std::span<float> out,
                     std::span<std::uint8_t> marks) noexcept override {
    std::fill(out.begin(), out.end(), 0.0f);
    std::fill(marks.begin(), marks.end(), std::uint8_t{0});
    return 0;
  }
  MediaTime audio_until(MediaTime end) const noexcept override { return end; }
};

TEST(NodeRegistry, ABackingTrackHasASlotOfItsOwnWhoseNameNoNodeTakes) {
  NodeRegistry reg(RegistryConfig{});
  Quiet quiet;
  auto node = reg.register_node(request("room-a", 2), {});
  ASSERT_TRUE(node);
  auto bed = reg.add_source("bed", 2, quiet);
  ASSERT_TRUE(bed) << bed.error();
  EXPECT_TRUE((*bed)->fed_frames());
  EXPECT_EQ((*bed)->frames, &quiet);
  EXPECT_EQ((*bed)->channels, 2u);
  EXPECT_FALSE((*node)->fed_frames());
  EXPECT_EQ(reg.by_name("bed"), bed.value());
  auto target = resolve_target(reg, "bed/2");
  ASSERT_TRUE(target) << "its strips are addressed like a node's";
  EXPECT_EQ(target->first, bed.value());
  // A node may not take its name (whatever its channel count), nor it a node's.
  for (std::uint32_t channels : {1u, 2u}) {
    auto clash = reg.register_node(request("bed", channels), {});
    ASSERT_FALSE(clash);
    EXPECT_NE(clash.error().find("backing track's name"), std::string::npos) << clash.error();
  }
  EXPECT_FALSE(reg.add_source("room-a", 1, quiet));
  EXPECT_FALSE(reg.add_source("bad name", 1, quiet));
  EXPECT_FALSE(reg.add_source("wide", kMaxChannelsPerNode + 1, quiet));
}

TEST(NodeRegistry, RefusesBadRegistrationsWithReasons) {
  NodeRegistry reg(RegistryConfig{.sample_rate = 48000});
  auto rate = reg.register_node(request("x", 1, 44100), {});
  ASSERT_FALSE(rate);
  EXPECT_NE(rate.error().find("--rate 48000"), std::string::npos);
  EXPECT_FALSE(reg.register_node(request("bad name!", 1), {}));
  EXPECT_FALSE(reg.register_node(request("", 1), {}));
  EXPECT_FALSE(reg.register_node(request("x", 0), {}));
  EXPECT_FALSE(reg.register_node(request("x", 65), {}));
  auto ok = reg.register_node(request("x", 2), {});
  ASSERT_TRUE(ok);
  (*ok)->control_connected = false;
  auto changed = reg.register_node(request("x", 4), {});
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.error().find("same --channels"), std::string::npos);
}

TEST(NodeRegistry, ResolvesChannelTargets) {
  NodeRegistry reg(RegistryConfig{});
  ASSERT_TRUE(reg.register_node(request("room-a", 2), {}));
  auto t = resolve_target(reg, "room-a/2");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->second, 1u);
  EXPECT_FALSE(resolve_target(reg, "room-a/3"));
  EXPECT_FALSE(resolve_target(reg, "room-a/0"));
  EXPECT_FALSE(resolve_target(reg, "room-a"));
  EXPECT_FALSE(resolve_target(reg, "nobody/1"));
  EXPECT_FALSE(resolve_target(reg, "room-a/x"));
}

TEST(NodeRegistry, UnknownIdsAreNotFound) {
  NodeRegistry reg(RegistryConfig{});
  EXPECT_EQ(reg.by_id(0), nullptr);
  EXPECT_EQ(reg.by_id(1), nullptr);
  EXPECT_EQ(reg.by_id(65535), nullptr);
}

TEST(NodeRegistry, VisitsEveryRegisteredNodeByIdConstOrNot) {
  NodeRegistry reg(RegistryConfig{});
  std::vector<std::uint16_t> seen;
  reg.for_each([&](NodeSlot& slot) { seen.push_back(slot.id); });
  EXPECT_TRUE(seen.empty());
  ASSERT_TRUE(reg.register_node(request("room-a", 2), {}));
  ASSERT_TRUE(reg.register_node(request("booth", 1), {}));
  ASSERT_TRUE(reg.register_node(request("room-c", 1), {}));
  reg.for_each([&](NodeSlot& slot) { slot.cue = slot.id; });
  const NodeRegistry& read_only = reg;
  std::vector<std::string> names;
  read_only.for_each([&](const NodeSlot& slot) {
    EXPECT_EQ(slot.cue, slot.id);
    names.push_back(slot.name);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"room-a", "booth", "room-c"}));
  EXPECT_EQ(read_only.by_id(2), reg.by_name("booth"));
}

}  // namespace
}  // namespace tl::mixer
