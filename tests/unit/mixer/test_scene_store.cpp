#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tl/mixer/scene_store.h"

namespace tl::mixer {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path root = fs::temp_directory_path() / ("tl_scene_store_" + std::to_string(::getpid()));
  TempDir() { fs::remove_all(root); }
  ~TempDir() { fs::remove_all(root); }
};

proto::Scene a_scene(const std::string& name) {
  proto::Scene scene;
  scene.set_name(name);
  scene.set_saved_at("2024-05-01T10:00:00Z");
  proto::StripState* strip = scene.add_strips();
  strip->set_target("room-a/1");
  strip->set_trim_db(-3.5f);
  strip->mutable_channel()->set_gain_db(-6.0f);
  strip->mutable_channel()->set_pan(0.25f);
  scene.mutable_master()->set_limiter_on(true);
  scene.mutable_master()->set_ceiling_dbtp(-1.0f);
  scene.add_buses()->set_target("bus1");
  return scene;
}

TEST(SceneStore, SavesAndLoadsTheSameScene) {
  TempDir tmp;
  const SceneStore store(tmp.root / "takes" / "scenes");
  EXPECT_TRUE(store.list().empty()) << "no folder yet: nothing saved";
  EXPECT_FALSE(store.saved("verse"));

  const proto::Scene scene = a_scene("verse");
  const Status saved = store.save("verse", scene);
  ASSERT_TRUE(saved) << saved.error();
  EXPECT_TRUE(fs::exists(tmp.root / "takes" / "scenes" / "verse.json"));
  EXPECT_EQ(store.path("verse"), tmp.root / "takes" / "scenes" / "verse.json");
  EXPECT_TRUE(store.saved("verse"));

  auto loaded = store.load("verse");
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->SerializeAsString(), scene.SerializeAsString());

  ASSERT_TRUE(store.save("chorus", a_scene("chorus")));
  ASSERT_TRUE(store.save("verse", a_scene("verse again")));
  EXPECT_EQ(store.list(), (std::vector<std::string>{"chorus", "verse"}));
  EXPECT_EQ(store.load("verse")->name(), "verse again") << "a save replaces the scene";
}

TEST(SceneStore, RefusesBadNamesAndTellsMissingFromBrokenScenes) {
  TempDir tmp;
  const SceneStore store(tmp.root / "scenes");
  const Status bad = store.save("../escape", a_scene("x"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "bad scene name '../escape': use 1-64 of A-Z a-z 0-9 - _ . (not starting with .)");
  EXPECT_FALSE(fs::exists(tmp.root / "escape.json"));
  EXPECT_FALSE(store.load(".hidden"));
  EXPECT_FALSE(SceneStore::check_name("a b"));
  EXPECT_TRUE(SceneStore::check_name("ab"));

  const auto missing = store.load("nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "no scene named 'nothing' (see tlctl scene list)");

  fs::create_directories(store.dir());
  std::ofstream(store.path("broken")) << "{ not json";
  EXPECT_TRUE(store.saved("broken"));
  const auto broken = store.load("broken");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().find("is not a valid scene"), std::string::npos) << broken.error();

  std::ofstream(store.path("newer")) << R"({"name": "newer", "from_a_later_mixer": 1})";
  const auto newer = store.load("newer");
  ASSERT_TRUE(newer) << "unknown fields are ignored: " << newer.error();
  EXPECT_EQ(newer->name(), "newer");
}

}  // namespace
}  // namespace tl::mixer
