#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "process.h"
#include "tl/common/files.h"

namespace tl {
namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ReplaceFile, WritesTheWholeTextAndLeavesNoTemporary) {
  const std::filesystem::path dir = test::make_work_dir("files_replace");
  ASSERT_TRUE(replace_file(dir / "a.json", dir / "a.json.tmp", "first\n"));
  ASSERT_TRUE(replace_file(dir / "a.json", dir / "a.json.tmp", "second\n"));
  EXPECT_EQ(read_all(dir / "a.json"), "second\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "a.json.tmp"));
}

TEST(ReplaceFile, AWriteThatFailsKeepsTheLastWholeFileAndSaysWhy) {
  const std::filesystem::path dir = test::make_work_dir("files_refused");
  ASSERT_TRUE(replace_file(dir / "a.json", dir / "a.json.tmp", "kept\n"));
  // A folder where the temporary goes: the write fails as on a full or read-only disk.
  std::filesystem::create_directory(dir / "a.json.tmp");
  const Status s = replace_file(dir / "a.json", dir / "a.json.tmp", "lost\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find((dir / "a.json").string()), std::string::npos) << s.error();
  EXPECT_NE(s.error().find("the last one written stays"), std::string::npos) << s.error();
  EXPECT_EQ(read_all(dir / "a.json"), "kept\n");
}

TEST(BootId, IsThisBootsIdentity) {
  const std::string id = boot_id();
  EXPECT_EQ(id.size(), 36u) << id;  // a UUID, as the kernel writes it
  EXPECT_EQ(boot_id(), id);
}

}  // namespace
}  // namespace tl
