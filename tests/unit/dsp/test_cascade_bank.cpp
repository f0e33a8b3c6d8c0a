#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "dsp_test_util.h"
#include "tl/dsp/cascade_bank.h"
#include "tl/dsp/strip.h"

namespace tl::dsp {
namespace {

using test::kFs;
constexpr std::size_t kBlock = 48;

std::vector<float> noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(-0.5, 0.5);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(d(rng));
  return v;
}

//! Row r's r-th design: HPFs near z = 1, shelves and peaks all over the band.
BiquadCoeffs design(std::size_t r, std::size_t j) {
  const double f = 20.0 * std::pow(1.9, static_cast<double>((r * 3 + j * 5) % 13));
  switch ((r + j) % 4) {
    case 0:
      return BiquadCoeffs::highpass(kFs, f, 0.7071);
    case 1:
      return BiquadCoeffs::low_shelf(kFs, f, 4.0);
    case 2:
      return BiquadCoeffs::peaking(kFs, f, 1.5, -6.0);
    default:
      return BiquadCoeffs::high_shelf(kFs, f, 3.0);
  }
}

//! Runs rows with these section counts through run_cascades and each row's sections alone,
//! over 60 blocks (so the states carry on block to block); returns the worst difference.
double compare_with_rows_alone(const std::vector<std::size_t>& counts) {
  const std::size_t rows = counts.size(), frames = 60 * kBlock;
  std::vector<std::vector<Biquad>> lanes(rows), alone(rows);
  std::vector<std::vector<Biquad*>> pointers(rows);
  std::vector<std::vector<float>> data(rows), expected(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < counts[r]; ++j) {
      lanes[r].emplace_back(design(r, j));
      alone[r].emplace_back(design(r, j));
    }
    for (auto& b : lanes[r]) pointers[r].push_back(&b);
    data[r] = noise(frames, static_cast<unsigned>(r + 1));
    expected[r] = data[r];
  }
  const std::vector<std::vector<float>> before = data;
  std::vector<CascadeRow> bank(rows);
  for (std::size_t at = 0; at < frames; at += kBlock) {
    for (std::size_t r = 0; r < rows; ++r) {
      bank[r] = {.data = data[r].data() + at, .sections = pointers[r].data(), .count = counts[r]};
      for (auto& b : alone[r]) b.process(std::span<float>(expected[r].data() + at, kBlock));
    }
    run_cascades(bank, kBlock);
  }
  double worst = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t i = 0; i < frames; ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(data[r][i]) - expected[r][i]));
      EXPECT_NEAR(data[r][i], expected[r][i], 2e-6) << "row " << r << " frame " << i;
      if (std::abs(data[r][i] - expected[r][i]) > 2e-6) return worst;
    }
    if (counts[r] == 0) {
      EXPECT_EQ(data[r], before[r]) << "a row with no sections is not touched";
    }
    // The states carried on: both ways end where the other does.
    for (std::size_t j = 0; j < counts[r]; ++j) {
      double a1 = 0, a2 = 0, b1 = 0, b2 = 0;
      lanes[r][j].get_state(a1, a2);
      alone[r][j].get_state(b1, b2);
      EXPECT_NEAR(a1, b1, 1e-6);
      EXPECT_NEAR(a2, b2, 1e-6);
    }
  }
  return worst;
}

TEST(CascadeBank, EveryRowComesOutAsItsSectionsRunAlone) {
  // 0..8 sections per row; rows with none take no lane. Three full groups of four; two and
  // a group with a lane to spare; two groups and a row alone.
  const double worst = std::max({compare_with_rows_alone({5, 1, 8, 0, 3, 5, 2, 7, 4, 6, 5, 1, 8}),
                                 compare_with_rows_alone({2, 8, 0, 4, 4, 1, 6, 3, 7, 5, 5}),
                                 compare_with_rows_alone({3, 3, 8, 1, 0, 2, 7, 6, 4, 5})});
  std::printf(
      "[ figure ] cascades in vector lanes on this CPU: %s; worst difference from each row alone %.2g\n",
      cascades_in_lanes() ? "yes (AVX2)" : "no (row by row)", worst);
}

TEST(CascadeBank, NothingToDoIsANoOp) {
  std::vector<float> x = noise(kBlock, 3);
  const std::vector<float> before = x;
  Biquad q(design(0, 0));
  Biquad* section = &q;
  const CascadeRow row{.data = x.data(), .sections = &section, .count = 1};
  run_cascades(std::span<const CascadeRow>(&row, 1), 0);
  run_cascades({}, kBlock);
  EXPECT_EQ(x, before);
}

