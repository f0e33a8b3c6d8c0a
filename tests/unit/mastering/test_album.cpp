#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"
#include "tl/mastering/album_file.h"
#include "tl/mastering/album_image.h"
#include "wav.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

using Signal = std::function<double(std::int64_t frame, int channel)>;

// A 24-bit stereo WAV of frames frames: f(frame, channel) in full-scale units.
std::string write_song(const std::string& path, int rate, std::int64_t frames, const Signal& f) {
  std::vector<std::int32_t> samples(static_cast<std::size_t>(frames) * 2);
  for (std::int64_t i = 0; i < frames; ++i) {
    for (int c = 0; c < 2; ++c) {
      const double v = std::clamp(f(i, c), -1.0, 1.0);
      samples[static_cast<std::size_t>(i * 2 + c)] =
          static_cast<std::int32_t>(std::lround(v * 8388607.0)) * 256;
    }
  }
  EXPECT_TRUE(test::write_wav(path, rate, 2, SF_FORMAT_PCM_24, samples)) << path;
  return path;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The frame of the largest |left sample| in [from, to).
std::int64_t loudest(const test::Audio& a, std::int64_t from, std::int64_t to) {
  std::int64_t at = from;
  for (std::int64_t i = from; i < std::min(to, a.frames()); ++i) {
    if (std::abs(static_cast<double>(a.samples[static_cast<std::size_t>(2 * i)])) >
        std::abs(static_cast<double>(a.samples[static_cast<std::size_t>(2 * at)])))
      at = i;
  }
  return at;
}

class AlbumTest : public ::testing::Test {
 protected:
  std::string dir_ = test::make_work_dir(std::string("album_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
};

TEST(AlbumFile, IsrcIsTwelveCharactersInItsFourFields) {
  EXPECT_TRUE(valid_isrc("GBAYE2600001"));
  EXPECT_TRUE(valid_isrc("USRC17607839"));
  EXPECT_TRUE(valid_isrc("DE12A2600123"));      // a registrant of letters and digits
  EXPECT_FALSE(valid_isrc("GB-AYE-26-00001"));  // dashes are for people, not the CUE sheet
  EXPECT_FALSE(valid_isrc("GBAYE260001"));      // 11
  EXPECT_FALSE(valid_isrc("gbaye2600001"));     // lower case
  EXPECT_FALSE(valid_isrc("1BAYE2600001"));     // the country is two letters
  EXPECT_FALSE(valid_isrc("GBAYE26A0001"));     // the number is digits
}

TEST(AlbumFile, SongsLandOnWholeCdFramesAndCueTimesCountThem) {
  // 44.1 kHz: 588 samples a CD frame. A 2 s gap after 100000 frames: the next song at
  // the CD frame nearest 188200 (320 frames of 588 = 188160); a 0 s gap rounds up (never
  // into the song before); a 1 s crossfade overlaps by the nearest whole-frame start.
  std::vector<AlbumSong> songs(4);
  songs[0].gap_s = 2.0;
  songs[1].gap_s = 0.0;
  songs[2].crossfade_s = 1.0;
  songs[2].gap_s = 0.0;
  auto p = place_songs({100000, 50000, 60000, 70000}, songs, 44100);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ((*p)[0].start, 0);
  EXPECT_EQ((*p)[1].start, 188160);
  EXPECT_EQ((*p)[1].pregap, 100548);  // the first CD frame after song 1's end
  EXPECT_EQ((*p)[2].start, 238728);   // 188160 + 50000 = 238160 -> up to 406 x 588
  EXPECT_EQ((*p)[2].pregap, -1);      // no whole CD frame of silence before it
  EXPECT_EQ((*p)[3].start, 254604);   // 238728 + 60000 - 44100 = 254628 -> 433 x 588
  EXPECT_EQ((*p)[3].fade_in, 238728 + 60000 - 254604);
  for (const auto& s : *p) EXPECT_EQ(s.start % 588, 0);
  EXPECT_EQ(cue_time(44100 * 61 + 588 * 3, 44100), "01:01:03");
  EXPECT_EQ(cue_time(48000 * 2 + 640 * 74, 48000), "00:02:74");
  // A crossfade longer than the next song, and a rate without whole CD frames.
  songs[2].crossfade_s = 2.0;
  auto bad = place_songs({100000, 50000, 60000, 30000}, songs, 44100);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("song 3"), std::string::npos) << bad.error();
  bad = place_songs({100000, 50000, 60000, 70000}, songs, 32000);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("75 frames"), std::string::npos) << bad.error();
  EXPECT_EQ(song_file_name(3, "AC/DC: live?", "wav"), "03 AC_DC_ live_.wav");
}

TEST_F(AlbumTest, AnAlbumFileBecomesSongsAnImageAndACueSheetWhoseIndicesAreExact) {
  // Three songs at three levels and pitches, each a click on the sample a CUE index must
  // find (the third's 1 s in, past its crossfade), lengths not whole CD frames; a 1.5 s
  // gap after the first, a 0.5 s crossfade from the second into the third.
  constexpr int rate = 44100;
  const auto song = [&](const std::string& name, std::int64_t frames, double level, double hz,
                        std::int64_t click) {
    return write_song(path(name), rate, frames, [=](std::int64_t i, int c) {
      if (i == click) return 0.9;
      return level * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate + 0.4 * c);
    });
  };
  fs::create_directories(path("mixes"));
  const std::vector<std::int64_t> clicks{0, 0, rate};
  const std::vector<std::string> in{song("mixes/one.wav", 189630, 0.04, 220.0, clicks[0]),
                                    song("mixes/two.wav", 224911, 0.12, 330.0, clicks[1]),
                                    song("mixes/three.wav", 207270, 0.08, 495.0, clicks[2])};
  write_text(path("album.toml"), R"(title = "Test Album"
performer = "The Testers"
catalog = "0123456789012"
preset = "apple"

[[song]]
file = "mixes/one.wav"
title = "One: the Ballad"
isrc = "GBAYE2600001"
gap = 1.5

[[song]]
file = "mixes/two.wav"
title = "Two"
performer = "The Testers feat. A Guest"
isrc = "GBAYE2600002"
crossfade = 0.5

[[song]]
file = "mixes/three.wav"
title = "Three"
)");
  auto album = load_album_file(path("album.toml"));
  ASSERT_TRUE(album) << album.error();
  EXPECT_EQ(album->preset, "apple");
  ASSERT_EQ(album->songs.size(), 3u);
  EXPECT_EQ(album->songs[0].file, in[0]);
  EXPECT_DOUBLE_EQ(album->songs[0].gap_s, 1.5);
  EXPECT_DOUBLE_EQ(album->songs[1].crossfade_s, 0.5);
  // As the input (44.1 kHz, 24-bit: 588 samples a CD frame), and converted to 48 kHz and
  // 16 bits (640; the crossfade dithered).
  struct Delivery {
    std::uint32_t rate;
    int bits;
    const char* folder;
  };
  for (const Delivery d : {Delivery{0, 0, "out"}, Delivery{48000, 16, "out48"}}) {
    SCOPED_TRACE(d.folder);
    const int out_rate = d.rate != 0 ? static_cast<int>(d.rate) : rate;
    const std::int64_t per_cd_frame = out_rate / 75;
    const auto out = [&](const std::string& name) { return path(std::string(d.folder) + "/" + name); };
    fs::create_directories(out(""));
    const MasterSettings settings{.target_lufs = -16.0, .ceiling_dbtp = -1.0, .bits = d.bits, .rate = d.rate};
    auto r = master_album_file(*album, out(""), settings);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->image, out("album.wav"));
    const std::vector<std::string> outs{out("01 One_ the Ballad.wav"), out("02 Two.wav"),
                                        out("03 Three.wav")};
    for (const auto& o : outs) EXPECT_TRUE(fs::exists(o)) << o;

    // Each song's loudness moved by the one album gain (within 0.5 LU), measured by libebur128.
    for (std::size_t k = 0; k < 3; ++k) {
      const double change =
          test::integrated_lufs(test::read_audio(outs[k])) - test::integrated_lufs(test::read_audio(in[k]));
      EXPECT_NEAR(change, r->album.gain_db, 0.5) << outs[k];
      std::printf("song %zu: loudness change %+.3f LU, album gain %+.3f dB\n", k + 1, change,
                  r->album.gain_db);
    }

    // The CUE sheet: titles, performers, ISRCs; each INDEX 01 x 588 is where that song's
    // first sample sits in the image, found from the content: its click.
    const std::string sheet = test::read_file(out("album.cue"));
    EXPECT_NE(sheet.find("FILE \"album.wav\" WAVE"), std::string::npos) << sheet;
    EXPECT_NE(sheet.find("CATALOG 0123456789012"), std::string::npos) << sheet;
    EXPECT_NE(sheet.find("TITLE \"Test Album\""), std::string::npos) << sheet;
    EXPECT_NE(sheet.find("TITLE \"One: the Ballad\""), std::string::npos) << sheet;
    EXPECT_NE(sheet.find("PERFORMER \"The Testers feat. A Guest\""), std::string::npos) << sheet;
    EXPECT_NE(sheet.find("ISRC GBAYE2600002"), std::string::npos) << sheet;
    std::vector<std::int64_t> index01, index00;
    // "INDEX 0N mm:ss:ff" lines (read by hand: GCC 12's <regex> trips its own
    // maybe-uninitialized warning under the sanitizers, and CI makes warnings errors).
    for (std::size_t at = sheet.find("INDEX "); at != std::string::npos; at = sheet.find("INDEX ", at + 1)) {
      const std::string which = sheet.substr(at + 6, 2), mm = sheet.substr(at + 9, 2),
                        ss = sheet.substr(at + 12, 2), ff = sheet.substr(at + 15, 2);
      ASSERT_TRUE(which == "00" || which == "01") << sheet.substr(at, 20);
      ASSERT_EQ(sheet[at + 11], ':');
      ASSERT_EQ(sheet[at + 14], ':');
      const std::int64_t cd = (std::stoll(mm) * 60 + std::stoll(ss)) * 75 + std::stoll(ff);
      (which == "01" ? index01 : index00).push_back(cd * per_cd_frame);
    }
    ASSERT_EQ(index01.size(), 3u) << sheet;
    ASSERT_EQ(index00.size(), 1u) << sheet;  // the gap before song 2
    const test::Audio image = test::read_audio(r->image);
    std::vector<std::int64_t> lengths;
    ASSERT_EQ(image.rate, out_rate);
    EXPECT_EQ(image.format & SF_FORMAT_SUBMASK, d.bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24);
    for (std::size_t k = 0; k < 3; ++k) {
      const test::Audio master = test::read_audio(outs[k]);
      const std::int64_t click_in_song = loudest(master, 0, master.frames());
      EXPECT_EQ(click_in_song, clicks[k] * out_rate / rate) << "the master keeps its click where it was";
      lengths.push_back(master.frames());
      // Search a second either side of where the sheet says, so a wrong index would show.
      const std::int64_t from = std::max<std::int64_t>(0, index01[k] + click_in_song - out_rate / 2);
      const std::int64_t found =
          loudest(image, from, index01[k] + click_in_song + out_rate / 2) - click_in_song;
      EXPECT_EQ(found, index01[k]) << "song " << k + 1;
      EXPECT_EQ(found, r->placement[k].start);
      std::printf("song %zu: INDEX 01 at frame %lld, its first sample found at frame %lld\n", k + 1,
                  static_cast<long long>(index01[k]), static_cast<long long>(found));
      // Past any crossfade, the image holds the master sample for sample.
      const std::int64_t fade_in = r->placement[k].fade_in;
      const std::int64_t fade_out = k + 1 < 3 ? r->placement[k + 1].fade_in : 0;
      std::int64_t differ = 0;
      for (std::int64_t i = fade_in; i < master.frames() - fade_out; ++i) {
        for (int c = 0; c < 2; ++c) {
          differ += image.samples[static_cast<std::size_t>((index01[k] + i) * 2 + c)] !=
                    master.samples[static_cast<std::size_t>(i * 2 + c)];
        }
      }
      EXPECT_EQ(differ, 0) << "song " << k + 1;
    }
    // Song 2 after its gap: silence up to its first sample, which is its click.
    EXPECT_EQ(image.samples[static_cast<std::size_t>(index01[1] * 2 - 2)], 0);
    EXPECT_NE(image.samples[static_cast<std::size_t>(index01[1] * 2)], 0);
    EXPECT_GE(index00[0], index01[0] + lengths[0]);
    EXPECT_LT(index00[0], index01[1]);
    EXPECT_NEAR(static_cast<double>(index01[1] - index01[0] - lengths[0]) / out_rate, 1.5, 1.0 / 75);
    EXPECT_NEAR(static_cast<double>(r->placement[2].fade_in) / out_rate, 0.5, 1.0 / 75);
    EXPECT_EQ(image.frames(), index01[2] + lengths[2]);

    // The album image's true peak (crossfade included) under the ceiling, as libebur128 reads it.
    const double tp = test::true_peak_dbtp(image);
    EXPECT_LE(tp, -1.0);
    EXPECT_LE(r->image_figures.true_peak_dbtp, -1.0);
    ASSERT_EQ(r->join_dbtp.size(), 2u);
    std::printf("album (songs as one programme): %.2f LUFS\n", r->album.after.integrated_lufs);
    std::printf("image: %.2f LUFS, true peak %.2f dBTP (libebur128 %.2f); crossfade %.2f dBTP\n",
                r->image_figures.integrated_lufs, r->image_figures.true_peak_dbtp, tp, r->join_dbtp[1]);
    // A second run into the same folder is refused: nothing there is overwritten.
    auto again = master_album_file(*album, out(""), settings);
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().find("exists"), std::string::npos) << again.error();
  }
}

