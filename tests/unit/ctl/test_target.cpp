// Channel targets, on/off and numbers as the operator types them.
#include <gtest/gtest.h>

#include "tl/ctl/commands.h"
#include "tl/ctl/target.h"

namespace tl::ctl {
namespace {

TEST(Target, ParsesNodeAndOneBasedChannel) {
  auto t = parse_target("room-a/1");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->node, "room-a");
  EXPECT_EQ(t->channel, 1u);
  EXPECT_EQ(t->str(), "room-a/1");
}

TEST(Target, NodeNameMayHoldSlashesAndChannelIsNormalised) {
  auto t = parse_target("site/booth/02");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->node, "site/booth");
  EXPECT_EQ(t->channel, 2u);
  EXPECT_EQ(t->str(), "site/booth/2");
}

TEST(Target, RejectsBadSyntaxWithAClearMessage) {
  for (const char* bad : {"notarget", "room-a/", "/1", "room-a/0", "room-a/x", "room-a/-1", "room a/1",
                          "room-a/1.5", "room-a/99999", "", "/"}) {
    auto t = parse_target(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.error().find("channel"), std::string::npos) << t.error();
    }
  }
  EXPECT_NE(parse_target("room-a/0").error().find("count from 1"), std::string::npos);
}

TEST(Switch, AcceptsOnOffSpellings) {
  EXPECT_TRUE(parse_switch("on").value());
  EXPECT_TRUE(parse_switch("ON").value());
  EXPECT_TRUE(parse_switch("yes").value());
  EXPECT_FALSE(parse_switch("off").value());
  EXPECT_FALSE(parse_switch("0").value());
  EXPECT_FALSE(parse_switch("maybe").ok());
}

TEST(Number, ParsesSignedDecimals) {
  EXPECT_FLOAT_EQ(parse_number("-6").value(), -6.0f);
  EXPECT_FLOAT_EQ(parse_number("-6.000000").value(), -6.0f);
  EXPECT_FLOAT_EQ(parse_number("+3.5").value(), 3.5f);
  EXPECT_FLOAT_EQ(parse_number(".5").value(), 0.5f);
  EXPECT_FLOAT_EQ(parse_number("-inf", true).value(), -150.0f);
  EXPECT_FALSE(parse_number("-inf").ok());
  EXPECT_FALSE(parse_number("nan").ok());
  EXPECT_FALSE(parse_number("6dB").ok());
  EXPECT_FALSE(parse_number("").ok());
}

TEST(NegativeNumbers, AreRecognisedAsValues) {
  EXPECT_TRUE(is_negative_number("-6"));
  EXPECT_TRUE(is_negative_number("-0.5"));
  EXPECT_TRUE(is_negative_number("-.5"));
  EXPECT_TRUE(is_negative_number("-inf"));
  EXPECT_FALSE(is_negative_number("-v"));
  EXPECT_FALSE(is_negative_number("--json"));
  EXPECT_FALSE(is_negative_number("-"));
  EXPECT_FALSE(is_negative_number("6"));
}

TEST(NegativeNumbers, MoveBehindADoubleDashWithOptionsKeptInFront) {
  using V = std::vector<std::string>;
  EXPECT_EQ(protect_negative_numbers({"gain", "room-a/1", "-6"}), (V{"gain", "room-a/1", "--", "-6"}));
  EXPECT_EQ(
      protect_negative_numbers({"--mixer", "h:1", "gain", "room-a/1", "-6", "--json", "--timeout-ms", "9"}),
      (V{"--mixer", "h:1", "gain", "room-a/1", "--json", "--timeout-ms", "9", "--", "-6"}));
  EXPECT_EQ(protect_negative_numbers({"nodes", "-v"}), (V{"nodes", "-v"}));
  EXPECT_EQ(protect_negative_numbers({"gain", "--", "a/1", "-6"}), (V{"gain", "--", "a/1", "-6"}));
}

}  // namespace
}  // namespace tl::ctl
