// Reference matching: the spectrum it compares by, the match it plans, and masters that
// come out sounding like their reference (loudness by libebur128, the tone by third
// octaves, the width by side against mid).
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "process.h"
#include "tl/dsp/biquad.h"
#include "tl/mastering/audio_file.h"
#include "tl/mastering/reference_match.h"
#include "tl/mastering/spectrum.h"
#include "tl/mastering/spectrum_plot.h"
#include "wav.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

constexpr double kRate = 48000.0;

std::size_t band_at(double hz) {
  std::size_t best = 0;
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    if (std::fabs(std::log2(band_centre_hz(b) / hz)) < std::fabs(std::log2(band_centre_hz(best) / hz)))
      best = b;
  }
  return best;
}

// Noise coloured by its own filters: the mid through `mid`, an independent side at
// side_db through `side` (an empty side: a mono file).
struct Colour {
  std::vector<dsp::BiquadCoeffs> mid, side;
  double level = 0.1, side_db = -10.0;
  int channels = 2;
  double clip = 1.0;    // samples held within +-clip (a dense, limited recording)
  double clicks = 0.0;  // a click of this size every half second (a peaky one)
};

std::string write_noise(const std::string& path, const Colour& c, double seconds, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::vector<dsp::Biquad> mid(c.mid.begin(), c.mid.end()), side(c.side.begin(), c.side.end());
  const auto frames = static_cast<std::size_t>(seconds * kRate);
  std::vector<float> out(frames * static_cast<std::size_t>(c.channels));
  const double side_gain = std::pow(10.0, c.side_db / 20.0);
  for (std::size_t i = 0; i < frames; ++i) {
    double m = gauss(rng), s = gauss(rng);
    for (auto& f : mid) m = f.process(m);
    for (auto& f : side) s = f.process(s);
    m *= c.level;
    s *= c.level * side_gain;
    if (c.clicks > 0.0 && i % static_cast<std::size_t>(kRate / 2) == 0) m += c.clicks;
    if (c.channels == 1) {
      out[i] = static_cast<float>(std::clamp(m, -c.clip, c.clip));
    } else {
      out[2 * i] = static_cast<float>(std::clamp(m + s, -c.clip, c.clip));
      out[2 * i + 1] = static_cast<float>(std::clamp(m - s, -c.clip, c.clip));
    }
  }
  auto w = AudioWriter::create(path, static_cast<std::uint32_t>(kRate),
                               static_cast<std::uint32_t>(c.channels), SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  EXPECT_TRUE(w) << path;
  EXPECT_TRUE((*w)->write(out));
  EXPECT_TRUE((*w)->close());
  return path;
}

// The input: dark and narrow. The reference: bright, scooped low, a bump at 800 Hz, wider
// and louder. Their tone shapes differ by up to about 9 dB (within the +-12 dB limit).
Colour input_colour() {
  return {.mid = {dsp::BiquadCoeffs::low_shelf(kRate, 200.0, 6.0),
                  dsp::BiquadCoeffs::peaking(kRate, 3000.0, 1.0, -5.0)},
          .side = {dsp::BiquadCoeffs::high_shelf(kRate, 5000.0, -4.0)},
          .level = 0.05,
          .side_db = -10.0};
}

Colour reference_colour() {
  return {.mid = {dsp::BiquadCoeffs::high_shelf(kRate, 6000.0, 5.0),
                  dsp::BiquadCoeffs::peaking(kRate, 800.0, 0.8, 4.0),
                  dsp::BiquadCoeffs::low_shelf(kRate, 100.0, -3.0)},
          .side = {dsp::BiquadCoeffs::peaking(kRate, 2000.0, 1.0, 3.0)},
          .level = 0.03,
          .side_db = -5.0};
}

class MatchTest : public ::testing::Test {
 protected:
  std::string dir_ = test::make_work_dir(std::string("match_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // Masters input to output matched to reference by amounts; the plan and the master's
  // spectrum judged against it.
  struct Matched {
    MatchPlan plan;
    MatchResult result;
    MasterReport report;
  };
  Matched master_matched(const std::string& input, const std::string& reference, const std::string& output,
                         const MatchAmounts& amounts) {
    auto in = measure_recording(input);
    auto ref = measure_recording(reference);
    EXPECT_TRUE(in && ref);
    MasterSettings settings;
    auto plan = plan_match(*in, {*ref}, amounts, settings);
    EXPECT_TRUE(plan) << plan.error();
    apply(*plan, settings);
    auto report = master_file(input, output, settings);
    EXPECT_TRUE(report) << report.error();
    auto spectrum = spectrum_of_file(output);
    EXPECT_TRUE(spectrum);
    return {*plan, judge(*plan, *spectrum), *report};
  }
};

TEST(Spectrum, ASineReadsItsLevelInItsBandAndLittleElsewhere) {
  SpectrumAnalyzer a;
  a.prepare(kRate, 2);
  std::vector<float> block(2 * 4800);
  std::int64_t n = 0;
  for (int k = 0; k < 20; ++k) {
    for (std::size_t i = 0; i < 4800; ++i, ++n) {
      const auto v =
          static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 1000.0 * static_cast<double>(n) / kRate));
      block[2 * i] = v;
      block[2 * i + 1] = v;  // in phase: all mid, no side
    }
    a.add(block, 4800);
  }
  const Spectrum s = a.result();
  const std::size_t b = band_at(1000.0);
  EXPECT_NEAR(s.mid_db[b], 20.0 * std::log10(0.5), 0.05);  // -6.02 dB
  EXPECT_LT(s.mid_db[b - 2], s.mid_db[b] - 60.0);
  EXPECT_LT(s.mid_db[b + 2], s.mid_db[b] - 60.0);
  EXPECT_LT(s.side_to_mid_db(), -100.0);
}

TEST(Spectrum, WhiteNoiseRisesAThirdOfThreeDecibelsABand) {
  // Third octaves widen by 2^(1/3): white noise gains 1 dB a band; its tone shape, with
  // the mean taken out, is that line through zero.
  std::mt19937 rng(5);
  std::normal_distribution<float> gauss(0.0f, 0.1f);
  SpectrumAnalyzer a;
  a.prepare(kRate, 1);
  std::vector<float> block(48000);
  for (int k = 0; k < 40; ++k) {
    for (float& v : block) v = gauss(rng);
    a.add(block, block.size());
  }
  const Spectrum s = a.result();
  // (Below 200 Hz a band holds a few bins: 40 s of noise still scatter it by tenths of a dB.)
  double worst = 0.0;
  for (std::size_t b = band_at(200.0); b + 1 <= band_at(12500.0); ++b) {
    EXPECT_NEAR(s.mid_db[b + 1] - s.mid_db[b], 1.0, 0.3) << band_centre_hz(b) << " Hz";
    worst = std::max(worst, std::fabs(s.mid_db[b + 1] - s.mid_db[b] - 1.0));
  }
  std::printf("[ figure ] white noise, 40 s: band steps within %.2f dB of 1 dB from 200 Hz to 12.5 kHz\n",
              worst);
  EXPECT_LT(s.side_to_mid_db(), -100.0);  // mono: no side
}

TEST(Match, AspectsAndAmountsAreReadAndBadOnesNamed) {
  auto all = parse_match("level,tone:50,width:0,limiter:100");
  ASSERT_TRUE(all) << all.error();
  EXPECT_EQ(all->level, 1.0);
  EXPECT_EQ(all->tone, 0.5);
  EXPECT_EQ(all->width, 0.0);
  auto tone = parse_match("tone");
  ASSERT_TRUE(tone);
  EXPECT_EQ(tone->tone, 1.0);
  EXPECT_EQ(tone->level + tone->width + tone->limiter, 0.0);  // the others are left
  for (const char* bad : {"", "loudness", "tone:150", "tone:-1", "tone:x", "tone:"}) {
    auto r = parse_match(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().find("--match"), std::string::npos) << r.error();
  }
}

TEST_F(MatchTest, AMatchedMasterHasItsReferencesToneLoudnessAndWidth) {
  const std::string in = write_noise(path("in.wav"), input_colour(), 20.0, 1);
  const std::string ref = write_noise(path("ref.wav"), reference_colour(), 20.0, 2);
  const Matched m = master_matched(in, ref, path("out.wav"), MatchAmounts{});
  // Before: the shapes differ by several dB.
  double before = 0.0;
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    if (in_judged_range(b)) {
      before = std::max(before, std::fabs(m.plan.input_mid[b] - m.plan.reference_mid[b]));
    }
  }
  EXPECT_GT(before, 5.0);
  // After: within 1.5 dB in every band from 63 Hz to 12.5 kHz, mid and side.
  std::printf("[ figure ] tone: worst band %.2f dB before; after %.2f dB (mid), %.2f dB (side)\n", before,
              m.result.worst_mid_db, m.result.worst_side_db);
  EXPECT_LE(m.result.worst_mid_db, 1.5);
  EXPECT_LE(m.result.worst_side_db, 1.5);
  // Loudness on the reference's within 0.5 LU, as libebur128 reads both files.
  const double ref_lufs = test::integrated_lufs(test::read_audio(ref));
  const double out_lufs = test::integrated_lufs(test::read_audio(path("out.wav")));
  std::printf(
      "[ figure ] loudness: reference %.2f LUFS, master %.2f LUFS; width: reference %.2f dB, master %.2f "
      "dB\n",
      ref_lufs, out_lufs, m.plan.reference_side_to_mid_db, m.result.output_side_to_mid_db);
  EXPECT_NEAR(out_lufs, ref_lufs, 0.5);
  // Width: the side against the mid within 0.5 dB of the reference's (it was 3.5 dB under).
  EXPECT_LT(m.plan.input_side_to_mid_db, m.plan.reference_side_to_mid_db - 3.0);
  EXPECT_NEAR(m.result.output_side_to_mid_db, m.plan.reference_side_to_mid_db, 0.5);
  EXPECT_GT(m.plan.width, 1.3);
  // The limiter: never over the delivery's ceiling, nor the one matched.
  EXPECT_LE(m.plan.ceiling_dbtp, MasterSettings{}.ceiling_dbtp);
  EXPECT_LE(test::true_peak_dbtp(test::read_audio(path("out.wav"))), m.plan.ceiling_dbtp);
  // And the picture of it.
  const std::string png = path("match.png");
  ASSERT_TRUE(plot_spectra(png, {.title = "match", .plan = &m.plan, .result = &m.result}));
  EXPECT_GT(fs::file_size(png), 10000u);
}