TEST_F(AlbumTest, ACrossfadeOverTheCeilingIsRefusedSayingWhichAndByHowMuch) {
  // Two loud 200 Hz tones in phase (the 0.48 s crossfade is a whole number of their
  // periods and CD frames): each master under the ceiling, their equal-power sum 3 dB over.
  constexpr int rate = 48000;
  for (const char* name : {"a.wav", "b.wav"}) {
    write_song(path(name), rate, 2 * rate, [](std::int64_t i, int) {
      return 0.5 * std::sin(2 * std::numbers::pi * 200.0 * static_cast<double>(i) / rate);
    });
  }
  write_text(path("loud.toml"), R"([[song]]
file = "a.wav"
title = "A"
crossfade = 0.48
[[song]]
file = "b.wav"
title = "B"
)");
  auto album = load_album_file(path("loud.toml"));
  ASSERT_TRUE(album) << album.error();
  fs::create_directories(path("out"));
  auto r = master_album_file(*album, path("out"), {.target_lufs = -3.0, .ceiling_dbtp = -1.0});
  ASSERT_FALSE(r);
  std::printf("%s\n", r.error().c_str());
  EXPECT_NE(r.error().find("the crossfade from song 1 ('A') into song 2 ('B') peaks at"), std::string::npos)
      << r.error();
  EXPECT_NE(r.error().find("dB over the ceiling"), std::string::npos) << r.error();
  EXPECT_TRUE(fs::is_empty(path("out"))) << "all or none";
}

