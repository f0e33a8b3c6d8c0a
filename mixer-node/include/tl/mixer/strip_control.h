#pragma once
//! Operator changes to channel strips and the master chain: validation of SetStrip
//! requests (section, keys, ranges) and their StripState replies. io thread only.

#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/dsp/bus.h"
#include "tl/dsp/effects.h"
#include "tl/dsp/strip.h"
#include "tl/mixer/mix_engine.h"
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

//! A strip's fader, pan, mute and solo as a recorded state has them (clamped to the
//! ranges an operator may set; gain_db <= -150 is off).
struct ChannelMix {
  float gain_db = 0.0f;
  float pan = 0.0f;
  bool mute = false;
  bool solo = false;
};
ChannelMix channel_mix_from_state(const proto::StripState& state);

//! The engine commands that bring a target to a recorded state (a scene's entry or an
//! automation change), shared by scene recall and the offline render: a channel strip's
//! Strip, Gain, Pan, Mute and Solo (the first carries `id`); a bus's Bus and, on fx1/fx2,
//! its Reverb or Delay; the master's Master.
std::vector<MixCommand> strip_commands(const proto::StripState& state, std::uint16_t node,
                                       std::uint16_t channel, double sample_rate,
                                       std::int32_t max_delay_samples, std::uint32_t id = 0);
std::vector<MixCommand> bus_commands(std::size_t index, const BusSettings& settings, std::uint32_t id = 0);
MixCommand master_command(const dsp::MasterParams& params, std::uint32_t id = 0);

}  // namespace tl::mixer
