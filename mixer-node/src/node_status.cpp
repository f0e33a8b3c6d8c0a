#include "tl/mixer/node_status.h"

#include <filesystem>
#include <string>

#include "tl/common/version.h"
#include "tl/mixer/take_folder.h"

namespace tl::mixer {

float meter_dbfs(float linear) {
  return static_cast<float>(gain_to_db(linear, -150.0));
}

double own_bound_ms(const std::atomic<std::int64_t>& frames, std::uint32_t rate) {
  const std::int64_t v = frames.load(std::memory_order_relaxed);
  return v < 0 ? 0.0 : frames_to_ms(v, rate);
}

std::uint64_t lost_packets(const NodeSlot& slot) {
  std::uint64_t lost = slot.lost_before;
  if (slot.seq_started) {
    const std::uint64_t expected = static_cast<std::uint32_t>(slot.highest_seq - slot.first_seq) + 1ull;
    if (expected > slot.seq_received) lost += expected - slot.seq_received;
  }
  return lost;
}

void fill_channel_info(const NodeSlot& slot, std::uint32_t channel, proto::ChannelInfo& out) {
  const StripSettings& s = slot.strips[channel];
  const ChannelLevels& levels = slot.levels[channel];
  out.set_channel(channel + 1);
  out.set_gain_db(s.gain_db);
  out.set_pan(s.pan);
  out.set_mute(s.mute);
  out.set_solo(s.solo);
  out.set_peak_dbfs(meter_dbfs(levels.peak.load(std::memory_order_relaxed)));
  out.set_rms_dbfs(meter_dbfs(levels.rms.load(std::memory_order_relaxed)));
  out.set_comp_gr_db(s.dsp.comp_on ? levels.comp_gr_db.load(std::memory_order_relaxed) : 0.0f);
  out.set_gate_db(s.dsp.gate_on ? levels.gate_db.load(std::memory_order_relaxed) : 0.0f);
}

void NodeStatus::fill(const NodeSlot& slot, proto::NodeInfo& n, std::int64_t now) const {
  const std::uint32_t rate = clock_.rate();
  n.set_node_id(slot.id);
  n.set_name(slot.name);
  n.set_channels(slot.channels);
  n.set_sample_rate(slot.sample_rate);
  n.set_frames_per_packet(slot.frames_per_packet);
  n.set_format(slot.format == protocol::SampleFormat::Pcm16  ? proto::FORMAT_PCM16
               : slot.format == protocol::SampleFormat::F32  ? proto::FORMAT_F32
               : slot.format == protocol::SampleFormat::Opus ? proto::FORMAT_OPUS
                                                             : proto::FORMAT_PCM24);
  if (slot.opus) {
    const OpusLive::Counters& o = slot.opus->counters();
    n.set_opus_plc_samples(o.concealed_samples);
    n.set_opus_fec_samples(o.fec_samples);
    n.set_opus_late_packets(o.late_packets);
    n.set_opus_held_packets(o.held_packets);
  }
  n.set_source(slot.source);
  n.set_cue_on(slot.cue_on);
  n.set_cue_output(slot.report.cue_output());
  n.set_cue_latency_ms(slot.report.cue_latency_ms());
  n.set_cue_packets(slot.report.cue_packets());
  n.set_cue_underruns(slot.report.cue_underruns());
  const double ms_per_frame = 1000.0 / std::max<std::uint32_t>(slot.sample_rate, 1);
  if (slot.report.has_cue_play_delay_frames())
    n.set_cue_play_delay_ms(static_cast<double>(slot.report.cue_play_delay_frames()) * ms_per_frame);
  if (slot.report.has_round_trip_frames())
    n.set_round_trip_ms(static_cast<double>(slot.report.round_trip_frames()) * ms_per_frame);
  n.set_round_trip_from(slot.report.round_trip_from());
  n.set_cue_delay_changes(slot.report.cue_delay_changes());
  n.set_cue_codec(slot.report.cue_codec());
  n.set_cue_concealed_frames(slot.report.cue_concealed_frames());
  n.set_cue_late_packets(slot.report.cue_late_packets());
  n.set_address_changes(slot.address_changes);
  n.set_held_max_ms(slot.report.held_max_ms());
  n.set_held_max_at(slot.report.held_max_at());
  *n.mutable_long_holds() = slot.report.long_holds();
  n.set_state(registry_.state_of(slot, now));
  n.set_last_heard_s(slot.last_heard_ns < 0 ? -1.0 : static_cast<double>(now - slot.last_heard_ns) / 1e9);
  n.set_packets(slot.packets);
  const std::uint64_t lost = lost_packets(slot);
  n.set_lost(lost);
  n.set_loss_pct(slot.packets + lost == 0
                     ? 0.0
                     : 100.0 * static_cast<double>(lost) / static_cast<double>(slot.packets + lost));
  n.set_late(slot.late.load(std::memory_order_relaxed));
  n.set_bad(slot.bad);
  n.set_transit_ms(slot.transit_count == 0 ? 0.0
                                           : slot.transit_sum_ms / static_cast<double>(slot.transit_count));
  n.set_latency_ms(frames_to_ms(engine_.latency_frames(), rate));
  n.set_need_ms(slot.need_ms.load(std::memory_order_relaxed));
  n.set_latency_min_ms(own_bound_ms(slot.latency_min_frames, rate));
  n.set_latency_max_ms(own_bound_ms(slot.latency_max_frames, rate));
  n.set_concealed_samples(slot.concealed.load(std::memory_order_relaxed));
  n.set_concealed_blocks(slot.concealed_blocks.load(std::memory_order_relaxed));
  n.set_need_p999_ms(slot.usual_need_ms.load(std::memory_order_relaxed));
  n.set_connects(slot.connects);
  n.set_host(slot.host);
  n.set_pid(slot.pid);
  n.set_sync_state(slot.report.sync_state());
  n.set_offset_ms(slot.report.offset_ms());
  n.set_rtt_ms(slot.report.rtt_ms());
  n.set_drift_ppm(slot.report.drift_ppm());
  n.set_node_frames_dropped(slot.report.frames_dropped());
  n.set_varispeed_ppm(slot.varispeed_ppm.load(std::memory_order_relaxed));
  n.set_live_drift_ppm(slot.drift_ppm.load(std::memory_order_relaxed));
  n.set_margin_ms(slot.margin_ms.load(std::memory_order_relaxed));
  n.set_jitter_ms(slot.jitter_ms.load(std::memory_order_relaxed));
  n.set_nacks_sent(slot.nacks_sent);
  n.set_retransmits(slot.retransmits);
  for (std::uint32_t c = 0; c < slot.channels; ++c) fill_channel_info(slot, c, *n.add_channel_info());
}

proto::NodeList NodeStatus::list() const {
  proto::NodeList list;
  const std::int64_t now = clock_.now_ns();
  registry_.for_each([&](const NodeSlot& slot) {
    if (!slot.fed_frames()) fill(slot, *list.add_nodes(), now);  // backing tracks: tlctl backing list
  });
  list.set_session_time_ns(now);
  return list;
}

proto::MixerStatus mixer_status(const MixerParts& p) {
  const MixerConfig& config = p.config;
  const MixEngine& engine = p.engine;
  proto::MixerStatus s;
  s.set_version(std::string(kTracklinkVersion));
  s.set_sample_rate(config.sample_rate);
  s.set_block_frames(config.block_frames);
  s.set_clock(p.driver ? p.driver->describe() : "none");
  s.set_latency_ms(frames_to_ms(engine.latency_frames(), config.sample_rate));
  s.set_latency_min_ms(config.latency_min_ms);
  s.set_latency_max_ms(config.latency_max_ms);
  s.set_latency_adaptive(engine.config().adaptive);
  s.set_latency_wanted_ms(frames_to_ms(engine.latency_wanted(), config.sample_rate));
  s.set_recording(p.recorder.recording());
  s.set_take_name(p.recorder.take_name());
  s.set_take_seconds(p.recorder.take_seconds());
  s.set_mix_blocks(engine.blocks());
  s.set_mix_overruns(p.driver ? p.driver->overruns() : 0);
  s.set_concealed_blocks(engine.concealed_blocks());
  s.set_concealed_frames(engine.concealed_frames());
  if (const DurationHistogram* wake = p.driver ? p.driver->wake_lateness() : nullptr) {
    s.set_mix_wake_p999_ms(wake->quantile_ms(0.999));
    s.set_mix_wake_max_ms(wake->max_ms());
  }
  s.set_latency_margin_ms(config.latency_margin_ms);
  s.set_latency_hold_s(config.latency_hold_s);
  s.set_realtime(p.realtime_refused);
  s.set_clipped_samples(engine.clipped());
  s.set_bad_packets(p.receiver ? p.receiver->counters().total_rejected() : 0);
  s.set_record_dropped((p.receiver ? p.receiver->counters().record_dropped : 0) + engine.record_dropped() +
                       engine.concealed_dropped());
  s.set_record_dir(config.record_dir);
  std::uint32_t channels = 0;
  p.registry.for_each([&](const NodeSlot& slot) {
    if (slot.control_connected) channels += slot.channels;
  });
  std::error_code ec;
  const auto space = std::filesystem::space(config.record_dir, ec);
  if (!ec) {
    s.set_record_free_bytes(space.available);
    s.set_record_channels(channels);
    s.set_record_minutes_left(record_minutes_left(space.available, channels, config.sample_rate));
  }
  s.set_uptime_s(static_cast<double>(p.clock.now_ns()) / 1e9);
  const MasterMeters m = engine.master_meters();
  s.set_master_peak_dbfs(m.peak_dbfs);
  s.set_master_true_peak_dbtp(m.true_peak_dbtp);
  s.set_master_momentary_lufs(m.momentary_lufs);
  s.set_master_short_term_lufs(m.short_term_lufs);
  s.set_master_integrated_lufs(m.integrated_lufs);
  s.set_master_limiter_gr_db(p.master.limiter_on ? m.limiter_gr_db : 0.0f);
  s.set_master_comp_on(p.master.bus.comp_on);
  s.set_master_comp_gr_db(p.master.bus.comp_on ? m.comp_gr_db : 0.0f);
  for (std::size_t b = 0; b < kBuses; ++b) {
    auto* level = s.add_buses();
    level->set_name(bus_name(b));
    level->set_peak_dbfs(meter_dbfs(engine.bus_peak(b)));
    level->set_mute(p.buses[b].bus.mute);
  }
  s.set_master_limiter_on(p.master.limiter_on);
  return s;
}

}  // namespace tl::mixer
