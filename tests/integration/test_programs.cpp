// Every program answers --version with the version CMake's project() sets, and exits 0.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"
#include "tl/common/version.h"

namespace tl::test {
namespace {

TEST(Programs, EveryProgramPrintsTheProjectVersion) {
  for (const char* program : {"tl-mixer", "tl-capture", "tl-render", "tlctl"}) {
    SCOPED_TRACE(program);
    const RunResult r = run({bin(program), "--version"}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(std::string(kTracklinkVersion)), std::string::npos) << r.out << r.err;
  }
}

}  // namespace
}  // namespace tl::test
