#include "tl/mixer/take_render.h"

#include <google/protobuf/util/json_util.h>
#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tl/common/units.h"
#include "tl/mixer/backing_file.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/strip_control.h"
#include "tl/mixer/take_automation.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_sources.h"
#include "tl/mixer/track_writer.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

//! A recorded state (a scene, a strip's state) from its JSON text.
template <class Message>
bool parse_state(const std::string& text, Message& out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  return !text.empty() && google::protobuf::util::JsonStringToMessage(text, &out, options).ok();
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

//! The render's mix: a registry with the take's nodes and backing tracks, the real
//! engine reading each one's audio, and where its output goes.
class Render {
 public:
  Render(std::uint32_t rate, std::int64_t start, std::int64_t frames, bool master_chain)
      : rate_(rate),
        start_(start),
        frames_(frames),
        registry_(RegistryConfig{.sample_rate = rate}),
        chunks_(4096 / kMaxMixChunk + 8),
        engine_(registry_, chunks_,
                MixConfig{.sample_rate = rate,
                          .max_block_frames = 4096,
                          .latency_frames = 0,
                          .master_chain = master_chain}) {}

  Status add_node(std::unique_ptr<TakeFrames> node) {
    auto slot = registry_.add_source(node->name(), node->channels(), *node);
    if (!slot) return Error{"node '" + node->name() + "': " + slot.error()};
    nodes_.push_back(std::move(node));
    return {};
  }
  Status add_backing(std::unique_ptr<BackingFrames> track) {
    auto slot = registry_.add_source(track->about().name, track->about().channels, *track);
    if (!slot) return Error{"backing track '" + track->about().name + "': " + slot.error()};
    backing_.push_back(std::move(track));
    return {};
  }

  //! The transport from the block at pos on, as a mark of the take left it.
  void move_transport(const TakeAutomation::TransportMark& m, MediaTime pos) {
    const MediaTime timeline = m.playing ? m.timeline + (pos - m.position) : m.timeline;
    transport_.apply(m.playing ? kTransportPlay : kTransportStand, timeline, ++reads_, pos, m.loop);
  }

  //! Posts the commands that set a target to a recorded state; false when the target
  //! has no track in this take.
  Result<bool> apply_state(const proto::StripState& state) {
    std::vector<MixCommand> cmds;
    if (state.target() == "master") {
      cmds.push_back(master_command(master_params_from_state(state)));
    } else if (auto bus = bus_index(state.target())) {
      cmds = bus_commands(bus.value(), bus_settings_from_state(state));
    } else if (auto strip = resolve_target(registry_, state.target())) {
      auto [slot, channel] = strip.value();
      cmds = strip_commands(state, slot->id, static_cast<std::uint16_t>(channel), rate_,
                            registry_.config().max_delay_samples);
    } else {
      return false;
    }
    for (const MixCommand& c : cmds) {
      if (!engine_.post(c)) return Error{"too many changes in one block (the engine's queue is full)"};
    }
    return true;
  }

  MixEngine& engine() noexcept { return engine_; }

  //! Reads every node's audio for [pos, pos + n), mixes it, and hands the mix frames
  //! of the take to out.
  void block(MediaTime pos, std::size_t n, TrackWriter& out) {
    for (auto& node : nodes_) left_out_ += node->load(pos, n, start_);
    for (auto& track : backing_) track->load(pos, n, transport_);
    left_.assign(n, 0.0f);
    right_.assign(n, 0.0f);
    engine_.process(left_, right_);
    while (MixChunk* chunk = chunks_.front()) {
      const MediaTime first = std::max<MediaTime>(chunk->position, start_);
      const MediaTime end = std::min<MediaTime>(chunk->position + chunk->frames, start_ + frames_);
      if (first < end) {
        interleaved_.resize(2 * static_cast<std::size_t>(end - first));
        for (MediaTime p = first; p < end; ++p) {
          const auto i = static_cast<std::size_t>(p - chunk->position);
          interleaved_[2 * static_cast<std::size_t>(p - first)] = chunk->left[i];
          interleaved_[2 * static_cast<std::size_t>(p - first) + 1] = chunk->right[i];
        }
        out.put(first - start_, interleaved_);
        out.flush_until(end - start_);
      }
      chunks_.pop();
    }
  }

  std::int64_t left_out() const noexcept { return left_out_; }

 private:
  std::uint32_t rate_;
  MediaTime start_;
  std::int64_t frames_;
  NodeRegistry registry_;
  SpscRing<MixChunk> chunks_;
  MixEngine engine_;
  std::vector<std::unique_ptr<TakeFrames>> nodes_;
  std::vector<std::unique_ptr<BackingFrames>> backing_;
  Transport transport_;      // as the take's marks move it
  std::uint64_t reads_ = 0;  // a new read of the backing files on every mark
  std::int64_t left_out_ = 0;
  std::vector<float> left_, right_, interleaved_;
};

struct Change {
  MediaTime position = 0;
  proto::StripState state;
};

//! The file a render reads for a track: raw/ or the session-aligned one.
std::string track_file(const TakeTrack& track, bool raw) {
  return raw && track.conform && !track.conform->raw_file.empty() ? track.conform->raw_file : track.file;
}

//! A track as the render reads it: raw/ (where its stamps put it, as the live mix heard it),
//! also when the take keeps one file for it, or the session-aligned one.
Result<std::unique_ptr<TrackStream>> open_track(const fs::path& dir, const TakeTrack& track, bool raw,
                                                std::uint32_t rate) {
  auto stream = TrackStream::open(dir / track_file(track, raw), rate);
  if (stream && raw && track.conform && track.conform->raw_file.empty()) {
    const TakeTrack::Conform& c = *track.conform;
    (*stream)->as_raw(std::llround(c.moved_samples), c.raw_edge_at((*stream)->frames()), c.raw_edge);
  }
  return stream;
}

}  // namespace

