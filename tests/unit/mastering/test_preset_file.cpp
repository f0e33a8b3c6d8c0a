// Preset files: what they set, what a typo gets, and the ones shipped in mastering/presets.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "process.h"
#include "tl/mastering/master.h"
#include "tl/mastering/preset_file.h"
#include "wav.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

class PresetFileTest : public ::testing::Test {
 protected:
  std::string dir_ = test::make_work_dir(std::string("preset_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = (fs::path(dir_) / name).string();
    std::ofstream(path) << text;
    return path;
  }
  // The error loading text gives (empty: it loaded).
  std::string error_of(const std::string& text) const {
    auto p = load_preset_file(write("p.toml", text));
    return p ? std::string() : p.error();
  }
};

TEST_F(PresetFileTest, EveryKeyItGivesIsRead) {
  auto p = load_preset_file(write("full.toml", R"(
name = "test"
delivery = "apple"
target_lufs = -12
ceiling_dbtp = -0.5
bits = 16
rate = 44100
limiter = false
width = 1.25
[[eq]]
type = "peak"
freq = 2500
gain = -1.5
q = 2.0
[[eq]]
type = "high-shelf"
freq = 9000.0
gain = 1
[multiband]
splits = [100, 1000, 6000]
threshold = -30
ratio = 4
[[multiband.band]]
threshold = -20
[[multiband.band]]
ratio = 1.5
attack_ms = 12
[[multiband.band]]
on = false
[[multiband.band]]
release_ms = 40
knee_db = 3
makeup_db = 1
[saturation]
drive = 4
mix = 0.5
)"));
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->name, "test");
  EXPECT_EQ(p->delivery, "apple");
  EXPECT_EQ(p->target_lufs, -12.0);
  EXPECT_EQ(p->ceiling_dbtp, -0.5);
  EXPECT_EQ(p->bits, 16);
  EXPECT_EQ(p->rate, 44100u);
  EXPECT_EQ(p->limiter, false);
  EXPECT_DOUBLE_EQ(p->chain.width, 1.25);
  ASSERT_EQ(p->chain.eq.size(), 2u);
  EXPECT_EQ(p->chain.eq[0].type, dsp::BandType::peaking);
  EXPECT_FLOAT_EQ(p->chain.eq[0].freq_hz, 2500.0f);
  EXPECT_FLOAT_EQ(p->chain.eq[0].gain_db, -1.5f);
  EXPECT_FLOAT_EQ(p->chain.eq[0].q, 2.0f);
  EXPECT_FLOAT_EQ(p->chain.eq[1].q, 0.707f) << "Q left out";
  ASSERT_TRUE(p->chain.multiband);
  const auto& m = *p->chain.multiband;
  EXPECT_EQ(m.bands, 4u);
  EXPECT_FLOAT_EQ(m.split_hz[2], 6000.0f);
  EXPECT_FLOAT_EQ(m.band[0].threshold_db, -20.0f) << "its own";
  EXPECT_FLOAT_EQ(m.band[0].ratio, 4.0f) << "the section's";
  EXPECT_FLOAT_EQ(m.band[1].threshold_db, -30.0f);
  EXPECT_FLOAT_EQ(m.band[1].ratio, 1.5f);
  EXPECT_FLOAT_EQ(m.band[1].attack_ms, 12.0f);
  EXPECT_FALSE(m.band_on[2]);
  EXPECT_TRUE(m.band_on[3]);
  EXPECT_FLOAT_EQ(m.band[3].release_ms, 40.0f);
  EXPECT_FLOAT_EQ(m.band[3].knee_db, 3.0f);
  EXPECT_FLOAT_EQ(m.band[3].makeup_db, 1.0f);
  ASSERT_TRUE(p->chain.saturation);
  EXPECT_FLOAT_EQ(p->chain.saturation->drive_db, 4.0f);
  EXPECT_FLOAT_EQ(p->chain.saturation->mix, 0.5f);
  EXPECT_FLOAT_EQ(p->chain.saturation->bias, 0.0f);

  // Nothing given: nothing set, an empty chain.
  auto empty = load_preset_file(write("empty.toml", "# nothing\n"));
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_FALSE(empty->target_lufs);
  EXPECT_TRUE(empty->chain.empty());
}

TEST_F(PresetFileTest, ATyposWrongTypeOrBadValueIsAnErrorThatSaysWhere) {
  const auto says = [&](const std::string& text, const std::string& word) {
    const std::string e = error_of(text);
    if (e.empty()) return ::testing::AssertionFailure() << "loaded: " << text;
    if (e.find(word) == std::string::npos) return ::testing::AssertionFailure() << e;
    if (e.find("p.toml") == std::string::npos) return ::testing::AssertionFailure() << "no file named: " << e;
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(says("targt_lufs = -14\n", "no key 'targt_lufs'"));
  EXPECT_TRUE(says("[[eq]]\ntype = \"peak\"\nfreq = 100\ngian = 1\n", "[[eq]] 1: no key 'gian'"));
  EXPECT_TRUE(says("[multiband]\nthreshhold = -20\n", "[multiband]: no key 'threshhold'"));
  EXPECT_TRUE(says("target_lufs = \"loud\"\n", "target_lufs must be a number"));
  EXPECT_TRUE(says("limiter = 1\n", "limiter must be true or false"));
  EXPECT_TRUE(says("bits = 20\n", "bits must be 16, 24 or 32"));
  EXPECT_TRUE(says("rate = 44000\n", "rate must be 44100"));
  EXPECT_TRUE(says("target_lufs = 3\n", "between -70 and 0"));
  EXPECT_TRUE(says("delivery = \"loud\"\n", "no delivery preset 'loud'"));
  EXPECT_TRUE(says("[[eq]]\ntype = \"notch\"\nfreq = 100\ngain = 1\n", "low-shelf, peak or high-shelf"));
  EXPECT_TRUE(says("[[eq]]\ntype = \"peak\"\nfreq = 100\n", "type, freq and gain are needed"));
  EXPECT_TRUE(says("[[eq]]\ntype = \"peak\"\nfreq = 100000\ngain = 1\n", "frequency must be between"));
  EXPECT_TRUE(
      says("[multiband]\nsplits = [100, 1000]\n[[multiband.band]]\nratio = 2\n", "one table per band"));
  EXPECT_TRUE(says("[multiband]\nsplits = [1000, 100]\n", "octave"));
  EXPECT_TRUE(says("[multiband]\nsplits = [100]\n[[multiband.band]]\nratio = 50\n[[multiband.band]]\n",
                   "ratio must be between"));
  EXPECT_TRUE(says("width = 7\n", "width"));
  EXPECT_TRUE(says("[saturation]\nmix = 0.5\n", "drive (dB) is needed"));
  EXPECT_TRUE(says("[saturation]\ndrive = 40\n", "drive must be between"));
  EXPECT_TRUE(says("name = \"unterminated\n", "line 1"));
  auto missing = load_preset_file((fs::path(dir_) / "missing.toml").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("missing.toml"), std::string::npos) << missing.error();
}

TEST_F(PresetFileTest, EveryShippedPresetMastersToItsTarget) {
  // Noise over a bass line, 48 kHz stereo 24-bit, 6 s.
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<std::int32_t> samples;
  for (int i = 0; i < 6 * 48000; ++i) {
    for (int c = 0; c < 2; ++c) {
      const double v = noise(rng) + 0.2 * std::sin(2 * std::numbers::pi * 70.0 * i / 48000.0 + c);
      samples.push_back(static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256);
    }
  }
  const std::string in = (fs::path(dir_) / "in.wav").string();
  ASSERT_TRUE(test::write_wav(in, 48000, 2, SF_FORMAT_PCM_24, samples));
  int shipped = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(TL_SOURCE_DIR) / "mastering" / "presets")) {
    if (entry.path().extension() != ".toml") continue;
    ++shipped;
    SCOPED_TRACE(entry.path().filename().string());
    auto p = load_preset_file(entry.path().string());
    ASSERT_TRUE(p) << p.error();
    EXPECT_FALSE(p->name.empty()) << "a shipped preset has a name";
    EXPECT_FALSE(p->chain.empty()) << "and a chain";
    const Preset base = *find_preset(p->delivery.empty() ? "streaming" : p->delivery);
    MasterSettings s;
    s.target_lufs = p->target_lufs.value_or(base.target_lufs);
    s.ceiling_dbtp = p->ceiling_dbtp.value_or(base.ceiling_dbtp);
    s.chain = p->chain;
    const std::string out = (fs::path(dir_) / (entry.path().stem().string() + ".wav")).string();
    auto r = master_file(in, out, s);
    ASSERT_TRUE(r) << r.error();
    const test::Audio audio = test::read_audio(out);
    EXPECT_NEAR(test::integrated_lufs(audio), s.target_lufs, 0.5);
    EXPECT_LE(test::true_peak_dbtp(audio), s.ceiling_dbtp);
  }
  EXPECT_GE(shipped, 3);
}

}  // namespace
}  // namespace tl::mastering
