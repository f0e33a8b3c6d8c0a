#pragma once
//! Mastering a file to a delivery target: the tone stages (chain.h: EQ, multiband
//! compression, width; none unless set), gain to an integrated loudness (BS.1770),
//! a look-ahead true-peak limiter under a ceiling, conversion to another sample rate
//! when asked (resample.h), TPDF dither when the output is 16-bit, and the output
//! measured again from the file written, so its figures (true peak included, after the
//! conversion and the dither) are the file's, not the chain's. A target the chain
//! cannot reach is an error, never a quiet change of method.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tl/common/result.h"
#include "tl/mastering/analysis.h"
#include "tl/mastering/chain.h"
#include "tl/mastering/vinyl.h"

namespace tl::mastering {

struct Preset {
  std::string_view name;
  double target_lufs;
  double ceiling_dbtp;
  std::string_view what;   //!< who asks for it, for --list-presets and the README
  std::uint32_t rate = 0;  //!< the delivery's sample rate; 0: the input's
  int bits = 0;            //!< the delivery's depth; 0: the input's
  bool limiter = true;     //!< off: gain only (a gain over the ceiling is refused)
  // Its own stages (ChainSettings; 0 or none: off) and checks.
  double highpass_hz = 0.0;
  double mono_bass_hz = 0.0;
  std::optional<dsp::DeEsserParams> deess;
  bool vinyl_checks = false;  //!< the master is read for a cutting engineer (vinyl.h)
};

//! The stages a preset brings (the high-pass, mono bass and de-esser it names; no others).
ChainSettings chain_of(const Preset& preset);

//! The sample rates a delivery may be converted to (--rate, a preset file's rate).
inline constexpr std::array<std::uint32_t, 6> kDeliveryRates{44100, 48000, 88200, 96000, 176400, 192000};
//! The depths a delivery may be written in: 16 (dithered), 24, 32 (float).
inline constexpr std::array<int, 3> kDeliveryBits{16, 24, 32};
//! "44100, 48000, ... or 192000": the list for a message.
std::string delivery_rates_text();

//! The delivery presets: streaming, apple, ebu-r128, atsc-a85, cd, vinyl.
std::span<const Preset> presets() noexcept;
std::optional<Preset> find_preset(std::string_view name) noexcept;

struct MasterSettings {
  double target_lufs = -14.0;
  double ceiling_dbtp = -1.0;
  bool limiter = true;        //!< off: gain only; a gain that would cross the ceiling is an error
  int bits = 0;               //!< 16, 24 or 32 (float); 0: the input's (24 for other depths)
  std::uint32_t rate = 0;     //!< output rate (8 kHz to 384 kHz); 0: the input's
  double tolerance_lu = 0.2;  //!< how close to the target a render must land, or it is done again
  ChainSettings chain;        //!< the tone stages before the gain (none by default)
  //! Checks for a cutting engineer on the master as written (warnings; none: not made).
  std::optional<VinylChecks> vinyl;
};

//! Everything a delivery preset sets, as settings (its target, ceiling, limiter, rate,
//! depth, stages and checks), for a caller with no options of its own over it.
MasterSettings settings_of(const Preset& preset);

struct MasterReport {
  std::string input, output;
  LoudnessFigures before, after;
  //! Loudness over time: of what the gain worked on (the chain's output, or the input)
  //! and of the master as written.
  std::vector<LoudnessPoint> before_curve, after_curve;
  std::string chain = "none";             //!< ChainSettings::describe()
  std::optional<LoudnessFigures> shaped;  //!< the chain's output, before gain (when there is a chain)
  double gain_db = 0.0;
  double ceiling_used_dbtp = 0.0;  //!< the limiter's ceiling in the last pass
  int passes = 0;                  //!< renders (the last one measured again from its file)
  int bits = 24;
  std::uint32_t rate = 0;  //!< the output's
  bool resampled = false;  //!< the output's rate is not the input's
  bool dithered = false;
  std::vector<VinylWarning> warnings;  //!< MasterSettings::vinyl's findings on this file
};

//! Fraction done (0..1) of the whole job and what it is doing now.
using Progress = std::function<void(double done, std::string_view stage)>;

//! Masters input into output, a new file (never the input, never one that exists).
//! Written as output + ".part" and renamed when it is measured and within the targets.
Result<MasterReport> master_file(const std::string& input, const std::string& output,
                                 const MasterSettings& settings, const Progress& progress = {});

//! An album (or any set of tracks) mastered as one programme: one gain for every track,
//! so their levels keep their relations (a quiet ballad stays quieter than the single),
//! aimed so the album as a whole (BS.1770 over every track in turn) lands on the target;
//! every track under the ceiling. The tracks share one rate and channel count.
struct AlbumReport {
  std::vector<MasterReport> tracks;  //!< each track's own figures, in order
  LoudnessFigures before, after;     //!< the album's (before: what the gain worked on)
  double gain_db = 0.0;
  double ceiling_used_dbtp = 0.0;
  int passes = 0;
  std::vector<VinylWarning> warnings;  //!< every track's, and the side's length
};

//! Masters inputs[i] into outputs[i] (new files, as master_file). All are written, or
//! none: each as OUTPUT.part until every one is measured and within the targets.
Result<AlbumReport> master_album(const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs, const MasterSettings& settings,
                                 const Progress& progress = {});

//! Measures a file (the figures of LoudnessFigures; its loudness over time into curve).
Result<LoudnessFigures> measure_file(const std::string& path, const Progress& progress = {},
                                     std::vector<LoudnessPoint>* curve = nullptr);

}  // namespace tl::mastering
