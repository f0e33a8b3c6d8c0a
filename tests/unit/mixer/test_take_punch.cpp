// Punch in / punch out (issue 18): the passes of a take through its armed range, found from
// the transport's marks, and each pass cut from a whole track with fades outside the range.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "process.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_punch.h"
#include "tl/mixer/track_writer.h"

namespace tl::mixer {
namespace {

constexpr std::uint32_t kRate = 48000;
constexpr MediaTime kStart = 1'000'000;  // the take's first session sample

TakeAutomation marks(std::vector<TakeAutomation::TransportMark> m) {
  TakeAutomation a;
  a.transport = std::move(m);
  return a;
}

TEST(PunchPasses, EachTimeTheTransportPlaysThroughTheInPointIsAPass) {
  // Stopped as the take begins; plays from timeline 0 at kStart + 4800; located back to
  // timeline 10000 (playing) at kStart + 40000; stopped at kStart + 60000.
  const auto a = marks({{.position = kStart - 100, .playing = false, .timeline = 0},
                        {.position = kStart + 4800, .playing = true, .timeline = 0},
                        {.position = kStart + 40000, .playing = true, .timeline = 10000},
                        {.position = kStart + 60000, .playing = false, .timeline = 30000}});
  const auto passes = find_punch_passes(a, kStart, kStart + 100000, 20000, 30000);
  ASSERT_EQ(passes.size(), 2u);
  EXPECT_EQ(passes[0].number, 1u);
  EXPECT_EQ(passes[0].folder, "punch-1");
  EXPECT_EQ(passes[0].mix_sample, kStart + 4800 + 20000);
  EXPECT_EQ(passes[0].frames, 10000);
  EXPECT_TRUE(passes[0].complete);
  EXPECT_EQ(passes[1].folder, "punch-2");
  EXPECT_EQ(passes[1].mix_sample, kStart + 40000 + 10000) << "timeline 20000, 10000 after the locate";
  EXPECT_EQ(passes[1].frames, 10000) << "the stop at timeline 30000 is the punch out itself";
  EXPECT_TRUE(passes[1].complete);
}

TEST(PunchPasses, APassCutShortIsKeptAndSaidSoAndOneBeforeTheTakeIsNone) {
  const auto a = marks({{.position = kStart - 50000, .playing = true, .timeline = 0},
                        {.position = kStart + 10000, .playing = true, .timeline = 0},
                        {.position = kStart + 15000, .playing = false, .timeline = 5000}});
  // Timeline 2000 was played before the take began (its first pass is not in it); the
  // second pass reaches 2000 at kStart + 12000 and stops 3000 frames on.
  const auto passes = find_punch_passes(a, kStart, kStart + 100000, 2000, 8000);
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_EQ(passes[0].mix_sample, kStart + 12000);
  EXPECT_EQ(passes[0].frames, 3000);
  EXPECT_FALSE(passes[0].complete);
  // The take's end cuts a pass short too; a range never reached has none.
  const auto ended = find_punch_passes(a, kStart, kStart + 13000, 2000, 8000);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].frames, 1000);
  EXPECT_TRUE(find_punch_passes(a, kStart, kStart + 100000, 9000, 12000).empty());
  EXPECT_TRUE(find_punch_passes(marks({}), kStart, kStart + 100000, 0, 100).empty()) << "no transport";
}

