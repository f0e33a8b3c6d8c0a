#pragma once
//! A mastering preset in a TOML file: a delivery target and the chain's stages, kept
//! and shared as a file (tl-master --preset FILE.toml). Every key is optional; what a
//! file leaves out comes from its `delivery` preset (streaming unless named; its stages too,
//! as vinyl's high-pass, mono bass and de-esser, each replaced by the file's), and a
//! command-line option overrides the file. A key the format does not know, a value of
//! the wrong type or out of range is an error that names the file, the key and why:
//! a typo must never master quietly with a default.
//!
//!   name = "warm streaming"
//!   delivery = "streaming"      # a built-in preset for the target and ceiling
//!   target_lufs = -14.0
//!   ceiling_dbtp = -1.0
//!   bits = 24                   # 16, 24 or 32
//!   rate = 44100                # the output's sample rate (resampled when it differs)
//!   limiter = true
//!   width = 1.1                 # side level, 0..2
//!   highpass = 25.0             # Hz, 10..200 (0: none); 24 dB/oct
//!   mono_bass = 150.0           # Hz, 20..500 (0: none): the side under it removed
//!   side_minutes = 22.0         # with delivery = "vinyl": the longest side before a warning
//!
//!   [deess]                     # after the EQ; off unless here (or in the delivery preset;
//!                               # deess = false turns that one off)
//!   threshold = -20.0           # dBFS of the 5-10 kHz band where the chain runs
//!   ratio = 4.0                 # 1..20 (4)
//!   range = 6.0                 # dB, the most it cuts, 0..24 (6)
//!   low = 5000.0                # Hz, the band's edges (5000, 10000)
//!   high = 10000.0
//!
//!   eq_linear = false           # true: the [[eq]] bands as one linear-phase FIR
//!
//!   [[eq]]                      # up to 8, run in order
//!   type = "low-shelf"          # low-shelf, peak or high-shelf
//!   freq = 90.0                 # Hz
//!   gain = -1.0                 # dB
//!   q = 0.707                   # optional
//!
//!   [multiband]
//!   splits = [150.0, 2500.0]    # Hz: two splits, three bands
//!   threshold = -24.0           # every band's, unless its own says otherwise
//!   ratio = 2.0
//!   [[multiband.band]]          # optional; one per band, low to high
//!   threshold = -26.0
//!   ratio = 2.5
//!   attack_ms = 30.0
//!   release_ms = 250.0
//!   knee_db = 6.0
//!   makeup_db = 0.0
//!   on = true
//!
//!   [saturation]                # after the other stages
//!   drive = 4.0                 # dB, 0..24
//!   mix = 0.5                   # wet share, 0..1 (1)
//!   bias = 0.05                 # asymmetry, 0..0.3 (0)

#include <cstdint>
#include <optional>
#include <string>

#include "tl/common/result.h"
#include "tl/mastering/chain.h"

namespace tl::mastering {

struct PresetFile {
  std::string path;
  std::string name;      //!< its own name ("" when it gives none)
  std::string delivery;  //!< the built-in preset it builds on ("" when it names none)
  std::optional<double> target_lufs, ceiling_dbtp;
  std::optional<int> bits;
  std::optional<std::uint32_t> rate;
  std::optional<bool> limiter;
  std::optional<double> side_minutes;  //!< the vinyl checks' longest side
  ChainSettings chain;                 //!< the delivery preset's stages with the file's over them
};

//! Reads and checks a preset file (the chain's values with check() at 192 kHz; master_file
//! checks them again at the input's own rate).
Result<PresetFile> load_preset_file(const std::string& path);

}  // namespace tl::mastering
