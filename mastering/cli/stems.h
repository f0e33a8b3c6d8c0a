#pragma once
// tl-master --stems: a take's tracks (or files) as stems, each through its own chain, then
// mastered as one (mastering/include/tl/mastering/stems.h for the file and the library).

#include <functional>
#include <string>

#include "tl/mastering/master.h"

namespace tl::master_cli {

struct StemsRun {
  std::string take;  //!< the take folder (empty: every stem names a file)
  std::string stems_file;
  std::string output;
  std::string stems_dir;  //!< empty: OUTPUT's name without its extension + "-stems"
  tl::mastering::MasterSettings settings;
  bool json = false;
};

//! Renders the stems, masters them, prints the report. Returns the exit code (0 done,
//! 1 could not, 2 a bad stems file).
int run_stems(const StemsRun& run, const tl::mastering::Progress& progress,
              const std::function<void()>& end_progress);

}  // namespace tl::master_cli
