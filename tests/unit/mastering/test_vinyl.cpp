// The vinyl pre-master: its stages (high-pass, mono bass, de-esser) against theory, the
// cutting engineer's checks (out-of-phase low end, inter-sample peaks, side length), the
// preset file's keys, and the vinyl preset end to end: on target, under its ceiling, with
// no limiter (the master is the chain's output times one gain).
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "mastering_test_util.h"
#include "process.h"
#include "tl/mastering/audio_file.h"
#include "tl/mastering/chain.h"
#include "tl/mastering/master.h"
#include "tl/mastering/preset_file.h"
#include "tl/mastering/vinyl.h"
#include "wav.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;
using test::kRate;
using test::run_chain;
using test::stereo;
constexpr double kPi = std::numbers::pi;

using Signal = std::function<double(double, int)>;

// RMS in dB over the second half (filters settled) of the mid (which = 0), the side (1),
// or channel `which - 2`.
double level_db(const std::vector<float>& audio, int which) {
  const std::size_t frames = audio.size() / 2;
  double sum = 0.0;
  for (std::size_t i = frames / 2; i < frames; ++i) {
    const double l = audio[2 * i], r = audio[2 * i + 1];
    const double v = which == 0 ? 0.5 * (l + r) : which == 1 ? 0.5 * (l - r) : which == 2 ? l : r;
    sum += v * v;
  }
  return 10.0 * std::log10(sum / static_cast<double>(frames - frames / 2) + 1e-30);
}
constexpr int kMid = 0, kSide = 1, kLeft = 2;

// What a stage does to a stereo signal: the level change (dB) of `which`.
double change_db(const ChainSettings& s, double seconds, const Signal& f, int which) {
  EXPECT_TRUE(check(s, kRate));
  Chain chain;
  chain.prepare(kRate, 2, 1024, s);
  auto audio = stereo(seconds, f);
  const double before = level_db(audio, which);
  run_chain(chain, audio);
  return level_db(audio, which) - before;
}

Signal sine(double hz, double amp, bool antiphase = false) {
  return [=](double t, int c) { return (antiphase && c == 1 ? -amp : amp) * std::sin(2 * kPi * hz * t); };
}

TEST(VinylStages, TheHighPassTakesRumbleOutAndLeavesTheBass) {
  ChainSettings s;
  s.highpass_hz = 25.0;
  const double at15 = change_db(s, 8.0, sine(15.0, 0.5), kLeft);
  const double at40 = change_db(s, 4.0, sine(40.0, 0.5), kLeft);
  const double at25 = change_db(s, 8.0, sine(25.0, 0.5), kLeft);
  std::printf("high-pass 25 Hz: 15 Hz %.2f dB, 25 Hz %.2f dB, 40 Hz %.2f dB\n", at15, at25, at40);
  EXPECT_LE(at15, -12.0);
  EXPECT_NEAR(at25, -3.01, 0.1) << "a Butterworth is -3 dB at its frequency";
  EXPECT_NEAR(at40, 0.0, 1.0);
  EXPECT_NE(s.describe().find("high-pass 25 Hz"), std::string::npos) << s.describe();
}

TEST(VinylStages, MonoBassRemovesTheLowSideAndLeavesTheRest) {
  ChainSettings s;
  s.mono_bass_hz = 150.0;
  // Side alone (L = -R) at 50 Hz and 1 kHz; a mid (L = R) at 50 Hz and 1 kHz.
  const double side50 = change_db(s, 2.0, sine(50.0, 0.5, true), kSide);
  const double side1k = change_db(s, 2.0, sine(1000.0, 0.5, true), kSide);
  const double mid50 = change_db(s, 2.0, sine(50.0, 0.5), kMid);
  const double mid1k = change_db(s, 2.0, sine(1000.0, 0.5), kMid);
  std::printf("mono bass 150 Hz: side 50 Hz %.2f dB, side 1 kHz %.4f dB, mid 50 Hz %.4f, 1 kHz %.4f dB\n",
              side50, side1k, mid50, mid1k);
  EXPECT_LE(side50, -30.0);
  EXPECT_NEAR(side1k, 0.0, 0.1);
  EXPECT_NEAR(mid50, 0.0, 0.1);
  EXPECT_NEAR(mid1k, 0.0, 0.1);
  // A mid 1 kHz tone with a side 1 kHz tone: the image above the split is where it was
  // (the mid goes through the same allpass as the side): L stays within 0.1 dB.
  const double left = change_db(
      s, 2.0,
      [](double t, int c) {
        return 0.3 * std::sin(2 * kPi * 1000.0 * t) +
               (c == 0 ? 0.2 : -0.2) * std::sin(2 * kPi * 1000.0 * t + 1.0);
      },
      kLeft);
  EXPECT_NEAR(left, 0.0, 0.1);
}

