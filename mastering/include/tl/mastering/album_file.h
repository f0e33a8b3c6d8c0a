#pragma once
//! An album kept as a TOML file (tl-master --album-file ALBUM.toml -o FOLDER): its
//! title and performer, how it is delivered, and its songs in order, each with the
//! transition into the next: seconds of silence (a gap, 2 s unless given) or of
//! overlap (an equal-power crossfade). A key the format does not know, a wrong type or
//! a bad value is an error that names the file, the song and the key: a typo must never
//! master quietly with a default.
//!
//!   title = "Night Drive"
//!   performer = "The Example Band"
//!   catalog = "0123456789012"     # optional: the UPC/EAN, 13 digits (CUE CATALOG)
//!   preset = "streaming"          # a delivery preset, or a preset file (FILE.toml)
//!   target_lufs = -14.0           # optional, over the preset's
//!   ceiling_dbtp = -1.0
//!   bits = 24                     # 16, 24 or 32
//!   rate = 44100
//!   format = "wav"                # the songs and the album image: wav, flac or aiff
//!
//!   [[song]]
//!   file = "mixes/opener.wav"     # WAV, FLAC or AIFF, or a take folder; relative to this file
//!   title = "Opener"
//!   performer = "The Example Band feat. A Guest"   # optional: the album's otherwise
//!   isrc = "GBAYE2600001"         # optional: CC XXX YY NNNNN without dashes
//!   gap = 2.0                     # seconds of silence before the next song (2 unless given)
//!
//!   [[song]]
//!   file = "mixes/single.flac"
//!   title = "The Single"
//!   crossfade = 4.0               # seconds this song's end overlaps the next one's start
//!
//!   [[song]]
//!   file = "takes/take-0003"
//!   title = "Ballad"              # the last song: no gap or crossfade after it

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"

namespace tl::mastering {

struct AlbumSong {
  std::string file;          //!< as resolved: relative to the album file's folder
  std::string title;         //!< 1..80 characters (the CUE sheet's limit)
  std::string performer;     //!< "" : the album's
  std::string isrc;          //!< "" or 12 characters, CCXXXYYNNNNN
  double gap_s = 2.0;        //!< silence before the next song (when crossfade_s is 0)
  double crossfade_s = 0.0;  //!< > 0: this song's end overlaps the next song's start this long
};

struct AlbumFile {
  std::string path;
  std::string title, performer;
  std::string catalog;  //!< "" or 13 digits
  //! A delivery preset's name, or a preset file's path (resolved like a song's); "" none.
  std::string preset;
  std::optional<double> target_lufs, ceiling_dbtp;
  std::optional<int> bits;
  std::optional<std::uint32_t> rate;
  std::string format = "wav";  //!< of the songs and the album image: wav, flac or aiff
  std::vector<AlbumSong> songs;
};

//! The longest crossfade an album file may ask for, in seconds.
inline constexpr double kMaxCrossfadeSeconds = 30.0;
//! The longest gap, in seconds.
inline constexpr double kMaxGapSeconds = 60.0;

//! True for an ISRC as a CUE sheet holds it: 12 characters, CCXXXYYNNNNN (country: two
//! letters, registrant: three letters or digits, year: two digits, designation: five).
bool valid_isrc(std::string_view isrc) noexcept;

//! Reads and checks an album file (the songs' files are not opened here).
Result<AlbumFile> load_album_file(const std::string& path);

}  // namespace tl::mastering
