#include "tl/capture/timeline_memo.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tl/common/files.h"

namespace tl::capture {
namespace {

namespace fs = std::filesystem;
constexpr const char* kFile = "timeline";

}  // namespace

Result<Sender::TimelineMemo> read_timeline_memo(const std::string& spool_dir, std::int64_t now_ns,
                                                std::int64_t max_age_ns) {
  const fs::path path = fs::path(spool_dir) / kFile;
  std::ifstream in(path);
  if (!in) return Error{"no timeline kept in " + path.string()};
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    if (space != std::string::npos) fields[line.substr(0, space)] = line.substr(space + 1);
  }
  const char* keys[] = {"boot", "session", "ref_node_ns", "ref_offset_ns", "slope", "written_ns"};
  for (const char* key : keys) {
    if (!fields.contains(key)) return Error{path.string() + " has no '" + key + "'"};
  }
  if (fields["boot"] != boot_id()) return Error{path.string() + " is from before this machine restarted"};
  Sender::TimelineMemo memo;
  std::int64_t written = 0;
  try {
    memo.session_epoch = std::stoll(fields["session"]);
    memo.map.ref_node_ns = std::stoll(fields["ref_node_ns"]);
    memo.map.ref_offset_ns = std::stoll(fields["ref_offset_ns"]);
    memo.map.slope = std::stod(fields["slope"]);
    written = std::stoll(fields["written_ns"]);
  } catch (const std::exception&) {
    return Error{path.string() + " is not readable"};
  }
  memo.map.valid = true;
  if (memo.session_epoch == 0 || now_ns < written) return Error{path.string() + " is not readable"};
  if (now_ns - written > max_age_ns) {
    return Error{path.string() + " is " + std::to_string((now_ns - written) / 1'000'000'000) + " s old"};
  }
  return memo;
}

Status write_timeline_memo(const std::string& spool_dir, const Sender::TimelineMemo& memo,
                           std::int64_t now_ns) {
  const fs::path path = fs::path(spool_dir) / kFile;
  const fs::path tmp = fs::path(spool_dir) / (std::string(kFile) + ".tmp");
  std::ostringstream text;
  text.precision(17);
  text << "boot " << boot_id() << "\nsession " << memo.session_epoch << "\nref_node_ns "
       << memo.map.ref_node_ns << "\nref_offset_ns " << memo.map.ref_offset_ns << "\nslope " << memo.map.slope
       << "\nwritten_ns " << now_ns << "\n";
  return replace_file(path, tmp, text.str());
}

}  // namespace tl::capture
