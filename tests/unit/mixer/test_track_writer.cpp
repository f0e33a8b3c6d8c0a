#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/resource.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "process.h"
#include "tl/mixer/track_writer.h"
#include "tl/protocol/pcm.h"
#include "wav.h"

namespace tl::mixer {
namespace {

std::string read_magic(const std::string& path) {
  return test::read_file(path).substr(0, 4);
}

std::string temp_path(const std::string& name) {
  return test::make_work_dir("track_writer_" + name) + "/t.wav";
}

TEST(TrackWriter, WritesOutOfOrderAudioInTimelineOrder24BitExact) {
  const std::string path = temp_path("order");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1, .time_reference = 123456}, 8192);
  ASSERT_TRUE(w) << w.error();
  std::vector<float> a(100), b(100);
  for (int i = 0; i < 100; ++i) {
    a[static_cast<std::size_t>(i)] = static_cast<float>(i) / 8388608.0f;
    b[static_cast<std::size_t>(i)] = static_cast<float>(-i - 100) / 8388608.0f;
  }
  (*w)->put(100, b);
  (*w)->put(0, a);
  (*w)->finish(200);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), 200);
  EXPECT_EQ(audio.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(audio.samples[static_cast<std::size_t>(i)] / 256, i);
    EXPECT_EQ(audio.samples[static_cast<std::size_t>(100 + i)] / 256, -i - 100);
  }
  EXPECT_EQ((*w)->lost_frames(), 0u);
}

TEST(TrackWriter, BextTimeReferenceHoldsTheTakeStart) {
  const std::string path = temp_path("bext");
  const MediaTime start = (5LL << 32) + 77;  // needs both halves of the 64-bit field
  {
    auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1, .time_reference = start}, 4096);
    ASSERT_TRUE(w);
    (*w)->finish(480);
  }
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  // Under 4 GiB the RF64 writer downgrades to a RIFF WAVE (extensible format chunk).
  const int type = info.format & SF_FORMAT_TYPEMASK;
  EXPECT_TRUE(type == SF_FORMAT_WAV || type == SF_FORMAT_WAVEX) << std::hex << type;
  EXPECT_EQ(read_magic(path), "RIFF");
  SF_BROADCAST_INFO bext{};
  ASSERT_EQ(sf_command(f, SFC_GET_BROADCAST_INFO, &bext, sizeof bext), SF_TRUE);
  const auto ref = (static_cast<std::uint64_t>(bext.time_reference_high) << 32) | bext.time_reference_low;
  EXPECT_EQ(ref, static_cast<std::uint64_t>(start));
  sf_close(f);
}

TEST(TrackWriter, GapsBecomeSilenceAndCountAsLostOnlyWhenAudioResumes) {
  const std::string path = temp_path("gaps");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  std::vector<float> block(10, 0.5f);
  (*w)->put(20, block);  // frames 0-19: before the node's first audio, not lost
  (*w)->put(40, block);  // frames 30-39: a gap, lost
  (*w)->finish(100);     // frames 50-99: after its last audio, not lost
  EXPECT_EQ((*w)->first_offset(), 20);
  EXPECT_EQ((*w)->lost_frames(), 10u);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), 100);
  EXPECT_EQ(audio.samples[19], 0);
  EXPECT_NE(audio.samples[20], 0);
  EXPECT_EQ(audio.samples[35], 0);
}

TEST(TrackWriter, OverFullScaleIsClampedAndCountedNeverWrapped) {
  const std::string path = temp_path("clip");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 2}, 4096);
  ASSERT_TRUE(w);
  std::vector<float> frames = {1.5f, -2.0f, 0.25f, 0.25f};
  (*w)->put(0, frames);
  (*w)->finish(2);
  EXPECT_EQ((*w)->clipped_samples(), 2u);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.channels, 2);
  EXPECT_EQ(audio.samples[0] / 256, 8388607);
  EXPECT_EQ(audio.samples[1] / 256, -8388608);
}

