// Stem mastering in the library: the stems file, track patterns, and stems through chains
// of their own, summed, mastered, and written back at the master's gain.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "process.h"
#include "tl/mastering/audio_file.h"
#include "tl/mastering/stems.h"
#include "wav.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;
constexpr int kRate = 48000;

std::string write_float(const std::string& path, int channels, double seconds,
                        const std::function<float(double, int)>& f) {
  const auto frames = static_cast<std::size_t>(seconds * kRate);
  std::vector<float> out(frames * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c)
      out[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
          f(static_cast<double>(i) / kRate, c);
  }
  auto w =
      AudioWriter::create(path, kRate, static_cast<std::uint32_t>(channels), SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_TRUE(w) << path;
  EXPECT_TRUE((*w)->write(out));
  EXPECT_TRUE((*w)->close());
  return path;
}

std::vector<float> read_floats(const std::string& path, int* channels = nullptr) {
  auto r = AudioReader::open(path);
  EXPECT_TRUE(r) << path;
  if (channels != nullptr) *channels = static_cast<int>((*r)->info().channels);
  std::vector<float> all, block(4096 * (*r)->info().channels);
  for (std::size_t n; (n = (*r)->read(block)) > 0;)
    all.insert(all.end(), block.begin(), block.begin() + static_cast<long>(n * (*r)->info().channels));
  return all;
}

class StemsTest : public ::testing::Test {
 protected:
  std::string dir_ = test::make_work_dir(std::string("stems_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
};

TEST(StemPatterns, NameANodesChannelOrAllOfIt) {
  EXPECT_TRUE(valid_track_pattern("kit/1"));
  EXPECT_TRUE(valid_track_pattern("room-a/*"));
  for (const char* bad : {"kit", "/1", "kit/", "kit/0", "kit/x", "kit/256"})
    EXPECT_FALSE(valid_track_pattern(bad)) << bad;
  EXPECT_TRUE(track_matches("kit/*", "kit", 7));
  EXPECT_TRUE(track_matches("kit/2", "kit", 2));
  EXPECT_FALSE(track_matches("kit/2", "kit", 12));
  EXPECT_FALSE(track_matches("kit/*", "kitchen", 1));
}

TEST_F(StemsTest, AStemsFileIsReadAndItsMistakesNamed) {
  auto good = load_stems_file(file("good.toml", R"(
[[stem]]
name = "drums"
tracks = ["kit/*", "room/2"]
gain_db = -1.5
width = 1.2
[[stem.eq]]
type = "low-shelf"
freq = 60
gain = 2
[stem.saturation]
drive = 3

[[stem]]
name = "strings"
file = "strings.wav"
)"));
  ASSERT_TRUE(good) << good.error();
  ASSERT_EQ(good->stems.size(), 2u);
  EXPECT_EQ(good->stems[0].tracks, (std::vector<std::string>{"kit/*", "room/2"}));
  EXPECT_EQ(good->stems[0].gain_db, -1.5);
  EXPECT_EQ(good->stems[0].chain.width, 1.2);
  EXPECT_EQ(good->stems[0].chain.eq.size(), 1u);
  EXPECT_TRUE(good->stems[0].chain.saturation);
  EXPECT_EQ(good->stems[1].file, path("strings.wav")) << "relative to the stems file";
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& b :
       {Bad{"[[stem]]\nname = \"a\"\ntracks = [\"x/1\"]\nwidht = 1\n", "[[stem]] 1: no key 'widht'"},
        Bad{"[[stem]]\ntracks = [\"x/1\"]\n", "[[stem]] 1: name"},
        Bad{"[[stem]]\nname = \"a\"\n", "tracks (of the take) or a file"},
        Bad{"[[stem]]\nname = \"a\"\nfile = \"a.wav\"\ntracks = [\"x/1\"]\n", "one of the two"},
        Bad{"[[stem]]\nname = \"a\"\ntracks = [\"x\"]\n", "entry 1 is not"},
        Bad{"[[stem]]\nname = \"a\"\nfile = \"a.wav\"\n[[stem]]\nname = \"a\"\nfile = \"b.wav\"\n",
            "[[stem]] 2: a second stem named 'a'"},
        Bad{"[[stem]]\nname = \"a\"\nfile = \"a.wav\"\n[stem.saturation]\ndrive = 40\n", "[[stem]] 1"},
        Bad{"title = \"x\"\n", "no key 'title'"}, Bad{"", "no stems"}}) {
    auto r = load_stems_file(file("bad.toml", b.text));
    ASSERT_FALSE(r) << b.text;
    EXPECT_NE(r.error().find("stems file '" + path("bad.toml") + "'"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find(b.says), std::string::npos) << r.error();
  }
}

TEST_F(StemsTest, StemsThroughTheirOwnChainsSumToTheMasterAndStayAligned) {
  // Drums: stereo, a click at 1.000 s over a low tone. Vocals: mono, a click at 1.500 s
  // over a higher tone, through saturation (152 frames of delay) and a high shelf.
  const std::string drums = write_float(path("drums-in.wav"), 2, 3.0, [](double t, int c) {
    return static_cast<float>((std::fabs(t - 1.0) < 0.5 / kRate ? 0.5 : 0.0) +
                              0.02 * std::sin(2 * std::numbers::pi * 110.0 * t + c));
  });
  const std::string vocals = write_float(path("vocals-in.wav"), 1, 3.0, [](double t, int) {
    return static_cast<float>((std::fabs(t - 1.5) < 0.5 / kRate ? 0.4 : 0.0) +
                              0.02 * std::sin(2 * std::numbers::pi * 660.0 * t));
  });
  ChainSettings voice;
  voice.saturation = *parse_saturation("3");
  voice.eq = {*parse_eq_band("high-shelf:5k:+3")};
  MasterSettings settings;
  settings.target_lufs = -30.0;  // a gain only: the limiter never acts
  auto r = master_stems({{"drums", drums, 0.0, {}}, {"vocals", vocals, -2.0, voice}}, path("master.wav"),
                        path("stems"), settings);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->stem_files.size(), 2u);
  EXPECT_EQ(r->stem_files[0], path("stems/drums.wav"));
  EXPECT_NEAR(r->master.after.integrated_lufs, -30.0, 0.2);
  int ch = 0;
  const auto master = read_floats(path("master.wav"), &ch);
  ASSERT_EQ(ch, 2) << "a mono stem joins stereo ones";
  const auto d = read_floats(r->stem_files[0]), v = read_floats(r->stem_files[1]);
  ASSERT_EQ(d.size(), master.size());
  ASSERT_EQ(v.size(), master.size());
  // The stems, at the master's gain, add up to the master (24-bit: within 2 LSB).
  double worst = 0.0;
  for (std::size_t i = 0; i < master.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(d[i] + v[i] - master[i])));
  std::printf("[ figure ] stems summed against the master: %.2e (24-bit LSB %.2e)\n", worst, 1.0 / 8388608.0);
  EXPECT_LT(worst, 2.0 / 8388608.0);
  // Aligned: each click where it was, in its stem and in the master (the saturator's
  // delay taken out).
  const auto peak = [](const std::vector<float>& x, std::size_t from, std::size_t to) {
    std::size_t at = from;
    for (std::size_t i = from; i < to; ++i) {
      if (std::fabs(x[2 * i]) > std::fabs(x[2 * at])) at = i;
    }
    return at;
  };
  EXPECT_EQ(peak(master, 0, 60000), 48000u);
  EXPECT_EQ(peak(master, 60000, 100000), 72000u);
  EXPECT_EQ(peak(v, 0, 144000), 72000u);
  // Nothing left behind but the master and the stems.
  EXPECT_FALSE(fs::exists(path("master.wav.stems-work")));
  // A stem that is in the way: nothing written.
  auto again = master_stems({{"drums", drums, 0.0, {}}}, path("master2.wav"), path("stems"), settings);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("drums.wav' exists"), std::string::npos) << again.error();
  EXPECT_FALSE(fs::exists(path("master2.wav")));
}

}  // namespace
}  // namespace tl::mastering
