#include "tl/mixer/mix_engine.h"

#include <algorithm>
#include <cmath>

#include "tl/common/realtime.h"

namespace tl::mixer {
namespace {
constexpr float kHalfPi = 1.57079632679f;

//! out += x * gain, the gain ramping linearly from `from` (before the block) to `to`
//! (at its last frame): no zipper noise on changes.
//! (The outputs never overlap the input: __restrict lets the loops run in vectors.)
void add_ramped(std::span<const float> x, float* __restrict out, float from, float to) noexcept {
  const std::size_t n = x.size();
  const float* __restrict in = x.data();
  if (from == to) {
    if (to == 0.0f) return;
    for (std::size_t i = 0; i < n; ++i) out[i] += in[i] * to;
    return;
  }
  const float step = (to - from) / static_cast<float>(n);
  for (std::size_t i = 0; i < n; ++i) out[i] += in[i] * (from + step * static_cast<float>(i + 1));
}

//! Both sides at once: out_l += x * gain_l, out_r += x * gain_r, each ramping as above.
void add_ramped(std::span<const float> x, float* __restrict out_l, float* __restrict out_r, float from_l,
                float to_l, float from_r, float to_r) noexcept {
  const std::size_t n = x.size();
  if (from_l != to_l || from_r != to_r) {
    add_ramped(x, out_l, from_l, to_l);
    add_ramped(x, out_r, from_r, to_r);
    return;
  }
  if (to_l == 0.0f && to_r == 0.0f) return;
  const float* __restrict in = x.data();
  for (std::size_t i = 0; i < n; ++i) {
    const float v = in[i];
    out_l[i] += v * to_l;
    out_r[i] += v * to_r;
  }
}

//! The largest |x|, in eight partial maxima (one chain would wait on every compare).
float block_peak(std::span<const float> x) noexcept {
  std::array<float, 8> part{};
  std::size_t i = 0;
  for (; i + 8 <= x.size(); i += 8)
    for (std::size_t k = 0; k < 8; ++k) part[k] = std::max(part[k], std::fabs(x[i + k]));
  float peak = 0.0f;
  for (; i < x.size(); ++i) peak = std::max(peak, std::fabs(x[i]));
  for (const float p : part) peak = std::max(peak, p);
  return peak;
}

//! Sum of squares in eight partial sums (one chain would wait on every add).
float sum_squares(std::span<const float> x) noexcept {
  std::array<float, 8> part{};
  std::size_t i = 0;
  for (; i + 8 <= x.size(); i += 8)
    for (std::size_t k = 0; k < 8; ++k) part[k] += x[i + k] * x[i + k];
  float tail = 0.0f;
  for (; i < x.size(); ++i) tail += x[i] * x[i];
  return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7])) + tail;
}
}  // namespace

void MixEngine::pan_gains(Strip& s, float gain, float& left, float& right) noexcept {
  // Constant-power pan law: -1 hard left, 0 centre (-3 dB each side), +1 hard right.
  if (!(s.pan == s.pan_at)) {
    const float theta = (std::clamp(s.pan, -1.0f, 1.0f) + 1.0f) * 0.5f * kHalfPi;
    s.pan_unit_left = std::cos(theta);
    s.pan_unit_right = std::sin(theta);
    s.pan_at = s.pan;
  }
  left = gain * s.pan_unit_left;
  right = gain * s.pan_unit_right;
}

float MixEngine::send_level(Strip& s, std::size_t k, float level_db) noexcept {
  if (!(level_db == s.send_db_at[k])) {
    s.send_unit[k] = dsp::fader_gain(level_db);
    s.send_db_at[k] = level_db;
  }
  return s.send_unit[k];
}