TEST(TrackWriter, BlocksConvertAsEverySampleAloneWouldLevelsAndClipsIncluded) {
  // A long run goes through the vector conversion; each sample must come out as
  // float_to_int24 makes it (round to nearest even, clamp, NaN as 0) and count the same.
  const std::string path = temp_path("blocks");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  std::vector<float> x(1001);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.3f * std::sin(0.01f * static_cast<float>(i));
  x[7] = 2.5f / 8388608.0f;  // a tie: rounds to even (2)
  x[8] = 3.5f / 8388608.0f;  // (4)
  x[9] = std::numeric_limits<float>::quiet_NaN();
  x[10] = -1.0f;  // the lowest code exactly, not a clip
  (*w)->put(0, x);
  (*w)->finish(static_cast<std::int64_t>(x.size()));
  std::uint64_t clips = 0;
  double peak = 0.0, energy = 0.0;
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), static_cast<std::int64_t>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    bool clipped = false;
    const std::int32_t want = protocol::float_to_int24(x[i], clipped);
    clips += clipped ? 1 : 0;
    EXPECT_EQ(audio.samples[i] / 256, want) << "sample " << i;
    if (x[i] == x[i]) {
      peak = std::max(peak, std::min(1.0, std::fabs(static_cast<double>(x[i]))));
      energy += static_cast<double>(x[i]) * x[i];
    }
  }
  EXPECT_EQ(audio.samples[7] / 256, 2);
  EXPECT_EQ(audio.samples[8] / 256, 4);
  EXPECT_EQ(audio.samples[9], 0);
  EXPECT_EQ((*w)->clipped_samples(), clips);
  EXPECT_GT(clips, 100u);
  EXPECT_NEAR((*w)->peak(), peak, 1e-6);
  EXPECT_NEAR((*w)->rms(), std::sqrt(energy / static_cast<double>(x.size())), 1e-5);
}

TEST(TrackWriter, AudioBeforeTheFlushedHeadOnWrittenAudioIsCountedLate) {
  const std::string path = temp_path("late");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  std::vector<float> block(10, 0.1f);
  (*w)->put(0, block);
  (*w)->flush_until(50);
  (*w)->put(0, block);  // a duplicate of what is on disk
  EXPECT_EQ((*w)->late_frames(), 10u);
  EXPECT_EQ((*w)->recovered_frames(), 0u);
  (*w)->finish(60);
}

TEST(TrackWriter, LateAudioFillsItsGapInTheFileBitExact) {
  const std::string path = temp_path("fill");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 2}, 4096);
  ASSERT_TRUE(w);
  // Frame f of channel c holds (f * 2 + c) LSBs: every sample is distinct.
  const auto frames = [](std::int64_t from, std::int64_t count) {
    std::vector<float> v(static_cast<std::size_t>(count) * 2);
    for (std::int64_t f = 0; f < count; ++f) {
      for (int c = 0; c < 2; ++c) {
        v[static_cast<std::size_t>(f * 2 + c)] = static_cast<float>((from + f) * 2 + c) / 8388608.0f;
      }
    }
    return v;
  };
  (*w)->put(0, frames(0, 100));
  (*w)->put(200, frames(200, 100));  // 100-199 never came
  (*w)->put(400, frames(400, 100));  // nor 300-399
  (*w)->flush_until(500);            // all on disk, the gaps as silence
  EXPECT_EQ((*w)->lost_frames(), 200u);
  ASSERT_EQ((*w)->lost_gaps().size(), 2u);
  EXPECT_EQ((*w)->lost_gaps()[0].from, 100);
  EXPECT_EQ((*w)->lost_gaps()[0].to, 200);

  // A resend of the middle of the first gap splits it; the second gap is filled whole,
  // with a frame of duplicate on each side.
  (*w)->put(120, frames(120, 30));
  (*w)->put(299, frames(299, 102));
  EXPECT_EQ((*w)->recovered_frames(), 130u);
  EXPECT_EQ((*w)->late_frames(), 2u);
  EXPECT_EQ((*w)->lost_frames(), 70u);
  ASSERT_EQ((*w)->lost_gaps().size(), 2u);
  EXPECT_EQ((*w)->lost_gaps()[0].to, 120);
  EXPECT_EQ((*w)->lost_gaps()[1].from, 150);
  EXPECT_EQ((*w)->lost_gaps()[1].to, 200);

  // Writing goes on at the end after patching.
  (*w)->put(500, frames(500, 100));
  (*w)->finish(600);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), 600);
  for (std::int64_t f = 0; f < 600; ++f) {
    const bool missing = (f >= 100 && f < 120) || (f >= 150 && f < 200);
    for (int c = 0; c < 2; ++c) {
      const std::int32_t want = missing ? 0 : static_cast<std::int32_t>(f * 2 + c);
      ASSERT_EQ(audio.samples[static_cast<std::size_t>(f * 2 + c)] / 256, want) << f << "/" << c;
    }
  }
}