TEST(PunchPasses, EveryLapOfALoopThroughTheRangeIsAPass) {
  // Plays from timeline 0 at kStart, looping 10000..20000: laps start (wrap) at kStart +
  // 20000, 30000, 40000 ...; stopped at kStart + 45000.
  const auto a =
      marks({{.position = kStart, .playing = true, .timeline = 0, .loop = {.from = 10000, .to = 20000}},
             {.position = kStart + 45000, .playing = false, .timeline = 15000}});
  auto passes = find_punch_passes(a, kStart, kStart + 100000, 12000, 18000);
  ASSERT_EQ(passes.size(), 4u) << "the first time through, then three laps";
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(passes[i].mix_sample, kStart + 12000 + 10000 * static_cast<MediaTime>(i)) << i;
    EXPECT_TRUE(passes[i].complete) << i;
  }
  EXPECT_EQ(passes[3].mix_sample, kStart + 42000);
  EXPECT_EQ(passes[3].frames, 3000) << "the stop at 45000";
  // The loop's own range: a pass each lap, each ending at the wrap.
  passes = find_punch_passes(a, kStart, kStart + 100000, 10000, 20000);
  ASSERT_EQ(passes.size(), 4u);
  EXPECT_EQ(passes[1].mix_sample, kStart + 20000);
  EXPECT_EQ(passes[1].frames, 10000);
  EXPECT_TRUE(passes[1].complete);
  // A range that runs past the loop's end is cut at the wrap in every lap.
  passes = find_punch_passes(a, kStart, kStart + 100000, 15000, 25000);
  ASSERT_EQ(passes.size(), 3u) << "at straight 15000, 25000 and 35000 (45000 is the stop)";
  EXPECT_EQ(passes[0].frames, 5000);
  EXPECT_FALSE(passes[0].complete);
  EXPECT_EQ(passes[2].mix_sample, kStart + 35000);
  // A take that began in the third lap has that lap's pass and the next.
  passes = find_punch_passes(a, kStart + 31000, kStart + 100000, 12000, 18000);
  ASSERT_EQ(passes.size(), 2u);
  EXPECT_EQ(passes[0].number, 1u);
  EXPECT_EQ(passes[0].mix_sample, kStart + 32000);
}

//! A take folder with a node track a-1.wav of `frames` (a ramp, sample i = i % 4000 LSB
//! plus 1000) and take.json's view of it at timeline placement `track_timeline`.
TakeManifest take_with_track(const std::filesystem::path& dir, std::int64_t frames, std::int64_t mix_timeline,
                             std::int64_t track_timeline) {
  auto w = TrackWriter::open((dir / "a-1.wav").string(), node_track_info("t", "a", 0, kRate, kStart), 4096);
  EXPECT_TRUE(w) << w.error();
  std::vector<float> ramp(static_cast<std::size_t>(frames));
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(1000 + i % 4000) / 8388608.0f;
  for (std::int64_t at = 0; at < frames; at += 1000) {
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(1000, frames - at));
    (*w)->put(at, std::span<const float>(ramp.data() + at, n));
    (*w)->flush_until(at + static_cast<std::int64_t>(n));
  }
  (*w)->finish(frames);
  TakeManifest m{
      .take = "t", .state = TakeManifest::kConforming, .sample_rate = kRate, .start_sample = kStart};
  m.frames = static_cast<std::uint64_t>(frames);
  m.mix = TakeTrack{.file = "mix.wav", .node = "mix", .timeline_sample = mix_timeline};
  m.tracks.push_back(
      TakeTrack{.file = "a-1.wav", .node = "a", .channel = 1, .timeline_sample = track_timeline});
  m.tracks.push_back(
      TakeTrack{.file = "b-1.wav", .node = "b", .channel = 1, .timeline_sample = track_timeline});
  return m;
}

