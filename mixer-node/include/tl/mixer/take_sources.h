#pragma once
//! What tl-render reads a take from (take_render.cpp), each as the engine's FrameSource:
//! - TrackStream: a track (or a stereo mix) read in order, a block at a time;
//! - TakeFrames: a capture node's tracks, a block at a time;
//! - BackingFrames: a backing track from its file, where the take's transport put it.
//! Each reads its block before the engine's pass, so the pass does no file I/O.

#include <sndfile.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/mixer/backing_file.h"
#include "tl/mixer/frame_source.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/take_automation.h"

namespace tl::mixer {

//! A track (or a stereo mix) read in order, a block at a time: a long take is never held
//! in memory.
class TrackStream {
 public:
  static Result<std::unique_ptr<TrackStream>> open(const std::filesystem::path& path, std::uint32_t rate,
                                                   int channels = 1) {
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    if (file == nullptr) return Error{"cannot read " + path.string() + ": " + sf_strerror(nullptr)};
    std::unique_ptr<TrackStream> t(new TrackStream(file, info.frames, channels));
    if (info.channels != channels || info.samplerate != static_cast<int>(rate)) {
      return Error{path.filename().string() + " is not a " + (channels == 1 ? "mono track" : "stereo mix") +
                   " at the take's rate"};
    }
    return t;
  }
  std::int64_t frames() const noexcept { return frames_; }
  ~TrackStream() { sf_close(file_); }
  TrackStream(const TrackStream&) = delete;
  TrackStream& operator=(const TrackStream&) = delete;

  //! Reads the file as raw/ was (a mono track a whole-sample move kept as one file):
  //! frame i of raw/ is the file's i + moved, and the edge samples stand at edge_at.
  void as_raw(std::int64_t moved, std::int64_t edge_at, const std::vector<std::int32_t>& edge) {
    moved_ = moved;
    edge_at_ = edge_at;
    edge_.resize(edge.size());
    for (std::size_t i = 0; i < edge.size(); ++i) edge_[i] = static_cast<float>(edge[i]) / 8388608.0f;
  }

  //! Frames [from, from + out.size() / channels) of the file, interleaved, silence outside
  //! it (24-bit samples come back exactly). `from` only moves forward.
  void read(std::int64_t from, std::span<float> out) {
    std::fill(out.begin(), out.end(), 0.0f);
    std::int64_t lo = std::max<std::int64_t>(from + moved_, 0);
    const std::int64_t hi =
        std::min<std::int64_t>(from + moved_ + static_cast<std::int64_t>(out.size()) / channels_, frames_);
    while (lo < hi) {
      if (lo < held_from_ || lo >= held_from_ + held_) fill(lo);
      if (held_ == 0) break;  // the file ended early (cut short): silence
      const std::int64_t n = std::min(hi, held_from_ + held_) - lo;
      std::copy_n(held_buffer_.begin() + (lo - held_from_) * channels_, n * channels_,
                  out.begin() + (lo - from - moved_) * channels_);
      lo += n;
    }
    // The edge samples within [from, from + out.size()).
    const std::int64_t first = std::max<std::int64_t>(edge_at_, from);
    const std::int64_t last = std::min<std::int64_t>(edge_at_ + static_cast<std::int64_t>(edge_.size()),
                                                     from + static_cast<std::int64_t>(out.size()));
    for (std::int64_t at = first; at < last; ++at)
      out[static_cast<std::size_t>(at - from)] = edge_[static_cast<std::size_t>(at - edge_at_)];
  }

 private:
  //! Frames are read from the file kHeld at a time: the engine asks for a packet's worth
  //! (a few hundred frames), and libsndfile makes a system call per read, which cost a
  //! quarter of a 16-track render.
  static constexpr std::int64_t kHeld = 16384;

