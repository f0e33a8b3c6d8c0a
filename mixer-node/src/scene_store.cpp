#include "tl/mixer/scene_store.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tl/common/files.h"
#include "tl/mixer/take_folder.h"
#include "tl/protocol/names.h"

namespace tl::mixer {
namespace fs = std::filesystem;

Status SceneStore::check_name(const std::string& name) {
  if (protocol::valid_scene_name(name)) return Status::success();
  return Error{"bad scene name '" + name + "': use 1-64 of A-Z a-z 0-9 - _ . (not starting with .)"};
}

std::vector<std::string> SceneStore::list() const {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool SceneStore::saved(const std::string& name) const {
  return protocol::valid_scene_name(name) && std::ifstream(path(name)).good();
}

Status SceneStore::save(const std::string& name, const proto::Scene& scene) const {
  if (auto ok = check_name(name); !ok) return ok;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(scene, &json, print).ok()) {
    return Error{"cannot encode the scene"};
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // Its .tmp ending keeps the file being written out of list().
  const Status written = replace_file(path(name), dir_ / ("." + name + ".json.tmp"), json + "\n");
  if (!written) return Error{written.error() + ": check the record dir"};
  return written;
}

Result<proto::Scene> SceneStore::load(const std::string& name) const {
  if (auto ok = check_name(name); !ok) return Error{ok.error()};
  const fs::path file = path(name);
  std::ifstream f(file);
  if (!f) return Error{"no scene named '" + name + "' (see tlctl scene list)"};
  std::stringstream text;
  text << f.rdbuf();
  proto::Scene scene;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &scene, parse).ok()) {
    return Error{"scene file " + file.string() + " is not a valid scene"};
  }
  return scene;
}

}  // namespace tl::mixer
