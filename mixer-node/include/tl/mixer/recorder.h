#pragma once
//! The recorder: owns every file of a take and writes audio by timeline position.
//!
//! Its own thread drains two queues: authenticated packets from the receiver
//! (every input as its own track, from the node's exact samples, never from the
//! live mix) and mix chunks from the mix engine (mix.wav). A take is
//! `<record-dir>/<take>/` with `<node>-<channel>.wav` per input channel, `mix.wav`
//! and `take.json`. Stopping waits for audio still in flight up to the stop
//! position, then backfills: every range a node's tracks are still missing is
//! asked of that node (FetchAudio over its control connection, answered from its
//! spool) and written into the raw tracks in place; then every file is trimmed to
//! the same length, conformed and closed. take.json lists what is still missing
//! and why.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/spsc_ring.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/packet_slot.h"
#include "tl/mixer/session_clock.h"
#include "tl/mixer/take_automation.h"
#include "tl/mixer/take_conformer.h"
#include "tl/mixer/take_manifest.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

struct Take;
struct TakeManifest;

struct RecorderConfig {
  std::string record_dir = "takes";
  MediaTime latency_frames = 960;        // the play-out delay at the start (set_latency() follows it)
  std::uint32_t window_frames = 131072;  // how far out of order track audio may arrive
};

class Recorder {
 public:
  using StartedFn = std::function<void(Result<proto::RecordStarted>)>;
  using StoppedFn = std::function<void(Result<proto::RecordStopped>)>;

  //! concealed: the mix engine's report of the input frames it concealed (none: not kept).
  Recorder(NodeRegistry& registry, const SessionClock& clock, PacketRing& packets, SpscRing<MixChunk>& mix,
           RecorderConfig config, SpscRing<ConcealedRun>* concealed = nullptr);
  ~Recorder();

  //! Starts the recorder thread: 0 when it runs with real-time priority, else why not.
  //! It drains queues the mix and receive threads fill at real-time priority: on a busy
  //! host a normal thread can be kept off the CPU long enough for them to overflow. Its
  //! priority is under theirs; its file writes sleep, they do not spin.
  int start(bool realtime = false);
  static constexpr int kPriority = 20;
  //! Finishes a take in progress (nothing lost) and the conform of closed ones, then
  //! stops the threads.
  void stop();

  //! How the mix ran as a take starts: the start of its automation.json, what an
  //! offline render (tl-render) needs to repeat it.
  struct MixSetup {
    std::string scene;               //!< the whole mixer state (a proto::Scene as JSON)
    std::uint32_t block_frames = 0;  //!< the mix engine's block
    MediaTime block_origin = 0;      //!< where one of its blocks began (its grid)
    std::size_t lookahead = 0;       //!< the master chain's delay (mix.wav is placed back by it)
    //! The nodes connected as the take starts: each gets its tracks at once. Any other
    //! node gets them only if its audio arrives while the take runs, so a node that left
    //! before the take has no track in it (and does not hold up its recovery).
    std::vector<std::uint16_t> nodes;
    //! The backing tracks that play (their files are read again by a render).
    std::vector<TakeAutomation::Backing> backing;
    //! The punch range armed (tlctl record punch): the take's passes through it are cut
    //! into punch-N/ as it closes.
    std::optional<TakePunch> punch;
  };
  //! Starts a take at the current session position. done runs on the recorder thread.
  void start_take(std::string name, MixSetup mix, StartedFn done);
  //! A parameter change, applied from mix position `position` on (session samples, as
  //! mix.wav places them); state: the target's StripState after it, as JSON. Any thread.
  void note_automation(MediaTime position, std::string state);
  //! A transport change the engine applied (a play, locate or stop), from mix position
  //! `position` on. The recorder keeps the latest, so a take starts with the transport in
  //! force, and records each one while a take runs. Any thread; in the engine's order.
  void note_transport(TakeAutomation::TransportMark mark);
  //! A backing track was added or removed: a take running now says so. Any thread.
  void note_backing_changed();
  //! Stops the take at the current session position. done runs on the recorder
  //! thread once every file is closed and take.json final, except for session-aligned
  //! track files still being written (state "conforming"; see Conformer).
  void stop_take(StoppedFn done);

  //! Completes a take a stopped mixer left unfinished: reopens its files, asks the
  //! (rejoined) nodes' spools for every range its tracks miss up to where the take
  //! was when the mixer stopped, patches them in, conforms and closes it like a
  //! stopped take (take.json says "recovered"). Every node of the take must be
  //! connected, unless skip_absent: the tracks of the others are closed as their files
  //! hold them, what they miss said with the reason. done runs on the recorder thread.
  void recover_take(std::string name, bool skip_absent, StoppedFn done);

  //! The take a killed mixer was recording in this same session (take.json "recording",
  //! the session's epoch), the newest if several: what resume_take() can go on with.
  std::optional<std::string> resumable_take() const;
  //! At start-up: goes on recording that take from now. Its tracks are taken up as their
  //! nodes are heard again; where no mixer ran goes to take.json `mixer_down`, and is
  //! filled from the nodes' spools when the take stops (`record stop`, as any take).
  void resume_take(std::string name);