TEST(TrackWriter, AFileTheDiskRefusesEndsWhereItFailedAndSaysWhy) {
  const std::string path = temp_path("refused");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 8192);
  ASSERT_TRUE(w) << w.error();
  std::vector<float> v(48000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 1000 + 1) / 8388608.0f;
  std::fill_n(v.begin() + 40000, 100, 0.5f);  // loud, long after the failure: never in the file
  // A file-size limit stands in for a full disk: a write past it fails (EFBIG).
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 64 * 1024;  // about 21,800 frames of 24-bit mono
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  for (std::size_t at = 0; at < v.size(); at += 1000) {  // packets, as the recorder puts them
    if (at == 1000) continue;                            // one lost on the way, for now
    (*w)->put(static_cast<std::int64_t>(at), std::span<const float>(v).subspan(at, 1000));
  }
  (*w)->flush_until(48000);
  // What a resend could fill is the lost packet, not what the disk refused.
  ASSERT_EQ((*w)->gaps_to_fetch().size(), 1u);
  EXPECT_EQ((*w)->gaps_to_fetch()[0].from, 1000);
  EXPECT_EQ((*w)->gaps_to_fetch()[0].to, 2000);
  // It comes, with a stretch past the failure: the first goes in, the rest is not late.
  (*w)->put(1000, std::span<const float>(v).subspan(1000, 1000));
  (*w)->put(30000, std::span<const float>(v).subspan(30000, 1000));
  EXPECT_EQ((*w)->recovered_frames(), 1000u);
  EXPECT_EQ((*w)->late_frames(), 0u);
  EXPECT_TRUE((*w)->gaps_to_fetch().empty());
  (*w)->finish(48000);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, previous);

  EXPECT_NE((*w)->write_error().find("too large"), std::string::npos) << (*w)->write_error();
  const std::int64_t at = (*w)->failed_at();
  ASSERT_GT(at, 16000);
  ASSERT_LT(at, 22000);
  // Nothing after it is in the file: lost, as one gap, never written somewhere else.
  EXPECT_EQ((*w)->lost_frames(), static_cast<std::uint64_t>(48000 - at));
  ASSERT_EQ((*w)->lost_gaps().size(), 1u);
  EXPECT_EQ((*w)->lost_gaps()[0].from, at);
  EXPECT_EQ((*w)->lost_gaps()[0].to, 48000);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), at);  // its header says so too
  for (std::int64_t f = 0; f < std::min<std::int64_t>(audio.frames(), at); ++f) {
    ASSERT_EQ(audio.samples[static_cast<std::size_t>(f)] / 256, f % 1000 + 1) << f;
  }
  // Its levels are the file's: the loud stretch the disk never took is not in them.
  EXPECT_LT((*w)->peak(), 0.01) << "metered audio that is not in the file";
}

