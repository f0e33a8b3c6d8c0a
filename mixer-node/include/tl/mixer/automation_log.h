#pragma once
//! The operator's changes during a take, on their way to its automation.json (io thread).
//!
//! While a take records (or is about to), each change gets an id that travels with its
//! engine command, and the log keeps the target's state after the change under that id
//! until the engine reports the block it applied it at. Ids are never 0: a change with
//! id 0 is not recorded.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <google/protobuf/message.h>

#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class AutomationLog {
 public:
  //! At most this many states wait for the engine; more are changes it never reported.
  static constexpr std::size_t kMaxPending = 4096;

  //! recording: whether changes are recorded now (a take records, or is starting).
  explicit AutomationLog(std::function<bool()> recording, std::uint32_t first_id = 1);

  //! An id for the next change while recording (it wraps past 0); 0 otherwise.
  std::uint32_t next_id();
  //! Keeps the target's state after change id, which `fill` writes; neither for id 0.
  void remember(std::uint32_t id, const std::function<void(proto::StripState&)>& fill);
  //! The state kept for change id (automation_json), handed out once; nothing for an id it
  //! does not hold.
  std::optional<std::string> applied(std::uint32_t id);
  //! Drops the lowest ids beyond kMaxPending: changes the engine never reported applied
  //! (its ring of applied changes was full).
  void forget_unreported();

  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  std::function<bool()> recording_;
  std::uint32_t next_id_;
  std::map<std::uint32_t, std::string> pending_;  // id -> the target's state (JSON) after it
};

//! A state or scene as automation.json holds it: one line of JSON with the proto field
//! names and every field, "{}" when it cannot be encoded.
std::string automation_json(const google::protobuf::Message& message);

}  // namespace tl::mixer
