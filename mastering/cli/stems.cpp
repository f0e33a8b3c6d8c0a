#include "cli/stems.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/report.h"
#include "tl/mastering/stems.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_render.h"

namespace tl::master_cli {
namespace {

namespace fs = std::filesystem;

struct Fail {
  int code;
  std::string why;
};

// The stems as files: those of tracks rendered from the take (beside the output, removed
// by the caller), those of files as they are; the take's tracks no stem names as "rest".
std::variant<std::vector<tl::mastering::StemInput>, Fail> prepare(const StemsRun& run,
                                                                  const tl::mastering::StemsFile& file,
                                                                  const tl::mastering::Progress& progress,
                                                                  std::vector<std::string>& renders) {
  std::vector<tl::mastering::StemInput> out;
  std::vector<std::pair<std::string, unsigned>> tracks;  // the take's (node, channel)
  bool needs_take = false;
  for (const auto& s : file.stems) needs_take = needs_take || !s.tracks.empty();
  if (needs_take) {
    if (run.take.empty()) return Fail{2, "the stems name tracks: give the take folder as the input"};
    auto take = tl::mixer::TakeManifest::read(run.take);
    if (!take) return Fail{1, take.error()};
    for (const auto& t : take->tracks) tracks.emplace_back(t.node, t.channel);
  } else if (!run.take.empty()) {
    return Fail{2, "every stem names a file: no input with them"};
  }
  // Which stem each track is in (one at most), and the stems that match nothing.
  std::vector<int> owner(tracks.size(), -1);
  for (std::size_t s = 0; s < file.stems.size(); ++s) {
    for (const auto& pattern : file.stems[s].tracks) {
      bool any = false;
      for (std::size_t t = 0; t < tracks.size(); ++t) {
        if (!tl::mastering::track_matches(pattern, tracks[t].first, tracks[t].second)) continue;
        any = true;
        if (owner[t] >= 0 && owner[t] != static_cast<int>(s)) {
          return Fail{2, "track " + tracks[t].first + "/" + std::to_string(tracks[t].second) +
                             " is in stem '" + file.stems[static_cast<std::size_t>(owner[t])].name +
                             "' and in '" + file.stems[s].name + "'"};
        }
        owner[t] = static_cast<int>(s);
      }
      if (!any) return Fail{2, "stem '" + file.stems[s].name + "': no track of the take is " + pattern};
    }
  }
  std::vector<tl::mastering::StemSpec> specs = file.stems;
  bool rest = false;
  for (const int o : owner) rest = rest || o < 0;
  if (rest) {
    for (const auto& s : specs) {
      if (s.name == "rest") return Fail{2, "some tracks are in no stem, and a stem is already called 'rest'"};
    }
    specs.push_back({.name = "rest"});
  }
  for (std::size_t s = 0; s < specs.size(); ++s) {
    const auto& spec = specs[s];
    if (!spec.file.empty()) {
      out.push_back({spec.name, spec.file, spec.gain_db, spec.chain});
      continue;
    }
    const std::string path = run.output + ".stem-" + spec.name + ".wav";
    if (fs::exists(path))
      return Fail{1, "'" + path + "' is in the way (a stem is mixed there first); remove it"};
    renders.push_back(path);
    tl::mixer::RenderOptions render{.take_dir = run.take, .out = path};
    const bool is_rest = s >= file.stems.size();
    render.include = [&, s, is_rest](const std::string& node, std::uint32_t channel) {
      for (std::size_t t = 0; t < tracks.size(); ++t) {
        if (tracks[t].first == node && tracks[t].second == channel) {
          return is_rest ? owner[t] < 0 : owner[t] == static_cast<int>(s);
        }
      }
      return false;
    };
    render.progress = [&](double done, double total) {
      if (progress) progress(total > 0 ? done / total : 0.0, "mixing stem " + spec.name);
    };
    auto mixed = tl::mixer::render_take(render);
    if (!mixed) return Fail{1, "cannot mix stem '" + spec.name + "' of the take: " + mixed.error()};
    out.push_back({spec.name, path, spec.gain_db, spec.chain});
  }
  return out;
}

}  // namespace

int run_stems(const StemsRun& run, const tl::mastering::Progress& progress,
              const std::function<void()>& end_progress) {
  auto file = tl::mastering::load_stems_file(run.stems_file);
  if (!file) {
    std::fprintf(stderr, "tl-master: %s\n", file.error().c_str());
    return 2;
  }
  std::string stems_dir = run.stems_dir;
  if (stems_dir.empty()) {
    const fs::path o(run.output);
    stems_dir = (o.parent_path() / (o.stem().string() + "-stems")).string();
  }
  std::vector<std::string> renders;
  const auto remove_renders = [&] {
    std::error_code ec;
    for (const auto& r : renders) fs::remove(r, ec);
  };
  auto stems = prepare(run, *file, progress, renders);
  if (auto* fail = std::get_if<Fail>(&stems)) {
    end_progress();
    remove_renders();
    std::fprintf(stderr, "tl-master: %s\n", fail->why.c_str());
    return fail->code;
  }
  const auto& inputs = std::get<std::vector<tl::mastering::StemInput>>(stems);
  auto report = tl::mastering::master_stems(inputs, run.output, stems_dir, run.settings, progress);
  end_progress();
  remove_renders();
  if (!report) {
    std::fprintf(stderr, "tl-master: %s\n", report.error().c_str());
    return 1;
  }
  const auto& r = report->master;
  if (run.json) {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      list.push_back({{"name", inputs[i].name},
                      {"file", report->stem_files[i]},
                      {"chain", inputs[i].chain.describe()},
                      {"gain_db", inputs[i].gain_db},
                      {"processed", to_json(report->processed[i])}});
    }
    nlohmann::json j{{"output", r.output},
                     {"stems", list},
                     {"target_lufs", run.settings.target_lufs},
                     {"ceiling_dbtp", run.settings.ceiling_dbtp},
                     {"gain_db", r.gain_db},
                     {"limiter_ceiling_dbtp", r.ceiling_used_dbtp},
                     {"renders", r.passes},
                     {"bits", r.bits},
                     {"rate", r.rate},
                     {"before", to_json(r.before)},
                     {"after", to_json(r.after)}};
    if (run.settings.vinyl) j["warnings"] = to_json(r.warnings);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("tl-master: %zu stems -> %s (%.1f LUFS, %.1f dBTP), the stems in %s\n", inputs.size(),
              r.output.c_str(), run.settings.target_lufs, run.settings.ceiling_dbtp, stems_dir.c_str());
  print_head();
  for (std::size_t i = 0; i < inputs.size(); ++i) print_row(inputs[i].name.c_str(), report->processed[i]);
  print_row("sum", r.before);
  print_row("master", r.after);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].chain.empty() || inputs[i].gain_db != 0.0) {
      std::printf("  %s: gain %+.1f dB, chain %s\n", inputs[i].name.c_str(), inputs[i].gain_db,
                  inputs[i].chain.describe().c_str());
    }
  }
  if (run.settings.limiter) {
    std::printf(
        "  gain %+.2f dB, limiter ceiling %.2f dBTP, %d render(s); the stems are at that gain, before "
        "the limiter (32-bit float)\n",
        r.gain_db, r.ceiling_used_dbtp, r.passes);
  } else {
    std::printf("  gain %+.2f dB, no limiter, %d render(s); the stems are at that gain (32-bit float)\n",
                r.gain_db, r.passes);
  }
  print_warnings(r.warnings);
  return 0;
}

}  // namespace tl::master_cli