TEST(TrackWriter, AFileAStoppedMixerLeftIsResumedWithItsSilencesAsGaps) {
  const std::string path = temp_path("resume");
  const auto frames = [](std::int64_t from, std::int64_t count) {
    std::vector<float> v(static_cast<std::size_t>(count));
    for (std::int64_t f = 0; f < count; ++f)
      v[static_cast<std::size_t>(f)] = static_cast<float>(from + f + 1) / 8388608.0f;
    return v;
  };
  {
    auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
    ASSERT_TRUE(w);
    (*w)->put(50, frames(50, 950));      // silence before: the node had not started
    (*w)->put(1100, frames(1100, 900));  // 1000-1099 never came
    (*w)->put(2000, frames(2000, 30));   // a run shorter than a packet after it stays audio
    (*w)->put(2040, frames(2040, 60));
    (*w)->flush_until(2100);
    (*w)->update_header();
  }  // gone without finish(): the mixer was killed
  auto r = TrackWriter::resume(path, 4096, /*find_gaps=*/true);
  ASSERT_TRUE(r) << r.error();
  TrackWriter& w = **r;
  EXPECT_EQ(w.head(), 2100);
  EXPECT_EQ(w.first_offset(), 50);
  w.flush_until(2500);  // the take went on to 2500: the rest is missing too
  w.note_audio_until(2500);
  const auto gaps = w.lost_gaps();
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].from, 1000);
  EXPECT_EQ(gaps[0].to, 1100);
  EXPECT_EQ(gaps[1].from, 2100);
  EXPECT_EQ(gaps[1].to, 2500);
  // The node's spool fills both, bit-exact, and the file closes at the take's length.
  w.put(1000, frames(1000, 100));
  w.put(2100, frames(2100, 400));
  EXPECT_EQ(w.lost_frames(), 0u);
  EXPECT_EQ(w.recovered_frames(), 500u);
  w.finish(2500);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), 2500);
  for (std::int64_t f = 0; f < 2500; ++f) {
    const bool silent = f < 50 || (f >= 2030 && f < 2040);
    ASSERT_EQ(audio.samples[static_cast<std::size_t>(f)] / 256, silent ? 0 : f + 1) << f;
  }
}

// A take that went on after its mixer was killed: its mix.wav, resumed, fades out at
// the take's end like any other (the fade reaching back before the resume too).
TEST(TrackWriter, AResumedMixFadesOutAtItsEnd) {
  const std::string path = temp_path("resume_fade");
  const std::vector<float> level(2 * 1000, 0.5f);
  {
    auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 2}, 4096);
    ASSERT_TRUE(w);
    (*w)->set_edge_fade(96);
    (*w)->put(0, level);
    (*w)->flush_until(1000);
    (*w)->update_header();
  }  // killed
  auto r = TrackWriter::resume(path, 4096, /*find_gaps=*/false);
  ASSERT_TRUE(r) << r.error();
  TrackWriter& w = **r;
  w.set_edge_fade(96);
  w.put(1000, std::vector<float>(2 * 40, 0.5f));  // fewer frames than the fade after the resume
  w.finish(1040);
  const auto audio = test::read_audio(path);
  ASSERT_EQ(audio.frames(), 1040);
  const auto at = [&](std::int64_t f) {
    return static_cast<double>(audio.samples[static_cast<std::size_t>(2 * f)]) / 2147483648.0;
  };
  EXPECT_NEAR(at(500), 0.5, 1e-6) << "the middle as it was";
  EXPECT_LT(at(1039), 0.001) << "the last frame faded to silence";
  EXPECT_GT(at(1040 - 96), 0.49) << "the fade begins 96 frames from the end";
  EXPECT_GT(at(1000 - 10), 0.0) << "frames from before the resume are faded, not zeroed";
  EXPECT_LT(at(1000 - 10), 0.5);
}