TEST_F(MatchTest, EachAspectCanBeMatchedAloneAndTheOthersAreLeft) {
  const std::string in = write_noise(path("in.wav"), input_colour(), 12.0, 3);
  const std::string ref = write_noise(path("ref.wav"), reference_colour(), 12.0, 4);
  // Tone alone: the tone matched; the width and the target the master's own.
  const Matched tone = master_matched(in, ref, path("tone.wav"), MatchAmounts{0.0, 1.0, 0.0, 0.0});
  EXPECT_LE(tone.result.worst_mid_db, 1.5);
  EXPECT_NEAR(tone.result.output_side_to_mid_db, tone.plan.input_side_to_mid_db, 0.5);
  EXPECT_NEAR(test::integrated_lufs(test::read_audio(path("tone.wav"))), MasterSettings{}.target_lufs, 0.5);
  EXPECT_EQ(tone.plan.ceiling_dbtp, MasterSettings{}.ceiling_dbtp);
  // Width alone at half: no curve, the side halfway (in dB) to the reference's.
  const Matched width = master_matched(in, ref, path("width.wav"), MatchAmounts{0.0, 0.0, 0.5, 0.0});
  EXPECT_TRUE(width.plan.curve.freq_hz.empty());
  EXPECT_NEAR(width.result.output_side_to_mid_db,
              0.5 * (width.plan.input_side_to_mid_db + width.plan.reference_side_to_mid_db), 0.5);
  // Level alone: on the reference's loudness, the tone left as it was.
  const Matched level = master_matched(in, ref, path("level.wav"), MatchAmounts{1.0, 0.0, 0.0, 0.0});
  EXPECT_NEAR(test::integrated_lufs(test::read_audio(path("level.wav"))),
              test::integrated_lufs(test::read_audio(ref)), 0.5);
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    if (in_judged_range(b)) {
      EXPECT_NEAR(level.result.output_mid[b], level.plan.input_mid[b], 0.5) << b;
    }
  }
}