MixEngine::MixEngine(NodeRegistry& registry, SpscRing<MixChunk>& to_recorder, MixConfig config,
                     SpscRing<ConcealedRun>* concealed)
    : registry_(registry),
      to_recorder_(to_recorder),
      concealed_out_(concealed),
      config_(config),
      commands_(4096),  // a scene recall posts 5 commands per channel
      applied_(4096),
      marks_(kTransportMarks),
      strips_(std::make_unique<Strip[]>(static_cast<std::size_t>(kMaxNodes + 1) * kMaxChannelsPerNode)),
      nodes_(std::make_unique<NodeMix[]>(kMaxNodes + 1)),
      scratch_(std::make_unique<float[]>(protocol::kMaxPayloadBytes)),
      rows_(std::make_unique<float[]>(kBatchRows * config.max_block_frames)),
      jobs_(std::make_unique<RowJob[]>(kBatchRows)),
      cascade_(std::make_unique<dsp::CascadeRow[]>(kBatchRows)),
      // The varispeed reads at most max_block * (1 + 1%) + its kernel.
      window_(std::make_unique<float[]>(2 * static_cast<std::size_t>(config.max_block_frames) + 64)),
      window_missing_(
          std::make_unique<std::uint8_t[]>(2 * static_cast<std::size_t>(config.max_block_frames) + 64)),
      missing_(std::make_unique<std::uint8_t[]>(config.max_block_frames)),
      guessed_(std::make_unique<std::uint8_t[]>(config.max_block_frames)),
      near_(std::make_unique<std::uint8_t[]>(2 * static_cast<std::size_t>(config.max_block_frames) + 64)),
      talk_(config.sample_rate, config.max_block_frames, kMaxCues),
      meter_window_(config.sample_rate / 10),
      click_block_(std::make_unique<float[]>(config.max_block_frames)) {
  const dsp::ProcessSpec mix_spec{.sample_rate = static_cast<double>(config.sample_rate),
                                  .max_block = config.max_block_frames,
                                  .channels = 2};
  varispeed_.prepare(mix_spec);
  const PlayoutConfig playout{.sample_rate = config.sample_rate,
                              .margin_seconds = config.latency_margin_seconds,
                              .hold_seconds = config.latency_hold_seconds,
                              .start_samples = static_cast<double>(config.latency_frames)};
  for (std::uint16_t id = 0; id <= kMaxNodes; ++id) {
    nodes_[id].varispeed.configure({.sample_rate = config.sample_rate});
    nodes_[id].need = NodeDelay(playout);
  }
  const MediaTime start =
      std::clamp(config.latency_frames, config.latency_min_frames, config.latency_max_frames);
  // Not adaptive: the range is the starting delay, and the needs are only reported.
  playout_ = config.adaptive
                 ? PlayoutPolicy(playout, start, config.latency_min_frames, config.latency_max_frames)
                 : PlayoutPolicy(playout, start, start, start);
  latency_.store(start, std::memory_order_relaxed);
  master_.prepare(mix_spec, config.master);
  buses_.prepare(mix_spec);
  master_latency_ = config.master_chain ? master_.latency() : 0;
  for (CueMix& cue : cues_) {
    cue.left = std::make_unique<float[]>(config.max_block_frames);
    cue.right = std::make_unique<float[]>(config.max_block_frames);
    cue.level.fill(1.0f);
    cue.level_cur.fill(1.0f);
    cue.limiter.prepare(mix_spec,
                        dsp::LimiterParams{.ceiling_dbtp = kCueCeilingDbtp, .lookahead_ms = kCueLookaheadMs});
  }
}

MasterMeters MixEngine::master_meters() const noexcept {
  const auto db = [](float v) { return v > 0.0f ? static_cast<float>(20.0 * std::log10(v)) : -150.0f; };
  return MasterMeters{.peak_dbfs = db(meters_.peak.load(std::memory_order_relaxed)),
                      .true_peak_dbtp = db(meters_.true_peak.load(std::memory_order_relaxed)),
                      .momentary_lufs = meters_.momentary.load(std::memory_order_relaxed),
                      .short_term_lufs = meters_.short_term.load(std::memory_order_relaxed),
                      .integrated_lufs = meters_.integrated.load(std::memory_order_relaxed),
                      .comp_gr_db = meters_.comp_gr.load(std::memory_order_relaxed),
                      .limiter_gr_db = meters_.limiter_gr.load(std::memory_order_relaxed)};
}

