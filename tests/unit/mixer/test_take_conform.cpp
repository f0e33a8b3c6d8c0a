// Where a take's conform puts each track: the node's stamps, moved by what its own
// converged clock estimate says about them; a drift-free node stays a plain copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "process.h"
#include "tl/mixer/drift_tracker.h"
#include "tl/mixer/take_conform.h"
#include "tl/mixer/take_conformer.h"
#include "tl/mixer/take_manifest.h"
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
  const auto out = start_track_conform(dir, "a-1.wav", map, 4800);
  ASSERT_TRUE(out) << out.error();
  EXPECT_TRUE(out->linked);
  EXPECT_FALSE(out->pending) << "nothing is left to write";
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
  const auto out = start_track_conform(dir, "a-1.wav", map, 4800);
  ASSERT_TRUE(out) << out.error();
  EXPECT_FALSE(out->linked);
  EXPECT_TRUE(out->pending);
  EXPECT_EQ(out->shift, 1.0);
  EXPECT_FALSE(std::filesystem::exists(dir / "a-1.wav")) << "written later, from raw/";
  const auto wrote = write_conformed_track(dir, "a-1.wav", map, 4800, info);
  ASSERT_TRUE(wrote) << wrote.error();
  EXPECT_TRUE(*wrote);
  EXPECT_FALSE(std::filesystem::equivalent(dir / "a-1.wav", dir / "raw" / "a-1.wav"));
  const auto back = read_track_file((dir / "a-1.wav").string());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->samples[0], 0.0f);
  EXPECT_EQ(back->samples[101], 100.0f / 8388608.0f);
}

}  // namespace
// A long take's tracks are conformed a stretch at a time (memory bounded): the file is
// the whole conform's, bit for bit, across stretch boundaries, and a resample too.
TEST(ConformTrackFile, ALongTrackIsWrittenAStretchAtATimeAsTheWholeConformWouldBe) {
  const std::int64_t frames = 2 * kConformStretch + 777;
  const auto dir = take_with_track("conform_stretches", frames);
  const TrackFileInfo info{
      .sample_rate = kRate, .channels = 1, .time_reference = kOrigin, .description = "a/1"};
  const std::vector<dsp::ConformAnchor> map = {{0.0, 0.4},
                                               {static_cast<double>(frames), frames * 1.0001 + 0.4}};
  const auto raw = read_track_file((dir / "a-1.wav").string());
  ASSERT_TRUE(raw);
  const auto whole = dsp::conform(raw->samples, map, 0, static_cast<std::size_t>(frames));
  ASSERT_FALSE(whole.copied) << "the map drifts by many samples: a resample";
  const auto out = start_track_conform(dir, "a-1.wav", map, frames);
  ASSERT_TRUE(out && out->pending);
  const auto wrote = write_conformed_track(dir, "a-1.wav", map, frames, info);
  ASSERT_TRUE(wrote) << wrote.error();
  // The whole conform, written by the same writer: the files must hold the same samples.
  auto w = TrackWriter::open((dir / "whole.wav").string(), info, 4096);
  ASSERT_TRUE(w);
  for (std::int64_t at = 0; at < frames; at += 1000) {  // within the writer's window
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(1000, frames - at));
    (*w)->put(at, std::span<const float>(whole.samples.data() + at, n));
    (*w)->flush_until(at + static_cast<std::int64_t>(n));
  }
  (*w)->finish(frames);
  (*w).reset();
  const auto back = read_track_file((dir / "a-1.wav").string());
  const auto want = read_track_file((dir / "whole.wav").string());
  ASSERT_TRUE(back && want);
  ASSERT_EQ(back->frames(), frames);
  std::int64_t differ = 0;
  for (std::size_t i = 0; i < back->samples.size(); ++i)
    differ += back->samples[i] != want->samples[i] ? 1 : 0;
  EXPECT_EQ(differ, 0) << "samples unlike the whole conform's";
}

TEST(ConformTrackFile, AStoppedConformLeavesNoPartOfAFileBehind) {
  const auto dir = take_with_track("conform_stopped", 4800);
  const TrackFileInfo info{
      .sample_rate = kRate, .channels = 1, .time_reference = kOrigin, .description = "a/1"};
  std::vector<dsp::ConformAnchor> map = straight();
  for (auto& a : map) a.session_pos -= 2.0;
  ASSERT_TRUE(start_track_conform(dir, "a-1.wav", map, 4800));
  const std::atomic<bool> stop{true};
  const auto wrote = write_conformed_track(dir, "a-1.wav", map, 4800, info, &stop);
  ASSERT_TRUE(wrote) << wrote.error();
  EXPECT_FALSE(*wrote);
  EXPECT_FALSE(std::filesystem::exists(dir / "a-1.wav.part"));
  EXPECT_FALSE(std::filesystem::exists(dir / "a-1.wav"));
  EXPECT_TRUE(std::filesystem::exists(dir / "raw" / "a-1.wav")) << "raw/ is left for the next try";
}