TEST_F(AlbumTest, BadAlbumFilesAreErrorsNamingTheFileTheSongAndTheKey) {
  write_song(path("a.wav"), 44100, 44100,
             [](std::int64_t i, int) { return 0.1 * std::sin(0.05 * static_cast<double>(i)); });
  const auto error = [&](const std::string& text) {
    write_text(path("bad.toml"), text);
    auto a = load_album_file(path("bad.toml"));
    if (!a) return a.error();
    fs::create_directories(path("out"));
    auto r = master_album_file(*a, path("out"), {});
    return r ? std::string("(no error)") : r.error();
  };
  const std::string where = "album '" + path("bad.toml") + "': ";
  std::string e =
      error("[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\n[[song]]\nfile = \"a.wav\"\ntitel = \"B\"\n");
  EXPECT_NE(e.find(where + "song 2: titel: no such key"), std::string::npos) << e;
  e = error("[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\nisrc = \"GB-AYE-26-00001\"\n");
  EXPECT_NE(e.find(where + "song 1: isrc: 12 characters"), std::string::npos) << e;
  e = error("[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\n[[song]]\nfile = \"missing.wav\"\ntitle = \"B\"\n");
  EXPECT_NE(e.find(where + "song 2: '" + path("missing.wav") + "': no such file"), std::string::npos) << e;
  e = error(
      "[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\ngap = -1\n[[song]]\nfile = \"a.wav\"\ntitle = \"B\"\n");
  EXPECT_NE(e.find(where + "song 1: gap: seconds between 0 and 60"), std::string::npos) << e;
  e = error(
      "[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\ngap = 1\ncrossfade = 2\n[[song]]\nfile = \"a.wav\"\ntitle "
      "= \"B\"\n");
  EXPECT_NE(e.find(where + "song 1: crossfade: a song ends in a gap or a crossfade, not both"),
            std::string::npos)
      << e;
  e = error("[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\ncrossfade = 2\n");
  EXPECT_NE(e.find(where + "song 1: crossfade: the last song"), std::string::npos) << e;
  e = error("[[song]]\nfile = \"a.wav\"\n");
  EXPECT_NE(e.find(where + "song 1: title: is needed"), std::string::npos) << e;
  e = error("[[song]]\nfile = \"a.wav\"\ntitle = \"Say \\\"hi\\\"\"\n");
  EXPECT_NE(e.find(where + "song 1: title: a CUE sheet cannot hold a double quote"), std::string::npos) << e;
  e = error("preset = \"loud\"\n[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\n");
  EXPECT_NE(e.find(where + "preset: no delivery preset 'loud'"), std::string::npos) << e;
  e = error("tracks = 3\n");
  EXPECT_NE(e.find(where + "tracks: no such key"), std::string::npos) << e;
  e = error("title = \"X\"\n");
  EXPECT_NE(e.find(where + "song: the album lists its songs"), std::string::npos) << e;
  e = error(
      "[[song]]\nfile = \"a.wav\"\ntitle = \"A\"\ncrossfade = 0.5\n[[song]]\nfile = \"a.wav\"\ntitle = "
      "\"B\"\n"
      "crossfade = 0.7\n[[song]]\nfile = \"a.wav\"\ntitle = \"C\"\n");
  EXPECT_NE(e.find("song 2 ('B'): its crossfade of 0.70 s and the one into it"), std::string::npos) << e;
  EXPECT_TRUE(!fs::exists(path("out")) || fs::is_empty(path("out")));
}

}  // namespace
}  // namespace tl::mastering