bool MixEngine::post(const MixCommand& command) noexcept {
  return commands_.try_push(command);
}

void MixEngine::start_at(MediaTime position) noexcept {
  position_.store(position, std::memory_order_release);
}

void MixEngine::apply_commands(MediaTime pos) noexcept {
  MixCommand cmd;
  while (commands_.try_pop(cmd)) {
    if (cmd.node > kMaxNodes || cmd.channel >= kMaxChannelsPerNode) continue;
    Strip& s = strip(cmd.node, cmd.channel);
    switch (cmd.kind) {
      case MixCommand::Kind::Gain:
        s.gain = cmd.value;
        break;
      case MixCommand::Kind::Pan:
        s.pan = cmd.value;
        break;
      case MixCommand::Kind::Mute:
        s.mute = cmd.value != 0.0f;
        break;
      case MixCommand::Kind::Solo:
        s.solo = cmd.value != 0.0f;
        break;
      case MixCommand::Kind::Strip:
        if (NodeSlot* slot = registry_.by_id(cmd.node); slot != nullptr && cmd.channel < slot->channels) {
          // Fader, pan and mute stay with the engine's own ramped gains and solo logic.
          dsp::StripParams p = cmd.strip;
          p.fader_db = 0.0f;
          p.pan = 0.0f;
          p.mute = false;
          slot->dsp[cmd.channel].set_params(p);
        }
        break;
      case MixCommand::Kind::Master:
        if (config_.master_chain) master_.set_params(cmd.master);
        break;
      case MixCommand::Kind::Bus:
        if (cmd.bus < kBuses) buses_.set_bus(cmd.bus, cmd.bus_params);
        break;
      case MixCommand::Kind::Reverb:
        buses_.set_reverb(cmd.reverb);
        break;
      case MixCommand::Kind::Delay:
        buses_.set_delay(cmd.delay);
        break;
      case MixCommand::Kind::CueOn:
        if (cmd.bus < kMaxCues) {
          CueMix& cue = cues_[cmd.bus];
          const bool on = cmd.value != 0.0f;
          if (on && !cue.on) {  // a cue mix starts with every node as in the mix
            cue.level.fill(1.0f);
            cue.level_cur.fill(1.0f);
            cue.limiter.reset();
          }
          cue.listener = cmd.node;
          cue.on = on;
        }
        break;
      case MixCommand::Kind::CueLevel:
        if (cmd.bus < kMaxCues && cmd.source <= kMaxNodes) cues_[cmd.bus].level[cmd.source] = cmd.value;
        break;
      case MixCommand::Kind::Transport:
        transport_.apply(cmd.value, cmd.at, cmd.generation, pos, cmd.loop);
        marks_.try_push({.position = pos, .transport = transport_});
        count_in_to_ = cmd.value == kTransportPlay ? cmd.count_in_to : kNoCountIn;
        break;
      case MixCommand::Kind::Click:
        click_ = {.level = cmd.value,
                  .on = cmd.click_on,
                  .beat_frames = std::max(cmd.beat_frames, 1.0),
                  .beats_per_bar = std::max<std::uint8_t>(cmd.beats_per_bar, 1)};
        break;
      case MixCommand::Kind::Talk:
        talk_.set(cmd.bus, cmd.talk, cmd.generation);
        break;
      case MixCommand::Kind::CueLimit:
        if (cmd.bus < kMaxCues) {
          cues_[cmd.bus].limiter.set_params(
              dsp::LimiterParams{.ceiling_dbtp = cmd.value, .lookahead_ms = kCueLookaheadMs});
        }
        break;
    }
    // The io thread drains these ten times a second; a full ring loses the position only.
    if (cmd.id != 0) applied_.try_push({.id = cmd.id, .position = pos});
  }
}

