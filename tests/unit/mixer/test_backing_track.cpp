// Backing tracks on the mix thread (BackingTrack: chunks placed on the transport
// timeline, generations, underruns) and with their disk reader (BackingTracks: a file
// through the real engine, a resampled file located mid-way).
#include <gtest/gtest.h>
#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

#include "alloc_counter.h"
#include "mix_engine_rig.h"
#include "tl/mixer/backing_file.h"
#include "tl/mixer/backing_track.h"
#include "tl/mixer/backing_tracks.h"

namespace tl::mixer {
namespace {

using rig::kBlock;
using rig::Rig;

//! Queues a chunk of `frames` frames from timeline position `from`, frame i of channel c
//! holding value(from + i, c).
template <class Value>
void push(BackingTrack& t, std::uint64_t generation, MediaTime from, std::uint32_t frames, Value value,
          std::uint64_t file = 1) {
  BackingChunk* c = t.chunks().begin_write();
  ASSERT_NE(c, nullptr);
  c->generation = generation;
  c->file = file;
  c->from = from;
  c->frames = frames;
  for (std::uint32_t i = 0; i < frames; ++i)
    for (std::uint32_t ch = 0; ch < t.channels(); ++ch)
      c->samples[i * t.channels() + ch] = value(from + i, ch);
  t.chunks().commit_write();
}

float ramp(MediaTime t, std::uint32_t ch) {
  return static_cast<float>(t) * 1e-5f + static_cast<float>(ch);
}

//! The block at play-out position `at` of one channel.
std::vector<float> block(BackingTrack& t, MediaTime at, std::size_t frames, std::uint32_t channel = 0) {
  std::vector<float> out(frames);
  std::vector<std::uint8_t> marks(frames, 9);
  t.begin_block(at, frames);
  EXPECT_EQ(t.read(channel, at, out, marks), 0u);
  for (const auto m : marks) EXPECT_EQ(m, 0) << "a backing track marks nothing missing";
  return out;
}

TEST(BackingTrack, PlaysItsChunksAtTheirTimelinePlaceWhileThePlayingGenerationMatches) {
  Transport transport;
  BackingTrack t(transport, 2, 256);
  t.want(1, 1, 100, 100 + 1024, true);
  push(t, 1, 100, 512, ramp);
  push(t, 1, 612, 512, ramp);
  // Stopped: silence, and the chunks wait.
  EXPECT_EQ(block(t, 5000, 64), std::vector<float>(64, 0.0f));
  // Playing generation 1 with timeline 0 at play-out position 1000: timeline 90..154 is
  // play-out 1090..1154; the track starts at 100.
  transport = Transport{.playing = true, .origin = 1000, .generation = 1};
  const auto b = block(t, 1090, 64, 1);
  for (std::size_t i = 0; i < 64; ++i) {
    const MediaTime tl = 90 + static_cast<MediaTime>(i);
    EXPECT_FLOAT_EQ(b[i], tl < 100 ? 0.0f : ramp(tl, 1)) << "frame " << i;
  }
  // Across the seam of two chunks.
  const auto c = block(t, 1000 + 580, 64);
  for (std::size_t i = 0; i < 64; ++i) EXPECT_FLOAT_EQ(c[i], ramp(580 + static_cast<MediaTime>(i), 0));
  EXPECT_EQ(t.underruns(), 0u);
}

TEST(BackingTrack, TheReadInPlayGoesOnUntilTheCommandForTheNewOneLands) {
  Transport transport{.playing = true, .origin = 0, .generation = 1};
  BackingTrack t(transport, 1, 256);
  t.want(1, 1, 0, 100000, true);
  push(t, 1, 0, 1024, ramp);
  EXPECT_FLOAT_EQ(block(t, 10, 16)[0], ramp(10, 0));
  // A locate to 50000 is being prepared: generation 2 is wanted and queued, 1 still plays.
  t.want(2, 1, 0, 100000, true);
  push(t, 2, 50000, 1024, ramp);
  const auto before = block(t, 26, 16);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(before[i], ramp(26 + static_cast<MediaTime>(i), 0));
  // The play command lands: timeline 50000 at play-out 42, the rest of read 1 dropped.
  transport = Transport{.playing = true, .origin = 42 - 50000, .generation = 2};
  const auto b = block(t, 42, 32);
  for (std::size_t i = 0; i < 32; ++i) EXPECT_FLOAT_EQ(b[i], ramp(50000 + static_cast<MediaTime>(i), 0));
  EXPECT_EQ(t.underruns(), 0u) << "a read waiting for its command is not an underrun";
}

TEST(BackingTrack, StoppedAnOldReadIsDroppedAtOnceToMakeRoomForTheNewOne) {
  Transport transport{.playing = false, .stopped_at = 0, .generation = 1};
  BackingTrack t(transport, 1, 256);
  t.want(1, 1, 0, 1000000, true);
  while (t.chunks().begin_write() != nullptr) push(t, 1, 0, 16, ramp);  // the ring full of read 1
  t.want(2, 1, 0, 1000000, true);
  block(t, 0, 16);
  EXPECT_NE(t.chunks().begin_write(), nullptr) << "room for read 2";
  EXPECT_EQ(t.chunks().size(), 0u);
}

TEST(BackingTrack, UnderrunsCountOnlyFramesInsideTheTrackWithNothingRead) {
  Transport transport{.playing = true, .origin = 0, .generation = 3};
  BackingTrack t(transport, 1, 256);
  t.want(3, 1, 1000, 2000, true);
  EXPECT_EQ(block(t, 900, 200), std::vector<float>(200, 0.0f));
  EXPECT_EQ(t.underruns(), 100u) << "timeline 1000..1100 had nothing read";
  block(t, 2000, 100);
  EXPECT_EQ(t.underruns(), 100u) << "after its end is silence, not an underrun";
  t.want(3, 1, 1000, 2000, false);
  push(t, 3, 1100, 64, ramp);
  EXPECT_EQ(block(t, 1100, 64), std::vector<float>(64, 0.0f)) << "removed: silent";
  // Added again (another file, same generation): what the old file left is not played.
  push(t, 3, 1200, 64, ramp, 1);
  push(
      t, 3, 1264, 64, [](MediaTime, std::uint32_t) { return 0.5f; }, 2);
  t.want(3, 2, 1000, 2000, true);
  const auto b = block(t, 1200, 128);
  for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(b[i], 0.0f) << "the removed file's frame " << i;
  for (std::size_t i = 64; i < 128; ++i) EXPECT_EQ(b[i], 0.5f) << "the new file's frame " << i;
}

//! A WAV of `frames` frames at `rate`: a 441 Hz sine (a whole number of cycles at both
//! 44.1 and 48 kHz) at -12 dBFS.
std::filesystem::path write_sine(const std::string& name, int rate, int frames) {
  const auto path = std::filesystem::temp_directory_path() / name;
  SF_INFO info{.frames = 0, .samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_24};
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(f, nullptr);
  std::vector<float> x(static_cast<std::size_t>(frames));
  for (int i = 0; i < frames; ++i)
    x[static_cast<std::size_t>(i)] = 0.25f * std::sin(2.0f * 3.14159265f * 441.0f * i / rate);
  sf_writef_float(f, x.data(), frames);
  sf_close(f);
  return path;
}

//! Frames [from, from + n) of a file read in pieces of `piece` frames, as a read from
//! `from` goes on (a restart first, as a new play or locate does).
std::vector<float> read_in_pieces(BackingFile& f, MediaTime from, std::uint32_t n, std::uint32_t piece) {
  std::vector<float> out(n);
  f.restart();
  for (std::uint32_t i = 0; i < n;) {
    const std::uint32_t got = f.read(from + i, out.data() + i, std::min(piece, n - i));
    if (got == 0) break;
    i += got;
  }
  return out;
}

TEST(BackingFile, ReadsOfAnySizeGiveTheSameSamplesSoARenderRepeatsTheLiveReader) {
  const auto path = write_sine("tl_backing_file_44k.wav", 44100, 44100);
  BackingFile live("s", 48000), render("s", 48000);
  ASSERT_TRUE(live.open(path));
  ASSERT_TRUE(render.open(path));
  EXPECT_EQ(live.frames(), 48000);
  // The live reader's 1024-frame chunks and a render's 48-frame blocks (and a 37-frame
  // one: a block cut short by a change), from the start and from a frame off the grid.
  for (const MediaTime from : {MediaTime{0}, MediaTime{20001}}) {
    const auto chunks = read_in_pieces(live, from, 9000, 1024);
    EXPECT_EQ(read_in_pieces(render, from, 9000, 48), chunks) << "from " << from;
    EXPECT_EQ(read_in_pieces(render, from, 9000, 37), chunks) << "from " << from;
    EXPECT_GT(*std::max_element(chunks.begin(), chunks.end()), 0.2f) << "and not silence";
  }
  BackingFile many("m", 48000);
  EXPECT_FALSE(many.open("/nonexistent.wav"));
  std::filesystem::remove(path);
}

//! A backing track through the real engine and reader: plays timeline [from, from + n)
//! after a play command at `from`, returns the mix's left side.
struct Desk {
  Rig rig;
  BackingTracks backing{rig.registry, rig.engine, 48000};
  std::vector<float> l = std::vector<float>(kBlock), r = std::vector<float>(kBlock);
  Desk() {
    rig.engine.start_at(0);
    backing.start();
  }
  //! One mix block, its output dropped.
  void tick() {
    rig.engine.process(l, r);
    MixChunk chunk;
    while (rig.chunks.try_pop(chunk)) {
    }
  }
  //! Waits for the read of generation g with the mix running, as a mixer's clock runs it
  //! (the mix thread drops the last read's chunks and so makes room for the new one).
  bool wait_ready(std::uint64_t g) {
    return wait([&] {
      tick();
      return backing.ready(g);
    });
  }
  std::vector<float> play(MediaTime from, std::size_t n, TimelineLoop loop = {}) {
    const std::uint64_t g = backing.prepare(from, loop);
    EXPECT_TRUE(wait_ready(g));
    MixCommand cmd{.kind = MixCommand::Kind::Transport, .value = kTransportPlay};
    cmd.at = from;
    cmd.generation = g;
    cmd.loop = loop;
    EXPECT_TRUE(rig.engine.post(cmd));
    std::vector<float> heard;
    while (heard.size() < n) {
      // At the pace of a mixer's clock (a block of 1 ms), which the reader keeps ahead of.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      rig.engine.process(l, r);
      heard.insert(heard.end(), l.begin(), l.end());
      MixChunk chunk;
      while (rig.chunks.try_pop(chunk)) {
      }
    }
    heard.resize(n);
    return heard;
  }
  static bool wait(const std::function<bool()>& ready) {
    for (int i = 0; i < 2000 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return ready();
  }
};

TEST(BackingTracks, AFileOnItsStripPlaysInTheMixFromThePlayPosition) {
  Desk d;
  const auto path = write_sine("tl_backing_48k.wav", 48000, 48000);
  auto added = d.backing.add(path, "sine", 1000);
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_TRUE(added->fresh);
  EXPECT_EQ(added->track.frames(), 48000);
  EXPECT_TRUE(added->slot->fed_frames());
  EXPECT_FALSE(d.backing.add(path, "sine", 0).ok()) << "the name is taken";
  EXPECT_FALSE(d.backing.add(path, "bad/name", 0).ok());
  EXPECT_FALSE(d.backing.add("/nonexistent.wav", "x", 0).ok());
  d.rig.engine.post({.kind = MixCommand::Kind::Pan, .node = added->slot->id, .channel = 0, .value = -1.0f});
  const auto heard = d.play(900, 4800);
  // Timeline 900 plays first: 100 frames before the track, then the file from frame 0.
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(heard[i], 0.0f) << i;
  for (std::size_t i = 100; i < heard.size(); ++i) {
    const float want =
        std::nearbyint(0.25f * std::sin(2.0f * 3.14159265f * 441.0f * (i - 100) / 48000) * 8388608.0f) /
        8388608.0f;
    ASSERT_NEAR(heard[i], want, 1.5e-7f) << "frame " << i;
  }
  EXPECT_EQ(d.backing.underruns(), 0u);
  ASSERT_TRUE(d.backing.remove("sine").ok());
  EXPECT_FALSE(d.backing.remove("sine").ok());
  EXPECT_EQ(d.backing.list().tracks_size(), 0);
  d.backing.stop();
  std::filesystem::remove(path);
}

TEST(BackingTracks, AResampledFileLocatedMidWayPlaysWhatPlayingThroughWould) {
  Desk d;
  const auto path = write_sine("tl_backing_44k.wav", 44100, 44100);
  auto added = d.backing.add(path, "s44", 0);
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_EQ(added->track.frames(), 48000);
  EXPECT_EQ(added->track.file_rate(), 44100u);
  d.rig.engine.post({.kind = MixCommand::Kind::Pan, .node = added->slot->id, .channel = 0, .value = -1.0f});
  const auto through = d.play(0, 30000);
  // From 20001: not on a frame where the two rates' grids meet (every 160 frames at 48 kHz).
  const auto located = d.play(20001, 4800);
  float worst = 0.0f;
  for (std::size_t i = 0; i < 4800 && 20001 + i < through.size(); ++i)
    worst = std::max(worst, std::fabs(located[i] - through[20001 + i]));
  std::printf("[ figure ] resampled locate vs playing through: max difference %.2g\n", worst);

  EXPECT_LT(worst, 1e-4f) << "the same samples, to the converter's rounding";
  EXPECT_GT(*std::max_element(located.begin(), located.end()), 0.2f) << "and not silence";
  d.backing.stop();
  std::filesystem::remove(path);
}

TEST(BackingTracks, ALoopPlaysItsRangeLapAfterLapAndSilenceWhereTheTrackIsNot) {
  Desk d;
  const auto path = write_sine("tl_backing_loop.wav", 48000, 48000);
  auto added = d.backing.add(path, "sine", 1000);  // timeline [1000, 49000)
  ASSERT_TRUE(added.ok()) << added.error();
  d.rig.engine.post({.kind = MixCommand::Kind::Pan, .node = added->slot->id, .channel = 0, .value = -1.0f});
  const auto sine_at = [](MediaTime t) {  // the track at timeline t
    if (t < 1000 || t >= 49000) return 0.0f;
    return std::nearbyint(0.25f *
                          std::sin(2.0f * 3.14159265f * 441.0f * static_cast<float>(t - 1000) / 48000) *
                          8388608.0f) /
           8388608.0f;
  };
  // Laps of 5000 frames (not a multiple of the reader's chunks or the mix's blocks), from
  // before the loop; and a loop that runs past the track's end (silence there, every lap).
  for (const TimelineLoop loop :
       {TimelineLoop{.from = 2000, .to = 7000}, TimelineLoop{.from = 45000, .to = 51000}}) {
    const MediaTime from = loop.from - 500;
    const auto heard = d.play(from, 24000, loop);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < heard.size(); ++i) {
      const float want = sine_at(loop.at(from + static_cast<MediaTime>(i)));
      wrong += std::fabs(heard[i] - want) > 1.5e-7f;
    }
    EXPECT_EQ(wrong, 0u) << "loop " << loop.from << ".." << loop.to;
    const auto played = static_cast<MediaTime>((heard.size() + kBlock - 1) / kBlock * kBlock);
    EXPECT_EQ(d.rig.engine.transport_position(), loop.at(from + played))
        << "the transport shows the folded place";
    EXPECT_TRUE(d.rig.engine.transport_looping());
  }
  EXPECT_EQ(d.backing.underruns(), 0u) << "the reader kept ahead across every wrap";
  d.backing.stop();
  std::filesystem::remove(path);
}

TEST(BackingTracks, TheMixThreadNeverAllocatesWhilePlayingABackingTrack) {
  Desk d;
  const auto path = write_sine("tl_backing_alloc.wav", 48000, 24000);
  ASSERT_TRUE(d.backing.add(path, "a", 0).ok());
  const std::uint64_t g = d.backing.prepare(0);
  ASSERT_TRUE(d.wait_ready(g));
  MixCommand cmd{.kind = MixCommand::Kind::Transport, .value = kTransportPlay};
  cmd.generation = g;
  ASSERT_TRUE(d.rig.engine.post(cmd));
  const auto before = test::realtime_allocations();
  for (int b = 0; b < 200; ++b) {
    d.rig.engine.process(d.l, d.r);
    MixChunk chunk;
    while (d.rig.chunks.try_pop(chunk)) {
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  d.backing.stop();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tl::mixer
