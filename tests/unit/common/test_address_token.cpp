#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "process.h"
#include "tl/common/address.h"
#include "tl/common/token.h"

namespace tl {
namespace {

TEST(Address, ParsesHostPortForms) {
  auto a = parse_host_port("127.0.0.1:7400");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7400);
  auto b = parse_host_port("[::1]:9");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 9);
}

TEST(Address, RefusesBadInputWithTheReason) {
  EXPECT_FALSE(parse_host_port("localhost"));
  EXPECT_FALSE(parse_host_port(":7400"));
  EXPECT_FALSE(parse_host_port("h:70000"));
  EXPECT_FALSE(parse_host_port("h:12ab"));
  EXPECT_FALSE(parse_host_port("[::1]7400"));
  auto zero = parse_host_port("h:0");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().find("1-65535"), std::string::npos);
  EXPECT_TRUE(parse_host_port("h:0", /*allow_any_port=*/true));
}

TEST(Token, FileWinsOverEnvironmentAndIsTrimmed) {
  const std::string dir = test::make_work_dir("token");
  { std::ofstream(dir + "/token") << "s3cret\n"; }
  ::setenv("TRACKLINK_TOKEN", "from-env", 1);
  auto t = load_token(dir + "/token");
  ASSERT_TRUE(t);
  EXPECT_EQ(t.value(), "s3cret");
  auto e = load_token("");
  ASSERT_TRUE(e);
  EXPECT_EQ(e.value(), "from-env");
  ::unsetenv("TRACKLINK_TOKEN");
  auto none = load_token("");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("TRACKLINK_TOKEN"), std::string::npos);
  EXPECT_FALSE(load_token(dir + "/missing"));
  { std::ofstream(dir + "/empty") << "\n"; }
  EXPECT_FALSE(load_token(dir + "/empty"));
}

}  // namespace
}  // namespace tl