TEST(VinylStages, TheDeEsserCutsLoudSibilanceAndNotTheRest) {
  auto d = parse_deess("-30:4:12");
  ASSERT_TRUE(d) << d.error();
  ChainSettings s;
  s.deess = *d;
  EXPECT_NE(s.describe().find("de-esser -30.0 dBFS 4.0:1 up to 12.0 dB at 5.0-10.0 kHz"), std::string::npos)
      << s.describe();
  const double burst = change_db(s, 1.0, sine(7000.0, 0.5), kLeft);
  const double tone = change_db(s, 1.0, sine(1000.0, 0.5), kLeft);
  std::printf("de-esser -30 dBFS: 7 kHz at -6 dBFS %.2f dB, 1 kHz at -6 dBFS %.4f dB\n", burst, tone);
  EXPECT_LT(burst, -6.0);
  EXPECT_NEAR(tone, 0.0, 0.1);
}

TEST(VinylStages, BadValuesAreRefusedWithTheReason) {
  const auto refused = [](const auto& r, const std::string& word) {
    if (r) return ::testing::AssertionFailure() << "accepted";
    if (r.error().find(word) == std::string::npos) return ::testing::AssertionFailure() << r.error();
    return ::testing::AssertionSuccess();
  };
  ChainSettings s;
  s.highpass_hz = 5.0;
  EXPECT_TRUE(refused(check(s, kRate), "high-pass must be between 10 and 200 Hz"));
  s = {};
  s.mono_bass_hz = 1000.0;
  EXPECT_TRUE(refused(check(s, kRate), "mono bass"));
  EXPECT_TRUE(refused(parse_deess("loud"), "not a threshold"));
  EXPECT_TRUE(refused(parse_deess("-20:x"), "not a ratio"));
  s = {};
  s.deess = *parse_deess("-70");
  EXPECT_TRUE(refused(check(s, kRate), "threshold must be between -60 and 0"));
  s.deess = *parse_deess("-20:4:30");
  EXPECT_TRUE(refused(check(s, kRate), "range"));
  s.deess = *parse_deess("-20");
  EXPECT_TRUE(refused(check(s, 16000.0), "band"));
}

