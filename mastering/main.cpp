// tl-master: masters a file to a delivery target (loudness and true-peak ceiling).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tl/common/version.h"
#include "tl/mastering/loudness_plot.h"
#include "tl/mastering/master.h"
#include "tl/mastering/preset_file.h"
#include "tl/mastering/reference_match.h"
#include "tl/mastering/spectrum_plot.h"
#include "tl/mixer/take_render.h"

namespace {

using tl::mastering::LoudnessFigures;

nlohmann::json to_json(const LoudnessFigures& f) {
  return {{"integrated_lufs", f.integrated_lufs},
          {"loudness_range_lu", f.range_lu},
          {"short_term_max_lufs", f.short_term_max_lufs},
          {"true_peak_dbtp", f.true_peak_dbtp},
          {"sample_peak_dbfs", f.sample_peak_dbfs},
          {"plr_db", f.plr()},
          {"seconds", f.seconds}};
}

void print_row(const char* what, const LoudnessFigures& f) {
  std::printf("  %-7s %8.2f LUFS %6.1f LU %8.2f LUFS %8.2f dBTP %8.2f dBFS %6.1f dB\n", what,
              f.integrated_lufs, f.range_lu, f.short_term_max_lufs, f.true_peak_dbtp, f.sample_peak_dbfs,
              f.plr());
}

// The figures in a picture's title.
std::string figures_line(const LoudnessFigures& f) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.1f LUFS integrated, range %.1f LU, true peak %.1f dBTP",
                f.integrated_lufs, f.range_lu, f.true_peak_dbtp);
  return buf;
}

nlohmann::json to_json(const std::vector<tl::mastering::VinylWarning>& warnings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : warnings) {
    nlohmann::json j{{"kind", w.kind}, {"file", w.file}, {"message", w.message}};
    if (w.to_s > 0.0) {
      j["from_s"] = w.from_s;
      j["to_s"] = w.to_s;
    }
    out.push_back(j);
  }
  return out;
}

// One line each; with_file: the file's name first (an album's tracks).
void print_warnings(const std::vector<tl::mastering::VinylWarning>& warnings, bool with_file = false) {
  for (const auto& w : warnings) {
    if (with_file && !w.file.empty()) {
      std::printf("  warning: %s: %s\n", std::filesystem::path(w.file).filename().string().c_str(),
                  w.message.c_str());
    } else {
      std::printf("  warning: %s\n", w.message.c_str());
    }
  }
}

void print_head() {
  std::printf("  %-7s %13s %9s %15s %13s %13s %9s\n", "", "integrated", "range", "short-term max",
              "true peak", "sample peak", "PLR");
}

