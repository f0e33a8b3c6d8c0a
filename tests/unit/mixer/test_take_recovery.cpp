#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "process.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/take_recovery.h"
#include "tl/mixer/track_writer.h"

namespace tl::mixer {
namespace {

void write_track(const std::string& path, std::uint32_t channels) {
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = channels}, 4096);
  ASSERT_TRUE(w) << w.error();
  std::vector<float> frames(480 * channels, 0.25f);
  (*w)->put(0, frames);
  (*w)->finish(480);
}

TEST(ReopenTake, ANodeBackWithFewerChannelsIsNamedAsSuchNotAsAbsent) {
  const std::string dir = test::make_work_dir("reopen_narrower");
  write_track(dir + "/mix.wav", 2);
  write_track(dir + "/a-1.wav", 1);
  write_track(dir + "/a-2.wav", 1);
  write_track(dir + "/b-1.wav", 1);
  NodeRegistry registry(RegistryConfig{});
  proto::RegisterNode r;
  r.set_name("a");
  r.set_channels(1);  // it recorded two
  r.set_sample_rate(48000);
  r.set_frames_per_packet(48);
  ASSERT_TRUE(registry.register_node(r, {}));

  const auto take =
      reopen_take(dir, TakeManifest{.take = "narrower", .start_sample = 1000}, registry, 4096, false);
  ASSERT_FALSE(take);
  EXPECT_NE(take.error().find("not connected: 'b'"), std::string::npos) << take.error();
  EXPECT_NE(
      take.error().find("node 'a' connected with 1 channel(s), but the take has its track 2 (--channels 2)"),
      std::string::npos)
      << take.error();
  EXPECT_EQ(take.error().find("'a', 'b'"), std::string::npos) << "a is there: " << take.error();
}

}  // namespace
}  // namespace tl::mixer