TEST(TrackWriter, ResumingSomethingElseSaysSo) {
  const std::string path = temp_path("resume_bad");
  EXPECT_FALSE(TrackWriter::resume(path + ".missing", 4096, true));
  { std::ofstream(path) << "not a wav file"; }
  const auto r = TrackWriter::resume(path, 4096, true);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot reopen"), std::string::npos) << r.error();
}

TEST(TrackWriter, LostFirstFramesAreAGapOnceTheTimelineStartIsKnown) {
  const std::string path = temp_path("lead");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  std::vector<float> block(100, 0.25f);
  (*w)->put(150, block);  // the node's first 50 frames (from 100) never came
  (*w)->flush_until(300);
  EXPECT_EQ((*w)->lost_frames(), 0u) << "without the timeline start, that is a late join";
  (*w)->expect_from(100);
  EXPECT_EQ((*w)->lost_frames(), 50u);
  ASSERT_EQ((*w)->lost_gaps().size(), 1u);
  EXPECT_EQ((*w)->lost_gaps()[0].from, 100);
  (*w)->put(100, std::vector<float>(50, 0.5f));
  EXPECT_EQ((*w)->lost_frames(), 0u);
  EXPECT_EQ((*w)->first_offset(), 100);
  (*w)->finish(300);
  const auto audio = test::read_audio(path);
  EXPECT_EQ(audio.samples[99], 0);
  EXPECT_EQ(audio.samples[100] / 256, 4194304);  // 0.5
}

TEST(TrackWriter, AGapUpToTheEndIsLostOnlyWhenTheNodeWasHeardBeyondIt) {
  const std::string path = temp_path("tail");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  (*w)->put(0, std::vector<float>(100, 0.25f));
  (*w)->flush_until(200);  // 100-199: the node stopped, or its last packets were lost
  EXPECT_EQ((*w)->lost_frames(), 0u);
  (*w)->note_audio_until(200);  // it was heard past the end: they were lost
  EXPECT_EQ((*w)->lost_frames(), 100u);
  (*w)->put(100, std::vector<float>(100, 0.5f));
  EXPECT_EQ((*w)->lost_frames(), 0u);
  (*w)->finish(200);
}

TEST(TrackWriter, ProvisionalAudioPlaysUntilTheExactSamplesReplaceIt) {
  const std::string path = temp_path("provisional");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  auto ramp = [](int base) {
    std::vector<float> v(100);
    for (int i = 0; i < 100; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(base + i) / 8388608.0f;
    return v;
  };
  (*w)->put(0, ramp(1000));          // exact
  (*w)->put(50, ramp(5000), true);   // a stand-in over exact audio: ignored there,
  (*w)->put(100, ramp(2000), true);  // and kept (the newer one) where nothing exact is
  (*w)->put(200, ramp(3000));        // exact again
  (*w)->flush_until(300);
  ASSERT_EQ((*w)->lost_gaps().size(), 1u);
  EXPECT_EQ((*w)->lost_gaps()[0].from, 100);
  EXPECT_EQ((*w)->lost_gaps()[0].to, 200);
  EXPECT_TRUE((*w)->lost_gaps()[0].provisional);
  EXPECT_EQ((*w)->provisional_frames(), 100u);
  (*w)->update_header();
  auto audio = test::read_audio(path);
  EXPECT_EQ(audio.samples[120] / 256, 2000 + 20) << "the stand-in is in the file meanwhile";
  EXPECT_EQ(audio.samples[60] / 256, 1060) << "exact audio was not overwritten";
  (*w)->put(100, ramp(9000), true);  // behind the head: a stand-in is dropped
  (*w)->put(100, ramp(7000));        // the exact samples, from the spool
  EXPECT_TRUE((*w)->lost_gaps().empty());
  EXPECT_EQ((*w)->provisional_frames(), 0u);
  EXPECT_EQ((*w)->recovered_frames(), 100u);
  (*w)->finish(300);
  audio = test::read_audio(path);
  for (int i = 100; i < 200; ++i)
    EXPECT_EQ(audio.samples[static_cast<std::size_t>(i)] / 256, 7000 + i - 100) << i;
}

TEST(TrackWriter, AResumedOpusTrackIsProvisionalFromItsFirstAudio) {
  const std::string path = temp_path("resume_opus");
  {
    auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
    ASSERT_TRUE(w);
    std::vector<float> v(500, 0.25f);
    (*w)->put(100, v, true);
    (*w)->flush_until(600);
    (*w)->update_header();
  }  // the mixer dies: never finished
  auto r = TrackWriter::resume(path, 4096, true);
  ASSERT_TRUE(r) << r.error();
  (*r)->mark_provisional();
  ASSERT_EQ((*r)->lost_gaps().size(), 1u);
  EXPECT_EQ((*r)->lost_gaps()[0].from, 100);
  EXPECT_EQ((*r)->lost_gaps()[0].to, 600);
  EXPECT_EQ((*r)->provisional_frames(), 500u);
}

TEST(TrackWriter, FileIsReadableBeforeItIsClosed) {
  const std::string path = temp_path("crash");
  auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_TRUE(w);
  std::vector<float> block(4800, 0.25f);
  (*w)->put(0, block);
  (*w)->flush_until(4800);
  (*w)->update_header();
  const auto audio = test::read_audio(path);  // as after a crash: never closed
  EXPECT_EQ(audio.frames(), 4800);
  (*w)->finish(4800);
}

TEST(TrackWriter, UnwritablePathIsAClearError) {
  auto w = TrackWriter::open("/nonexistent-dir/x.wav", {.sample_rate = 48000, .channels = 1}, 4096);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().find("/nonexistent-dir/x.wav"), std::string::npos);
}