// --album: every input into the folder out_dir under its own name, one gain for all,
// and a CUE sheet listing them in order. Returns the exit code.
int master_album(const std::vector<std::string>& inputs, const std::string& out_dir,
                 const tl::mastering::MasterSettings& settings, bool json,
                 const tl::mastering::Progress& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (!fs::is_directory(out_dir, ec)) {
    std::fprintf(stderr, "tl-master: --album writes into a folder: cannot make '%s'\n", out_dir.c_str());
    return 1;
  }
  const std::string cue = (fs::path(out_dir) / "album.cue").string();
  if (fs::exists(cue, ec)) {
    std::fprintf(stderr,
                 "tl-master: '%s' exists: tl-master writes new files (remove it, or name another folder)\n",
                 cue.c_str());
    return 1;
  }
  std::vector<std::string> outputs;
  for (const auto& in : inputs) outputs.push_back((fs::path(out_dir) / fs::path(in).filename()).string());
  auto done = tl::mastering::master_album(inputs, outputs, settings, progress);
  if (!done) {
    std::fprintf(stderr, "tl-master: %s\n", done.error().c_str());
    return 1;
  }
  // A CUE sheet of the tracks, one FILE each, in order (for a player or a CD burner).
  std::string sheet = "REM COMMENT \"tl-master --album\"\n";
  for (std::size_t i = 0; i < done->tracks.size(); ++i) {
    const fs::path file = fs::path(done->tracks[i].output).filename();
    const std::string ext = file.extension().string();
    char track[96];
    std::snprintf(track, sizeof track, "  TRACK %02zu AUDIO\n", i + 1);
    sheet += "FILE \"" + file.string() + "\" " + (ext == ".aif" || ext == ".aiff" ? "AIFF" : "WAVE") + "\n";
    sheet += track;
    sheet += "    TITLE \"" + file.stem().string() + "\"\n";
    sheet += "    INDEX 01 00:00:00\n";
  }
  if (std::FILE* f = std::fopen(cue.c_str(), "w")) {
    const bool ok = std::fputs(sheet.c_str(), f) >= 0;
    if (std::fclose(f) != 0 || !ok) {
      std::fprintf(stderr, "tl-master: the tracks are written, but not '%s'\n", cue.c_str());
      return 1;
    }
  } else {
    std::fprintf(stderr, "tl-master: the tracks are written, but not '%s': %s\n", cue.c_str(),
                 std::strerror(errno));
    return 1;
  }
  if (json) {
    nlohmann::json tracks = nlohmann::json::array();
    for (const auto& t : done->tracks) {
      tracks.push_back({{"input", t.input},
                        {"output", t.output},
                        {"before", to_json(t.before)},
                        {"after", to_json(t.after)}});
    }
    nlohmann::json j{{"album", {{"before", to_json(done->before)}, {"after", to_json(done->after)}}},
                     {"tracks", tracks},
                     {"target_lufs", settings.target_lufs},
                     {"ceiling_dbtp", settings.ceiling_dbtp},
                     {"gain_db", done->gain_db},
                     {"limiter_ceiling_dbtp", done->ceiling_used_dbtp},
                     {"renders", done->passes},
                     {"cue", cue}};
    if (settings.vinyl) j["warnings"] = to_json(done->warnings);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("tl-master: %zu tracks -> %s (the album at %.1f LUFS, %.1f dBTP; one gain for all)\n",
              done->tracks.size(), out_dir.c_str(), settings.target_lufs, settings.ceiling_dbtp);
  print_head();
  for (const auto& t : done->tracks) {
    std::printf("  %s\n", fs::path(t.output).filename().string().c_str());
    print_row("before", t.before);
    print_row("after", t.after);
  }
  std::printf("  album\n");
  print_row("before", done->before);
  print_row("after", done->after);
  if (settings.limiter) {
    std::printf("  gain %+.2f dB for every track, limiter ceiling %.2f dBTP, %d render(s); %s\n",
                done->gain_db, done->ceiling_used_dbtp, done->passes, cue.c_str());
  } else {
    std::printf("  gain %+.2f dB for every track, no limiter, %d render(s); %s\n", done->gain_db,
                done->passes, cue.c_str());
  }
  print_warnings(done->warnings, /*with_file=*/true);
  return 0;
}

}  // namespace

// --reference: the input and every reference measured, the match worked out. Errors are
// printed; none: the caller exits 1.
std::optional<tl::mastering::MatchPlan> match(const std::string& input,
                                              const std::vector<std::string>& references,
                                              const tl::mastering::MatchAmounts& amounts,
                                              const tl::mastering::MasterSettings& settings,
                                              const tl::mastering::Progress& progress) {
  std::vector<tl::mastering::Recording> refs;
  for (const auto& path : references) {
    auto r = tl::mastering::measure_recording(path, progress);
    if (!r) {
      std::fprintf(stderr, "\ntl-master: reference: %s\n", r.error().c_str());
      return std::nullopt;
    }
    refs.push_back(std::move(*r));
  }
  auto in = tl::mastering::measure_recording(input, progress);
  if (!in) {
    std::fprintf(stderr, "\ntl-master: %s\n", in.error().c_str());
    return std::nullopt;
  }
  auto plan = tl::mastering::plan_match(*in, refs, amounts, settings);
  if (!plan) {
    std::fprintf(stderr, "\ntl-master: %s\n", plan.error().c_str());
    return std::nullopt;
  }
  return std::move(*plan);
}

