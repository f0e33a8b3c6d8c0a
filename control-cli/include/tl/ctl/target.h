#pragma once
//! Parsing of the operator's command-line values: channel targets, on/off, numbers.

#include <cstdint>
#include <string>

#include "tl/common/result.h"

namespace tl::ctl {

//! A channel strip address: "node/channel", channel counted from 1.
struct Target {
  std::string node;
  std::uint32_t channel = 0;

  //! The canonical form sent to the mixer ("room-a/1").
  std::string str() const { return node + "/" + std::to_string(channel); }
};

//! Parses "node/channel". The node is everything before the last '/', must be
//! non-empty and free of spaces; the channel is a decimal number from 1 to 65535.
Result<Target> parse_target(const std::string& text);

//! Parses on/off, true/false, yes/no, 1/0 (case-insensitive).
Result<bool> parse_switch(const std::string& text);

//! Parses a finite decimal number ("-6", "-6.000000", "+3", ".5"). "-inf" is
//! accepted when allow_minus_inf is set and returns -150 (the mixer's silence).
Result<float> parse_number(const std::string& text, bool allow_minus_inf = false);

//! True for tokens that look like a negative number ("-6", "-0.5", "-.5", "-inf"),
//! which a command line must treat as values, not as options.
bool is_negative_number(const std::string& token);

}  // namespace tl::ctl