class VinylTest : public ::testing::Test {
 protected:
  std::string dir_ = test::make_work_dir(std::string("vinyl_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  std::string write(const std::string& name, double seconds, const Signal& f) const {
    const std::string p = path(name);
    const auto frames = static_cast<std::size_t>(seconds * kRate);
    std::vector<std::int32_t> samples(frames * 2);
    for (std::size_t i = 0; i < frames; ++i) {
      for (int c = 0; c < 2; ++c) {
        const double v = std::clamp(f(static_cast<double>(i) / kRate, c), -1.0, 1.0);
        samples[i * 2 + c] = static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256;
      }
    }
    EXPECT_TRUE(test::write_wav(p, static_cast<int>(kRate), 2, SF_FORMAT_PCM_24, samples)) << p;
    return p;
  }
  std::vector<VinylWarning> warnings(const std::string& file, const VinylChecks& c = {}) const {
    const std::vector<std::string> side{file};
    auto w = check_for_vinyl(side, c, -3.0);
    EXPECT_TRUE(w) << w.error();
    return w ? *w : std::vector<VinylWarning>{};
  }
};

std::size_t count(const std::vector<VinylWarning>& w, const std::string& kind) {
  return static_cast<std::size_t>(
      std::count_if(w.begin(), w.end(), [&](const auto& x) { return x.kind == kind; }));
}

TEST_F(VinylTest, AntiphaseLowEndWarnsWithWhereAndInPhaseDoesNot) {
  const auto in_phase = warnings(write("in.wav", 6.0, sine(60.0, 0.5)));
  EXPECT_TRUE(in_phase.empty()) << in_phase.front().message;
  const auto anti = warnings(write("anti.wav", 6.0, sine(60.0, 0.5, true)));
  ASSERT_EQ(count(anti, "out-of-phase-low-end"), 1u);
  EXPECT_NEAR(anti[0].from_s, 0.0, 1e-9);
  EXPECT_NEAR(anti[0].to_s, 6.0, 1e-9);
  EXPECT_NE(anti[0].message.find("correlation down to -1.00"), std::string::npos) << anti[0].message;
  // In phase, then two seconds out of phase, then in phase again: the warning says when.
  const auto middle = warnings(write("middle.wav", 6.0, [](double t, int c) {
    const double s = 0.5 * std::sin(2 * kPi * 60.0 * t);
    return c == 1 && t >= 2.0 && t < 4.0 ? -s : s;
  }));
  ASSERT_EQ(middle.size(), 1u);
  EXPECT_NEAR(middle[0].from_s, 2.0, 1e-9);
  EXPECT_NEAR(middle[0].to_s, 4.0, 1e-9);
  EXPECT_NE(middle[0].message.find("at 0:02.0-0:04.0"), std::string::npos) << middle[0].message;
  // Antiphase above the low end (2 kHz) is the stereo image, not a cutting problem.
  EXPECT_EQ(count(warnings(write("wide.wav", 3.0, sine(2000.0, 0.5, true))), "out-of-phase-low-end"), 0u);
}

TEST_F(VinylTest, InterSamplePeaksNearTheCeilingWarn) {
  // 12 kHz at 48 kHz, 45 degrees off the sample grid: the samples read 3 dB under the
  // waveform's peak. At -4 dBTP (within 6 dB of -3) it warns; at -20 dBTP it does not.
  const auto quarter = [](double amp) {
    return [amp](double t, int) { return amp * std::sin(2 * kPi * 12000.0 * t + kPi / 4); };
  };
  const auto loud = warnings(write("loud.wav", 2.0, quarter(std::pow(10.0, -4.0 / 20.0))));
  ASSERT_EQ(count(loud, "inter-sample-peaks"), 1u);
  EXPECT_NE(loud[0].message.find("is 3."), std::string::npos) << loud[0].message;
  EXPECT_NE(loud[0].message.find("(-7.01 dBFS)"), std::string::npos) << loud[0].message;
  EXPECT_TRUE(warnings(write("quiet.wav", 2.0, quarter(0.1))).empty());
  // Over the ceiling warns even without a gap to the samples: a 1 kHz tone at -1 dBFS.
  const auto over = warnings(write("over.wav", 1.0, sine(1000.0, std::pow(10.0, -1.0 / 20.0))));
  ASSERT_EQ(count(over, "inter-sample-peaks"), 1u);
  EXPECT_NE(over[0].message.find("over the -3.0 dBTP ceiling"), std::string::npos) << over[0].message;
}

TEST_F(VinylTest, ALongSideWarnsWithItsLength) {
  const std::string f = write("side.wav", 6.0, sine(200.0, 0.1));
  EXPECT_TRUE(warnings(f).empty()) << "six seconds is no side to worry about";
  VinylChecks short_side;
  short_side.side_minutes = 0.05;  // 3 s
  const auto w = warnings(f, short_side);
  ASSERT_EQ(count(w, "side-length"), 1u);
  EXPECT_NE(w[0].message.find("0:06.0 long, over 0:03.0"), std::string::npos) << w[0].message;
  // Two files are one side: their lengths add.
  const std::vector<std::string> side{f, write("side2.wav", 6.0, sine(200.0, 0.1))};
  short_side.side_minutes = 0.15;  // 9 s
  auto both = check_for_vinyl(side, short_side, -3.0);
  ASSERT_TRUE(both) << both.error();
  ASSERT_EQ(count(*both, "side-length"), 1u);
  EXPECT_NE(both->front().message.find("0:12.0 long"), std::string::npos) << both->front().message;
}

// What tl-master sets for --preset vinyl.
MasterSettings vinyl_settings() {
  const auto p = find_preset("vinyl");
  EXPECT_TRUE(p);
  MasterSettings s{.target_lufs = p->target_lufs,
                   .ceiling_dbtp = p->ceiling_dbtp,
                   .limiter = p->limiter,
                   .bits = p->bits,
                   .rate = p->rate,
                   .chain = chain_of(*p)};
  if (p->vinyl_checks) s.vinyl = VinylChecks{};
  return s;
}

// Music-like material: a bass line, a chord, noise, and sibilant bursts of 6-9 kHz noise.
Signal music() {
  auto rng = std::make_shared<std::mt19937>(7);
  auto gauss = std::make_shared<std::normal_distribution<double>>(0.0, 1.0);
  return [rng, gauss](double t, int c) {
    const double bass = 0.25 * std::sin(2 * kPi * (t < 3.0 ? 55.0 : 73.4) * t + 0.2 * c);
    const double chord = 0.08 * (std::sin(2 * kPi * 220.0 * t) + std::sin(2 * kPi * 277.2 * t + c) +
                                 std::sin(2 * kPi * 329.6 * t));
    const double noise = 0.03 * (*gauss)(*rng);
    const double ess =
        std::fmod(t, 1.0) < 0.15 ? 0.15 * (*gauss)(*rng) * std::sin(2 * kPi * 7500.0 * t) : 0.0;
    return bass + chord + noise + ess;
  };
}

TEST_F(VinylTest, TheVinylPresetMastersOnTargetUnderItsCeilingWithNoLimiter) {
  const auto p = find_preset("vinyl");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->limiter);
  EXPECT_EQ(p->target_lufs, -18.0);
  EXPECT_EQ(p->ceiling_dbtp, -3.0);
  const std::string in = write("music.wav", 8.0, music());
  const MasterSettings s = vinyl_settings();
  auto r = master_file(in, path("vinyl.wav"), s);
  ASSERT_TRUE(r) << r.error();
  const test::Audio audio = test::read_audio(path("vinyl.wav"));
  const double lufs = test::integrated_lufs(audio), tp = test::true_peak_dbtp(audio);
  auto own = measure_file(path("vinyl.wav"));
  ASSERT_TRUE(own) << own.error();
  std::printf(
      "vinyl: %.2f LUFS (libebur128 %.2f), %.2f dBTP (libebur128 %.2f), gain %+.2f dB, %d render(s)\n",
      own->integrated_lufs, lufs, own->true_peak_dbtp, tp, r->gain_db, r->passes);
  EXPECT_NEAR(own->integrated_lufs, -18.0, 0.5);
  EXPECT_NEAR(lufs, -18.0, 0.5);
  EXPECT_LE(own->true_peak_dbtp, -3.0);
  EXPECT_LE(tp, -3.0);
  EXPECT_EQ(r->bits, 24);
  EXPECT_NE(r->chain.find("high-pass 25 Hz"), std::string::npos) << r->chain;
  EXPECT_NE(r->chain.find("mono bass under 150 Hz"), std::string::npos) << r->chain;
  EXPECT_NE(r->chain.find("de-esser"), std::string::npos) << r->chain;

