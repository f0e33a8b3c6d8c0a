#pragma once
// tl-master's report, as text and JSON, shared by its modes (the program's, not the library's).

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "tl/mastering/analysis.h"

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

}  // namespace tl::master_cli
