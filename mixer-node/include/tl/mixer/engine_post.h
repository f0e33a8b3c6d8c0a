#pragma once
//! Operator changes on their way to the mix engine (io thread). The engine's command
//! queue is sized once; a burst of changes can fill it, and a change is then refused
//! with one error the operator can act on, never waited for.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tl/common/result.h"
#include "tl/mixer/mix_engine.h"

namespace tl::mixer {

class ControlSession;

//! "mix engine command queue is full; " followed by what the operator should do (`then`).
std::string queue_full_error(std::string_view then = "try again");

//! Posts the commands in order. Stops at the first one the queue refuses, with
//! queue_full_error(then); those before it are posted.
Status post_changes(MixEngine& engine, std::span<const MixCommand> commands,
                    std::string_view then = "try again");
Status post_change(MixEngine& engine, const MixCommand& command, std::string_view then = "try again");

//! The same for a request: a refusal answers request `id` on `session` with that error
//! (INTERNAL) and returns false.
bool post_or_answer(MixEngine& engine, ControlSession& session, std::uint64_t id,
                    std::span<const MixCommand> commands, std::string_view then = "try again");
bool post_or_answer(MixEngine& engine, ControlSession& session, std::uint64_t id, const MixCommand& command,
                    std::string_view then = "try again");

}  // namespace tl::mixer