//! A closed take as the recorder leaves it when a track must move by `moved` samples:
//! a-1.wav in raw/, take.json "conforming" with the track's map.
std::filesystem::path conforming_take(const std::string& name, int moved) {
  const auto dir = take_with_track(name, 4800);
  std::vector<dsp::ConformAnchor> map = straight();
  for (auto& a : map) a.session_pos += moved;
  const auto planned = start_track_conform(dir, "a-1.wav", map, 4800);
  EXPECT_TRUE(planned && planned->pending);
  TakeManifest m{.take = dir.filename().string(),
                 .state = TakeManifest::kConforming,
                 .sample_rate = kRate,
                 .start_sample = kOrigin,
                 .frames = 4800,
                 .seconds = 0.1,
                 .complete = true};
  m.tracks.push_back({.file = "a-1.wav",
                      .node = "a",
                      .channel = 1,
                      .first_sample = kOrigin + std::max(moved, 0),
                      .frames = 4800,
                      .complete = true,
                      .conform = TakeTrack::Conform{.raw_file = "raw/a-1.wav",
                                                    .moved_samples = static_cast<double>(moved),
                                                    .raw_first_sample = kOrigin,
                                                    .pending = true,
                                                    .map = map}});
  EXPECT_TRUE(m.write(dir));
  return dir;
}

TEST(Conformer, WritesATakesPendingTracksAfterTheStopAndClosesIt) {
  const auto dir = conforming_take("conformer_runs", 3);
  const auto before = TakeManifest::read(dir);
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(before->tracks_conforming(), 1u) << "take.json holds what is left, and its map";
  Conformer conformer;
  conformer.start();
  conformer.add(dir);
  conformer.finish();  // a stopping mixer finishes what is queued
  const auto after = TakeManifest::read(dir);
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->state, TakeManifest::kComplete);
  EXPECT_EQ(after->tracks_conforming(), 0u);
  ASSERT_TRUE(after->tracks[0].conform);
  const TakeTrack::Conform& c = *after->tracks[0].conform;
  EXPECT_TRUE(c.map.empty()) << "the map goes once the file is written";
  const auto back = read_track_file((dir / "a-1.wav").string());
  ASSERT_TRUE(back);
  ASSERT_EQ(back->frames(), 4800);
  EXPECT_EQ(back->samples[2], 0.0f);
  EXPECT_EQ(back->samples[103], 100.0f / 8388608.0f) << "moved three samples on";
  // One file on disk: raw/ is the track moved back, and the three samples the move
  // pushed past the take's end (the ramp's 797..799) are in take.json.
  EXPECT_TRUE(c.raw_file.empty());
  EXPECT_EQ(c.raw_edge, (std::vector<std::int32_t>{797, 798, 799}));
  EXPECT_EQ(c.raw_edge_at(4800), 4797);
  EXPECT_FALSE(std::filesystem::exists(dir / "raw" / "a-1.wav"));
}

TEST(Conformer, AStoppedMixerLeavesTheRestPendingAndTheNextGoesOn) {
  const auto dir = conforming_take("conformer_resumes/t1", -2);  // a record dir of its own
  const std::atomic<bool> stop{true};
  const auto first = Conformer::conform_take_files(dir, &stop);
  ASSERT_TRUE(first) << first.error();
  EXPECT_FALSE(*first);
  const auto left = TakeManifest::read(dir);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->state, TakeManifest::kConforming);
  EXPECT_EQ(left->tracks_conforming(), 1u);
  Conformer next;
  next.start();
  EXPECT_EQ(next.resume(dir.parent_path()), 1u) << "the next mixer finds it in its record dir";
  next.finish();
  const auto after = TakeManifest::read(dir);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->state, TakeManifest::kComplete);
  const auto back = read_track_file((dir / "a-1.wav").string());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->samples[0], 2.0f / 8388608.0f) << "moved two samples earlier";
  ASSERT_TRUE(after->tracks[0].conform);
  EXPECT_EQ(after->tracks[0].conform->raw_edge, (std::vector<std::int32_t>{0, 1}))
      << "pushed out at the start";
  EXPECT_EQ(after->tracks[0].conform->raw_edge_at(4800), 0);
}

}  // namespace tl::mixer
