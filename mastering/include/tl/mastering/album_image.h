#pragma once
//! An album file mastered into a folder: every song mastered with one gain for all
//! (master_album: the album as a whole on the target, each song under the ceiling), each
//! written as FOLDER/"NN Title.ext"; those masters laid end to end into one continuous
//! image, FOLDER/album.ext, with the album file's gaps (silence) and crossfades (equal
//! power); and FOLDER/album.cue, the CUE sheet of that image: the album's and each
//! track's TITLE, PERFORMER and ISRC, INDEX 00 where a gap before a song starts and
//! INDEX 01 where the song does.
//!
//! CUE positions count CD frames (75 a second), so every song starts in the image on a
//! whole CD frame (rate / 75 samples: 588 at 44.1 kHz, 640 at 48 kHz): a gap is rounded
//! to the nearest length that puts the next song on one (never shorter than nothing: a
//! gap of 0 may get up to one CD frame of silence), and a crossfade's overlap likewise.
//! Every INDEX 01 times rate / 75 is exactly the sample where its song's first sample
//! sits in the image. Outside crossfades the image holds the songs' files sample for
//! sample. A crossfade sums two songs and can cross the ceiling: the image's true peak
//! is measured (PreciseTruePeak), and a crossfade over the ceiling is an error naming it
//! and by how much; nothing is delivered over the ceiling.

#include <cstdint>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/mastering/album_file.h"
#include "tl/mastering/master.h"

namespace tl::mastering {

//! Where a song sits in the album image, in frames at the output's rate.
struct SongPlacement {
  std::int64_t start = 0;    //!< its first sample (a whole number of CD frames)
  std::int64_t frames = 0;   //!< its length
  std::int64_t fade_in = 0;  //!< frames it overlaps the song before (a crossfade), 0 after a gap
  std::int64_t pregap = -1;  //!< where the silence before it starts, on a CD frame (INDEX 00); -1: none
};

//! Samples in one CD frame at rate (rate / 75), or an error when rate has no whole number.
Result<std::int64_t> samples_per_cd_frame(std::uint32_t rate);

//! The songs laid out in the image: lengths[i] frames each, the transitions of songs[i]
//! (gap_s, crossfade_s). An error when a crossfade is longer than a song leaves room for.
Result<std::vector<SongPlacement>> place_songs(const std::vector<std::int64_t>& lengths,
                                               const std::vector<AlbumSong>& songs, std::uint32_t rate);

//! A position as a CUE sheet writes it, mm:ss:ff (75 frames a second); frame is a whole
//! number of CD frames.
std::string cue_time(std::int64_t frame, std::uint32_t rate);

//! A song's file name in the folder: "NN Title.ext", characters a file system refuses
//! (/ \ : * ? " < > |, control characters) replaced by '_'.
std::string song_file_name(std::size_t number, const std::string& title, const std::string& format);

struct AlbumImageReport {
  AlbumReport album;  //!< the songs' masters (one gain) and the album's figures as one programme
  std::vector<SongPlacement> placement;
  std::string image, cue;
  LoudnessFigures image_figures;  //!< the image as written (gaps and crossfades included)
  //! The image's true peak from each join (a crossfade's start, or the end of the song
  //! before a gap) to the next, in order: one per song but the last.
  std::vector<double> join_dbtp;
};

//! Masters the album into folder (which must exist): FOLDER/NN Title.ext per song,
//! FOLDER/album.ext and FOLDER/album.cue, all new files. Written all or none. The songs'
//! files are album.songs[i].file (WAV, FLAC or AIFF: a take folder is mixed by the caller
//! first); the output's format from album.format, its depth and rate from settings.
Result<AlbumImageReport> master_album_file(const AlbumFile& album, const std::string& folder,
                                           const MasterSettings& settings, const Progress& progress = {});

}  // namespace tl::mastering
