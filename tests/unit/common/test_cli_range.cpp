// Option ranges as a person reads them: in help and in the message for a value outside.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tl/common/cli_range.h"

namespace tl {
namespace {

TEST(CliRange, NumbersReadAsWritten) {
  EXPECT_EQ(plain_number(600000), "600000");
  EXPECT_EQ(plain_number(3600.0), "3600");
  EXPECT_EQ(plain_number(0.001), "0.001");
  EXPECT_EQ(plain_number(0.98f), "0.98");
  EXPECT_EQ(plain_number(1e7), "10000000") << "no exponent";
  EXPECT_EQ(plain_number(-150.0), "-150");
  EXPECT_EQ(plain_number(std::int64_t{8388608}), "8388608");
}

//! The message CLI11 prints for `--opt value`, or empty when the value is accepted.
template <typename T>
std::string parse_error(const CLI::Validator& check, const std::string& value) {
  CLI::App app;
  T v{};
  app.add_option("--opt", v)->check(check);
  try {
    app.parse(std::vector<std::string>{value, "--opt"});  // CLI11 takes them in reverse
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return {};
}

TEST(CliRange, AValueOutsideNamesTheRangeInAFewCharacters) {
  const CLI::Validator timeout = in_range(1, 600000, "ms");
  EXPECT_EQ(timeout.get_description(), "1..600000 ms");
  EXPECT_EQ(parse_error<int>(timeout, "5000"), "");
  EXPECT_EQ(parse_error<int>(timeout, "1"), "");
  EXPECT_EQ(parse_error<int>(timeout, "0"), "--opt: 0 is outside 1..600000 ms");
  EXPECT_EQ(parse_error<int>(timeout, "600001"), "--opt: 600001 is outside 1..600000 ms");
  EXPECT_EQ(parse_error<int>(timeout, "soon"), "--opt: 'soon' is not a number in 1..600000 ms");

  const CLI::Validator seconds = in_range(0.001, 86400.0, "s");
  EXPECT_EQ(parse_error<double>(seconds, "0"), "--opt: 0 is outside 0.001..86400 s");
  EXPECT_EQ(parse_error<double>(seconds, "nan"), "--opt: nan is outside 0.001..86400 s");
  EXPECT_EQ(parse_error<double>(seconds, "2.5"), "");
  EXPECT_EQ(in_range(0.0, 100.0).get_description(), "0..100") << "no unit: the range alone";
}

}  // namespace
}  // namespace tl