  // No limiter: the master is the chain's output times one gain, sample for sample
  // (within the 24-bit rounding).
  auto reader = AudioReader::open(in);
  ASSERT_TRUE(reader) << reader.error();
  std::vector<float> shaped(static_cast<std::size_t>((*reader)->info().frames) * 2);
  ASSERT_EQ((*reader)->read(shaped), shaped.size() / 2);
  Chain chain;
  chain.prepare(kRate, 2, 1024, s.chain);
  run_chain(chain, shaped);
  const double g = std::pow(10.0, r->gain_db / 20.0);
  double worst = 0.0;
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    const double written = audio.samples[i] / 2147483648.0;
    worst = std::max(worst, std::fabs(written - g * shaped[i]));
  }
  EXPECT_LT(worst, 2.0 / 8388608.0) << "more than rounding: something but the gain changed the signal";

  // The checks are warnings: a master with them and one without are the same file.
  MasterSettings quiet = s;
  quiet.vinyl.reset();
  auto r2 = master_file(in, path("unchecked.wav"), quiet);
  ASSERT_TRUE(r2) << r2.error();
  EXPECT_EQ(test::read_audio(path("unchecked.wav")).samples, audio.samples);
}

TEST_F(VinylTest, AGainOverTheCeilingIsRefusedNamingTheFix) {
  // Bursts with long pauses: -18 LUFS would put the peaks far over -3 dBTP.
  const std::string in = write("bursts.wav", 6.0, [](double t, int) {
    return std::fmod(t, 2.0) < 0.005 ? 0.5 * std::sin(2 * kPi * 1000.0 * t) : 0.0;
  });
  auto r = master_file(in, path("out.wav"), vinyl_settings());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("the limiter is off"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("--target"), std::string::npos) << r.error();
  EXPECT_FALSE(fs::exists(path("out.wav")));
}

