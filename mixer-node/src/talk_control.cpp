#include "tl/mixer/talk_control.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "tl/common/units.h"
#include "tl/mixer/backing_file.h"
#include "tl/mixer/engine_post.h"
#include "tl/protocol/ranges.h"

namespace tl::mixer {
namespace {
constexpr std::string_view kFile = "file:";
constexpr std::string_view kNode = "node:";
constexpr std::string_view kMonitor = "monitor";
//! "device": the operator's mic on a capture node of this name.
constexpr std::string_view kDevice = "device";
constexpr std::string_view kDeviceNode = "talkback/1";
constexpr std::uint32_t kReadFrames = 65536;

//! The whole file, mono (its channels averaged), at the session's rate.
Result<std::unique_ptr<TalkClip>> read_clip(const std::filesystem::path& path, std::uint32_t rate) {
  BackingFile file("talkback " + path.string(), rate);
  if (Status opened = file.open(path); !opened) return Error{opened.error()};
  const auto longest = static_cast<MediaTime>(protocol::kTalkFileSeconds * rate);
  if (file.frames() > longest) {
    return Error{fmt::format("{} lasts {:.1f} s; a talkback file lasts {:g} s at most", path.string(),
                             static_cast<double>(file.frames()) / rate, protocol::kTalkFileSeconds)};
  }
  if (file.frames() == 0) return Error{path.string() + " holds no audio"};
  auto clip = std::make_unique<TalkClip>();
  clip->samples.resize(static_cast<std::size_t>(file.frames()));
  const std::uint32_t channels = file.channels();
  std::vector<float> chunk(static_cast<std::size_t>(kReadFrames) * channels);
  for (MediaTime at = 0; at < file.frames();) {
    const auto want = static_cast<std::uint32_t>(std::min<MediaTime>(kReadFrames, file.frames() - at));
    const std::uint32_t got = file.read(at, chunk.data(), want);
    if (got == 0) return Error{fmt::format("cannot read {} at frame {}", path.string(), at)};
    for (std::uint32_t i = 0; i < got; ++i) {
      float sum = 0.0f;
      for (std::uint32_t c = 0; c < channels; ++c) sum += chunk[static_cast<std::size_t>(i) * channels + c];
      clip->samples[static_cast<std::size_t>(at) + i] = sum / static_cast<float>(channels);
    }
    at += got;
  }
  return clip;
}
}  // namespace

Result<TalkControl::Voice> TalkControl::voice(const std::string& source) const {
  Voice v;
  if (source.rfind(kFile, 0) == 0) {
    const std::filesystem::path path = source.substr(kFile.size());
    if (path.empty()) return Error{"file: names no file (file:PATH, on the mixer's machine)"};
    auto clip = read_clip(path, rate_);
    if (!clip) return Error{clip.error()};
    v.source = source;
    v.clip = std::move(clip.value());
    return v;
  }
  std::string spec = source == kDevice ? std::string(kDeviceNode) : source;
  if (spec.rfind(kNode, 0) == 0) spec.erase(0, kNode.size());
  const auto slash = spec.rfind('/');
  std::uint32_t channel = 0;
  const char* digits = spec.data() + (slash == std::string::npos ? spec.size() : slash + 1);
  const auto [end, ec] = std::from_chars(digits, spec.data() + spec.size(), channel);
  if (slash == std::string::npos || ec != std::errc{} || end != spec.data() + spec.size() || channel == 0) {
    return Error{fmt::format("'{}' is not a talkback source: NODE/CH (a node's channel), device or file:PATH",
                             source)};
  }
  const std::string name = spec.substr(0, slash);
  NodeSlot* slot = registry_.by_name(name);
  if (slot == nullptr) {
    if (source == kDevice) {
      return Error{
          "no node named talkback: 'device' is the operator's mic on one (tl-capture --name talkback "
          "--source device)"};
    }
    return Error{fmt::format("no node or backing track '{}' to talk from", name)};
  }
  if (channel > slot->channels) {
    return Error{
        fmt::format("'{}' has {} channel(s); there is no {}/{}", name, slot->channels, name, channel)};
  }
  v.source = fmt::format("{}/{}", name, channel);
  v.node = slot->id;
  v.channel = channel - 1;
  return v;
}

int TalkControl::line_of(const std::string& source) {
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    if (lines_[l].on && lines_[l].source == source) return static_cast<int>(l);
  }
  return -1;
}

