#pragma once
//! A take being recorded: its files, and what the recorder learns about them as it goes.
//!
//! Owned by the recorder thread. Audio comes in by timeline position: a node's packets
//! (deinterleaved into its channels' tracks, from the node's exact samples), the live
//! mix's chunks (mix.wav) and the nodes' answers to the backfill (written into the
//! tracks in place). Offsets into the files are take-relative (0 at `start`).

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tl/common/result.h"
#include "tl/mixer/drift_tracker.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/packet_slot.h"
#include "tl/mixer/take_automation.h"
#include "tl/mixer/take_backfill.h"
#include "tl/mixer/take_concealment.h"
#include "tl/mixer/take_folder.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/track_writer.h"
#include "tl/protocol/audio_packet.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

struct Take {
  std::string name;
  std::filesystem::path dir;
  std::unique_ptr<AliveFile> alive;
  MediaTime start = 0;
  MediaTime stop = INT64_MAX;  // set when stopping
  std::int64_t stop_requested_ns = 0;
  std::function<void(Result<proto::RecordStopped>)> on_stopped;
  bool recovered = false;  // completed by a later mixer (recover_take)
  // A killed mixer's take going on in the next one (resume_take): its tracks by node name,
  // each taken up by open_tracks when that node is heard again.
  std::map<std::string, std::vector<std::unique_ptr<TrackWriter>>> waiting;
  std::vector<TakeRange> mixer_down;  // session samples where no mixer ran
  std::optional<TakePunch> punch;     // armed as it started (tlctl record punch)

  std::unique_ptr<TrackWriter> mix;
  // [node id][channel]
  std::array<std::vector<std::unique_ptr<TrackWriter>>, kMaxNodes + 1> tracks;
  std::array<std::uint64_t, kMaxNodes + 1> concealed_at_start{};
  std::int64_t last_header_ns = 0;
  std::int64_t last_alive_ns = 0;
  bool automation_dirty = false;  // a change not yet in automation.json
  std::int64_t last_automation_ns = 0;
  std::int64_t mix_end = 0;  // take-relative end of mix audio received
  MixConcealment mix_concealed;
  // What the live mix concealed of each track (by file).
  std::map<std::string, InputConcealment> live_concealed;
  // Per node: the end of the furthest audio heard, past the stop too (a gap just
  // before the stop is then a loss, not the end of the node's audio).
  std::array<MediaTime, kMaxNodes + 1> heard_until = [] {
    std::array<MediaTime, kMaxNodes + 1> a{};
    a.fill(INT64_MIN);
    return a;
  }();

  // For the conform: each node's arrivals, and its converged clock estimates (NodeReports).
  std::array<std::unique_ptr<DriftTracker>, kMaxNodes + 1> drift;
  std::array<std::vector<std::pair<MediaTime, double>>, kMaxNodes + 1> node_anchors;
  std::map<std::string, TakeTrack::Conform> conformed;  // by track file

  Backfill backfill;
  bool backfilling = false;  // the take-end backfill is under way
  std::int64_t backfill_deadline_ns = 0;
  // While recording: the exact samples behind an Opus node's decoded audio are
  // fetched from its spool as the take goes (take-relative: asked up to here).
  std::array<std::int64_t, kMaxNodes + 1> exact_asked{};
  std::int64_t next_exact_ns = 0;

  // The mix as the take began and every change after it.
  TakeAutomation automation;
  // Per node: how its overdubs are placed (NodeReport: cue play delay + round trip), as
  // the take began, and whether it changed during it.
  std::array<NodeCompensation, kMaxNodes + 1> compensation{};
  std::array<bool, kMaxNodes + 1> compensation_changed{};

  //! Opens the tracks of a node that has none yet (a file per channel, or the ones of a
  //! resumed take waiting for it); a file that cannot be opened is logged and left out.
  void open_tracks(const NodeSlot& slot, std::uint32_t sample_rate, std::uint32_t window_frames);
  //! A node's authenticated packet: its frames inside the take, into the node's tracks.
  void put_packet(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload,
                  std::int64_t arrival_ns, const NodeSlot& slot, std::uint32_t sample_rate);
  //! A stretch of the live mix, into mix.wav.
  void put_mix(const MixChunk& chunk);
  //! A run of one input the live mix concealed (file: its track).
  void put_concealed(const ConcealedRun& run, const std::string& file);
  //! A node's answer to a fetch (not its last message): its frames inside the take, into
  //! the node's tracks in place. slot: the node (nullptr when no longer registered).
  void put_backfill(std::uint16_t node_id, const NodeSlot* slot, const proto::AudioData& data);

  //! Writes every file out to `to` where at least `block` frames wait; the mix only as
  //! far as its audio has come.
  void flush(std::int64_t to, std::int64_t block);
  void update_headers();
  //! Writes a track out to `length` and tells it how far its node was heard.
  void run_to_end(std::uint16_t node_id, TrackWriter& track, std::int64_t length) const;

 private:
  std::vector<float> scratch_ = std::vector<float>(protocol::kMaxPayloadBytes);  // a packet's samples
  std::vector<float> channel_ = std::vector<float>(protocol::kMaxFrames);        // one of its channels
  std::array<float, 2 * kMaxMixChunk> interleaved_{};                            // a mix chunk
};

}  // namespace tl::mixer
