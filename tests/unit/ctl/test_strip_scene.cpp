#include <gtest/gtest.h>

#include <sstream>

#include "tl/ctl/commands.h"
#include "tl/ctl/strip_format.h"

namespace tl::ctl {
namespace {

TEST(StripScene, SaveRecallAndListBuildSceneRequests) {
  std::ostringstream out, err;
  for (const char* action : {"save", "recall"}) {
    auto p = parse_command_line({"scene", action, "verse"}, out, err);
    ASSERT_TRUE(p.invocation) << err.str();
    const auto env = build_request(*p.invocation);
    ASSERT_TRUE(env.has_scene_request());
    EXPECT_EQ(env.scene_request().action(), action);
    EXPECT_EQ(env.scene_request().name(), "verse");
  }
  auto list = parse_command_line({"scene", "list"}, out, err);
  ASSERT_TRUE(list.invocation) << err.str();
  EXPECT_EQ(build_request(*list.invocation).scene_request().action(), "list");
  EXPECT_FALSE(parse_command_line({"scene", "save"}, out, err).invocation) << "save needs a name";
}

TEST(StripScene, RecallReportsSkippedStrips) {
  tl::proto::SceneReply r;
  r.set_action("recall");
  r.set_name("verse");
  r.set_channels(3);
  r.add_skipped("room-b/1");
  const std::string text = format_scene_reply(r);
  EXPECT_NE(text.find("recalled: 3 strips"), std::string::npos) << text;
  EXPECT_NE(text.find("skipped room-b/1"), std::string::npos) << text;
}

}  // namespace
}  // namespace tl::ctl