nlohmann::json match_json(const tl::mastering::MatchPlan& p,
                          const std::optional<tl::mastering::MatchResult>& m) {
  nlohmann::json bands = nlohmann::json::array();
  for (std::size_t b = 0; b < p.curve.freq_hz.size(); ++b) {
    bands.push_back({{"hz", p.curve.freq_hz[b]},
                     {"mid_db", p.fitted_mid[b]},
                     {"side_db", p.fitted_side[b]},
                     {"reference_mid_db", p.reference_mid[b]},
                     {"input_mid_db", p.input_mid[b]}});
  }
  nlohmann::json j{{"references", p.references},
                   {"amounts",
                    {{"level", p.amounts.level},
                     {"tone", p.amounts.tone},
                     {"width", p.amounts.width},
                     {"limiter", p.amounts.limiter}}},
                   {"reference_lufs", p.reference_lufs},
                   {"reference_plr_db", p.reference_plr_db},
                   {"reference_side_to_mid_db", p.reference_side_to_mid_db},
                   {"input_side_to_mid_db", p.input_side_to_mid_db},
                   {"target_lufs", p.target_lufs},
                   {"ceiling_dbtp", p.ceiling_dbtp},
                   {"width", p.width},
                   {"tone", bands}};
  if (m) {
    j["after"] = {{"worst_mid_db", m->worst_mid_db},
                  {"worst_side_db", m->worst_side_db},
                  {"side_to_mid_db", m->output_side_to_mid_db}};
  }
  return j;
}

