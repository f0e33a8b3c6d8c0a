#pragma once
//! The mixer node: wires the session clock, node registry, receiver, control
//! server, mix engine, its driver and the recorder, and hands each control request to
//! the part that answers it (desk, cue mixes, scene store, node status, recorder).
//!
//! Threads: the io thread (control TCP, audio UDP, timers, every request), the
//! mix thread (timer or device callback, real-time), the recorder thread (files).

#include <asio.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "tl/common/result.h"
#include "tl/mixer/audio_receiver.h"
#include "tl/mixer/automation_log.h"
#include "tl/mixer/backing_tracks.h"
#include "tl/mixer/control_server.h"
#include "tl/mixer/cue_mixes.h"
#include "tl/mixer/desk.h"
#include "tl/mixer/desk_journal.h"
#include "tl/mixer/mix_clock.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/mixer_config.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/node_status.h"
#include "tl/mixer/recorder.h"
#include "tl/mixer/scene_store.h"
#include "tl/mixer/session_clock.h"
#include "tl/mixer/take_mastering.h"
#include "tl/mixer/talk_control.h"
#include "tl/mixer/transport_control.h"

namespace tl::mixer {

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
  proto::MixerStatus status() const;
  void handle_register(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                       const proto::RegisterNode& r);
  void handle_scene(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::SceneRequest& r);
  void handle_set_latency(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                          const proto::SetLatency& r);
  //! io, every tick: hands the play-out delay to the recorder, logs large moves.
  void follow_latency();
  //! Hands the applied changes to the recorder with their block positions, and the
  //! transport's marks (tick).
  void collect_applied_changes();
  //! The strips of node or backing track `name` that the last desk kept, brought back.
  void restore_strips(const std::string& name);
  void handle_record(const std::shared_ptr<ControlSession>& s, std::uint64_t id, const proto::Envelope& r);
  //! tlctl take master: starts mastering a closed take, or says how its job goes.
  void handle_master_take(const std::shared_ptr<ControlSession>& s, std::uint64_t id,
                          const proto::MasterTake& r);
  //! io: asks a node for audio the recorder is missing (FetchAudio), or tells the
  //! recorder it cannot.
  void fetch_from_node(std::uint16_t node_id, MediaTime from, std::uint32_t frames);
  void broadcast(const proto::Envelope& event, bool nodes, bool levels);

  MixerConfig config_;
  SessionClock clock_;
  NodeRegistry registry_;
  PacketRing to_recorder_;
  SpscRing<MixChunk> mix_to_recorder_;
  SpscRing<ConcealedRun> concealed_to_recorder_;
  MixEngine engine_;
  BackingTracks backing_;  // read by the mix thread: stopped (driver_) before it goes
  Recorder recorder_;
  NodeStatus nodes_;
  AutomationLog automation_;  // records changes while recorder_ records or take_starting_
  Desk desk_;
  CueMixes cues_;
  SceneStore scenes_;
  DeskJournal desk_journal_;  // the desk kept for a restart (RECORD_DIR/.desk)
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  TransportControl transport_;
  TalkControl talk_;
  std::unique_ptr<AudioReceiver> receiver_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<MixDriver> driver_;
  bool take_starting_ = false;  // a record start is on its way to the recorder
  std::int64_t last_status_log_ns_ = 0;
  std::uint64_t transport_moves_ = 0;  // transport marks the engine applied
  MediaTime logged_latency_ = -1;
  std::string realtime_refused_;  // why the threads run at normal priority ("" : they do not)
  int recorder_realtime_error_ = 0;
  std::int64_t latency_log_ns_ = 0;
  std::uint64_t ticks_ = 0;
  TakeMastering mastering_;  // its thread reads take folders only; stopped before the rest
};

}  // namespace tl::mixer
