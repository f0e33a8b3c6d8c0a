// A take's folder: names that stay inside the record directory, its WAV files by node
// and channel, and .alive.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "process.h"
#include "tl/mixer/take_folder.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

TEST(TakeFolder, ANameStaysInsideTheRecordDirectory) {
  for (const char* ok : {"take-1", "Song_2.mix", "a"}) EXPECT_TRUE(valid_take_name(ok)) << ok;
  for (const char* bad : {"", ".", "..", "../x", "a/b", "with space", "ü"}) {
    EXPECT_FALSE(valid_take_name(bad)) << bad;
  }
  EXPECT_FALSE(valid_take_name(std::string(65, 'a')));
  EXPECT_TRUE(valid_take_name(default_take_name())) << default_take_name();
  EXPECT_NE(bad_take_name_message("a/b").find("bad take name 'a/b'"), std::string::npos);
}

TEST(TakeFolder, ItsWavFilesAreNamedByNodeAndChannel) {
  const fs::path dir = test::make_work_dir("take_folder_files");
  for (const char* f : {"room-a-2.wav", "mix.wav", "vox-1.wav", "notes.txt", "room-a-10.wav"}) {
    std::ofstream(dir / f) << "x";
  }
  fs::create_directories(dir / "raw");
  const auto files = take_files(dir);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].path.filename(), "mix.wav");
  EXPECT_EQ(files[0].node, "mix");
  EXPECT_EQ(files[0].channel, 0u);
  // A node's name may hold '-': the channel follows the last one.
  EXPECT_EQ(files[1].node, "room-a");
  EXPECT_EQ(files[1].channel, 10u);
  EXPECT_EQ(files[2].channel, 2u);
  EXPECT_EQ(files[3].node, "vox");
}

TEST(TakeFolder, AliveKeepsTheLastPositionInPlace) {
  const fs::path dir = test::make_work_dir("take_folder_alive");
  EXPECT_EQ(AliveFile::read(dir / ".alive"), 0);
  {
    AliveFile alive(dir / ".alive");
    alive.write(123456789);
    alive.write(42);  // shorter: rewritten over the same fixed-width line
  }
  EXPECT_EQ(AliveFile::read(dir / ".alive"), 42);
}

TEST(TakeFolder, ARecordFolderIsMadeWhenMissingAndRefusedWhenUnusable) {
  const fs::path dir = test::make_work_dir("take_folder_record_dir");
  EXPECT_TRUE(check_record_dir(dir / "new" / "takes", 0));
  EXPECT_TRUE(fs::is_directory(dir / "new" / "takes"));
  EXPECT_TRUE(fs::is_empty(dir / "new" / "takes")) << "the write test leaves nothing behind";

  std::ofstream(dir / "file") << "x";
  const Status file = check_record_dir(dir / "file", 0);
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().find("is not a folder"), std::string::npos) << file.error();
  const Status under = check_record_dir(dir / "file" / "takes", 0);
  ASSERT_FALSE(under);
  EXPECT_NE(under.error().find("on the path to"), std::string::npos) << under.error();

  // No disk has an exabyte free: the check names the space there is and what it needs.
  const Status full = check_record_dir(dir / "new", 1ull << 60);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().find("MiB free"), std::string::npos) << full.error();
}

TEST(TakeFolder, MinutesLeftCountEveryTrackAndTheMix) {
  // 16 channels + the stereo mix: 18 x 3 bytes x 48000 x 60 = 155.52 MB a minute.
  EXPECT_NEAR(record_minutes_left(1'555'200'000ull, 16, 48000), 10.0, 1e-9);
  EXPECT_NEAR(record_minutes_left(1'555'200'000ull, 34, 48000), 5.0, 1e-9);
  EXPECT_GT(record_minutes_left(1ull << 30, 0, 48000), 60.0) << "the mix alone";
}

}  // namespace
}  // namespace tl::mixer
