#pragma once
//! Talkback as the operator drives it (io thread): tlctl talk.
//!
//! `talk TO... --source SOURCE [--level DB] [--dim DB]` makes SOURCE talk into each named
//! node's cue mix ("monitor": the mixer's monitor output), the programme under it dimmed;
//! `talk off [--source SOURCE]` stops it (or every voice). Each source talks on a line of
//! its own (TalkMix, up to kTalkLines at once), so the operator can talk to the booth
//! while the booth talks back. A source is:
//! - "NODE/CH" (or "node:NODE/CH"): a node's channel, a talkback mic, after its strip and
//!   before its fader (a mic muted in the main mix still talks), until `talk off`;
//! - "device": the operator's own mic, i.e. "talkback/1": a capture node named talkback
//!   (tl-capture --name talkback --source device, on the operator's machine). The mixer
//!   may run in a machine room without a sound card; a node brings its clock sync, its
//!   drift correction and its loss handling with it;
//! - "file:PATH": a file on the mixer's machine (WAV, FLAC, AIFF; any rate, resampled;
//!   channels averaged to one), read into memory (at most kTalkFileSeconds) and played
//!   once from its start; the line stops at its end.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tl/mixer/control_server.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/node_registry.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class TalkControl {
 public:
  //! has_monitor: the mixer plays a monitor output (tl-mixer --monitor device).
  TalkControl(NodeRegistry& registry, MixEngine& engine, std::uint32_t rate, bool has_monitor)
      : registry_(registry), engine_(engine), rate_(rate), has_monitor_(has_monitor) {}

  void request(ControlSession& s, std::uint64_t id, const proto::TalkRequest& r);
  //! The lines talking now.
  proto::TalkState state();

 private:
  struct Line {
    std::string source;  // as shown: "NODE/CH" or "file:PATH"
    std::vector<std::string> to;
    float level_db = 0.0f;
    float dim_db = 0.0f;
    std::uint64_t generation = 0;  // the engine's setting (0: never set)
    bool on = false;
    std::unique_ptr<TalkClip> clip;
    MediaTime started = 0;  // the mix position when it was asked for
  };
  //! A source resolved: the voice's node and channel, or its clip (read from the file).
  struct Voice {
    std::string source;
    std::uint16_t node = 0;
    std::uint32_t channel = 0;
    std::unique_ptr<TalkClip> clip;
  };
  Result<Voice> voice(const std::string& source) const;
  //! The line a source talks on now (or -1).
  int line_of(const std::string& source);
  //! Posts line `l`'s setting (off: no listener); false (answered) when the queue is full.
  bool post(ControlSession& s, std::uint64_t id, std::size_t l, TalkLine setting);
  //! Whether line `l` talks (set on, and not a clip that has ended).
  bool talking(std::size_t l) const;
  //! Frees the clips the mix thread has moved on from.
  void free_retired();

  NodeRegistry& registry_;
  MixEngine& engine_;
  std::uint32_t rate_;
  bool has_monitor_;
  std::array<Line, kTalkLines> lines_{};
  std::uint64_t generation_ = 0;
  struct Retired {
    std::unique_ptr<TalkClip> clip;
    std::uint64_t after = 0;  // free once the engine has applied this generation
  };
  std::vector<Retired> retired_;
};

}  // namespace tl::mixer