Result<std::vector<ShortTrack>> short_tracks(const RenderOptions& options) {
  auto take = TakeManifest::read(options.take_dir);
  if (!take) return Error{take.error()};
  const TakeManifest& t = take.value();
  std::vector<ShortTrack> out;
  for (const TakeTrack& tr : t.tracks) {
    const std::string file = track_file(tr, options.raw || options.as_live);
    auto track = open_track(options.take_dir, tr, options.raw || options.as_live, t.sample_rate);
    if (!track) return Error{track.error()};
    const auto take_frames = static_cast<std::int64_t>(t.frames);
    if ((*track)->frames() < take_frames) {
      out.push_back({.file = file,
                     .frames = (*track)->frames(),
                     .take_frames = take_frames,
                     .sample_rate = t.sample_rate});
    }
  }
  return out;
}

Result<RenderSummary> render_take(const RenderOptions& options) {
  const fs::path& dir = options.take_dir;
  auto take = TakeManifest::read(dir);
  if (!take) return Error{take.error()};
  auto automation = TakeAutomation::read(dir);
  if (!automation) return Error{automation.error()};
  const TakeManifest& t = take.value();
  const TakeAutomation& a = automation.value();
  if (t.state == TakeManifest::kConforming) {
    return Error{"the take's tracks are still being conformed (" + std::to_string(t.tracks_conforming()) +
                 " left; tlctl takes shows how many): render it when its state is complete"};
  }
  if (!t.closed()) return Error{"the take is not complete (tlctl record recover it first)"};

  RenderSummary summary;
  summary.sample_rate = t.sample_rate;
  const MediaTime start = t.start_sample;
  summary.frames = static_cast<std::int64_t>(t.frames);
  const auto block = a.mix.block_frames;
  const MediaTime origin = a.mix.block_origin;
  const auto lookahead = a.mix.lookahead_frames;
  if (summary.sample_rate == 0 || summary.frames <= 0) return Error{"take.json has no sample rate or length"};
  if (block == 0 || block > 4096) {
    return Error{
        "automation.json has no mix block size (recorded by an older tl-mixer): cannot repeat its mix"};
  }

  // The tracks, by node.
  const bool raw = options.raw || options.as_live;
  std::map<std::string, std::unique_ptr<TakeFrames>> by_node;
  for (const TakeTrack& tr : t.tracks) {
    const std::string& node = tr.node;
    const std::uint32_t channel = tr.channel;
    const std::string file = track_file(tr, raw);
    if (node.empty() || channel < 1 || channel > kMaxChannelsPerNode || file.empty()) {
      return Error{"take.json lists a track without node, channel or file: file '" + tr.file + "', node '" +
                   node + "', channel " + std::to_string(channel)};
    }
    std::unique_ptr<TakeFrames>& n = by_node[node];
    if (!n) n = std::make_unique<TakeFrames>(node, tr.node_id);
    const auto c = static_cast<std::size_t>(channel - 1);
    n->grow(c);
    if (options.include && !options.include(node, channel)) {
      ++summary.silenced;  // its strip stays, fed silence (a channel with no track)
      continue;
    }
    if (!raw && tr.conform && (tr.conform->resampled || tr.conform->moved_samples != 0.0)) ++summary.moved;
    auto track = open_track(dir, tr, raw, summary.sample_rate);
    if (!track) return Error{track.error()};
    n->set_track(c, std::move(track.value()));
    if (options.as_live) {
      if (tr.live_concealed) {
        for (const TakeRange& run : tr.live_concealed->runs) n->leave_out(c, run.from, run.from + run.frames);
      }
      if (tr.live_codec == "opus" ||
          (tr.live_concealed && (!tr.live_concealed->exact || !tr.live_concealed->complete))) {
        summary.not_repeatable.push_back(tr.file);
      }
    }
    ++summary.tracks;
  }

  Render render(summary.sample_rate, start, summary.frames, lookahead > 0);
  if (render.engine().master_latency() != lookahead) {
    return Error{"the take's master look-ahead (" + std::to_string(lookahead) +
                 " frames) is not this build's (" + std::to_string(render.engine().master_latency()) + ")"};
  }
  // The backing tracks that played, from their files (one that cannot be read any more is
  // left out, and said).
  std::vector<std::unique_ptr<BackingFrames>> backing;
  for (const TakeAutomation::Backing& b : a.backing) {
    auto track = std::make_unique<BackingFrames>(b, summary.sample_rate);
    if (const Status s = track->open(); !s) {
      summary.backing_unreadable.push_back(b.name + ": " + s.error());
      continue;
    }
    for (std::uint32_t c = 0; c < b.channels; ++c) {
      if (options.include && !options.include(b.name, c + 1)) {
        track->silence(c);
        ++summary.silenced;
      }
    }
    backing.push_back(std::move(track));
  }
  summary.backing = backing.size();
  summary.backing_changed = a.backing_changed;
  // Registered in the live mixer's id order, so the engine sums the nodes and backing
  // tracks in the same order (float sums in another order differ by an LSB now and then).
  std::vector<std::unique_ptr<TakeFrames>> nodes;
  for (auto& [name, node] : by_node) nodes.push_back(std::move(node));
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const auto& x, const auto& y) { return x->live_id() < y->live_id(); });
  std::stable_sort(backing.begin(), backing.end(),
                   [](const auto& x, const auto& y) { return x->about().node_id < y->about().node_id; });
  for (std::size_t i = 0, j = 0; i < nodes.size() || j < backing.size();) {
    if (j == backing.size() ||
        (i < nodes.size() && nodes[i]->live_id() < static_cast<int>(backing[j]->about().node_id))) {
      if (auto r = render.add_node(std::move(nodes[i++])); !r) return Error{r.error()};
    } else {
      if (auto r = render.add_backing(std::move(backing[j++])); !r) return Error{r.error()};
    }
  }

  // The mix as the take began, then every change in order.
  proto::Scene scene;
  if (!parse_state(a.initial, scene)) return Error{"automation.json has no initial mix"};
  const auto apply = [&](const proto::StripState& state) -> Status {
    auto applied = render.apply_state(state);
    if (!applied) return Error{applied.error()};
    if (!applied.value()) {
      ++summary.skipped;
      const std::string& target = state.target();
      const std::string owner = target.substr(0, target.rfind('/'));
      if (std::find(summary.skipped_owners.begin(), summary.skipped_owners.end(), owner) ==
          summary.skipped_owners.end())
        summary.skipped_owners.push_back(owner);
    }
    return {};
  };
  for (const auto& st : scene.strips()) {
    if (auto r = apply(st); !r) return Error{r.error()};
  }
  if (scene.has_master()) {
    if (auto r = apply(scene.master()); !r) return Error{r.error()};
  }
  for (const auto& st : scene.buses()) {
    if (auto r = apply(st); !r) return Error{r.error()};
  }
  std::vector<Change> changes;
  for (const TakeAutomation::Change& c : a.changes) {
    Change change{.position = c.position};
    if (!parse_state(c.state, change.state)) {
      return Error{"automation.json holds a change that is not a strip state: " + c.state};
    }
    changes.push_back(std::move(change));
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& x, const Change& y) { return x.position < y.position; });

  summary.out = options.out.empty() ? dir / "mix-render.wav" : options.out;
  auto writer = TrackWriter::open(summary.out.string(),
                                  TrackFileInfo{.sample_rate = summary.sample_rate,
                                                .channels = 2,
                                                .time_reference = start,
                                                .description = "tracklink render of " + t.take},
                                  4096);
  if (!writer) return Error{writer.error()};
  (*writer)->set_edge_fade(
      static_cast<std::uint32_t>(kMixEdgeFadeSeconds * summary.sample_rate));  // as mix.wav

  // Mix frame p comes from the block at p + look-ahead: run the live grid over
  // [start, start + frames) + look-ahead, after 50 ms of silence in which the initial
  // mix's gains and strip settings settle (live, they had long before the take).
  const auto L = static_cast<MediaTime>(lookahead);
  const auto B = static_cast<MediaTime>(block);
  const MediaTime preroll = (summary.sample_rate / 20 + B - 1) / B * B;
  MediaTime pos = start + L - (((start + L - origin) % B) + B) % B - preroll;
  const MediaTime end = start + summary.frames + L;
  render.engine().start_at(pos);
  std::size_t next = 0, next_mark = 0;
  const std::vector<TakeAutomation::TransportMark>& marks = a.transport;
  const double cpu0 = thread_cpu_seconds();
  auto last_report = std::chrono::steady_clock::now();
  while (pos < end) {
    for (; next < changes.size() && changes[next].position <= pos; ++next) {
      if (auto r = apply(changes[next].state); !r) return Error{r.error()};
      ++summary.changes;
    }
    for (; next_mark < marks.size() && marks[next_mark].position <= pos; ++next_mark)
      render.move_transport(marks[next_mark], pos);
    MediaTime n = std::min(B - (((pos - origin) % B) + B) % B, end - pos);
    // A change off the grid (a device-clocked mix) still lands on its frame.
    if (next < changes.size()) n = std::min(n, changes[next].position - pos);
    if (next_mark < marks.size()) n = std::min(n, marks[next_mark].position - pos);
    render.block(pos, static_cast<std::size_t>(n), **writer);
    pos += n;
    if (options.progress && std::chrono::steady_clock::now() - last_report > std::chrono::milliseconds(500)) {
      last_report = std::chrono::steady_clock::now();
      options.progress(static_cast<double>(std::max<MediaTime>(pos - start - L, 0)) / summary.sample_rate,
                       static_cast<double>(summary.frames) / summary.sample_rate);
    }
  }
  summary.cpu_seconds = thread_cpu_seconds() - cpu0;
  summary.left_out = render.left_out();
  (*writer)->finish(summary.frames);
  summary.peak_dbfs = static_cast<float>(gain_to_db((*writer)->peak(), -150.0));
  summary.clipped = (*writer)->clipped_samples();
  return summary;
}

