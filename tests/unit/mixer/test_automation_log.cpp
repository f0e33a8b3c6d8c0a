#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "tl/mixer/automation_log.h"

namespace tl::mixer {
namespace {

TEST(AutomationLog, IdsOnlyWhileRecordingAndNeverZero) {
  bool recording = false;
  AutomationLog log([&] { return recording; });
  EXPECT_EQ(log.next_id(), 0u);
  recording = true;
  EXPECT_EQ(log.next_id(), 1u);
  EXPECT_EQ(log.next_id(), 2u);
  recording = false;
  EXPECT_EQ(log.next_id(), 0u);
  recording = true;
  EXPECT_EQ(log.next_id(), 3u) << "ids go on across takes";

  AutomationLog wrapping([] { return true; }, std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(wrapping.next_id(), std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(wrapping.next_id(), 1u);
}

TEST(AutomationLog, KeepsEachStateUntilTheEngineAppliedIt) {
  AutomationLog log([] { return true; });
  int fills = 0;
  log.remember(0, [&](proto::StripState&) { ++fills; });
  EXPECT_EQ(fills, 0) << "a change that is not recorded costs nothing";
  EXPECT_EQ(log.pending(), 0u);

  log.remember(7, [&](proto::StripState& after) {
    ++fills;
    after.set_target("room-a/1");
  });
  EXPECT_EQ(fills, 1);
  EXPECT_EQ(log.applied(8), std::nullopt);
  const auto state = log.applied(7);
  ASSERT_TRUE(state.has_value());
  EXPECT_NE(state->find("\"target\":\"room-a/1\""), std::string::npos) << *state;
  EXPECT_NE(state->find("\"trim_db\":0"), std::string::npos) << "every field is written: " << *state;
  EXPECT_EQ(state->find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(log.applied(7), std::nullopt) << "handed out once";
}

TEST(AutomationLog, ForgetsTheOldestChangesTheEngineNeverReported) {
  AutomationLog log([] { return true; });
  const std::size_t extra = 5;
  for (std::uint32_t id = 1; id <= AutomationLog::kMaxPending + extra; ++id) {
    log.remember(id, [](proto::StripState&) {});
  }
  log.forget_unreported();
  EXPECT_EQ(log.pending(), AutomationLog::kMaxPending);
  EXPECT_EQ(log.applied(1), std::nullopt);
  EXPECT_EQ(log.applied(extra), std::nullopt);
  EXPECT_TRUE(log.applied(extra + 1).has_value());
}

}  // namespace
}  // namespace tl::mixer
