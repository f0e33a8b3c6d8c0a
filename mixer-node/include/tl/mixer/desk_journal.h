#pragma once
//! The desk as the last mixer left it: every channel strip, bus and the master, kept in
//! RECORD_DIR/.desk/current.json (a scene) so that a mixer killed or restarted on the
//! same record folder comes back with the mix the engineers had. io thread.
//!
//! At start-up the master and buses are brought back at once; a node's strips when the
//! node registers, and its cue mix (on, ceiling, levels) once it and each source have
//! (until then they are kept, and saved again with the rest).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "tl/mixer/scene_store.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class DeskJournal {
 public:
  //! Saves at most this often while the desk changes.
  static constexpr std::int64_t kSaveEveryNs = 500'000'000;

  explicit DeskJournal(const std::filesystem::path& record_dir);

  //! The desk the last mixer saved, or nothing (none saved, or not readable: logged).
  //! What it returns for nodes not here yet stays pending (see for_node).
  std::optional<proto::Scene> load();
  //! The pending strips of `node` (removed from the pending ones); empty when none.
  proto::Scene for_node(const std::string& node);
  //! The cue mixes the last mixer kept that are not brought back yet (CueMixes::restore
  //! takes out what it applies); saved again with the rest until then.
  google::protobuf::RepeatedPtrField<proto::CueState>& pending_cues() { return *pending_.mutable_cues(); }
  //! Saves scene() when the desk's change count moved since the last save and
  //! kSaveEveryNs have passed; strips still pending are kept in the file.
  void save_if_changed(std::uint64_t changes, std::int64_t now_ns,
                       const std::function<proto::Scene()>& scene);
  //! The file it keeps.
  std::filesystem::path path() const { return store_.path(kName); }

 private:
  static constexpr const char* kName = "current";
  SceneStore store_;
  proto::Scene pending_;  // strips of nodes that have not registered since the load
  std::uint64_t saved_changes_ = 0;
  std::int64_t last_save_ns_ = 0;
};

}  // namespace tl::mixer
