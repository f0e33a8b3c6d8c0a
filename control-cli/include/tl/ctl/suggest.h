#pragma once
//! Words an operator mistyped: how far apart two words are, and the known word one most
//! likely meant ("stauts": status).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace tl::ctl {

//! The edits that turn a into b: an inserted, deleted or replaced letter, or two
//! neighbouring letters swapped, count one each (optimal string alignment distance).
std::size_t edit_distance(std::string_view a, std::string_view b);

//! The known word that `word` most likely means: the nearest within a typo's reach (one
//! edit for words of up to four letters, two for longer ones; the first of equals), else
//! the only known word that `word` begins. Empty when none is that near.
std::string_view nearest_word(std::string_view word, std::span<const std::string_view> known);

//! "; did you mean 'X'?" for the nearest known word, or empty.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> known);

}  // namespace tl::ctl
