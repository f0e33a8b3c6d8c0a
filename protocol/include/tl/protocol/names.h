#pragma once
//! Names that travel on the control channel and end up in file names: a node's (its
//! tracks are NAME-CHANNEL.wav), a take's (its folder) and a scene's (scenes/NAME.json).
//! They share one character set, so a name never needs quoting on disk or in a shell,
//! and one rule (valid_name) with a length and what a file name must not be.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace tl::protocol {

inline constexpr std::size_t kMaxNodeNameLength = 32;
inline constexpr std::size_t kMaxFileNameLength = 64;  //!< takes and scenes

//! True for the characters a name may hold: A-Z a-z 0-9 - _ .
constexpr bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

//! True when every character of `name` is a name character (true for an empty name).
constexpr bool all_name_chars(std::string_view name) noexcept {
  return std::all_of(name.begin(), name.end(), is_name_char);
}

//! True for 1 to max_length name characters.
constexpr bool valid_name(std::string_view name, std::size_t max_length) noexcept {
  return !name.empty() && name.size() <= max_length && all_name_chars(name);
}

//! True for the names a mixer accepts for a capture node: 1-32 of A-Z a-z 0-9 - _ .
constexpr bool valid_node_name(std::string_view name) noexcept {
  return valid_name(name, kMaxNodeNameLength);
}

//! True for take names: 1-64 of A-Z a-z 0-9 - _ . other than "." and ".." (a take is a folder).
constexpr bool valid_take_name(std::string_view name) noexcept {
  return valid_name(name, kMaxFileNameLength) && name != "." && name != "..";
}

//! True for a plain, visible file or folder name: 1-64 of A-Z a-z 0-9 - _ . not starting with
//! '.' (no hidden files, no "." or ".."), so joining it to a folder never leaves that folder.
constexpr bool valid_file_name(std::string_view name) noexcept {
  return valid_name(name, kMaxFileNameLength) && name.front() != '.';
}

//! True for scene names (scenes/NAME.json): a valid_file_name.
constexpr bool valid_scene_name(std::string_view name) noexcept {
  return valid_file_name(name);
}

}  // namespace tl::protocol
