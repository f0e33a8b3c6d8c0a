#pragma once
//! Logging set-up for the binaries: one line per event, for operators.

#include <string>

namespace tl {

//! Sets the default spdlog logger: name prefix, level ("trace".."off"), to stderr.
//! Unknown levels fall back to "info".
void init_logging(const std::string& program, const std::string& level);

}  // namespace tl