//! Eight strips (the lanes of one group) run the way the mix engine runs them: front,
//! every row's steady sections at once, back.
void run_in_lanes(std::array<ChannelStrip, 8>& strips, std::array<std::vector<float>, 8>& x, std::size_t at) {
  std::array<std::array<Biquad*, kMaxCascadeSections>, 8> sections{};
  std::array<CascadeRow, 8> rows{};
  for (std::size_t l = 0; l < 8; ++l) {
    const std::span<float> block(x[l].data() + at, kBlock);
    rows[l] = {.data = block.data(),
               .sections = sections[l].data(),
               .count = strips[l].process_front(block, sections[l].data())};
  }
  run_cascades(rows, kBlock);
  for (std::size_t l = 0; l < 8; ++l) strips[l].process_back(std::span<float>(x[l].data() + at, kBlock));
}

TEST(CascadeBank, StripsRunInLanesMatchTheirAnalyticResponse) {
  // Issue 6's figure (within 0.1 dB of the analytic curve) on the engine's path: HPF 20 Hz
  // 24 dB/oct (the poles nearest z = 1) and four EQ bands, eight strips in one group.
  StripParams p{.hpf_on = true, .hpf_hz = 20.0f, .hpf_slope = Slope::db24};
  const float gains[4] = {4.0f, -6.0f, 3.0f, -2.5f};
  for (std::size_t j = 0; j < 4; ++j) p.eq.bands[j].gain_db = gains[j];
  Equalizer eq;
  eq.prepare({.sample_rate = kFs});
  eq.reset(p.eq);
  const PassFilter hpf(PassFilter::Kind::highpass, kFs, 20.0, Slope::db24);
  const auto freqs = test::log_freqs(24);
  double worst = 0.0;
  for (std::size_t f0 = 0; f0 < freqs.size(); f0 += 8) {
    std::array<ChannelStrip, 8> strips;
    std::array<std::vector<float>, 8> x, in;
    const std::size_t settle = 48000, window = 9600 * 2;
    for (std::size_t l = 0; l < 8; ++l) {
      strips[l].prepare({.sample_rate = kFs, .max_block = kBlock}, p);
      in[l] = test::sine(freqs[f0 + l], 0.5, settle + window);
      x[l] = in[l];
    }
    for (std::size_t at = 0; at + kBlock <= settle + window; at += kBlock) run_in_lanes(strips, x, at);
    for (std::size_t l = 0; l < 8; ++l) {
      const double f = freqs[f0 + l];
      const std::size_t w = test::whole_cycles(f, 9600);
      const double measured = test::db(test::rms(std::span<const float>(x[l].data() + settle, w)) /
                                       test::rms(std::span<const float>(in[l].data() + settle, w)));
      double analytic = test::db(hpf.magnitude(kFs, f));
      for (std::size_t j = 0; j < 4; ++j) analytic += magnitude_db(eq.band(j).coeffs(), kFs, f);
      worst = std::max(worst, std::abs(measured - analytic));
      EXPECT_NEAR(measured, analytic, 0.1) << "f=" << f;
    }
  }
  std::printf(
      "[ figure ] strips in lanes, HPF 20 Hz 24 dB/oct + 4 EQ bands, worst |measured - theory| = %.4f dB\n",
      worst);
}

TEST(CascadeBank, AStripInThreeStepsIsTheStripThroughChanges) {
  // Eight strips in lanes against the same strips run whole, block by block, while their
  // settings change (an EQ band glides, the HPF switches in and glides, the LPF comes on):
  // filters leave and join the steady cascade, and the output stays the same.
  std::array<ChannelStrip, 8> lanes, whole;
  std::array<std::vector<float>, 8> x, y;
  const std::size_t frames = 200 * kBlock;
  StripParams p;
  p.eq.bands[1].gain_db = -4.0f;
  p.comp_on = true;
  p.comp.threshold_db = -20.0f;
  for (std::size_t l = 0; l < 8; ++l) {
    lanes[l].prepare({.sample_rate = kFs, .max_block = kBlock}, p);
    whole[l].prepare({.sample_rate = kFs, .max_block = kBlock}, p);
    x[l] = noise(frames, static_cast<unsigned>(40 + l));
    y[l] = x[l];
  }
  for (std::size_t b = 0; b * kBlock < frames; ++b) {
    StripParams q = p;
    if (b >= 30) q.eq.bands[1].gain_db = 5.0f;
    if (b >= 60) q.hpf_on = true, q.hpf_hz = 120.0f;
    if (b >= 90) q.hpf_hz = 60.0f;
    if (b >= 120) q.lpf_on = true, q.lpf_hz = 9000.0f;
    for (std::size_t l = 0; l < 8; ++l) {
      q.eq.bands[2].gain_db = static_cast<float>(l);  // lanes differ
      lanes[l].set_params(q);
      whole[l].set_params(q);
      whole[l].process(std::span<float>(y[l].data() + b * kBlock, kBlock));
    }
    run_in_lanes(lanes, x, b * kBlock);
  }
  for (std::size_t l = 0; l < 8; ++l)
    for (std::size_t i = 0; i < frames; ++i)
      ASSERT_NEAR(x[l][i], y[l][i], 2e-6) << "lane " << l << " frame " << i;
}

}  // namespace
}  // namespace tl::dsp