  TrackStream(SNDFILE* file, std::int64_t frames, int channels)
      : file_(file), frames_(frames), channels_(channels) {}
  //! Holds the file's frames from `from` on (as many as kHeld, fewer at its end).
  void fill(std::int64_t from) {
    if (from != at_) at_ = sf_seek(file_, from, SEEK_SET);
    held_buffer_.resize(static_cast<std::size_t>(kHeld * channels_));
    const sf_count_t got =
        at_ == from ? sf_readf_float(file_, held_buffer_.data(), std::min(kHeld, frames_ - from)) : 0;
    at_ += got;
    held_from_ = from;
    held_ = got;
  }
  SNDFILE* file_;
  std::int64_t frames_;
  int channels_;
  std::int64_t at_ = 0;
  std::vector<float> held_buffer_;
  std::int64_t held_from_ = 0, held_ = 0;
  std::int64_t moved_ = 0;  // as_raw(): raw/ frame i is the file's i + moved_
  std::int64_t edge_at_ = 0;
  std::vector<float> edge_;
};

//! Runs of frames [from, to) in a node's media time.
using Runs = std::vector<std::pair<MediaTime, MediaTime>>;

//! One capture node of the take as the engine reads it: its tracks, a block at a time.
//! load() reads every channel's block from its file before the engine runs (the file
//! I/O stays off the engine's pass); read() hands it over. --as-live: the frames the
//! live mix missed are marked, so the engine conceals them as it did live.
class TakeFrames final : public FrameSource {
 public:
  TakeFrames(std::string name, int live_id) : name_(std::move(name)), live_id_(live_id) {}

  const std::string& name() const noexcept { return name_; }
  int live_id() const noexcept { return live_id_; }
  std::uint32_t channels() const noexcept { return static_cast<std::uint32_t>(channels_.size()); }

  //! Channel c (from 0) is read from track, or plays silence when it has none.
  void set_track(std::size_t c, std::unique_ptr<TrackStream> track) {
    grow(c);
    channels_[c].track = std::move(track);
  }
  //! Channel c's frames [from, to) are left out (--as-live).
  void leave_out(std::size_t c, MediaTime from, MediaTime to) {
    grow(c);
    channels_[c].left_out.emplace_back(from, to);
  }
  //! A channel with neither (the node's channels up to c exist).
  void grow(std::size_t c) {
    if (channels_.size() <= c) channels_.resize(c + 1);
  }

  //! Reads the block [pos, pos + n) of every channel (take frame pos - start is track
  //! frame 0); returns the frames it left out.
  std::int64_t load(MediaTime pos, std::size_t n, MediaTime start) {
    std::int64_t left_out = 0;
    block_at_ = pos;
    for (Channel& ch : channels_) {
      ch.samples.resize(n);
      ch.marks.assign(n, 0);
      if (ch.track) {
        ch.track->read(pos - start, ch.samples);
      } else {
        std::fill(ch.samples.begin(), ch.samples.end(), 0.0f);
      }
      ch.missing = 0;
      if (!ch.sorted) {
        std::sort(ch.left_out.begin(), ch.left_out.end());
        ch.sorted = true;
      }
      const MediaTime end = pos + static_cast<MediaTime>(n);
      for (std::size_t k = ch.next; k < ch.left_out.size() && ch.left_out[k].first < end; ++k) {
        const MediaTime from = std::max(ch.left_out[k].first, pos);
        const MediaTime to = std::min(ch.left_out[k].second, end);
        for (MediaTime f = from; f < to; ++f) ch.marks[static_cast<std::size_t>(f - pos)] = 1;
        if (from < to) ch.missing += static_cast<std::uint32_t>(to - from);
      }
      while (ch.next < ch.left_out.size() && ch.left_out[ch.next].second <= end) ++ch.next;
      left_out += ch.missing;
      // The end of the latest frame with audio, as the end of a packet would be.
      for (std::size_t i = n; i > 0; --i) {
        if (ch.marks[i - 1] == 0) {
          audio_until_ = std::max(audio_until_, pos + static_cast<MediaTime>(i));
          break;
        }
      }
    }
    return left_out;
  }

  std::uint32_t read(std::uint32_t channel, MediaTime at, std::span<float> out,
                     std::span<std::uint8_t> marks) noexcept override {
    const Channel& ch = channels_[channel];
    const auto offset = static_cast<std::size_t>(at - block_at_);
    std::copy_n(ch.samples.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    std::copy_n(ch.marks.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), marks.begin());
    if (ch.missing == 0 || out.size() == ch.marks.size()) return ch.missing;
    return static_cast<std::uint32_t>(std::count(marks.begin(), marks.end(), std::uint8_t{1}));
  }

  MediaTime audio_until(MediaTime end) const noexcept override { return std::min(audio_until_, end); }

