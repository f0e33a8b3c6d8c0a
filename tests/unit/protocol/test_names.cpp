#include <gtest/gtest.h>

#include <string>

#include "tl/protocol/names.h"

namespace tl::protocol {
namespace {

TEST(Names, NodeNamesAreOneToThirtyTwoNameCharacters) {
  EXPECT_TRUE(valid_node_name("room-a"));
  EXPECT_TRUE(valid_node_name("Room_A.1-b"));
  EXPECT_TRUE(valid_node_name(std::string(32, 'x')));
  EXPECT_FALSE(valid_node_name(std::string(33, 'x')));
  EXPECT_FALSE(valid_node_name(""));
  EXPECT_FALSE(valid_node_name("bad name!"));
  EXPECT_FALSE(valid_node_name("a/b"));
  EXPECT_FALSE(valid_node_name("\xc3\xa9"));  // é in UTF-8
}

TEST(Names, TakeNamesAreOneToSixtyFourNameCharactersNotDotOrDotDot) {
  EXPECT_TRUE(valid_take_name("take-20240501-100000"));
  EXPECT_TRUE(valid_take_name(".hidden"));
  EXPECT_TRUE(valid_take_name(std::string(64, 't')));
  EXPECT_FALSE(valid_take_name(std::string(65, 't')));
  EXPECT_FALSE(valid_take_name(""));
  EXPECT_FALSE(valid_take_name("."));
  EXPECT_FALSE(valid_take_name(".."));
  EXPECT_FALSE(valid_take_name("../takes"));
  EXPECT_FALSE(valid_take_name("two words"));
}

TEST(Names, SceneNamesAreOneToSixtyFourNameCharactersNotHidden) {
  EXPECT_TRUE(valid_scene_name("verse-2_final.v1"));
  EXPECT_TRUE(valid_scene_name(std::string(64, 's')));
  EXPECT_FALSE(valid_scene_name(std::string(65, 's')));
  EXPECT_FALSE(valid_scene_name(""));
  EXPECT_FALSE(valid_scene_name(".hidden"));
  EXPECT_FALSE(valid_scene_name(".."));
  EXPECT_FALSE(valid_scene_name("../takes"));
  EXPECT_FALSE(valid_scene_name("a/b"));
  EXPECT_FALSE(valid_scene_name("two words"));
}

TEST(Names, NameCharactersAreAsciiLettersDigitsDashUnderscoreDot) {
  int count = 0;
  for (int c = 0; c < 256; ++c) count += is_name_char(static_cast<char>(c)) ? 1 : 0;
  EXPECT_EQ(count, 26 + 26 + 10 + 3);
  EXPECT_TRUE(all_name_chars(""));
  EXPECT_TRUE(all_name_chars("take-1_a.b"));
  EXPECT_FALSE(all_name_chars("a b"));
}

}  // namespace
}  // namespace tl::protocol