void MixEngine::mix_rows(const BlockContext& ctx) noexcept {
  const std::size_t frames = ctx.left.size();
  // Every row's steady filters at once, channels side by side in vector lanes.
  dsp::run_cascades(std::span<const dsp::CascadeRow>(cascade_.get(), rows_used_), frames);
  for (std::size_t r = 0; r < rows_used_; ++r) {
    const RowJob& job = jobs_[r];
    const std::span<float> ch(rows_.get() + r * config_.max_block_frames, frames);
    dsp::ChannelStrip& dsp_strip = job.slot->dsp[job.channel];
    if (job.back) dsp_strip.process_back(ch);
    mix_channel(ctx, *job.slot, job.id, job.channel, ch);
    // The node's level in each cue mix has reached its target once its last channel is in.
    if (job.last_of_node)
      for (CueMix& cue : cues_) cue.level_cur[job.id] = cue.level[job.id];
  }
  rows_used_ = 0;
}

void MixEngine::mix_channel(const BlockContext& ctx, NodeSlot& slot, std::uint16_t id, std::uint32_t c,
                            std::span<const float> ch) noexcept {
  const std::span<float> left = ctx.left, right = ctx.right;
  const dsp::ChannelStrip& dsp_strip = slot.dsp[c];
  Strip& s = strip(id, c);
  const bool audible = !s.mute && (!ctx.any_solo || s.solo);
  float target_left = 0.0f, target_right = 0.0f;
  pan_gains(s, audible ? s.gain : 0.0f, target_left, target_right);
  // To the master or a group bus; a new route fades out of the old one and into
  // the new one over this block.
  const dsp::StripParams& routing = dsp_strip.params();
  const std::uint8_t route = routing.route <= dsp::kGroupBuses ? routing.route : 0;
  const auto out_l = [&](std::uint8_t r) { return r == 0 ? left.data() : buses_.group_left(r - 1u); };
  const auto out_r = [&](std::uint8_t r) { return r == 0 ? right.data() : buses_.group_right(r - 1u); };
  if (route == s.route) {
    add_ramped(ch, out_l(route), out_r(route), s.cur_left, target_left, s.cur_right, target_right);
  } else {
    add_ramped(ch, out_l(s.route), s.cur_left, 0.0f);
    add_ramped(ch, out_r(s.route), s.cur_right, 0.0f);
    add_ramped(ch, out_l(route), 0.0f, target_left);
    add_ramped(ch, out_r(route), 0.0f, target_right);
    s.route = route;
  }
  s.cur_left = target_left;
  s.cur_right = target_right;
  if (talk_.listens(id)) talk_.offer(id, c, ch);  // a talkback mic: before its fader and mute
  // Cue mixes: the fader and pan (mute, not solo), times the node's level in each.
  if (ctx.any_cue) {
    float cue_left = 0.0f, cue_right = 0.0f;
    pan_gains(s, s.mute ? 0.0f : s.gain, cue_left, cue_right);
    for (CueMix& cue : cues_) {
      if (!cue.on) continue;
      const float from = cue.level_cur[id], to = cue.level[id];
      add_ramped(ch, cue.left.get(), s.cue_left * from, cue_left * to);
      add_ramped(ch, cue.right.get(), s.cue_right * from, cue_right * to);
    }
    s.cue_left = cue_left;
    s.cue_right = cue_right;
  }
  // Sends to the effects: pre-fader ones ignore the fader; mute and solo act on both.
  for (std::size_t k = 0; k < dsp::kSends; ++k) {
    const dsp::SendParams& send = routing.sends[k];
    const float target =
        send.on && audible ? send_level(s, k, send.level_db) * (send.pre ? 1.0f : s.gain) : 0.0f;
    if (target == 0.0f && s.send[k] == 0.0f) continue;
    add_ramped(ch, buses_.send_input(k), s.send[k], target);
    s.send[k] = target;
  }
  // The post-fader meter: the block's peak and energy (a block's float sum is exact
  // enough; the window adds blocks in double).
  const float post_fader = audible ? s.gain : 0.0f;
  const float peak = block_peak(ch);
  const float energy = sum_squares(ch);
  s.meter_peak = std::max(s.meter_peak, peak * post_fader);
  s.meter_sum_sq += static_cast<double>(energy) * post_fader * post_fader;
  if (ctx.publish_levels) {
    slot.levels[c].peak.store(s.meter_peak, std::memory_order_relaxed);
    slot.levels[c].rms.store(static_cast<float>(std::sqrt(s.meter_sum_sq / meter_frames_)),
                             std::memory_order_relaxed);
    slot.levels[c].comp_gr_db.store(dsp_strip.comp_gain_reduction_db(), std::memory_order_relaxed);
    slot.levels[c].gate_db.store(dsp_strip.gate_gain_db(), std::memory_order_relaxed);
    s.meter_peak = 0.0f;
    s.meter_sum_sq = 0.0;
  }
}

