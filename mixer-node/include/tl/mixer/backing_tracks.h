#pragma once
//! The mixer's backing tracks (tlctl backing add|list|remove) and their disk reader.
//!
//! Each track is a file on the mixer's machine (WAV, FLAC, AIFF: what libsndfile reads;
//! up to kMaxBackingChannels channels) placed at a position on the transport timeline.
//! It gets a registry slot of its own (NodeRegistry::add_source), so its channels have
//! strips addressed by its name ("drums/1") like a node's, go into the main mix and every
//! cue mix, and are never recorded. A file at another rate is resampled as it is read
//! (libsoxr, tl::mastering::Resampler), from a position where the two rates' sample grids
//! meet, so a locate lands on the same samples as playing through.
//!
//! The reader thread (normal priority) keeps every enabled track's ring of chunks
//! (BackingTrack) filled ahead of the transport: 0.51 s, topped up every 5 ms. A play or
//! locate (prepare()) starts a new generation from the new position; ready() says when
//! every track has read its first chunks of it, and the io thread posts the play command
//! then, so the first frame after a play is the file's and not a late read's silence.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tl/common/result.h"
#include "tl/mixer/backing_file.h"
#include "tl/mixer/backing_track.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/take_automation.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class BackingTracks {
 public:
  //! engine: its transport is what the tracks follow; rate: the session's.
  BackingTracks(NodeRegistry& registry, const MixEngine& engine, std::uint32_t rate);
  ~BackingTracks();
  BackingTracks(const BackingTracks&) = delete;
  BackingTracks& operator=(const BackingTracks&) = delete;

  void start();
  void stop();

  //! io: adds the file at timeline position `at` as `name` (empty: the file's stem). A
  //! removed track's name can be used again with the same channel count. Errors: an
  //! unreadable file, too many channels, a bad or taken name, a negative position.
  struct Added {
    proto::BackingTrack track;
    NodeSlot* slot = nullptr;  //!< its strips
    bool fresh = false;        //!< a new slot (not a removed track's name used again)
    bool already = false;      //!< the same file at the same place was there: nothing changed
  };
  Result<Added> add(const std::filesystem::path& path, std::string name, MediaTime at);
  //! io: silences the track from the next block; its strips stay.
  Status remove(const std::string& name);
  //! io: the tracks that play.
  proto::BackingList list() const;
  //! io: the tracks that play, as a take records them for its render.
  std::vector<TakeAutomation::Backing> for_take() const;
  //! io: every track reads from timeline `position` under a new generation, which the
  //! play (or locate) command carries; with a loop, the straight timeline from there on
  //! folded by it (the command's loop).
  std::uint64_t prepare(MediaTime position, TimelineLoop loop = {});
  //! io: the latest generation prepare() started.
  std::uint64_t generation() const noexcept { return generation_; }
  //! io: whether every playing track has read ahead for `generation` (or to its end).
  bool ready(std::uint64_t generation) const;
  //! Any thread: underruns of every track.
  std::uint64_t underruns() const;
  std::size_t size() const;

 private:
  struct Entry;
  void run();
  //! Reader: tops up one track's ring; true when it read anything.
  bool fill(Entry& e);

  NodeRegistry& registry_;
  const MixEngine& engine_;
  std::uint32_t rate_;
  mutable std::mutex mutex_;  // guards entries_ (the list) and each entry's request; never the mix thread's
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::uint64_t generation_ = 0;  // io: the latest prepared
  MediaTime prepared_at_ = 0;     // io: its position
  TimelineLoop prepared_loop_;    // io: its loop
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tl::mixer
