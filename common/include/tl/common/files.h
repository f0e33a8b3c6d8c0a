#pragma once
//! Small file helpers every program shares.

#include <filesystem>
#include <string>
#include <string_view>

#include "tl/common/result.h"

namespace tl {

//! Replaces the file at path with text, whole or not at all: written to tmp beside it, then
//! renamed over it, so a reader (or a program killed mid-write) never sees half a file. On
//! failure tmp is removed, the last whole file stays, and the error names the file and why
//! (errno: a full disk says so).
Status replace_file(const std::filesystem::path& path, const std::filesystem::path& tmp,
                    std::string_view text);

//! This boot's identity (/proc/sys/kernel/random/boot_id; empty when unreadable). The
//! monotonic clock, and so any map from it, holds only within one boot.
std::string boot_id();

}  // namespace tl
