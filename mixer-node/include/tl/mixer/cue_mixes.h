#pragma once
//! The nodes' personal cue mixes, as the io thread hands them out. The mix engine makes
//! kMaxCues of them: a node holds one while its cue mix is on and gives it back when it
//! goes off. Its slot keeps what the engine was told (cue, cue_on, cue_levels_db,
//! cue_limit_dbtp). io thread only.

#include <cstdint>
#include <memory>
#include <optional>

#include "tl/common/result.h"
#include "tl/mixer/control_server.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/node_registry.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

//! The lowest cue no node holds, or nothing when every one of the kMaxCues is taken.
std::optional<int> free_cue(const NodeRegistry& registry);

class CueMixes {
 public:
  CueMixes(NodeRegistry& registry, MixEngine& engine) noexcept : registry_(registry), engine_(engine) {}

  //! Turns a node's cue mix on (it takes a free cue, its levels start at 0 dB) or off (the
  //! cue goes back). Errors: every cue is taken, the engine's queue is full.
  Status set_on(NodeSlot& slot, bool on);
  //! Answers a SetCue request (on, off, a source's level, the limiter's ceiling) with the
  //! node's CueState, or an error for the operator.
  void set_cue(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetCue& r);
  //! A source's level (dB, -60: off) in a listener's cue mix, turning the mix on if it is
  //! off. Errors: every cue is taken, the engine's queue is full.
  Status set_level(NodeSlot& listener, const NodeSlot& source, float level_db);

  //! Counts every change to a cue mix (on, off, a level, a ceiling): the desk journal
  //! saves when it moves.
  std::uint64_t changes() const noexcept { return changes_; }
  //! Each node's cue mix that is on or set (a level, a ceiling), into scene.cues.
  void fill(proto::Scene& scene) const;
  //! Brings back what a desk journal kept, as far as its nodes are here: a listener's
  //! ceiling and on state, and each level whose source has joined. What is applied is
  //! taken out of `kept`; the rest waits for its nodes (call again as nodes join).
  void restore(google::protobuf::RepeatedPtrField<proto::CueState>& kept);

 private:
  NodeRegistry& registry_;
  MixEngine& engine_;
  std::uint64_t changes_ = 0;
};

}  // namespace tl::mixer