bool TalkControl::talking(std::size_t l) const {
  return lines_[l].on && engine_.talk().ended(l) != lines_[l].generation;
}

void TalkControl::free_retired() {
  const TalkMix& mix = engine_.talk();
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    Line& line = lines_[l];
    if (line.on && !talking(l)) {  // a file said all it had
      if (line.clip) retired_.push_back({.clip = std::move(line.clip), .after = line.generation});
      line.on = false;
    }
  }
  // A clip is freed once the mix thread has taken what replaced it and no line reads it
  // any more (a line that stops keeps reading while its gains come down).
  const std::uint64_t applied = mix.applied();
  std::erase_if(retired_, [&](const Retired& r) {
    if (r.after > applied) return false;
    for (std::size_t l = 0; l < kTalkLines; ++l) {
      if (mix.reading(l) == r.clip.get()) return false;
    }
    return true;
  });
}

bool TalkControl::post(ControlSession& s, std::uint64_t id, std::size_t l, TalkLine setting) {
  const MixCommand command{.kind = MixCommand::Kind::Talk,
                           .bus = static_cast<std::uint8_t>(l),
                           .generation = ++generation_,
                           .talk = setting};
  if (!post_or_answer(engine_, s, id, command)) return false;
  Line& line = lines_[l];
  if (line.clip) retired_.push_back({.clip = std::move(line.clip), .after = generation_});
  line.generation = generation_;
  return true;
}

