#pragma once
//! Stem mastering: a take's tracks (or files) grouped into stems (drums, bass, vocals...),
//! each through a chain of its own, summed and mastered as one; the processed stems are
//! written too, at the master's gain, so they add up to the master before its limiter.
//!
//! A stems file (TOML) lists them:
//!
//!   [[stem]]
//!   name = "drums"                       # the stem's file name (drums.wav)
//!   tracks = ["kit/1", "kit/2", "kit/*"] # the take's tracks: NODE/CHANNEL or NODE/* (all of it)
//!   gain_db = -1.0                       # a trim before its chain (optional)
//!   width = 1.1                          # and any of a preset file's chain keys:
//!   [[stem.eq]]                          # [[stem.eq]], eq_linear, [stem.multiband],
//!   type = "low-shelf"                   # [stem.saturation]
//!   freq = 60.0
//!   gain = 1.5
//!
//!   [[stem]]
//!   name = "strings"
//!   file = "strings.wav"                 # or a file (relative to the stems file)
//!
//! The program (tl-master TAKE --stems FILE) renders each stem of tracks through the
//! take's mix (tl-render's engine, the other tracks silent) and puts the take's tracks no
//! stem names into one called "rest", so nothing is left out.

#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/mastering/chain.h"
#include "tl/mastering/master.h"

namespace tl::mastering {

struct StemSpec {
  std::string name;
  std::vector<std::string> tracks;  //!< "NODE/CHANNEL" or "NODE/*"; empty with a file
  std::string file;                 //!< a file instead (made absolute against the stems file)
  double gain_db = 0.0;
  ChainSettings chain;
};

struct StemsFile {
  std::string path;
  std::vector<StemSpec> stems;
};

//! Reads and checks a stems file: every key known, every stem named once, tracks or a file,
//! the chain's values as in a preset file. The error names the file, the stem and the key.
Result<StemsFile> load_stems_file(const std::string& path);

//! "NODE/CHANNEL" (a channel from 1) or "NODE/*".
bool valid_track_pattern(std::string_view pattern) noexcept;
//! Whether the track (node, channel from 1) is one the pattern names.
bool track_matches(std::string_view pattern, std::string_view node, unsigned channel) noexcept;

//! A stem ready to master: its audio in a file.
struct StemInput {
  std::string name;
  std::string path;
  double gain_db = 0.0;
  ChainSettings chain;
};

struct StemsReport {
  MasterReport master;
  std::vector<std::string> stem_files;     //!< written, in order
  std::vector<LoudnessFigures> processed;  //!< each stem after its chain (before the master's gain)
};

//! Each stem through its gain and chain (their delays taken out, so they stay aligned),
//! summed, the sum mastered into output with settings (master_file; 24-bit unless
//! settings.bits says otherwise), and each processed
//! stem written as stems_dir/NAME.wav (32-bit float: at the master's gain, before its
//! limiter, a stem may pass 0 dBFS) at the stems' own rate. The stems share one rate (a
//! mono stem joins stereo ones in both channels). All written or none.
Result<StemsReport> master_stems(const std::vector<StemInput>& stems, const std::string& output,
                                 const std::string& stems_dir, const MasterSettings& settings,
                                 const Progress& progress = {});

}  // namespace tl::mastering
