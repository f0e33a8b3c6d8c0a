#include <gtest/gtest.h>

#include "netem/safety.h"

namespace tl::netem {
namespace {

TEST(Safety, LoopbackAddresses) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.5.6.7"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("::ffff:127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("::ffff:8.8.8.8"));
  EXPECT_FALSE(is_loopback_host("example.com"));
}

TEST(Safety, ForwardTargetNeedsOverrideForNonlocal) {
  EXPECT_TRUE(check_forward_target("127.0.0.1", false).ok());
  const auto refused = check_forward_target("192.168.1.10", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("--allow-nonlocal"), std::string::npos);
  EXPECT_TRUE(check_forward_target("192.168.1.10", true).ok());
  EXPECT_FALSE(check_forward_target("mixer.example", true).ok());
}

}  // namespace
}  // namespace tl::netem
