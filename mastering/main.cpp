// tl-master: masters a file to a delivery target (loudness and true-peak ceiling).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/album.h"
#include "cli/match.h"
#include "cli/report.h"
#include "cli/stems.h"
#include "tl/common/version.h"
#include "tl/mastering/album_file.h"
#include "tl/mastering/album_image.h"
#include "tl/mastering/loudness_plot.h"
#include "tl/mastering/master.h"
#include "tl/mastering/preset_file.h"
#include "tl/mastering/reference_match.h"
#include "tl/mastering/spectrum_plot.h"
#include "tl/mixer/take_render.h"

using namespace tl::master_cli;  // the report, the album, the match and the stems (cli/)

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
  std::string multiband_spec, saturate_spec, deess_spec, plot_path, match_spec, spectrum_plot_path,
      album_path, album_format;
  std::vector<std::string> references;
  std::string stems_path, stems_out;
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
      "draw the input's and the master's spectra (third octaves, mid and side) and what changed into "
      "this PNG file; with --reference: the input's, the reference's and the master's tone and the "
      "fitted curve");
  app.add_option("--stems", stems_path,
                 "master a take as stems: a stems file (TOML) groups its tracks (or names files), each "
                 "stem through a chain of its own, their sum mastered; the input is the take folder "
                 "(mastering/README.md)");
  app.add_option("--stems-out", stems_out,
                 "with --stems: the folder for the processed stems (default OUTPUT's name + -stems)");
  app.add_flag("--no-limiter", no_limiter, "gain only: a gain that would cross the ceiling is an error");
  app.add_flag("--album", album,
               "master several files (or take folders) as one album: one gain for all, so their levels "
               "keep their relations, the album as a whole on the target; -o names a folder (made if "
               "missing) that gets 'NN name' per song, album.wav (the songs 2 s apart) and album.cue; "
               "--album-file sets titles, ISRCs, gaps and crossfades");
  app.add_option("--album-file", album_path,
                 "master the album an album file (TOML) lists: its songs in order with gaps or crossfades, "
                 "titles, ISRCs and delivery; -o names a folder (made if missing) that gets 'NN Title' per "
                 "song, album.wav (or .flac, .aiff) and album.cue (mastering/README.md)");
  app.add_option("--format", album_format,
                 "with --album or --album-file: the songs' and the album image's container, wav, flac or "
                 "aiff (default the album file's, else the first input's)")
      ->check(CLI::IsMember({"wav", "flac", "aiff"}));
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
  if (!album_path.empty() && (album || !inputs.empty() || measure_only || !plot_path.empty())) {
    std::fprintf(
        stderr,
        "tl-master: --album-file names the songs itself: no input files, --album, --measure or --plot "
        "with it\n");
    return 2;
  }
  if (!album_format.empty() && !album && album_path.empty()) {
    std::fprintf(stderr,
                 "tl-master: --format is for an album (--album, --album-file); -o's name says a file's\n");
    return 2;
  }
  if (!stems_path.empty() && (album || !album_path.empty() || measure_only || !references.empty() ||
                              !plot_path.empty() || inputs.size() > 1)) {
    std::fprintf(
        stderr,
        "tl-master: --stems masters one take (or the files it names): not with --album, --album-file, "
        "--measure, --reference or --plot\n");
    return 2;
  }
  if (!stems_out.empty() && stems_path.empty()) {
    std::fprintf(stderr, "tl-master: --stems-out is for --stems\n");
    return 2;
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
  if (input.empty() && album_path.empty() && stems_path.empty()) {
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
  if (references.empty() && match_opt->count()) {
    std::fprintf(stderr, "tl-master: --match needs a --reference recording\n");
    return 2;
  }
  if (!references.empty() && (album || !album_path.empty() || measure_only)) {
    std::fprintf(stderr,
                 "tl-master: --reference matches one master; not with --album, --album-file or --measure\n");
    return 2;
  }
  if (!spectrum_plot_path.empty() && (album || !album_path.empty() || measure_only || !stems_path.empty())) {
    std::fprintf(stderr,
                 "tl-master: --plot-spectrum draws one master; not with --album, --album-file, --stems or "
                 "--measure\n");
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
  // --album-file: the album's own preset and delivery, each under the command line's.
  std::optional<tl::mastering::AlbumFile> album_file;
  bool named = preset_opt->count() > 0;
  if (!album_path.empty()) {
    auto loaded = tl::mastering::load_album_file(album_path);
    if (!loaded) {
      std::fprintf(stderr, "tl-master: %s\n", loaded.error().c_str());
      return 2;
    }
    album_file = std::move(*loaded);
    if (!named && !album_file->preset.empty()) {
      preset_name = album_file->preset;
      named = true;
    }
  }
  std::optional<tl::mastering::PresetFile> file;
  std::string delivery = named ? preset_name : "streaming";
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
  // (An album file's delivery keys sit between the two.)
  const tl::mastering::PresetFile& f = file ? *file : tl::mastering::PresetFile{};
  const tl::mastering::AlbumFile& a = album_file ? *album_file : tl::mastering::AlbumFile{};
  tl::mastering::MasterSettings settings{
      .target_lufs =
          target_opt->count() ? target : a.target_lufs.value_or(f.target_lufs.value_or(preset->target_lufs)),
      .ceiling_dbtp = ceiling_opt->count()
                          ? ceiling
                          : a.ceiling_dbtp.value_or(f.ceiling_dbtp.value_or(preset->ceiling_dbtp)),
      .limiter = !no_limiter && f.limiter.value_or(preset->limiter),
      .bits = bits != 0 ? bits : a.bits.value_or(f.bits.value_or(preset->bits)),
      .rate = rate_opt->count() ? rate : a.rate.value_or(f.rate.value_or(preset->rate)),
      .chain = chain};
  if (preset->vinyl_checks || side_opt->count()) {
    settings.vinyl = tl::mastering::VinylChecks{};
    settings.vinyl->side_minutes = side_opt->count() ? side_minutes : f.side_minutes.value_or(22.0);
  }
  if (!stems_path.empty()) {
    return run_stems({.take = input,
                      .stems_file = stems_path,
                      .output = output,
                      .stems_dir = stems_out,
                      .settings = settings,
                      .json = json},
                     progress, end_progress);
  }
  if (album_file) {
    if (!album_format.empty()) album_file->format = album_format;
    const int code = master_album_file(std::move(*album_file), output, settings, json, progress);
    end_progress();
    return code;
  }
  if (album) {
    tl::mastering::AlbumFile of = album_of(inputs);
    if (!album_format.empty()) of.format = album_format;
    const int code = master_album_file(std::move(of), output, settings, json, progress);
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
  std::optional<tl::mastering::Spectrum> input_spectrum, output_spectrum;
  if (report && (plan || !spectrum_plot_path.empty())) {
    auto spectrum = tl::mastering::spectrum_of_file(output, progress);
    if (spectrum && plan) matched = tl::mastering::judge(*plan, *spectrum);
    if (spectrum) output_spectrum = std::move(*spectrum);
  }
  // The tone-change picture (no reference) reads the input (or the take's mix) again.
  std::string spectrum_error;
  if (report && !plan && !spectrum_plot_path.empty()) {
    auto in = tl::mastering::spectrum_of_file(source, progress);
    if (in)
      input_spectrum = std::move(*in);
    else
      spectrum_error = in.error();
  }
  end_progress();
  if (!take_mix.empty()) {
    std::filesystem::remove(take_mix, ec);
    if (report) report->input = input + " (its tracks mixed)";
  }
  if (!report) {
    // The take's mix was a step of this run: name the take, not the step's file.
    std::string why = report.error();
    const std::string step = "'" + take_mix + "'";
    for (std::size_t at; !take_mix.empty() && (at = why.find(step)) != std::string::npos;) {
      why.replace(at, step.size(), "the mix of '" + input + "'");
    }
    std::fprintf(stderr, "tl-master: %s\n", why.c_str());
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
  if (!plan && !spectrum_plot_path.empty()) {
    if (!input_spectrum || !output_spectrum) {
      std::fprintf(stderr, "tl-master: the master is written, but its spectrum could not be read: %s\n",
                   spectrum_error.empty() ? "no audio" : spectrum_error.c_str());
      return 1;
    }
    const tl::mastering::ToneChangePlot picture{
        .title = std::filesystem::path(r.output).filename().string() + ": the tone before and after",
        .input = &*input_spectrum,
        .master = &*output_spectrum};
    if (auto drawn = tl::mastering::plot_tone_change(spectrum_plot_path, picture); !drawn) {
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