TEST_F(MatchTest, TheLimiterAspectMakesTheMasterAsDenseAsTheReference) {
  // A dense reference: noise clipped hard (PLR a few dB); a peaky input (clicks over
  // quiet noise: PLR over 20 dB).
  Colour dense = reference_colour();
  dense.level = 0.2;
  dense.clip = 0.8;
  Colour peaky = input_colour();
  peaky.clicks = 0.9;
  const std::string ref = write_noise(path("ref.wav"), dense, 10.0, 6);
  const std::string in = write_noise(path("in.wav"), peaky, 10.0, 7);
  const Matched m = master_matched(in, ref, path("out.wav"), MatchAmounts{0.0, 0.0, 0.0, 1.0});
  const test::Audio out = test::read_audio(path("out.wav"));
  const double plr = test::true_peak_dbtp(out) - test::integrated_lufs(out);
  std::printf(
      "[ figure ] density: reference PLR %.1f dB, input %.1f dB, master %.1f dB (ceiling %.1f dBTP)\n",
      m.plan.reference_plr_db, m.report.before.plr(), plr, m.plan.ceiling_dbtp);
  EXPECT_LT(m.plan.ceiling_dbtp, MasterSettings{}.ceiling_dbtp - 1.0);
  EXPECT_GT(m.report.before.plr(), m.plan.reference_plr_db + 10.0);
  EXPECT_LE(plr, m.plan.reference_plr_db + 0.5);
  EXPECT_LE(test::true_peak_dbtp(out), m.plan.ceiling_dbtp);
}

TEST_F(MatchTest, AMonoInputHasItsToneMatchedAndNothingToWiden) {
  Colour mono = input_colour();
  mono.channels = 1;
  const std::string in = write_noise(path("in.wav"), mono, 12.0, 8);
  const std::string ref = write_noise(path("ref.wav"), reference_colour(), 12.0, 9);
  const Matched m = master_matched(in, ref, path("out.wav"), MatchAmounts{});
  EXPECT_FALSE(m.plan.stereo);
  EXPECT_EQ(m.plan.width, 1.0);
  EXPECT_LE(m.result.worst_mid_db, 1.5);
  EXPECT_NE(describe(m.plan).find("mono"), std::string::npos);
}

}  // namespace
}  // namespace tl::mastering