 private:
  struct Channel {
    std::unique_ptr<TrackStream> track;  // none: silent
    Runs left_out;
    bool sorted = false;
    std::size_t next = 0;  // the first run not yet behind the blocks
    std::vector<float> samples;
    std::vector<std::uint8_t> marks;
    std::uint32_t missing = 0;
  };
  std::string name_;
  int live_id_;
  std::vector<Channel> channels_;
  MediaTime block_at_ = 0;
  MediaTime audio_until_ = INT64_MIN;
};

//! A backing track that played in the take, read from its file where the take's
//! transport put it: the same reader and the same sequence of reads as the live disk
//! reader (BackingFile), so a file at another rate resamples to the same samples. load()
//! reads the block before the engine's pass, as TakeFrames does.
class BackingFrames final : public FrameSource {
 public:
  BackingFrames(const TakeAutomation::Backing& b, std::uint32_t rate) : about_(b), file_(b.name, rate) {}

  Status open() {
    if (const Status s = file_.open(about_.path); !s) return s;
    if (file_.channels() != about_.channels || file_.frames() != about_.frames) {
      return Error{"'" + about_.path + "' is no longer the file the take played (" +
                   std::to_string(file_.channels()) + " channels and " + std::to_string(file_.frames()) +
                   " frames, not " + std::to_string(about_.channels) + " and " +
                   std::to_string(about_.frames) + ")"};
    }
    planar_.resize(static_cast<std::size_t>(about_.channels));
    silenced_.assign(planar_.size(), false);
    return {};
  }
  const TakeAutomation::Backing& about() const noexcept { return about_; }
  //! Channel c (from 0) plays silence through its strip (a stem without it).
  void silence(std::size_t c) { silenced_.at(c) = true; }

  //! Reads the block [pos, pos + n) as the transport t places the track.
  void load(MediaTime pos, std::size_t n, const Transport& t) {
    block_at_ = pos;
    for (auto& ch : planar_) ch.assign(n, 0.0f);
    if (t.generation != generation_) {  // a play or locate: the live reader started again too
      generation_ = t.generation;
      file_.restart();
    }
    if (!t.playing) return;
    // A run at a time up to where a loop folds the timeline back, as the live reader's
    // chunks end there.
    for (std::size_t i = 0; i < n;) {
      const MediaTime l = t.linear(pos + static_cast<MediaTime>(i));
      const auto run =
          static_cast<std::size_t>(std::min<MediaTime>(static_cast<MediaTime>(n - i), t.loop.until_wrap(l)));
      load_run(t.loop.at(l), i, run);
      i += run;
    }
  }

  //! Timeline [t0, t0 + n) of the track into the block from frame `into`.
  void load_run(MediaTime t0, std::size_t into, std::size_t n) {
    const MediaTime lo = std::max(t0, about_.at);
    const MediaTime hi = std::min(t0 + static_cast<MediaTime>(n), about_.at + about_.frames);
    if (hi <= lo) return;
    const std::size_t channels = planar_.size();
    interleaved_.resize(static_cast<std::size_t>(hi - lo) * channels);
    const std::uint32_t got =
        file_.read(lo - about_.at, interleaved_.data(), static_cast<std::uint32_t>(hi - lo));
    const auto offset = into + static_cast<std::size_t>(lo - t0);
    for (std::size_t c = 0; c < channels; ++c) {
      if (silenced_[c]) continue;
      for (std::uint32_t k = 0; k < got; ++k) planar_[c][offset + k] = interleaved_[k * channels + c];
    }
  }

  std::uint32_t read(std::uint32_t channel, MediaTime at, std::span<float> out,
                     std::span<std::uint8_t> marks) noexcept override {
    const std::vector<float>& ch = planar_[std::min<std::size_t>(channel, planar_.size() - 1)];
    std::copy_n(ch.begin() + (at - block_at_), out.size(), out.begin());
    std::fill(marks.begin(), marks.end(), std::uint8_t{0});
    return 0;
  }
  MediaTime audio_until(MediaTime end) const noexcept override { return end; }

 private:
  TakeAutomation::Backing about_;
  BackingFile file_;
  std::uint64_t generation_ = 0;
  std::vector<std::vector<float>> planar_;
  std::vector<bool> silenced_;
  std::vector<float> interleaved_;
  MediaTime block_at_ = 0;
};

}  // namespace tl::mixer
