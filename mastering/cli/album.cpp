#include "cli/album.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/report.h"
#include "tl/common/text.h"
#include "tl/mixer/take_render.h"

namespace tl::master_cli {

tl::mastering::AlbumFile album_of(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  tl::mastering::AlbumFile album;
  album.path = "--album";
  const std::string ext = tl::ascii_lower(fs::path(inputs.front()).extension().string());
  album.format = ext == ".flac" ? "flac" : ext == ".aif" || ext == ".aiff" ? "aiff" : "wav";
  for (const auto& in : inputs) {
    std::string title = fs::path(in).stem().string();
    if (title.empty()) title = fs::path(in).parent_path().filename().string();  // a take folder's "take/"
    std::replace(title.begin(), title.end(), '"', '\'');  // a CUE sheet cannot quote one
    if (title.size() > 80) title.resize(80);
    album.songs.push_back({.file = in, .title = title.empty() ? "Track" : title});
  }
  album.songs.back().gap_s = 0.0;
  return album;
}

// The album file's songs (a take folder mixed first, beside the outputs) mastered into
// out_dir with one gain, each as its own file, into one continuous image with its gaps
// and crossfades, and album.cue.
int master_album_file(tl::mastering::AlbumFile album, const std::string& out_dir,
                      const tl::mastering::MasterSettings& settings, bool json,
                      const tl::mastering::Progress& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool existed = fs::exists(out_dir, ec);
  fs::create_directories(out_dir, ec);
  if (!fs::is_directory(out_dir, ec)) {
    std::fprintf(stderr, "tl-master: an album is written into a folder: cannot make '%s'\n", out_dir.c_str());
    return 1;
  }
  std::vector<std::string> mixes;  // removed whatever happens
  const auto remove_mixes = [&] {
    for (const auto& m : mixes) fs::remove(m, ec);
    mixes.clear();
  };
  // Nothing written: not even the folder, when this made it (only an empty one is removed).
  const auto fail = [&] {
    remove_mixes();
    if (!existed) fs::remove(out_dir, ec);
    return 1;
  };
  std::vector<std::string> sources;
  for (std::size_t i = 0; i < album.songs.size(); ++i) {
    std::string& file = album.songs[i].file;
    sources.push_back(file);
    if (!fs::is_directory(file, ec) || !fs::exists(fs::path(file) / "take.json", ec)) continue;
    const std::string mix = (fs::path(out_dir) / ("." + std::to_string(i + 1) + ".take-mix.wav")).string();
    if (fs::exists(mix, ec)) {
      std::fprintf(stderr,
                   "tl-master: '%s' is in the way (song %zu's take is mixed there first); remove it\n",
                   mix.c_str(), i + 1);
      return fail();
    }
    mixes.push_back(mix);
    tl::mixer::RenderOptions render{.take_dir = file, .out = mix};
    render.progress = [&](double done, double total) {
      progress(total > 0 ? done / total : 0.0, "mixing song " + std::to_string(i + 1) + "'s take");
    };
    if (auto mixed = tl::mixer::render_take(render); !mixed) {
      std::fprintf(stderr, "tl-master: song %zu: cannot mix the take '%s': %s\n", i + 1, file.c_str(),
                   mixed.error().c_str());
      return fail();
    }
    file = mix;
  }
  auto done = tl::mastering::master_album_file(album, out_dir, settings, progress);
  remove_mixes();
  if (!done) {
    std::fprintf(stderr, "tl-master: %s\n", done.error().c_str());
    return fail();
  }
  const auto& tracks = done->album.tracks;
  const double rate = tracks.front().rate;
  if (json) {
    nlohmann::json songs = nlohmann::json::array();
    for (std::size_t i = 0; i < tracks.size(); ++i) {
      const auto& p = done->placement[i];
      nlohmann::json song{{"title", album.songs[i].title},
                          {"input", sources[i]},
                          {"output", tracks[i].output},
                          {"start_frame", p.start},
                          {"start_seconds", static_cast<double>(p.start) / rate},
                          {"index_01", tl::mastering::cue_time(p.start, tracks[i].rate)},
                          {"crossfade_in_seconds", static_cast<double>(p.fade_in) / rate},
                          {"before", to_json(tracks[i].before)},
                          {"after", to_json(tracks[i].after)}};
      if (i + 1 < tracks.size()) song["join_true_peak_dbtp"] = done->join_dbtp[i];
      songs.push_back(std::move(song));
    }
    nlohmann::json j{
        {"album", {{"before", to_json(done->album.before)}, {"after", to_json(done->album.after)}}},
        {"image", {{"path", done->image}, {"figures", to_json(done->image_figures)}}},
        {"cue", done->cue},
        {"songs", songs},
        {"target_lufs", settings.target_lufs},
        {"ceiling_dbtp", settings.ceiling_dbtp},
        {"gain_db", done->album.gain_db},
        {"limiter_ceiling_dbtp", done->album.ceiling_used_dbtp},
        {"renders", done->album.passes}};
    if (settings.vinyl) j["warnings"] = to_json(done->album.warnings);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("tl-master: %s, %zu songs -> %s (the album at %.1f LUFS, %.1f dBTP; one gain for all)\n",
              album.title.empty() ? album.path.c_str() : album.title.c_str(), tracks.size(), out_dir.c_str(),
              settings.target_lufs, settings.ceiling_dbtp);
  print_head();
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const auto& p = done->placement[i];
    std::printf(
        "  %s  (INDEX 01 %s%s)\n", fs::path(tracks[i].output).filename().string().c_str(),
        tl::mastering::cue_time(p.start, tracks[i].rate).c_str(),
        p.fade_in > 0
            ? (", crossfaded in over " + fixed_text(static_cast<double>(p.fade_in) / rate) + " s").c_str()
            : "");
    print_row("before", tracks[i].before);
    print_row("after", tracks[i].after);
  }
  std::printf("  %s\n", fs::path(done->image).filename().string().c_str());
  print_row("after", done->image_figures);
  if (settings.limiter) {
    std::printf("  gain %+.2f dB for every song, limiter ceiling %.2f dBTP, %d render(s); %s\n",
                done->album.gain_db, done->album.ceiling_used_dbtp, done->album.passes, done->cue.c_str());
  } else {
    std::printf("  gain %+.2f dB for every song, no limiter, %d render(s); %s\n", done->album.gain_db,
                done->album.passes, done->cue.c_str());
  }
  print_warnings(done->album.warnings, /*with_file=*/true);
  return 0;
}

}  // namespace tl::master_cli
