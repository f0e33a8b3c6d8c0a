#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tl/mixer/session_epoch.h"

namespace tl::mixer {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

TEST(SessionEpoch, ParsesBootAndEpochAndWhatIsMissing) {
  const SavedSession both = parse_session_file("0b7c-boot 123456789\n");
  EXPECT_EQ(both.boot, "0b7c-boot");
  EXPECT_EQ(both.epoch_ns, 123456789);
  const SavedSession no_boot = parse_session_file("unknown 42\n");
  EXPECT_EQ(no_boot.boot, "unknown");
  EXPECT_EQ(no_boot.epoch_ns, 42);
  EXPECT_EQ(parse_session_file("").boot, "");
  EXPECT_EQ(parse_session_file("").epoch_ns, 0);
  EXPECT_EQ(parse_session_file("boot").epoch_ns, 0);
  EXPECT_EQ(parse_session_file("boot soon").epoch_ns, 0);
  EXPECT_EQ(format_session_file("0b7c-boot", 5), "0b7c-boot 5\n");
  EXPECT_EQ(format_session_file("", 5), "unknown 5\n");
}

TEST(SessionEpoch, GoesOnOnlyInTheSameKnownBootFromAPastEpoch) {
  const SavedSession saved{.boot = "b1", .epoch_ns = 1000};
  EXPECT_EQ(resumed_epoch(saved, "b1", 5000), 1000);
  EXPECT_EQ(resumed_epoch(saved, "b1", 1000), 1000);
  EXPECT_EQ(resumed_epoch(saved, "b2", 5000), std::nullopt) << "a new boot starts a new timeline";
  EXPECT_EQ(resumed_epoch(saved, "b1", 999), std::nullopt) << "an epoch in the future is not this boot's";
  EXPECT_EQ(resumed_epoch({.boot = "b1", .epoch_ns = 0}, "b1", 5000), std::nullopt);
  EXPECT_EQ(resumed_epoch({.boot = "unknown", .epoch_ns = 10}, "", 5000), std::nullopt)
      << "without a boot id nothing says the clock is the same";
  EXPECT_EQ(resumed_epoch({}, "", 5000), std::nullopt);
}

TEST(SessionEpoch, RecordDirKeepsTheTimelineForTheNextMixer) {
  const fs::path dir =
      fs::temp_directory_path() / ("tl_session_epoch_" + std::to_string(::getpid())) / "takes";
  fs::remove_all(dir.parent_path());
  EXPECT_EQ(session_epoch(dir.string(), "b1", 1000), 1000) << "a new directory starts now";
  EXPECT_EQ(read_text(dir / ".tracklink-session"), "b1 1000\n");
  EXPECT_EQ(session_epoch(dir.string(), "b1", 9000), 1000) << "a restart in the same boot goes on";
  EXPECT_EQ(session_epoch(dir.string(), "b2", 9000), 9000) << "a new boot starts now";
  EXPECT_EQ(session_epoch(dir.string(), "b2", 9500), 9000);
  EXPECT_EQ(session_epoch(dir.string(), "", 10000), 10000);
  EXPECT_EQ(read_text(dir / ".tracklink-session"), "unknown 10000\n");
  EXPECT_EQ(session_epoch(dir.string(), "", 11000), 11000) << "no boot id: never goes on";
  fs::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace tl::mixer