void MixEngine::process(std::span<float> left, std::span<float> right) noexcept {
  rt::RealtimeScope realtime;
  const std::size_t frames = std::min<std::size_t>(left.size(), config_.max_block_frames);
  std::fill_n(left.begin(), frames, 0.0f);
  std::fill_n(right.begin(), frames, 0.0f);
  const MediaTime pos = position_.load(std::memory_order_relaxed);
  const MediaTime block_latency = latency_.load(std::memory_order_relaxed);  // this block's deadline had it
  apply_commands(pos);
  talk_.begin_block(frames);
  const std::uint16_t high = registry_.highest_id();

  bool any_solo = false;
  for (std::uint16_t id = 1; id <= high && !any_solo; ++id) {
    NodeSlot* slot = registry_.by_id(id);
    if (slot == nullptr) continue;
    for (std::uint32_t c = 0; c < slot->channels; ++c) any_solo = any_solo || strip(id, c).solo;
  }

  const bool publish_levels = (meter_frames_ += static_cast<std::uint32_t>(frames)) >= meter_window_;
  bool any_cue = false;
  for (CueMix& cue : cues_) {
    if (!cue.on) continue;
    any_cue = true;
    std::fill_n(cue.left.get(), frames, 0.0f);
    std::fill_n(cue.right.get(), frames, 0.0f);
  }
  std::fill_n(guessed_.get(), frames, std::uint8_t{0});
  buses_.begin(frames);
  const BlockContext ctx{.left = left.first(frames),
                         .right = right.first(frames),
                         .any_solo = any_solo,
                         .any_cue = any_cue,
                         .publish_levels = publish_levels};

  double largest_ask = -1.0;
  bool block_concealed = false;
  for (std::uint16_t id = 1; id <= high; ++id) {
    NodeSlot* slot = registry_.by_id(id);
    if (slot == nullptr) continue;
    NodeMix& state = nodes_[id];
    FrameSource* const source = slot->frames;
    VarispeedControl& cursor = state.varispeed;
    const MediaTime second = static_cast<MediaTime>(config_.sample_rate);
    if (source == nullptr) {
      drain(*slot, state, pos, frames);
      // A node not heard within a second has no stretch of audio: its cursor waits at
      // the session position (exact) for the next one.
      if (state.written_until <= cursor.cursor() - second) cursor.restart(pos);
    } else {
      note_frames(*source, state, pos, frames);
    }
    // Its ask counts while its audio comes, in time or not (a path longer than the
    // delay makes every packet late until the delay follows).
    const bool heard = state.heard_until > pos - second;
    if (!heard && state.ask >= 0.0) {
      state.need.reset();
      state.ask = -1.0;
      slot->need_ms.store(-1.0f, std::memory_order_relaxed);
    }
    if (heard) largest_ask = std::max(largest_ask, state.ask);
    // Frames from a source are on the mix's timeline already: read exactly at pos.
    if (source == nullptr)
      cursor.set_reported_drift(slot->reported_drift_ppm.load(std::memory_order_relaxed));
    const VarispeedControl::Block block =
        source == nullptr ? cursor.plan(pos) : VarispeedControl::Block{.base = pos};
    std::size_t window = 0, moved = frames;
    double advance = static_cast<double>(frames);
    if (!block.exact) {
      window = varispeed_.plan(block.frac, block.step, frames);
      advance = varispeed_.advance();
      moved = static_cast<std::size_t>(advance);
    }
    // A node counts missing audio only while it is streaming (heard within a
    // second), and not for the play-out delay before its first audio.
    const bool live = state.written_until > block.base - second && block.base >= state.stream_start;
    // A node that stopped streaming starts its next stretch with fresh concealers.
    if (!live && state.was_live) {
      for (std::uint32_t c = 0; c < slot->channels; ++c) slot->conceal[c].reset();
    }
    state.was_live = live;
    bool node_concealed = false;
    for (std::uint32_t c = 0; c < slot->channels; ++c) {
      if (rows_used_ == kBatchRows) mix_rows(ctx);
      const std::size_t r = rows_used_++;
      const std::span<float> ch(rows_.get() + r * config_.max_block_frames, frames);
      bool marked = false;
      const std::uint32_t missing = read_channel(*slot, c, block, window, moved, ch, marked);
      // While streaming, lost audio is concealed (waveform continuation, crossfaded);
      // the recording never sees this. (The usual block, all there and no crossfade under
      // way, is only remembered: reading its marks back byte by byte stalled on the stores.)
      if (live && !marked && slot->conceal[c].idle()) {
        slot->conceal[c].remember(ch);
      } else if (live) {
        // Marks: 1 missing (concealed here), 2 a codec's guess (counted when it came).
        std::uint8_t* __restrict guessed = guessed_.get();
        std::uint8_t* __restrict marks = missing_.get();
        for (std::size_t i = 0; i < frames; ++i) {
          guessed[i] |= marks[i] != 0 ? 1 : 0;
          marks[i] &= 1;
        }
        slot->conceal[c].process(ch, std::span<const std::uint8_t>(missing_.get(), frames));
        if (missing != 0) {
          slot->concealed.fetch_add(missing, std::memory_order_relaxed);
          node_concealed = true;
          report_concealed(id, c, block.base, frames, block.exact);
        }
      }
      // The strip up to its steady filters; those run with the other rows' in mix_rows().
      RowJob& job = jobs_[r];
      job = RowJob{.slot = slot, .id = id, .channel = c, .last_of_node = c + 1 == slot->channels};
      dsp::ChannelStrip& dsp_strip = slot->dsp[c];
      const std::size_t strip_max = registry_.config().max_block_frames;
      cascade_[r] = dsp::CascadeRow{.data = ch.data(), .sections = job.section.data()};
      if (frames <= strip_max) {
        cascade_[r].count = dsp_strip.process_front(ch, job.section.data());
        job.back = true;
      } else {  // longer than the strip takes at once: the whole strip here, in pieces
        for (std::size_t done = 0; done < frames; done += strip_max)
          dsp_strip.process(ch.subspan(done, std::min(frames - done, strip_max)));
      }
    }
    if (source == nullptr) cursor.advance(block, frames, advance);
    if (node_concealed) {
      slot->concealed_blocks.fetch_add(1, std::memory_order_relaxed);
      block_concealed = true;
    }
    if (publish_levels) {
      slot->varispeed_ppm.store(static_cast<float>(cursor.correction_ppm()), std::memory_order_relaxed);
      slot->drift_ppm.store(static_cast<float>(cursor.drift_ppm()), std::memory_order_relaxed);
      slot->margin_ms.store(static_cast<float>(cursor.margin_ms()), std::memory_order_relaxed);
      slot->jitter_ms.store(static_cast<float>(cursor.jitter_ms()), std::memory_order_relaxed);
    }
  }

  if (rows_used_ != 0) mix_rows(ctx);
  send_cues(pos, frames);
  latency_.store(playout_.update(largest_ask, frames), std::memory_order_relaxed);
  last_block_latency_ = block_latency;
  wanted_.store(playout_.wanted(), std::memory_order_relaxed);
  if (block_concealed) concealed_blocks_.fetch_add(1, std::memory_order_relaxed);
  buses_.finish(left.first(frames), right.first(frames));
  if (publish_levels) {
    for (std::size_t b = 0; b < kBuses; ++b)
      bus_peaks_[b].store(buses_.take_peak(b), std::memory_order_relaxed);
  }

  // Master chain (transparent unless switched on, but always its look-ahead delay).
  if (config_.master_chain) master_.process(left.first(frames), right.first(frames));
  master_peak_ = std::max({master_peak_, block_peak(left.first(frames)), block_peak(right.first(frames))});
  if (publish_levels) {
    meter_frames_ = 0;
    meters_.peak.store(master_peak_, std::memory_order_relaxed);
    meters_.true_peak.store(std::max(master_.true_peak(0).peak(), master_.true_peak(1).peak()),
                            std::memory_order_relaxed);
    master_.true_peak(0).reset_peak();
    master_.true_peak(1).reset_peak();
    master_peak_ = 0.0f;
    const dsp::LoudnessMeter& lm = master_.loudness();
    meters_.momentary.store(static_cast<float>(lm.momentary_lufs()), std::memory_order_relaxed);
    meters_.short_term.store(static_cast<float>(lm.short_term_lufs()), std::memory_order_relaxed);
    meters_.integrated.store(static_cast<float>(lm.integrated_lufs()), std::memory_order_relaxed);
    meters_.limiter_gr.store(master_.limiter_gain_reduction_db(), std::memory_order_relaxed);
    meters_.comp_gr.store(master_.comp_gain_reduction_db(), std::memory_order_relaxed);
  }

  // Hand the mix to the recorder in chunks; count clipping (mix.wav clamps, never wraps).
  std::uint32_t clipped = 0, guessed = 0;
  for (std::size_t done = 0; done < frames;) {
    const std::size_t n = std::min<std::size_t>(frames - done, kMaxMixChunk);
    MixChunk* chunk = to_recorder_.begin_write();
    std::uint32_t chunk_clipped = 0, chunk_guessed = 0;
    for (std::size_t i = 0; i < n; ++i) {
      chunk_clipped += (std::fabs(left[done + i]) > 1.0f) + (std::fabs(right[done + i]) > 1.0f);
      chunk_guessed += guessed_[done + i];
    }
    clipped += chunk_clipped;
    guessed += chunk_guessed;
    if (chunk == nullptr) {
      record_dropped_.fetch_add(1, std::memory_order_relaxed);
    } else {
      chunk->position = pos + static_cast<MediaTime>(done) - static_cast<MediaTime>(master_latency_);
      chunk->frames = static_cast<std::uint32_t>(n);
      chunk->clipped = chunk_clipped;
      chunk->concealed = chunk_guessed;
      std::copy_n(left.begin() + static_cast<std::ptrdiff_t>(done), n, chunk->left.begin());
      std::copy_n(right.begin() + static_cast<std::ptrdiff_t>(done), n, chunk->right.begin());
      to_recorder_.commit_write();
    }
    done += n;
  }
  // The monitor output (a device's buffers) hears talkback; mix.wav has gone without it.
  talk_.into_monitor(left.first(frames), right.first(frames));
  if (clipped != 0) clipped_.fetch_add(clipped, std::memory_order_relaxed);
  if (guessed != 0) concealed_frames_.fetch_add(guessed, std::memory_order_relaxed);
  transport_playing_.store(transport_.playing, std::memory_order_relaxed);
  transport_position_.store(transport_.at(pos + static_cast<MediaTime>(frames)), std::memory_order_relaxed);
  transport_looping_.store(transport_.playing && transport_.loop.on(), std::memory_order_relaxed);
  transport_linear_.store(transport_.linear(pos + static_cast<MediaTime>(frames)), std::memory_order_relaxed);
  position_.store(pos + static_cast<MediaTime>(frames), std::memory_order_release);
  blocks_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace tl::mixer