TEST(TrackWriter, ATimeReferenceIsSetInPlaceLaterAndNothingElseChanges) {
  const std::string path = test::make_work_dir("bext_patch") + "/a-1.wav";
  {
    auto w = TrackWriter::open(path, {.sample_rate = 48000, .channels = 1, .time_reference = 5}, 4096);
    ASSERT_TRUE(w) << w.error();
    std::vector<float> ramp(1000);
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(i) / 8388608.0f;
    (*w)->put(0, ramp);
    (*w)->finish(1000);
  }
  const auto before = read_track_file(path);
  ASSERT_TRUE(before);
  // Past 32 bits: the high word too.
  const std::uint64_t ref = 3600ull * 48000 * 10000 + 7;
  ASSERT_TRUE(set_time_reference(path, ref));
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  SF_BROADCAST_INFO bext{};
  ASSERT_EQ(sf_command(f, SFC_GET_BROADCAST_INFO, &bext, sizeof bext), SF_TRUE);
  sf_close(f);
  EXPECT_EQ((static_cast<std::uint64_t>(bext.time_reference_high) << 32) | bext.time_reference_low, ref);
  EXPECT_STREQ(bext.originator, "tracklink");
  const auto after = read_track_file(path);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->samples, before->samples);
  // Not a WAV, or a WAV without bext: said so, nothing written.
  const std::string text = test::make_work_dir("bext_patch") + "/notes.txt";
  std::FILE* t = std::fopen(text.c_str(), "w");
  std::fputs("not audio at all", t);
  std::fclose(t);
  EXPECT_NE(set_time_reference(text, 1).error().find("is not a WAV file"), std::string::npos);
  const std::string plain = test::make_work_dir("bext_patch") + "/plain.wav";
  SF_INFO pi{.frames = 0, .samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE* p = sf_open(plain.c_str(), SFM_WRITE, &pi);
  ASSERT_NE(p, nullptr);
  const short zeros[16] = {};
  sf_write_short(p, zeros, 16);
  sf_close(p);
  EXPECT_NE(set_time_reference(plain, 1).error().find("no BWF bext chunk"), std::string::npos);
  EXPECT_FALSE(set_time_reference(plain + ".gone", 1));
}

}  // namespace
}  // namespace tl::mixer
