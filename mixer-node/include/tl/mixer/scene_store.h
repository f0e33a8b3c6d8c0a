#pragma once
//! Saved scenes: one file per scene, DIR/NAME.json (DIR is RECORD_DIR/scenes), holding the
//! JSON form of proto::Scene. io thread.

#include <filesystem>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class SceneStore {
 public:
  explicit SceneStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const noexcept { return dir_; }
  //! The file a scene is saved in.
  std::filesystem::path path(const std::string& name) const { return dir_ / (name + ".json"); }

  //! An error for the operator when `name` is not a valid scene name.
  static Status check_name(const std::string& name);

  //! Every saved scene's name, sorted; none when nothing was saved yet.
  std::vector<std::string> list() const;
  //! True when scene `name` has a file to read.
  bool saved(const std::string& name) const;

  //! Saves `scene` as `name`, whole or not at all: a reader never sees half a file. Errors:
  //! a bad name (check_name), a file that cannot be written (naming it).
  Status save(const std::string& name, const proto::Scene& scene) const;
  //! Reads scene `name`. Errors: a bad name, a scene not saved, a file that is not a scene
  //! (fields it does not know are ignored).
  Result<proto::Scene> load(const std::string& name) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace tl::mixer
