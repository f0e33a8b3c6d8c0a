#pragma once
//! The range check of a numeric command-line option, as a person reads it: help shows
//! "1..600000 ms" and a value outside it "--timeout-ms: 0 is outside 1..600000 ms", never
//! the digits of numeric_limits (CLI::PositiveNumber) or "1.000000 to 500.000000"
//! (CLI::Range). For the programs' CLI11 command lines (header only).

#include <CLI/CLI.hpp>

#include <charconv>
#include <string>
#include <type_traits>

namespace tl {

//! A number as a person writes it: the fewest digits that read back as the same value,
//! never in exponent form (3600, 0.001, 0.98).
template <typename T>
std::string plain_number(T value) {
  char text[64];
  std::to_chars_result r{};
  if constexpr (std::is_floating_point_v<T>) {
    r = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  } else {
    r = std::to_chars(text, text + sizeof text, value);
  }
  return r.ec == std::errc{} ? std::string(text, r.ptr) : std::string("?");
}

//! Accepts numbers from lo to hi, both included; `unit` ("ms", "s") follows the range.
template <typename T>
CLI::Validator in_range(T lo, T hi, const std::string& unit = {}) {
  const std::string range = plain_number(lo) + ".." + plain_number(hi) + (unit.empty() ? "" : " " + unit);
  return CLI::Validator(
      [lo, hi, range](std::string& input) -> std::string {
        T value{};
        if (!CLI::detail::lexical_cast(input, value)) return "'" + input + "' is not a number in " + range;
        if (!(value >= lo && value <= hi)) return input + " is outside " + range;
        return {};
      },
      range);
}

}  // namespace tl