TEST(PunchFiles, APassIsTheRangeBitExactWithRaisedCosineHandlesAndItsTimelinePlace) {
  const std::filesystem::path dir = test::make_work_dir("punch_files");
  // mix.wav's first frame is timeline -1000; the node's track is placed 240 frames earlier
  // (compensated for what its performer heard): its frame k was played against mix frame
  // k - 240.
  TakeManifest m = take_with_track(dir, 48000, -1000, -1240);
  const std::int64_t fade = 480;
  m.punch = TakePunch{.from = 20000, .to = 30000, .fade_samples = fade, .nodes = {"a"}, .pending = true};
  // The mix played timeline 20000 at its frame 21000.
  m.punch->passes = {
      {.number = 1, .folder = "punch-1", .mix_sample = kStart + 21000, .frames = 10000, .complete = true}};
  ASSERT_TRUE(write_punch_files(dir, m));
  EXPECT_FALSE(m.punch->pending);
  ASSERT_EQ(m.punch->passes[0].files, std::vector<std::string>{"punch-1/a-1.wav"}) << "b is not armed";
  EXPECT_FALSE(std::filesystem::exists(dir / "punch-1" / "b-1.wav"));
  const auto cut = read_track_file((dir / "punch-1" / "a-1.wav").string());
  ASSERT_TRUE(cut) << cut.error();
  ASSERT_EQ(cut->frames(), 10000 + 2 * fade);
  // Punch frame j is track frame 21000 + 240 - fade + j.
  const auto track = [&](std::int64_t j) {
    return static_cast<float>(1000 + (21240 - fade + j) % 4000) / 8388608.0f;
  };
  for (std::int64_t j = fade; j < fade + 10000; ++j) {
    ASSERT_EQ(cut->samples[static_cast<std::size_t>(j)], track(j)) << "frame " << j;
  }
  for (std::int64_t i = 0; i < fade; ++i) {
    const double g = std::pow(std::sin(0.5 * M_PI * (static_cast<double>(i) + 0.5) / fade), 2);
    ASSERT_NEAR(cut->samples[static_cast<std::size_t>(i)], g * track(i), 1.0 / 8388608.0) << "fade in " << i;
    const std::int64_t out = 2 * fade + 10000 - 1 - i;
    ASSERT_NEAR(cut->samples[static_cast<std::size_t>(out)], g * track(out), 1.0 / 8388608.0)
        << "fade out " << i;
  }
  // Its BWF time reference is its timeline place (the song's start at one hour), so a DAW
  // lines it up.
  SF_INFO info{};
  SNDFILE* f = sf_open((dir / "punch-1" / "a-1.wav").string().c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  SF_BROADCAST_INFO bext{};
  ASSERT_EQ(sf_command(f, SFC_GET_BROADCAST_INFO, &bext, sizeof bext), SF_TRUE);
  sf_close(f);
  EXPECT_EQ((static_cast<std::uint64_t>(bext.time_reference_high) << 32) | bext.time_reference_low,
            static_cast<std::uint64_t>(3600 * 48000 + 20000 - fade));

  // take.json keeps all of it.
  ASSERT_TRUE(m.write(dir));
  const auto back = TakeManifest::read(dir);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->punch, m.punch);
}

TEST(PunchFiles, APassCutShortFadesOutAfterWhatWasPlayedAndIsSilentAfter) {
  const std::filesystem::path dir = test::make_work_dir("punch_short");
  TakeManifest m = take_with_track(dir, 48000, 0, 0);
  m.punch = TakePunch{.from = 1000, .to = 11000, .fade_samples = 100, .pending = true};
  m.punch->passes = {{.number = 1, .folder = "punch-1", .mix_sample = kStart + 1000, .frames = 4000}};
  // Every node armed: a and b, whose file is missing: a is written, b named.
  const Status punched = write_punch_files(dir, m);
  ASSERT_FALSE(punched);
  EXPECT_NE(punched.error().find("punch-1/b-1.wav: "), std::string::npos) << punched.error();
  EXPECT_FALSE(m.punch->pending);
  ASSERT_EQ(m.punch->passes[0].files, std::vector<std::string>{"punch-1/a-1.wav"});
  const auto cut = read_track_file((dir / "punch-1" / "a-1.wav").string());
  ASSERT_TRUE(cut) << cut.error();
  ASSERT_EQ(cut->frames(), 10000 + 200) << "as long as the range, whatever was played";
  EXPECT_EQ(cut->samples[100 + 3999], static_cast<float>(1000 + (1000 + 3999) % 4000) / 8388608.0f);
  EXPECT_LT(std::fabs(cut->samples[100 + 4000 + 99]), 2.0f / 8388608.0f * 1000) << "faded out";
  for (std::int64_t j = 100 + 4000 + 100; j < cut->frames(); ++j) {
    ASSERT_EQ(cut->samples[static_cast<std::size_t>(j)], 0.0f) << "silent after the pass, frame " << j;
  }
}

TEST(PunchManifest, ABadPunchInTakeJsonIsAnErrorThatNamesIt) {
  const std::filesystem::path dir = test::make_work_dir("punch_bad");
  TakeManifest m{.take = "t", .state = TakeManifest::kRecording, .sample_rate = kRate};
  m.punch = TakePunch{.from = 10, .to = 5};
  ASSERT_TRUE(m.write(dir));
  auto back = TakeManifest::read(dir);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().find("to is not after from"), std::string::npos) << back.error();
  m.punch = TakePunch{.from = 1, .to = 5, .passes = {{.number = 1, .folder = "../x"}}};
  ASSERT_TRUE(m.write(dir));
  back = TakeManifest::read(dir);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().find("folder is not a plain folder name"), std::string::npos) << back.error();
}

}  // namespace
}  // namespace tl::mixer