int main(int argc, char** argv) {
  CLI::App app{
      "tl-master: masters a WAV, FLAC or AIFF file to a delivery target: optional high-pass, mono bass, "
      "EQ, de-esser, multiband compression and width, then gain to an integrated loudness (ITU-R BS.1770), a "
      "look-ahead true-peak "
      "limiter under a ceiling, conversion to another sample rate (libsoxr) when asked, TPDF dither for "
      "16-bit output; the "
      "output is measured again from the file written. Exit codes: 0 mastered (or measured), 1 the file "
      "could not be mastered (unreadable input, an output that exists, a target out of reach: the message "
      "says which), 2 bad options."};
  app.set_version_flag("--version", std::string(tl::kTracklinkVersion));
  std::string input, output, preset_name;
  std::vector<std::string> inputs;
  bool album = false;
  double target = 0.0, ceiling = 0.0, width = 1.0;
  int bits = 0;
  std::uint32_t rate = 0;
  std::vector<std::string> eq_specs;
  std::string multiband_spec, saturate_spec, deess_spec, plot_path, match_spec, spectrum_plot_path;
  std::vector<std::string> references;
  double highpass = 0.0, mono_bass = 0.0, side_minutes = 22.0;
  bool no_limiter = false, json = false, quiet = false, measure_only = false, list = false, eq_linear = false;
  app.add_option(
      "input", inputs,
      "the file to master (WAV, FLAC or AIFF; mono or stereo; any common rate and depth), or a take "
      "folder: its tracks are mixed first as tl-render mixes them");
  app.add_option("-o,--output", output,
                 "the master to write: a new .wav, .flac, .aif or .aiff (never the input)");
  auto* preset_opt =
      app.add_option("--preset", preset_name,
                     "a delivery preset (--list-presets; default streaming), or a preset file FILE.toml: a "
                     "target and chain kept as a file (mastering/README.md); options override it");
  auto* target_opt =
      app.add_option("--target", target, "integrated loudness to reach, LUFS (overrides the preset's)")
          ->check(CLI::Range(-70.0, 0.0));
  auto* ceiling_opt = app.add_option("--ceiling", ceiling, "true-peak ceiling, dBTP (overrides the preset's)")
                          ->check(CLI::Range(-20.0, 0.0));
  app.add_option("--bits", bits,
                 "output depth: 16 (dithered), 24, or 32 (float); default the preset's, else the input's")
      ->check(CLI::IsMember(
          std::vector<int>(tl::mastering::kDeliveryBits.begin(), tl::mastering::kDeliveryBits.end())));
  auto* rate_opt =
      app.add_option("--rate", rate,
                     "output sample rate, Hz (resampled with libsoxr when it is not the input's); "
                     "default the preset's, else the input's")
          ->check(CLI::IsMember(std::vector<std::uint32_t>(tl::mastering::kDeliveryRates.begin(),
                                                           tl::mastering::kDeliveryRates.end())));
  app.add_option("--eq", eq_specs,
                 "an EQ band, TYPE:FREQ:GAIN[:Q] (TYPE low-shelf, peak or high-shelf; FREQ in Hz, 2.5k; GAIN "
                 "dB; Q 0.707 if left out); repeat for up to 8 bands, run in order")
      ->allow_extra_args(false)
      ->take_all();
  app.add_flag("--eq-linear", eq_linear,
               "run the --eq bands as one linear-phase FIR (no phase shift between frequencies; "
               "the master stays aligned, the render takes longer)");
  app.add_option("--multiband", multiband_spec,
                 "multiband compression, THRESHOLD[:RATIO[:SPLIT,...]]: every band's threshold (dBFS) and "
                 "ratio (2), bands split at 120,2000 Hz unless given (up to three splits)");
  app.add_option("--saturate", saturate_spec,
                 "tape-style saturation after the other stages, DRIVE[:MIX[:BIAS]]: drive 0..24 dB, the wet "
                 "share 0..1 (1), asymmetry 0..0.3 (0); 8x oversampled");
  auto* highpass_opt =
      app.add_option("--highpass", highpass,
                     "high-pass first in the chain, HZ (24 dB/oct Butterworth, -3 dB there; 10..200, 0 none; "
                     "vinyl: 25)");
  auto* mono_bass_opt =
      app.add_option("--mono-bass", mono_bass,
                     "the side under HZ removed, the mid kept (Linkwitz-Riley, sums flat; 20..500, 0 none; "
                     "vinyl: 150)");
  app.add_option("--deess", deess_spec,
                 "a de-esser after the EQ, THRESHOLD[:RATIO[:RANGE]] or off: the 5-10 kHz band turned "
                 "down when its level (dBFS, before the gain) rises over THRESHOLD, RATIO (4), at most "
                 "RANGE dB (6); vinyl: -20");
  auto* side_opt = app.add_option("--side-minutes", side_minutes,
                                  "the longest vinyl side before a warning (22: 12-inch at 33 1/3 rpm); "
                                  "turns the vinyl checks on with any preset")
                       ->check(CLI::Range(1.0, 60.0));
  auto* width_opt =
      app.add_option("--width", width, "stereo width: the side level, 0 (mono) to 2; 1 leaves it")
          ->check(CLI::Range(0.0, 2.0));
  app.add_option("--plot", plot_path,
                 "also draw loudness over time to this PNG: the master's short-term and momentary "
                 "loudness against the input's and the target (with --measure: the file's)");
  app.add_option("--reference", references,
                 "a reference recording to match (WAV, FLAC or AIFF; repeat for several: they are averaged)")
      ->allow_extra_args(false);
  auto* match_opt =
      app.add_option("--match", match_spec,
                     "with --reference: what to match and how much, ASPECT[:PERCENT],... of level "
                     "(loudness), tone (spectrum, mid and side), width, limiter (density); the "
                     "aspects not named are left (default: all four at 100)");
  app.add_option(
      "--plot-spectrum", spectrum_plot_path,
      "with --reference: draw the input's, the reference's and the master's spectra and the fitted "
      "curve into this PNG file");
  app.add_flag("--no-limiter", no_limiter, "gain only: a gain that would cross the ceiling is an error");
  app.add_flag("--album", album,
               "master several files as one album: one gain for all, so their levels keep their "
               "relations, the album as a whole on the target; -o names a folder (made if missing) that "
               "gets each track under its own name and album.cue");
  app.add_flag("--measure", measure_only, "measure the input and print its figures; write nothing");
  app.add_flag("--list-presets", list, "print the delivery presets and exit");
  app.add_flag("--json", json, "print the report as JSON");
  app.add_flag("-q,--quiet", quiet, "no progress line on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (list) {
    for (const auto& p : tl::mastering::presets()) {
      std::string format;  // the delivery's rate and depth, when the preset sets them
      if (p.rate != 0) format += std::to_string(p.rate) + " Hz ";
      if (p.bits != 0) format += std::to_string(p.bits) + "-bit";
      if (!p.limiter) format += format.empty() ? "no limiter" : ", no limiter";
      std::printf("%-10s %6.1f LUFS %5.1f dBTP %-18s %.*s\n", std::string(p.name).c_str(), p.target_lufs,
                  p.ceiling_dbtp, format.c_str(), static_cast<int>(p.what.size()), p.what.data());
    }
    return 0;
  }
  if (inputs.size() > 1 && !album) {
    std::fprintf(stderr, "tl-master: one file at a time, or --album for several\n");
    return 2;
  }
  if (!inputs.empty()) input = inputs.front();
  if (album && (measure_only || !plot_path.empty())) {
    std::fprintf(stderr, "tl-master: --album masters; --measure and --plot take one file\n");
    return 2;
  }
  if (input.empty()) {
    std::fprintf(stderr, "tl-master: name the file to master (tl-master --help)\n");
    return 2;
  }
  tl::mastering::MatchAmounts amounts;
  if (match_opt->count()) {
    auto parsed = tl::mastering::parse_match(match_spec);
    if (!parsed) {
      std::fprintf(stderr, "tl-master: %s\n", parsed.error().c_str());
      return 2;
    }
    amounts = *parsed;
  }
  if (references.empty() && (match_opt->count() || !spectrum_plot_path.empty())) {
    std::fprintf(stderr, "tl-master: --match and --plot-spectrum need a --reference recording\n");
    return 2;
  }
  if (!references.empty() && (album || measure_only)) {
    std::fprintf(stderr, "tl-master: --reference matches one master; not with --album or --measure\n");
    return 2;
  }
  if (!spectrum_plot_path.empty() && !spectrum_plot_path.ends_with(".png")) {
    std::fprintf(stderr, "tl-master: --plot-spectrum draws a PNG: name a file ending in .png, not '%s'\n",
                 spectrum_plot_path.c_str());
    return 2;
  }
  const bool show = !quiet && isatty(STDERR_FILENO) != 0;
  std::string last_stage;
  const tl::mastering::Progress progress = [&](double done, std::string_view stage) {
    if (!show) return;
    static int last_pct = -1;
    const int pct = static_cast<int>(done * 100.0);
    if (pct == last_pct && stage == last_stage) return;
    last_pct = pct;
    last_stage = stage;
    std::fprintf(stderr, "\rtl-master: %-28.*s %3d%%", static_cast<int>(stage.size()), stage.data(), pct);
    std::fflush(stderr);
  };
  const auto end_progress = [&] {
    if (show && !last_stage.empty()) std::fprintf(stderr, "\r%60s\r", "");
  };

  if (!plot_path.empty() && !plot_path.ends_with(".png")) {
    std::fprintf(stderr, "tl-master: --plot draws a PNG: name a file ending in .png, not '%s'\n",
                 plot_path.c_str());
    return 2;
  }
  if (measure_only) {
    tl::mastering::LoudnessPlot picture;
    auto f = tl::mastering::measure_file(input, progress, &picture.output);
    end_progress();
    if (!f) {
      std::fprintf(stderr, "tl-master: %s\n", f.error().c_str());
      return 1;
    }
    if (!plot_path.empty()) {
      picture.output_label = std::filesystem::path(input).filename().string();
      picture.title = picture.output_label + ": " + figures_line(*f);
      if (auto drawn = tl::mastering::plot_loudness(plot_path, picture); !drawn) {
        std::fprintf(stderr, "tl-master: %s\n", drawn.error().c_str());
        return 1;
      }
    }
    if (json) {
      std::printf("%s\n", nlohmann::json{{"input", input}, {"figures", to_json(*f)}}.dump().c_str());
    } else {
      std::printf("tl-master: %s\n", input.c_str());
      print_head();
      print_row("input", *f);
    }
    return 0;
  }
  if (output.empty()) {
    std::fprintf(stderr, "tl-master: name the master to write with -o FILE (a new file)\n");
    return 2;
  }
  // --preset: a built-in delivery preset, or a file that may build on one.
  std::optional<tl::mastering::PresetFile> file;
  std::string delivery = preset_opt->count() ? preset_name : "streaming";
  if (preset_name.ends_with(".toml")) {
    auto loaded = tl::mastering::load_preset_file(preset_name);
    if (!loaded) {
      std::fprintf(stderr, "tl-master: %s\n", loaded.error().c_str());
      return 2;
    }
    file = std::move(*loaded);
    delivery = file->delivery.empty() ? "streaming" : file->delivery;
  }
  const auto preset = tl::mastering::find_preset(delivery);
  if (!preset) {
    std::fprintf(stderr, "tl-master: no preset '%s' (tl-master --list-presets)\n", preset_name.c_str());
    return 2;
  }
  // The file's chain, each stage an option names replaced by the option's.
  tl::mastering::ChainSettings chain = file ? file->chain : tl::mastering::chain_of(*preset);
  if (width_opt->count()) chain.width = width;
  if (highpass_opt->count()) chain.highpass_hz = highpass;
  if (mono_bass_opt->count()) chain.mono_bass_hz = mono_bass;
  if (deess_spec == "off") {
    chain.deess.reset();
  } else if (!deess_spec.empty()) {
    auto deess = tl::mastering::parse_deess(deess_spec);
    if (!deess) {
      std::fprintf(stderr, "tl-master: %s\n", deess.error().c_str());
      return 2;
    }
    chain.deess = *deess;
  }
  if (!eq_specs.empty()) chain.eq.clear();
  for (const auto& spec : eq_specs) {
    auto band = tl::mastering::parse_eq_band(spec);
    if (!band) {
      std::fprintf(stderr, "tl-master: %s\n", band.error().c_str());
      return 2;
    }
    chain.eq.push_back(*band);
  }
  if (eq_linear) chain.eq_linear = true;
  if (!saturate_spec.empty()) {
    auto sat = tl::mastering::parse_saturation(saturate_spec);
    if (!sat) {
      std::fprintf(stderr, "tl-master: %s\n", sat.error().c_str());
      return 2;
    }
    chain.saturation = *sat;
  }
  if (!multiband_spec.empty()) {
    auto mb = tl::mastering::parse_multiband(multiband_spec);
    if (!mb) {
      std::fprintf(stderr, "tl-master: %s\n", mb.error().c_str());
      return 2;
    }
    chain.multiband = *mb;
  }
  // Bad values are bad options (exit 2) at once; the frequencies' upper bound depends on
  // the file's rate, so master_file checks them again against it.
  if (auto ok = tl::mastering::check(chain, 192000.0); !ok) {
    std::fprintf(stderr, "tl-master: %s\n", ok.error().c_str());
    return 2;
  }
  // An option over the file, the file over its delivery preset.
  const tl::mastering::PresetFile& f = file ? *file : tl::mastering::PresetFile{};
  tl::mastering::MasterSettings settings{
      .target_lufs = target_opt->count() ? target : f.target_lufs.value_or(preset->target_lufs),
      .ceiling_dbtp = ceiling_opt->count() ? ceiling : f.ceiling_dbtp.value_or(preset->ceiling_dbtp),
      .limiter = !no_limiter && f.limiter.value_or(preset->limiter),
      .bits = bits != 0 ? bits : f.bits.value_or(preset->bits),
      .rate = rate_opt->count() ? rate : f.rate.value_or(preset->rate),
      .chain = chain};
  if (preset->vinyl_checks || side_opt->count()) {
    settings.vinyl = tl::mastering::VinylChecks{};
    settings.vinyl->side_minutes = side_opt->count() ? side_minutes : f.side_minutes.value_or(22.0);
  }
  if (album) {
    const int code = master_album(inputs, output, settings, json, progress);
    end_progress();
    return code;
  }
  // A take folder: mixed first (tl-render's engine, from its tracks and automation.json)
  // into a file beside the output, mastered, then removed.
  std::string take_mix;
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec) && std::filesystem::exists(input + "/take.json", ec)) {
    take_mix = output + ".mix.wav";
    if (std::filesystem::exists(take_mix, ec)) {
      std::fprintf(stderr, "tl-master: '%s' is in the way (the take's mix goes there first); remove it\n",
                   take_mix.c_str());
      return 1;
    }
    tl::mixer::RenderOptions render{.take_dir = input, .out = take_mix};
    render.progress = [&](double done, double total) {
      progress(total > 0 ? done / total : 0.0, "mixing the take");
    };
    auto mixed = tl::mixer::render_take(render);
    if (!mixed) {
      end_progress();
      std::filesystem::remove(take_mix, ec);
      std::fprintf(stderr, "tl-master: cannot mix the take '%s': %s\n", input.c_str(), mixed.error().c_str());
      return 1;
    }
  }
  const std::string source = take_mix.empty() ? input : take_mix;
  std::optional<tl::mastering::MatchPlan> plan;
  if (!references.empty()) {
    if (target_opt->count() && amounts.level > 0.0) {
      std::fprintf(stderr,
                   "tl-master: --target and matching the level both set the loudness; leave one (--match "
                   "tone,width,limiter matches the rest)\n");
      return 2;
    }
    plan = match(source, references, amounts, settings, progress);
    if (!plan) {
      end_progress();
      std::filesystem::remove(take_mix, ec);
      return 1;
    }
    tl::mastering::apply(*plan, settings);
  }
  auto report = tl::mastering::master_file(source, output, settings, progress);
  std::optional<tl::mastering::MatchResult> matched;
  if (report && plan) {
    auto spectrum = tl::mastering::spectrum_of_file(output, progress);
    if (spectrum) matched = tl::mastering::judge(*plan, *spectrum);
  }
  end_progress();
  if (!take_mix.empty()) {
    std::filesystem::remove(take_mix, ec);
    if (report) report->input = input + " (its tracks mixed)";
  }
  if (!report) {
    std::fprintf(stderr, "tl-master: %s\n", report.error().c_str());
    return 1;
  }
  const auto& r = *report;
  if (!plot_path.empty()) {
    tl::mastering::LoudnessPlot picture{
        .title = std::filesystem::path(r.output).filename().string() + ": " + figures_line(r.after),
        .input = r.before_curve,
        .output = r.after_curve,
        .input_label = r.shaped ? "input through the chain" : "input",
        .output_label = "master",
        .target_lufs = settings.target_lufs,
        .has_target = true};
    if (auto drawn = tl::mastering::plot_loudness(plot_path, picture); !drawn) {
      std::fprintf(stderr, "tl-master: the master is written, but %s\n", drawn.error().c_str());
      return 1;
    }
  }
  if (plan && !spectrum_plot_path.empty()) {
    const std::string title = std::filesystem::path(r.output).filename().string() + " matched to " +
                              std::filesystem::path(plan->references.front()).filename().string() +
                              (plan->references.size() > 1 ? " and others" : "");
    const tl::mastering::SpectrumPlot picture{
        .title = title, .plan = &*plan, .result = matched ? &*matched : nullptr};
    if (auto drawn = tl::mastering::plot_spectra(spectrum_plot_path, picture); !drawn) {
      std::fprintf(stderr, "tl-master: the master is written, but %s\n", drawn.error().c_str());
      return 1;
    }
  }
  if (json) {
    nlohmann::json j{{"input", r.input},
                     {"output", r.output},
                     {"preset", file ? (file->name.empty() ? file->path : file->name) : delivery},
                     {"target_lufs", settings.target_lufs},
                     {"ceiling_dbtp", settings.ceiling_dbtp},
                     {"limiter", settings.limiter},
                     {"bits", r.bits},
                     {"rate", r.rate},
                     {"resampled", r.resampled},
                     {"dithered", r.dithered},
                     {"gain_db", r.gain_db},
                     {"limiter_ceiling_dbtp", r.ceiling_used_dbtp},
                     {"renders", r.passes},
                     {"before", to_json(r.before)},
                     {"after", to_json(r.after)},
                     {"chain", r.chain}};
    if (r.shaped) j["shaped"] = to_json(*r.shaped);
    if (settings.vinyl) j["warnings"] = to_json(r.warnings);
    if (plan) j["match"] = match_json(*plan, matched);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("tl-master: %s -> %s (%.1f LUFS, %.1f dBTP; %u Hz%s, %d-bit%s, limiter %s)\n", r.input.c_str(),
              r.output.c_str(), settings.target_lufs, settings.ceiling_dbtp, r.rate,
              r.resampled ? " resampled" : "", r.bits, r.dithered ? " TPDF-dithered" : "",
              settings.limiter ? "on" : "off");
  print_head();
  print_row("before", r.before);
  if (r.shaped) print_row("chain", *r.shaped);
  print_row("after", r.after);
  if (r.shaped) std::printf("  chain: %s\n", r.chain.c_str());
  if (settings.limiter) {
    std::printf(
        "  gain %+.2f dB, limiter ceiling %.2f dBTP, %d render(s); after: measured from the file written\n",
        r.gain_db, r.ceiling_used_dbtp, r.passes);
  } else {
    std::printf("  gain %+.2f dB, no limiter, %d render(s); after: measured from the file written\n",
                r.gain_db, r.passes);
  }
  if (settings.vinyl) {
    if (r.warnings.empty())
      std::printf("  vinyl checks: low-end phase, inter-sample peaks, side length: fine\n");
    print_warnings(r.warnings);
  }
  if (plan) {
    std::printf("%s", tl::mastering::describe(*plan).c_str());
    if (matched) {
      std::printf("  tone after: within %.2f dB (mid)", matched->worst_mid_db);
      if (plan->stereo) std::printf(" and %.2f dB (side)", matched->worst_side_db);
      std::printf(" of the reference from 63 Hz to 12.5 kHz (octave-smoothed third octaves)\n");
    }
  }
  return 0;
}
