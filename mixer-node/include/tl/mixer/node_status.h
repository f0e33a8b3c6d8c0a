#pragma once
//! What the operator sees of the nodes and of the mixer (tlctl nodes and status, the
//! node and level events): the io thread's reading of the node slots, the mix engine,
//! its driver, the receiver and the recorder, as protobuf.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "tl/mixer/audio_receiver.h"
#include "tl/mixer/mix_clock.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/mixer_config.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/recorder.h"
#include "tl/mixer/session_clock.h"
#include "tl/mixer/strip_control.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

//! A meter's linear level in dBFS, -150 for silence.
float meter_dbfs(float linear);

//! A node's own bound on the play-out delay it asks for, ms (0: the mixer's).
double own_bound_ms(const std::atomic<std::int64_t>& frames, std::uint32_t rate);

//! Packets a node lost: before its last restart, and the gaps in its sequence since.
std::uint64_t lost_packets(const NodeSlot& slot);

//! One of a node's channels (0-based): fader, pan, mute, solo and its levels now.
void fill_channel_info(const NodeSlot& slot, std::uint32_t channel, proto::ChannelInfo& out);

class NodeStatus {
 public:
  NodeStatus(const NodeRegistry& registry, const SessionClock& clock, const MixEngine& engine) noexcept
      : registry_(registry), clock_(clock), engine_(engine) {}

  //! A node as the operator sees it at session time now_ns: format, state, loss, timing,
  //! sync, cue mix and every channel.
  void fill(const NodeSlot& slot, proto::NodeInfo& out, std::int64_t now_ns) const;
  //! Every node, now.
  proto::NodeList list() const;

 private:
  const NodeRegistry& registry_;
  const SessionClock& clock_;
  const MixEngine& engine_;
};

//! The parts of a mixer its status reads. driver and receiver are null before they start.
struct MixerParts {
  const MixerConfig& config;
  const SessionClock& clock;
  const MixEngine& engine;
  const Recorder& recorder;
  const MixDriver* driver;
  const AudioReceiver* receiver;
  const dsp::MasterParams& master;               // the master chain as last set
  const std::array<BusSettings, kBuses>& buses;  // likewise the buses
  const std::string& realtime_refused;           // why the threads run at normal priority ("": they do not)
  const NodeRegistry& registry;                  // the nodes connected now: the channels a take records
};

//! The mixer as `tlctl status` shows it: clock, play-out delay, recording, counters, meters.
proto::MixerStatus mixer_status(const MixerParts& parts);

}  // namespace tl::mixer