TEST_F(VinylTest, AnAlbumIsOneSideAndEachTrackKeepsItsOwnWarnings) {
  // Two tracks, the second with antiphase bass above the mono-bass split (200 Hz), 12 s in
  // all against a 9 s side: the side's length is one warning, the phase is the second's.
  const std::string a = write("a.wav", 6.0, music());
  const std::string b = write("b.wav", 6.0, [](double t, int c) {
    return (c == 1 ? -0.3 : 0.3) * std::sin(2 * kPi * 200.0 * t) + 0.1 * std::sin(2 * kPi * 1000.0 * t);
  });
  MasterSettings s = vinyl_settings();
  s.vinyl->side_minutes = 0.15;
  auto r = master_album({a, b}, {path("a-m.wav"), path("b-m.wav")}, s);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(count(r->warnings, "side-length"), 1u);
  EXPECT_EQ(count(r->warnings, "out-of-phase-low-end"), 1u);
  for (const auto& w : r->warnings) std::printf("album: %s\n", w.message.c_str());
  EXPECT_EQ(count(r->tracks[1].warnings, "out-of-phase-low-end"), 1u);
  EXPECT_EQ(r->tracks[1].warnings.front().file, path("b-m.wav"));
  EXPECT_EQ(count(r->tracks[0].warnings, "out-of-phase-low-end"), 0u);
  const auto side = std::find_if(r->warnings.begin(), r->warnings.end(),
                                 [](const auto& w) { return w.kind == "side-length"; });
  EXPECT_NE(side->message.find("0:12.0 long"), std::string::npos) << side->message;
}

TEST_F(VinylTest, APresetFileBuildsOnVinylAndSetsItsStages) {
  const std::string file = path("cut.toml");
  std::ofstream(file) << "delivery = \"vinyl\"\nmono_bass = 120.0\nside_minutes = 18.0\n"
                         "[deess]\nthreshold = -26.0\nrange = 4.0\n";
  auto p = load_preset_file(file);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->chain.highpass_hz, 25.0) << "from the vinyl preset";
  EXPECT_EQ(p->chain.mono_bass_hz, 120.0) << "the file's";
  ASSERT_TRUE(p->chain.deess);
  EXPECT_EQ(p->chain.deess->threshold_db, -26.0f);
  EXPECT_EQ(p->chain.deess->range_db, 4.0f);
  EXPECT_EQ(p->chain.deess->ratio, 4.0f);
  EXPECT_EQ(p->side_minutes, 18.0);
  const std::string plain = path("plain.toml");
  std::ofstream(plain) << "highpass = 30\n";
  auto q = load_preset_file(plain);
  ASSERT_TRUE(q) << q.error();
  EXPECT_EQ(q->chain.highpass_hz, 30.0);
  EXPECT_EQ(q->chain.mono_bass_hz, 0.0) << "streaming brings no stages";
  EXPECT_FALSE(q->chain.deess);
  const std::string off = path("off.toml");
  std::ofstream(off) << "delivery = \"vinyl\"\ndeess = false\nhighpass = 0\n";
  auto o = load_preset_file(off);
  ASSERT_TRUE(o) << o.error();
  EXPECT_FALSE(o->chain.deess) << "vinyl's de-esser turned off";
  EXPECT_EQ(o->chain.highpass_hz, 0.0);
  EXPECT_EQ(o->chain.mono_bass_hz, 150.0);
  const std::string typo = path("typo.toml");
  std::ofstream(typo) << "delivery = \"vinyl\"\n[deess]\nthreshold = -20\nratoi = 3\n";
  auto t = load_preset_file(typo);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("[deess]: no key 'ratoi'"), std::string::npos) << t.error();
  const std::string low = path("low.toml");
  std::ofstream(low) << "highpass = 2\n";
  auto l = load_preset_file(low);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().find("high-pass"), std::string::npos) << l.error();
}

}  // namespace
}  // namespace tl::mastering
