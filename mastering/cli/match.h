#pragma once
// tl-master --reference: the input and the references measured, the match worked out, and
// the match as JSON for the report.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tl/mastering/reference_match.h"

namespace tl::master_cli {

//! Errors are printed; none: the caller exits 1.
std::optional<tl::mastering::MatchPlan> match(const std::string& input,
                                              const std::vector<std::string>& references,
                                              const tl::mastering::MatchAmounts& amounts,
                                              const tl::mastering::MasterSettings& settings,
                                              const tl::mastering::Progress& progress);

nlohmann::json match_json(const tl::mastering::MatchPlan& p,
                          const std::optional<tl::mastering::MatchResult>& m);

}  // namespace tl::master_cli
