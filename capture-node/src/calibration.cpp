#include "tl/capture/calibration.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tl/common/files.h"

namespace tl::capture {

Status write_calibration(const std::string& path, const Calibration& c) {
  const std::filesystem::path file(path);
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return Error{"cannot make " + file.parent_path().string() + ": " + ec.message()};
  nlohmann::json j = {{"node", c.node},
                      {"sample_rate", c.sample_rate},
                      {"round_trip_frames", c.round_trip_frames},
                      {"round_trip_ms", static_cast<double>(c.round_trip_frames) * 1000.0 / c.sample_rate},
                      {"measured", c.measured},
                      {"at", c.at}};
  return replace_file(file, std::filesystem::path(path + ".tmp"), j.dump(1) + "\n");
}

Result<Calibration> read_calibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"no calibration at " + path + " (tl-capture --calibrate makes one)"};
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{path + " is not valid JSON"};
  Calibration c;
  try {
    c.node = j.value("node", "");
    c.sample_rate = j.at("sample_rate").get<std::uint32_t>();
    c.round_trip_frames = j.at("round_trip_frames").get<std::int64_t>();
    c.measured = j.value("measured", "");
    c.at = j.value("at", "");
  } catch (const nlohmann::json::exception&) {
    return Error{path + ": sample_rate and round_trip_frames must be whole numbers"};
  }
  if (c.sample_rate == 0 || c.round_trip_frames < 0) {
    return Error{path + ": sample_rate must be above 0 and round_trip_frames 0 or more"};
  }
  return c;
}

}  // namespace tl::capture
