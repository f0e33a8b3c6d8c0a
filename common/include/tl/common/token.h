#pragma once
//! The shared control token: --token-file F, else TRACKLINK_TOKEN.

#include <string>

#include "tl/common/result.h"

namespace tl {

//! Reads the token from token_file when non-empty, else from the TRACKLINK_TOKEN
//! environment variable. Trailing whitespace is stripped. Errors say what to do.
Result<std::string> load_token(const std::string& token_file);

}  // namespace tl
