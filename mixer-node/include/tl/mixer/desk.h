#pragma once
//! The desk as the io thread keeps it: every channel strip (in its node's slot), the group
//! buses and effect returns, and the master chain, with the operator's changes to them.
//! A change is checked, posted to the mix engine, kept here once posted, and handed to
//! the automation log with the target's state after it. io thread only.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "tl/common/result.h"
#include "tl/mixer/automation_log.h"
#include "tl/mixer/bus_rack.h"
#include "tl/mixer/control_server.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/strip_control.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class Desk {
 public:
  Desk(NodeRegistry& registry, MixEngine& engine, AutomationLog& automation,
       std::uint32_t sample_rate) noexcept
      : registry_(registry), engine_(engine), automation_(automation), sample_rate_(sample_rate) {}

  const dsp::MasterParams& master() const noexcept { return master_; }
  const std::array<BusSettings, kBuses>& buses() const noexcept { return buses_; }

  //! Answers a SetChannel request (a channel's gain, pan, mute or solo) with its ChannelState,
  //! or an error: unknown channel, value out of range, the engine's queue full.
  void set_channel(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetChannel& r);
  //! Answers a SetStrip request on a channel strip, a bus or the master (section "show"
  //! changes nothing) with the target's StripState, or an error as above.
  void set_strip(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetStrip& r);

  //! The whole desk as a scene named `name`, stamped now: every channel strip of every
  //! node, the master, the buses.
  proto::Scene scene(const std::string& name) const;
  //! Brings the desk to a scene: the strips of nodes and channels that are here (the others
  //! go to out.skipped), the master, the buses; out.channels counts the strips applied.
  //! Error: the engine's queue filled up part way (what came before it is applied).
  Status recall(const proto::Scene& scene, const std::string& name, proto::SceneReply& out);

  //! How many changes the desk has taken (any strip, bus or the master): moves with each.
  std::uint64_t changes() const noexcept { return changes_; }

  //! A channel strip's full state: settings, fader, levels, gain reduction.
  void fill_strip(const NodeSlot& slot, std::uint32_t channel, proto::StripState& out) const;

 private:
  //! The channel a request's target names ("node/N"); when there is none, answers request
  //! id on s (NOT_FOUND) and returns nothing.
  std::optional<std::pair<NodeSlot*, std::uint32_t>> channel_or_answer(ControlSession& s, std::uint64_t id,
                                                                       const std::string& target);
  void remember_strip(std::uint32_t id, const NodeSlot& slot, std::uint32_t channel);
  void remember_master(std::uint32_t id);
  void remember_bus(std::uint32_t id, std::size_t bus);

  NodeRegistry& registry_;
  MixEngine& engine_;
  AutomationLog& automation_;
  std::uint32_t sample_rate_;
  dsp::MasterParams master_ = master_safety();  // the master chain's settings as last posted
  std::array<BusSettings, kBuses> buses_{};     // the group buses and effect returns, likewise
  std::uint64_t changes_ = 0;
};

}  // namespace tl::mixer
