#include "tl/mixer/desk_journal.h"

#include <spdlog/spdlog.h>

namespace tl::mixer {
namespace {

//! The node a strip target ("node/N") belongs to.
std::string node_of(const std::string& target) {
  return target.substr(0, target.rfind('/'));
}

}  // namespace

DeskJournal::DeskJournal(const std::filesystem::path& record_dir) : store_(record_dir / ".desk") {}

std::optional<proto::Scene> DeskJournal::load() {
  if (!store_.saved(kName)) return std::nullopt;
  auto scene = store_.load(kName);
  if (!scene) {
    spdlog::warn("the last desk ({}) cannot be read: {}; starting from a flat desk", path().string(),
                 scene.error());
    return std::nullopt;
  }
  *pending_.mutable_strips() = scene->strips();
  *pending_.mutable_cues() = scene->cues();
  return scene.value();
}

proto::Scene DeskJournal::for_node(const std::string& node) {
  proto::Scene mine, rest;
  for (const auto& st : pending_.strips()) *(node_of(st.target()) == node ? mine : rest).add_strips() = st;
  *pending_.mutable_strips() = std::move(*rest.mutable_strips());  // its cue mixes stay pending
  return mine;
}

void DeskJournal::save_if_changed(std::uint64_t changes, std::int64_t now_ns,
                                  const std::function<proto::Scene()>& scene) {
  if (changes == saved_changes_ || now_ns - last_save_ns_ < kSaveEveryNs) return;
  saved_changes_ = changes;
  last_save_ns_ = now_ns;
  proto::Scene desk = scene();
  for (const auto& st : pending_.strips()) *desk.add_strips() = st;
  for (const auto& cue : pending_.cues()) *desk.add_cues() = cue;
  if (const Status s = store_.save(kName, desk); !s) {
    spdlog::warn("cannot keep the desk for a restart: {}", s.error());
  }
}

}  // namespace tl::mixer
