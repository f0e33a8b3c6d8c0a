#include "cli/match.h"

#include <cstdio>

namespace tl::master_cli {

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

}  // namespace tl::master_cli