Result<MixComparison> compare_with_mix(const fs::path& take_dir, const fs::path& render, std::int64_t settle,
                                       std::int64_t tolerance_lsb, bool include_concealed) {
  auto take = TakeManifest::read(take_dir);
  if (!take) return Error{take.error()};
  const std::uint32_t rate = take->sample_rate;
  auto mix = TrackStream::open(take_dir / "mix.wav", rate, 2);
  if (!mix) return Error{mix.error()};
  auto out = TrackStream::open(render, rate, 2);
  if (!out) return Error{out.error()};
  const std::int64_t frames = (*mix)->frames();
  if ((*out)->frames() != frames) {
    return Error{"the render and mix.wav differ in length (" + std::to_string((*out)->frames()) + " vs " +
                 std::to_string(frames) + " frames)"};
  }
  // Where the live mix held a guess (take.json mix.concealed, in order): left out.
  const std::int64_t start = take->start_sample;
  std::vector<std::pair<std::int64_t, std::int64_t>> concealed;
  if (take->mix && !include_concealed) {
    for (const TakeRange& g : take->mix->concealed) {
      concealed.emplace_back(g.from - start, g.from - start + g.frames);
    }
  }
  MixComparison cmp;
  const auto lsb = [](float v) {
    return static_cast<std::int64_t>(std::lround(static_cast<double>(v) * 8388608.0));
  };
  constexpr std::int64_t kChunk = 4096;
  std::vector<float> a(2 * kChunk), b(2 * kChunk);
  std::size_t range = 0;
  for (std::int64_t at = std::max<std::int64_t>(settle, 0); at < frames; at += kChunk) {
    const std::int64_t n = std::min(kChunk, frames - at);
    (*mix)->read(at, std::span(a).first(static_cast<std::size_t>(2 * n)));
    (*out)->read(at, std::span(b).first(static_cast<std::size_t>(2 * n)));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t f = at + i;
      while (range < concealed.size() && concealed[range].second <= f) ++range;
      if (range < concealed.size() && concealed[range].first <= f) {
        ++cmp.skipped_concealed;
        continue;
      }
      ++cmp.compared;
      const auto k = static_cast<std::size_t>(2 * i);
      const std::int64_t worst =
          std::max(std::llabs(lsb(a[k]) - lsb(b[k])), std::llabs(lsb(a[k + 1]) - lsb(b[k + 1])));
      cmp.max_lsb = std::max(cmp.max_lsb, worst);
      if (worst > tolerance_lsb && cmp.differing++ == 0) cmp.first_differing = f;
    }
  }
  return cmp;
}

}  // namespace tl::mixer
