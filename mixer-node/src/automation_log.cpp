#include "tl/mixer/automation_log.h"

#include <google/protobuf/util/json_util.h>

#include <utility>

namespace tl::mixer {

AutomationLog::AutomationLog(std::function<bool()> recording, std::uint32_t first_id)
    : recording_(std::move(recording)), next_id_(first_id == 0 ? 1 : first_id) {}

std::uint32_t AutomationLog::next_id() {
  if (!recording_()) return 0;
  const std::uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;
  return id;
}

void AutomationLog::remember(std::uint32_t id, const std::function<void(proto::StripState&)>& fill) {
  if (id == 0) return;
  proto::StripState after;
  fill(after);
  pending_[id] = automation_json(after);
}

std::optional<std::string> AutomationLog::applied(std::uint32_t id) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  std::string state = std::move(it->second);
  pending_.erase(it);
  return state;
}

void AutomationLog::forget_unreported() {
  while (pending_.size() > kMaxPending) pending_.erase(pending_.begin());
}

std::string automation_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, print).ok()) return "{}";
  return out;
}

}  // namespace tl::mixer
