// Where a take's conform puts each track: the node's stamps, moved by what its own
// converged clock estimate says about them; a drift-free node stays a plain copy.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <vector>

#include "process.h"
#include "tl/mixer/drift_tracker.h"
#include "tl/mixer/take_conform.h"
#include "tl/mixer/track_writer.h"

namespace tl::mixer {
namespace {

constexpr std::uint32_t kRate = 48000;
constexpr MediaTime kOrigin = 480000;  // the take's start, session samples

//! A stretch of 10 s whose stamps the map keeps as they are.
std::vector<dsp::ConformAnchor> straight() {
  return {{.node_index = 0.0, .session_pos = 0.0}, {.node_index = 10.0 * kRate, .session_pos = 10.0 * kRate}};
}

//! Converged estimates every 0.5 s over the stretch, `off` samples from the stamps, with
//! uniform noise of +-`noise` samples.
std::vector<std::pair<MediaTime, double>> reports(double off, double noise, std::uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  std::vector<std::pair<MediaTime, double>> out;
  for (MediaTime t = kOrigin + kRate / 2; t < kOrigin + 10 * kRate; t += kRate / 2) {
    out.emplace_back(t, static_cast<double>(t) + off + u(rng));
  }
  return out;
}

TEST(AnchorPlacement, ACopyMovesByTheNearestWholeSampleOfTheMedianDisagreement) {
  // Converged estimates 0.3 or 0.7 samples from the stamps, give or take 0.03: a copy
  // stays, or moves by one sample (what alignment across nodes needs).
  for (const auto& [off, moved] : {std::pair{0.3, 0.0}, std::pair{0.7, 1.0}, std::pair{-0.7, -1.0}}) {
    auto map = straight();
    place_by_node_anchors(map, reports(off, 0.03), kOrigin, kRate);
    EXPECT_NEAR(map[0].session_pos, off, 0.05);
    const dsp::ConformResult r = dsp::conform(std::vector<float>(10 * kRate, 0.25f), map, 0, 10 * kRate);
    EXPECT_TRUE(r.copied);
    EXPECT_EQ(r.shift, moved) << off;
  }
}

TEST(AnchorPlacement, TheStretchMovesByTheMedianDisagreementNotStretched) {
  auto map = straight();
  place_by_node_anchors(map, reports(3.2, 0.5), kOrigin, kRate);
  EXPECT_NEAR(map[0].session_pos, 3.2, 0.3);
  EXPECT_NEAR(map[1].session_pos - map[0].session_pos, 10.0 * kRate, 1e-9) << "moved, not stretched";
  const dsp::ConformResult r = dsp::conform(std::vector<float>(10 * kRate, 0.25f), map, 0, 10 * kRate);
  EXPECT_TRUE(r.copied);
  EXPECT_EQ(r.shift, 3.0);
}

TEST(AnchorPlacement, TooFewReportsOrAnotherTimelineMoveNothing) {
  auto map = straight();
  auto few = reports(5.0, 0.0);
  few.resize(2);
  place_by_node_anchors(map, few, kOrigin, kRate);
  EXPECT_EQ(map[0].session_pos, 0.0) << "two reports are not a converged estimate";
  place_by_node_anchors(map, reports(0.6 * kRate, 0.0), kOrigin, kRate);
  EXPECT_EQ(map[0].session_pos, 0.0) << "0.6 s apart: another timeline (the node restarted)";
}

TEST(AnchorPlacement, NoisyArrivalsOfADriftFreeNodeOnABusyHostConformToAnUnmovedCopy) {
  // The whole decision for a drift-free node whose packets queue behind busy threads:
  // arrival floors that creep by several ppm, a report of 0 ppm, converged estimates a
  // fraction of a sample from the stamps. The track is its raw samples, where they were.
  DriftTracker tracker(kRate);
  std::mt19937_64 rng(9);
  std::exponential_distribution<double> queueing(1.0 / 0.0008);  // ~0.8 ms of waiting, long tail
  for (MediaTime k = 0; k < 10 * kRate / 48; ++k) {
    const MediaTime ts = kOrigin + k * 48;
    const double load = 8e-6 * static_cast<double>(k * 48) / kRate;  // the path slows 8 us a second
    const double arrival_s = static_cast<double>(ts + 48) / kRate + 0.0002 + load + queueing(rng);
    tracker.add(ts, 48, static_cast<std::int64_t>(arrival_s * 1e9), k == 0);
  }
  auto map = tracker.anchors(kOrigin, /*reported_ppm=*/0.3);
  place_by_node_anchors(map, reports(0.2, 0.2), kOrigin, kRate);
  const dsp::ConformResult r = dsp::conform(std::vector<float>(10 * kRate, 0.25f), map, 0, 10 * kRate);
  EXPECT_TRUE(r.copied) << "drift " << r.drift_samples << " samples";
  EXPECT_EQ(r.shift, 0.0);
}

//! A take folder holding one track, a-1.wav, of `frames` distinct 24-bit samples.
std::filesystem::path take_with_track(const std::string& name, std::int64_t frames) {
  const std::filesystem::path dir = test::make_work_dir(name);
  const TrackFileInfo info{
      .sample_rate = kRate, .channels = 1, .time_reference = kOrigin, .description = "a/1"};
  auto w = TrackWriter::open((dir / "a-1.wav").string(), info, 4096);
  EXPECT_TRUE(w) << w.error();
  std::vector<float> ramp(static_cast<std::size_t>(frames));
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(i % 4000) / 8388608.0f;
  for (std::int64_t at = 0; at < frames; at += 1000) {  // within the writer's window
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(1000, frames - at));
    (*w)->put(at, std::span<const float>(ramp.data() + at, n));
    (*w)->flush_until(at + static_cast<std::int64_t>(n));
  }
  (*w)->finish(frames);
  return dir;
}

TEST(ConformTrackFile, ACopyThatMovesNothingIsTheRawFileItselfNotASecondCopy) {
  const auto dir = take_with_track("conform_link", 4800);
  const TrackFileInfo info{
      .sample_rate = kRate, .channels = 1, .time_reference = kOrigin, .description = "a/1"};
  const auto map = straight();
  const auto out = conform_track_file(dir, "a-1.wav", map, 4800, info);
  ASSERT_TRUE(out) << out.error();
  EXPECT_TRUE(out->linked);
  EXPECT_FALSE(out->resampled);
  EXPECT_TRUE(std::filesystem::equivalent(dir / "a-1.wav", dir / "raw" / "a-1.wav")) << "one file, two names";
  const auto back = read_track_file((dir / "a-1.wav").string());
  ASSERT_TRUE(back);
  ASSERT_EQ(back->frames(), 4800);
  EXPECT_EQ(back->samples[100], 100.0f / 8388608.0f);
  EXPECT_EQ(back->samples[3999], 3999.0f / 8388608.0f);
}

TEST(ConformTrackFile, ACopyThatMovesIsWrittenAsItsOwnFile) {
  const auto dir = take_with_track("conform_moved", 4800);
  const TrackFileInfo info{
      .sample_rate = kRate, .channels = 1, .time_reference = kOrigin, .description = "a/1"};
  std::vector<dsp::ConformAnchor> map = straight();
  for (auto& a : map) a.session_pos += 1.0;  // the converged clock puts it one sample later
  const auto out = conform_track_file(dir, "a-1.wav", map, 4800, info);
  ASSERT_TRUE(out) << out.error();
  EXPECT_FALSE(out->linked);
  EXPECT_EQ(out->shift, 1.0);
  EXPECT_FALSE(std::filesystem::equivalent(dir / "a-1.wav", dir / "raw" / "a-1.wav"));
  const auto back = read_track_file((dir / "a-1.wav").string());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->samples[0], 0.0f);
  EXPECT_EQ(back->samples[101], 100.0f / 8388608.0f);
}

}  // namespace
}  // namespace tl::mixer
