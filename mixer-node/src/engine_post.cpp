#include "tl/mixer/engine_post.h"

#include "tl/mixer/control_server.h"

namespace tl::mixer {

std::string queue_full_error(std::string_view then) {
  return "mix engine command queue is full; " + std::string(then);
}

Status post_changes(MixEngine& engine, std::span<const MixCommand> commands, std::string_view then) {
  for (const MixCommand& c : commands) {
    if (!engine.post(c)) return Error{queue_full_error(then)};
  }
  return Status::success();
}

Status post_change(MixEngine& engine, const MixCommand& command, std::string_view then) {
  return post_changes(engine, std::span(&command, 1), then);
}

bool post_or_answer(MixEngine& engine, ControlSession& session, std::uint64_t id,
                    std::span<const MixCommand> commands, std::string_view then) {
  const Status posted = post_changes(engine, commands, then);
  if (!posted) session.send_error(id, proto::ErrorReply::INTERNAL, posted.error());
  return posted.ok();
}

bool post_or_answer(MixEngine& engine, ControlSession& session, std::uint64_t id, const MixCommand& command,
                    std::string_view then) {
  return post_or_answer(engine, session, id, std::span(&command, 1), then);
}

}  // namespace tl::mixer