void TalkControl::request(ControlSession& s, std::uint64_t id, const proto::TalkRequest& r) {
  free_retired();
  const auto answer = [&] {
    proto::Envelope reply;
    *reply.mutable_talk_state() = state();
    s.reply(id, std::move(reply));
  };
  if (r.action() == proto::TalkRequest::STATUS) return answer();
  if (r.action() == proto::TalkRequest::OFF) {
    std::string source = r.source();
    if (!source.empty()) {
      auto v = source.rfind(kFile, 0) == 0 ? Result<Voice>(Voice{.source = source}) : voice(source);
      if (!v) return s.send_error(id, proto::ErrorReply::NOT_FOUND, v.error());
      source = v->source;
    }
    for (std::size_t l = 0; l < kTalkLines; ++l) {
      if (!lines_[l].on || (!source.empty() && lines_[l].source != source)) continue;
      if (!post(s, id, l, TalkLine{})) return;
      lines_[l].on = false;
      spdlog::info("talkback: {} stops, asked by {}", lines_[l].source, s.who());
    }
    return answer();
  }
  if (r.action() != proto::TalkRequest::TALK) {
    return s.send_error(id, proto::ErrorReply::BAD_REQUEST, "unknown talk action");
  }

  const float level_db = r.has_level_db() ? r.level_db() : 0.0f;
  const float dim_db = r.has_dim_db() ? r.dim_db() : protocol::kTalkDimDefaultDb;
  if (!protocol::kTalkLevelDb.contains(level_db)) {
    return s.send_error(id, proto::ErrorReply::BAD_VALUE,
                        fmt::format("a talkback level is {:g} to {:+g} dB", protocol::kTalkLevelDb.lo,
                                    protocol::kTalkLevelDb.hi));
  }
  if (!protocol::kTalkDimDb.contains(dim_db)) {
    return s.send_error(
        id, proto::ErrorReply::BAD_VALUE,
        fmt::format("a dim is {:g} to {:g} dB", protocol::kTalkDimDb.lo, protocol::kTalkDimDb.hi));
  }
  if (r.to().empty()) {
    return s.send_error(id, proto::ErrorReply::BAD_VALUE,
                        "talk to whom? name nodes (their cue mixes) or monitor (the mixer's output)");
  }
  TalkLine setting{.level = static_cast<float>(db_to_gain(static_cast<double>(level_db))),
                   .dim = static_cast<float>(db_to_gain(static_cast<double>(dim_db)))};
  std::vector<std::string> to;
  for (const std::string& name : r.to()) {
    if (std::find(to.begin(), to.end(), name) != to.end()) continue;
    to.push_back(name);
    if (name == kMonitor) {
      if (!has_monitor_) {
        return s.send_error(id, proto::ErrorReply::CONFLICT,
                            "this mixer has no monitor output to talk into (tl-mixer --monitor device)");
      }
      setting.monitor = true;
      continue;
    }
    const NodeSlot* slot = registry_.by_name(name);
    if (slot == nullptr || slot->fed_frames()) {
      return s.send_error(id, proto::ErrorReply::NOT_FOUND, fmt::format("no node '{}' to talk to", name));
    }
    if (slot->cue < 0 || !slot->cue_on) {
      return s.send_error(
          id, proto::ErrorReply::CONFLICT,
          fmt::format("node '{}' has no cue mix on to talk into (tl-capture --cue ...)", name));
    }
    setting.listeners |= std::uint64_t{1} << (slot->id - 1u);
  }
  auto v = voice(r.source());
  if (!v) {
    const bool bad_value = r.source().empty() ||
                           v.error().find("is not a talkback source") != std::string::npos ||
                           v.error().find("names no file") != std::string::npos;
    return s.send_error(id, bad_value ? proto::ErrorReply::BAD_VALUE : proto::ErrorReply::NOT_FOUND,
                        r.source().empty() ? "talk needs a source: NODE/CH, device or file:PATH" : v.error());
  }
  int l = line_of(v->source);
  for (std::size_t k = 0; k < kTalkLines && l < 0; ++k) {
    if (!talking(k) && !engine_.talk().sounding(k)) l = static_cast<int>(k);  // not fading either
  }
  if (l < 0) {
    return s.send_error(
        id, proto::ErrorReply::CONFLICT,
        fmt::format("{} voices talk already; stop one (tlctl talk off --source ...)", kTalkLines));
  }
  const auto line_index = static_cast<std::size_t>(l);
  setting.source = v->node;
  setting.channel = v->channel;
  setting.clip = v->clip.get();
  if (!post(s, id, line_index, setting)) return;
  Line& line = lines_[line_index];
  line.source = v->source;
  line.to = to;
  line.level_db = level_db;
  line.dim_db = dim_db;
  line.on = true;
  line.clip = std::move(v->clip);
  line.started = engine_.position();
  spdlog::info("talkback: {} talks to {} at {:+.1f} dB, programme {:.1f} dB under it, asked by {}",
               line.source, fmt::join(to, ", "), level_db, dim_db, s.who());
  answer();
}

proto::TalkState TalkControl::state() {
  free_retired();
  proto::TalkState st;
  st.set_monitor(has_monitor_);
  for (std::size_t l = 0; l < kTalkLines; ++l) {
    if (!talking(l)) continue;
    const Line& line = lines_[l];
    proto::TalkLineState* out = st.add_lines();
    out->set_source(line.source);
    for (const std::string& t : line.to) out->add_to(t);
    out->set_level_db(line.level_db);
    out->set_dim_db(line.dim_db);
    if (line.clip) out->set_seconds(static_cast<double>(line.clip->samples.size()) / rate_);
    out->set_talked_seconds(static_cast<double>(std::max<MediaTime>(engine_.position() - line.started, 0)) /
                            rate_);
  }
  return st;
}

}  // namespace tl::mixer