  //! A point of a node's timestamp map from its converged clock estimate (any
  //! thread): the audio at media_ts was captured at session_pos.
  void note_anchor(std::uint16_t node_id, MediaTime media_ts, double session_pos);
  //! The live mix's play-out delay now (it adapts): the recorder writes audio this
  //! far behind the session clock, and waits this long for the mix when a take stops.
  void set_latency(MediaTime frames) noexcept { latency_.store(frames, std::memory_order_relaxed); }

  //! How a node's overdubs are placed (its NodeReport; any thread): kept for the takes
  //! that start later, and noted as a change by one that runs.
  void note_compensation(std::uint16_t node_id, NodeCompensation c);

  //! Where a node's current timeline began (any thread): audio from there on is
  //! expected on its tracks, so a lost first packet is a gap to backfill.
  void note_timeline_start(std::uint16_t node_id, MediaTime media_ts);

  bool recording() const noexcept { return recording_.load(std::memory_order_acquire); }
  //! Any thread: whether a take wants the nodes' packets (from just before its start to
  //! its end); the receiver queues none otherwise.
  bool wants_packets() const noexcept { return wants_packets_.load(std::memory_order_acquire); }
  std::string take_name() const;
  double take_seconds() const noexcept;

  //! Asks a node for audio of its own timeline (media time); runs on the recorder
  //! thread and must not block (the mixer posts it to its io thread). Set before start().
  using FetchFn = std::function<void(std::uint16_t node_id, MediaTime from, std::uint32_t frames)>;
  void set_fetcher(FetchFn fetch) { fetch_ = std::move(fetch); }
  //! Any thread: a node's answer to a fetch (a run of audio, or the last message).
  void backfill(std::uint16_t node_id, proto::AudioData data);
  //! Any thread: a fetch that cannot be answered (node not connected).
  void backfill_failed(std::uint16_t node_id, MediaTime from, std::uint32_t frames, std::string reason);

  //! Takes found under the record directory (reads their take.json): closed ones
  //! ("complete", "incomplete"), and ones a stopped mixer left ("unfinished", described
  //! from their files).
  std::vector<proto::RecordStopped> list_takes() const;
  //! At start-up, before any take: the takes a stopped mixer left, their take.json set to
  //! "unfinished" (so the file says what `tlctl takes` says); "name (12.3 s readable)" each.
  //! except: a take not to mark (the one resumed).
  std::vector<std::string> mark_unfinished_takes(const std::string& except = "");

 private:
  void run();
  void post(std::function<void()> fn);
  bool drain_packets();
  bool drain_mix();
  //! Keeps, per track of the take, the runs of its input the live mix concealed.
  bool drain_concealed();
  void begin(const std::string& name, MixSetup setup, const StartedFn& done);
  void recover(const std::string& name, bool skip_absent, const StoppedFn& done);
  void resume(const std::string& name);
  //! Makes take_ the take being recorded (recording_, take_name_, take_start_).
  void adopt(std::unique_ptr<Take> take);
  void service_take();
  //! While recording: asks each node for the exact samples behind the decoded Opus
  //! written since its last request (one request in flight per node).
  void fetch_exact_audio();
  //! Asks the nodes for what the take is missing; false when nothing is.
  bool start_backfill(std::int64_t length);
  void apply_backfill(std::uint16_t node_id, const proto::AudioData& data);
  //! Closes every file of the take, conforms its tracks, writes take.json and
  //! automation.json, and answers the stop.
  void finalize();
  //! take.json as it stands now: the take and its state, no tracks.
  TakeManifest manifest(const char* state) const;
  void write_manifest(const TakeManifest& m) const;
  //! Writes what closed takes could not (a full disk): every few seconds, in order,
  //! until the disk takes it. Their tracks wait for the conformer until then.
  void save_closed_takes(bool last_try);

  NodeRegistry& registry_;
  const SessionClock& clock_;
  PacketRing& packets_;
  SpscRing<MixChunk>& mix_;
  SpscRing<ConcealedRun>* concealed_;
  RecorderConfig config_;

  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<MediaTime> latency_{0};
  mutable std::mutex mutex_;  // guards commands_, take_name_ and unsaved_summaries_
  std::condition_variable wake_;
  std::deque<std::function<void()>> commands_;
  std::string take_name_;
  std::vector<proto::RecordStopped> unsaved_summaries_;  // what list_takes() says of unsaved_
  std::atomic<bool> recording_{false};
  std::atomic<bool> wants_packets_{false};
  std::atomic<MediaTime> take_start_{0};

  std::unique_ptr<Take> take_;               // recorder thread only
  TakeAutomation::TransportMark transport_;  // recorder thread: the latest (stopped at 0 at first)
  std::array<NodeCompensation, kMaxNodes + 1> compensation_{};  // recorder thread: the latest per node
  FetchFn fetch_;
  //! A closed take's automation.json and take.json, kept until they are on disk.
  struct Unsaved {
    std::string take;
    std::filesystem::path dir;
    std::optional<TakeAutomation> automation;
    TakeManifest manifest;
    bool conform = false;  // hand its pending tracks to the conformer once saved
    bool logged = false;   // the failure was said
  };
  std::deque<Unsaved> unsaved_;
  //! At shutdown, for a take still unsaved: its tracks back out of raw/.
  static void return_raw_files(const Unsaved& u);
  std::int64_t next_save_ns_ = 0;
  Conformer conformer_;  // closed takes' session-aligned files, after the stop has answered
};

}  // namespace tl::mixer
