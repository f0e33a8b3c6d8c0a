#pragma once
//! Operator changes to channel strips and the master chain: validation of SetStrip
//! requests (section, keys, ranges) and their StripState replies. io thread only.

#include <string>

#include "tl/common/result.h"
#include "tl/dsp/bus.h"
#include "tl/dsp/effects.h"
#include "tl/dsp/strip.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

//! Applies a SetStrip change to a channel strip's parameters. Returns a short description
//! for the log ("hpf on 80 Hz 24 dB/oct"), or an operator-facing error (unknown section or
//! key, value out of range) leaving `params` unchanged.
Result<std::string> apply_strip_change(dsp::StripParams& params, const proto::SetStrip& change,
                                       double sample_rate, std::int32_t max_delay_samples);

//! The same for the master chain (sections eq, comp, limiter).
Result<std::string> apply_master_change(dsp::MasterParams& params, const proto::SetStrip& change);

//! A group bus or an effect return, with its effect (the reverb on fx1, the delay on fx2).
struct BusSettings {
  dsp::BusParams bus{};
  dsp::ReverbParams reverb{};
  dsp::TempoDelayParams delay{};
};
//! The bus a target names: "bus1".."bus8" (0..7), "fx1", "fx2" (8, 9), or an operator-facing error.
Result<std::size_t> bus_index(const std::string& target);
std::string bus_name(std::size_t index);
//! The same for a bus (sections eq, comp, fader, mute; reverb on fx1, delay on fx2).
Result<std::string> apply_bus_change(BusSettings& bus, std::size_t index, const proto::SetStrip& change);
void fill_bus_state(const BusSettings& bus, std::size_t index, proto::StripState& out);
BusSettings bus_settings_from_state(const proto::StripState& state);

void fill_strip_state(const dsp::StripParams& params, double sample_rate, proto::StripState& out);
void fill_master_state(const dsp::MasterParams& params, proto::StripState& out);

//! The inverse of fill_strip_state / fill_master_state (scene recall); values are clamped
//! to the ranges an operator may set.
dsp::StripParams strip_params_from_state(const proto::StripState& state, double sample_rate,
                                         std::int32_t max_delay_samples);
dsp::MasterParams master_params_from_state(const proto::StripState& state);

}  // namespace tl::mixer
