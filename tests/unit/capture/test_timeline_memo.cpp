#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "process.h"
#include "tl/capture/timeline_memo.h"

namespace tl::capture {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

Sender::TimelineMemo example() {
  return Sender::TimelineMemo{
      .map =
          ClockMap{
              .ref_node_ns = 5 * kSecond, .ref_offset_ns = -123'456'789, .slope = -1.7e-6, .valid = true},
      .session_epoch = 1'700'000'000'000'000'000};
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(TimelineMemo, ComesBackAsWrittenWithinItsAge) {
  const std::string dir = test::make_work_dir("timeline_memo_round_trip");
  ASSERT_TRUE(write_timeline_memo(dir, example(), 10 * kSecond));
  const auto memo = read_timeline_memo(dir, 70 * kSecond, 3600 * kSecond);
  ASSERT_TRUE(memo) << memo.error();
  EXPECT_EQ(memo->session_epoch, example().session_epoch);
  EXPECT_EQ(memo->map.ref_node_ns, example().map.ref_node_ns);
  EXPECT_EQ(memo->map.ref_offset_ns, example().map.ref_offset_ns);
  EXPECT_DOUBLE_EQ(memo->map.slope, example().map.slope);
  EXPECT_TRUE(memo->map.valid);
}

TEST(TimelineMemo, OneTooOldFromAnotherBootOrUnreadableIsRefusedWithTheReason) {
  const std::string dir = test::make_work_dir("timeline_memo_refused");
  const auto missing = read_timeline_memo(dir, 0, kSecond);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no timeline kept"), std::string::npos) << missing.error();

  ASSERT_TRUE(write_timeline_memo(dir, example(), 10 * kSecond));
  const auto old = read_timeline_memo(dir, 4000 * kSecond, 3600 * kSecond);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().find("3990 s old"), std::string::npos) << old.error();
  EXPECT_FALSE(read_timeline_memo(dir, 5 * kSecond, 3600 * kSecond)) << "written after now: not this clock";

  // The node's monotonic clock starts again at a boot: another boot's map means nothing.
  std::string text = read_all(dir + "/timeline");
  const auto boot = text.find("boot ");
  ASSERT_NE(boot, std::string::npos);
  text.replace(boot + 5, 8, "00000000");
  std::ofstream(dir + "/timeline") << text;
  const auto other_boot = read_timeline_memo(dir, 20 * kSecond, 3600 * kSecond);
  ASSERT_FALSE(other_boot);
  EXPECT_NE(other_boot.error().find("restarted"), std::string::npos) << other_boot.error();

  std::ofstream(dir + "/timeline") << "boot x\nsession twelve\n";
  const auto garbage = read_timeline_memo(dir, 20 * kSecond, 3600 * kSecond);
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().find("has no"), std::string::npos) << garbage.error();
}

}  // namespace
}  // namespace tl::capture
