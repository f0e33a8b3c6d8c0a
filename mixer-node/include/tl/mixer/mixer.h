#pragma once
//! The mixer node: wires the session clock, node registry, receiver, control
//! server, mix engine, its driver and the recorder, and answers control requests.
//!
//! Threads: the io thread (control TCP, audio UDP, timers, every request), the
//! mix thread (timer or device callback, real-time), the recorder thread (files).

#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "tl/common/result.h"
#include "tl/mixer/audio_receiver.h"
#include "tl/mixer/control_server.h"
#include "tl/mixer/mix_clock.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/recorder.h"
#include "tl/mixer/strip_control.h"
#include "tl/mixer/session_clock.h"

namespace tl::mixer {

struct MixerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 7400;  // control TCP and audio UDP
  std::string record_dir = "takes";
  std::uint32_t sample_rate = 48000;
  std::uint32_t block_frames = 48;
  //! Play-out delay of the live mix: it starts at latency_ms and adapts to the
  //! nodes' measured need within [latency_min_ms, latency_max_ms] (equal: fixed;
  //! fixed too when a device clocks the mix).
  double latency_ms = 20.0;
  double latency_min_ms = 5.0;
  double latency_max_ms = 200.0;
  //! Added to every node's measured need, and how long a need is held (PlayoutPolicy).
  double latency_margin_ms = 1.0;
  double latency_hold_s = 30.0;
  //! Ask for real-time scheduling (mix and receive threads) and locked memory.
  bool realtime = true;
  std::string monitor;  // empty: headless timer; else device name substring ("" + monitor_default)
  bool monitor_default = false;
  std::string audio_api;  // alsa | jack | pulse | "" (RtAudio's choice)
  std::string token;
};

class Mixer final : public ControlHandler {
 public:
  explicit Mixer(MixerConfig config);
  ~Mixer() override;

  //! Binds sockets and starts every thread. Errors: port in use, device missing.
  Status start();
  //! Runs the io loop until stop() or SIGINT/SIGTERM; finishes a take in progress.
  void run();
  //! Asks run() to return (any thread).
  void stop();

  std::uint16_t port() const;

  void on_request(const std::shared_ptr<ControlSession>& session, const proto::Envelope& request) override;
  void on_closed(ControlSession& session) override;

 private:
  void tick();
  //! Real-time priority for the io (receive) thread, locked memory; logs once what was granted.
  void setup_realtime();
  static constexpr int kIoPriority = 60;
  void fill_node(const NodeSlot& slot, proto::NodeInfo& out, std::int64_t now_ns) const;
  proto::NodeList node_list() const;
  proto::MixerStatus status() const;
  void handle_register(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                       const proto::RegisterNode& r);
  void handle_set_channel(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                          const proto::SetChannel& r);
  void handle_set_strip(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetStrip& r);
  void handle_scene(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SceneRequest& r);
  void handle_set_latency(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetLatency& r);
  void handle_set_cue(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SetCue& r);
  //! Turns a node's cue mix on or off; an error when every cue the engine makes is taken.
  Status set_cue_on(NodeSlot& slot, bool on);
  //! Tells the engine the ceiling of the node's cue limiter; false when its queue is full.
  bool post_cue_limit(const NodeSlot& slot);
  //! io, every tick: hands the play-out delay to the recorder, logs large moves.
  void follow_latency();
  //! A channel strip's full state (settings, levels, gain reduction) for replies and scenes.
  //! Posts a bus's settings (and its effect's) to the engine; false when its queue is full.
  //! A non-zero id asks the engine to report where it applied them (automation).
  bool post_bus(std::size_t index, const BusSettings& settings, std::uint32_t id = 0);
  //! While a take records: an id for the next change, so its position and the target's
  //! state after it go to the take's automation.json. 0 when not recording.
  std::uint32_t automation_id();
  //! The target's state after change id (io thread), until the engine applies it;
  //! nothing for id 0 (not recording).
  void remember_strip(std::uint32_t id, const NodeSlot& slot, std::uint32_t channel);
  void remember_master(std::uint32_t id);
  void remember_bus(std::uint32_t id, std::size_t bus);
  //! Hands the applied changes to the recorder with their block positions (tick).
  void collect_applied_changes();
  //! The whole mixer state as a scene (strips, buses, master).
  proto::Scene current_scene(const std::string& name) const;
  void fill_strip(const NodeSlot& slot, std::uint32_t channel, proto::StripState& out) const;
  void handle_record(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::Envelope& r);
  //! io: asks a node for audio the recorder is missing (FetchAudio), or tells the
  //! recorder it cannot.
  void fetch_from_node(std::uint16_t node_id, MediaTime from, std::uint32_t frames);
  void broadcast(const proto::Envelope& event, bool nodes, bool levels);

  MixerConfig config_;
  SessionClock clock_;
  NodeRegistry registry_;
  SpscRing<PacketSlot> to_recorder_;
  SpscRing<MixChunk> mix_to_recorder_;
  SpscRing<ConcealedRun> concealed_to_recorder_;
  MixEngine engine_;
  Recorder recorder_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  std::unique_ptr<AudioReceiver> receiver_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<MixDriver> driver_;
  dsp::MasterParams master_ = master_safety();  // io thread's copy of the master chain settings
  std::array<BusSettings, kBuses> buses_{};  // io thread: the group buses and effect returns
  std::uint32_t next_change_id_ = 1;
  bool take_starting_ = false;  // a record start is on its way to the recorder
  std::map<std::uint32_t, std::string> pending_changes_;  // id -> the target's state (JSON) after it
  std::int64_t last_status_log_ns_ = 0;
  MediaTime logged_latency_ = -1;
  std::string realtime_refused_;  // why the threads run at normal priority ("" : they do not)
  int recorder_realtime_error_ = 0;
  std::int64_t latency_log_ns_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace tl::mixer
