#pragma once
// tl-master's report, as text and JSON, shared by its modes (the program's, not the library's).

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tl/mastering/analysis.h"
#include "tl/mastering/master.h"

namespace tl::master_cli {

using tl::mastering::LoudnessFigures;

inline nlohmann::json to_json(const LoudnessFigures& f) {
  return {{"integrated_lufs", f.integrated_lufs},
          {"loudness_range_lu", f.range_lu},
          {"short_term_max_lufs", f.short_term_max_lufs},
          {"true_peak_dbtp", f.true_peak_dbtp},
          {"sample_peak_dbfs", f.sample_peak_dbfs},
          {"plr_db", f.plr()},
          {"seconds", f.seconds}};
}

inline void print_row(const char* what, const LoudnessFigures& f) {
  std::printf("  %-7s %8.2f LUFS %6.1f LU %8.2f LUFS %8.2f dBTP %8.2f dBFS %6.1f dB\n", what,
              f.integrated_lufs, f.range_lu, f.short_term_max_lufs, f.true_peak_dbtp, f.sample_peak_dbfs,
              f.plr());
}

// The figures in a picture's title.
inline std::string figures_line(const LoudnessFigures& f) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.1f LUFS integrated, range %.1f LU, true peak %.1f dBTP",
                f.integrated_lufs, f.range_lu, f.true_peak_dbtp);
  return buf;
}

inline std::string fixed_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

inline void print_head() {
  std::printf("  %-7s %13s %9s %15s %13s %13s %9s\n", "", "integrated", "range", "short-term max",
              "true peak", "sample peak", "PLR");
}

inline nlohmann::json to_json(const std::vector<tl::mastering::VinylWarning>& warnings) {
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
inline void print_warnings(const std::vector<tl::mastering::VinylWarning>& warnings, bool with_file = false) {
  for (const auto& w : warnings) {
    if (with_file && !w.file.empty()) {
      std::printf("  warning: %s: %s\n", std::filesystem::path(w.file).filename().string().c_str(),
                  w.message.c_str());
    } else {
      std::printf("  warning: %s\n", w.message.c_str());
    }
  }
}

}  // namespace tl::master_cli
