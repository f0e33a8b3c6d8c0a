#pragma once
//! A node streaming over a jittery link to the real MixEngine, in virtual time:
//! packets of 48 frames leave every millisecond and arrive base + U(-J, +J) later
//! (reordered freely); now and then the path stalls (a thread waiting for a core:
//! every packet due in the stall arrives at its end). The engine computes each
//! block once the virtual session clock passes its deadline (block end + its
//! play-out delay), as the headless driver does. The link changes in phases. Used
//! by the unit test that holds the adaptive play-out delay to its figures and by
//! bench_playout, which prints them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tl/mixer/mix_engine.h"
#include "tl/protocol/pcm.h"

namespace tl::test {

struct LinkPhase {
  double seconds = 10.0;
  double base_ms = 5.0;        //!< fixed path delay
  double jitter_ms = 2.0;      //!< uniform +-J
  double stall_every_s = 0.0;  //!< a stall this often (0: none), the first one this far in
  double stall_ms = 0.0;       //!< how long each stall holds the path
};

struct PhaseFigures {
  double p999_ms = 0.0;          //!< the 99.9th percentile of the phase's transit (exact, from the draws)
  double worst_ms = 0.0;         //!< the phase's largest transit
  double readapt_s = -1.0;       //!< from the phase start until the delay first sits in the band; -1 never
  double in_band_share = 0.0;    //!< share of the phase after that with the delay in the band
  double settled_ms = 0.0;       //!< median delay over the phase's second half
  double final_ms = 0.0;         //!< the delay at the phase's end
  double late_share = 0.0;       //!< packets too late for (some of) their audio's block, share of the phase's
  std::uint64_t concealed = 0;   //!< samples concealed in the phase
  double last_concealed_s = -1;  //!< phase time of the last block that concealed (-1: none)
};

struct PlayoutSimConfig {
  double min_ms = 1.0, max_ms = 200.0;
  double margin_ms = 1.0;
  double hold_s = 30.0;
};

//! The band the delay should settle in: from the phase's p99.9 to the margin above its
//! worst transit, widened by the estimate's own sampling error (0.3 ms).
inline bool in_band(double latency_ms, const PhaseFigures& f, double margin_ms) {
  return latency_ms >= f.p999_ms - 0.3 && latency_ms <= f.worst_ms + margin_ms + 0.3;
}

inline std::vector<PhaseFigures> simulate_playout(const std::vector<LinkPhase>& phases, std::uint64_t seed,
                                                  PlayoutSimConfig sim = {}) {
  constexpr std::uint32_t kFs = 48000, kFrames = 48;
  mixer::NodeRegistry registry(
      mixer::RegistryConfig{.sample_rate = kFs, .jitter_capacity_frames = 32768, .mix_queue_packets = 4096});
  SpscRing<mixer::MixChunk> chunks(64);
  const auto frames = [](double ms) { return static_cast<MediaTime>(std::llround(ms * kFs / 1000.0)); };
  mixer::MixEngine engine(registry, chunks,
                          mixer::MixConfig{.sample_rate = kFs,
                                           .max_block_frames = 1024,
                                           .latency_frames = frames(20.0),
                                           .latency_min_frames = frames(sim.min_ms),
                                           .latency_max_frames = frames(sim.max_ms),
                                           .adaptive = true,
                                           .latency_margin_seconds = sim.margin_ms / 1000.0,
                                           .latency_hold_seconds = sim.hold_s,
                                           .master_chain = false});
  protocol::SessionKey key{};
  proto::RegisterNode r;
  r.set_name("far");
  r.set_channels(1);
  r.set_sample_rate(kFs);
  r.set_frames_per_packet(kFrames);
  r.set_format(proto::FORMAT_PCM24);
  mixer::NodeSlot* slot = registry.register_node(r, key).value();

  // Every packet: when it arrives (session ns) and which phase sent it.
  struct Packet {
    std::int64_t arrival_ns;
    std::int64_t index;
    std::size_t phase;
  };
  std::vector<Packet> packets;
  std::vector<std::vector<double>> transits(phases.size());
  std::vector<double> phase_start(phases.size() + 1, 0.0);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::int64_t index = 0;
  for (std::size_t p = 0; p < phases.size(); ++p) {
    phase_start[p + 1] = phase_start[p] + phases[p].seconds;
    const LinkPhase& link = phases[p];
    for (; static_cast<double>((index + 1) * kFrames) / kFs < phase_start[p + 1]; ++index) {
      const double sent_s = static_cast<double>((index + 1) * kFrames) / kFs;  // its last frame captured
      double arrival_s = sent_s + std::max(0.0, link.base_ms + unit(rng) * link.jitter_ms) / 1000.0;
      if (link.stall_every_s > 0.0) {
        // Stalls start every stall_every_s of the phase: what would arrive in one waits for its end.
        const double in_phase = arrival_s - phase_start[p];
        const double since = std::fmod(in_phase, link.stall_every_s);
        if (in_phase >= link.stall_every_s && since < link.stall_ms / 1000.0) {
          arrival_s += link.stall_ms / 1000.0 - since;
        }
      }
      transits[p].push_back((arrival_s - sent_s) * 1000.0);
      packets.push_back({static_cast<std::int64_t>(arrival_s * 1e9), index, p});
    }
  }
  std::sort(packets.begin(), packets.end(),
            [](const Packet& a, const Packet& b) { return a.arrival_ns < b.arrival_ns; });

  std::vector<float> silence(kFrames, 0.0f);
  std::vector<std::uint8_t> payload(kFrames * 3);
  protocol::pack_pcm(silence, protocol::SampleFormat::Pcm24, payload);
  const auto deliver = [&](const Packet& p) {
    protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                             .node_id = slot->id,
                             .seq = static_cast<Seq>(p.index),
                             .media_ts = p.index * kFrames,
                             .frame_count = kFrames,
                             .channel_count = 1,
                             .format = protocol::SampleFormat::Pcm24};
    mixer::PacketSlot* out = slot->to_mix->begin_write(protocol::kMaxPacketBytes);
    if (out == nullptr) return;
    out->arrival_ns = p.arrival_ns;
    out->size = static_cast<std::uint32_t>(protocol::encode(h, payload, key, out->space()));
    slot->to_mix->commit_write();
  };

  // Run: packets and blocks in time order; the delay is sampled every 10 ms.
  struct Sample {
    double t, latency_ms;
  };
  std::vector<Sample> trace;
  std::vector<std::uint64_t> late_at(phases.size() + 1, 0), concealed_at(phases.size() + 1, 0);
  std::vector<double> last_concealed(phases.size(), -1.0);
  std::vector<float> left(kFrames), right(kFrames);
  engine.start_at(0);
  std::size_t next = 0;
  double next_sample = 0.0;
  std::size_t phase_now = 0;
  const double end_s = phase_start.back();
  while (true) {
    const MediaTime pos = engine.position();
    const double deadline_s = static_cast<double>(pos + kFrames + engine.latency_frames()) / kFs;
    const bool packet_first =
        next < packets.size() && static_cast<double>(packets[next].arrival_ns) / 1e9 <= deadline_s;
    const double now_s = packet_first ? static_cast<double>(packets[next].arrival_ns) / 1e9 : deadline_s;
    if (now_s >= end_s) break;
    while (phase_now < phases.size() && now_s >= phase_start[phase_now + 1]) {
      ++phase_now;
      late_at[phase_now] = slot->late.load();
      concealed_at[phase_now] = slot->concealed.load();
    }
    while (next_sample <= now_s) {
      trace.push_back({next_sample, static_cast<double>(engine.latency_frames()) * 1000.0 / kFs});
      next_sample += 0.01;
    }
    if (packet_first) {
      deliver(packets[next++]);
    } else {
      const std::uint64_t before = slot->concealed.load();
      engine.process(left, right);
      if (slot->concealed.load() != before && phase_now < phases.size()) {
        last_concealed[phase_now] = now_s - phase_start[phase_now];
      }
    }
  }
  late_at[phases.size()] = slot->late.load();
  concealed_at[phases.size()] = slot->concealed.load();

  std::vector<PhaseFigures> figures(phases.size());
  for (std::size_t p = 0; p < phases.size(); ++p) {
    PhaseFigures& f = figures[p];
    std::vector<double>& t = transits[p];
    std::sort(t.begin(), t.end());
    // The need of a packet is its transit (blocks and packets share one grid here).
    f.p999_ms = t[static_cast<std::size_t>(std::ceil(0.999 * static_cast<double>(t.size()))) - 1];
    f.worst_ms = t.back();
    std::vector<double> second_half;
    std::size_t after = 0, inside = 0;
    for (const Sample& s : trace) {
      if (s.t < phase_start[p] || s.t >= phase_start[p + 1]) continue;
      if (f.readapt_s < 0.0 && in_band(s.latency_ms, f, sim.margin_ms)) f.readapt_s = s.t - phase_start[p];
      if (f.readapt_s >= 0.0) {
        ++after;
        inside += in_band(s.latency_ms, f, sim.margin_ms) ? 1 : 0;
      }
      if (s.t >= (phase_start[p] + phase_start[p + 1]) / 2.0) second_half.push_back(s.latency_ms);
      f.final_ms = s.latency_ms;
    }
    f.in_band_share = after == 0 ? 0.0 : static_cast<double>(inside) / static_cast<double>(after);
    std::nth_element(second_half.begin(),
                     second_half.begin() + static_cast<std::ptrdiff_t>(second_half.size() / 2),
                     second_half.end());
    f.settled_ms = second_half.empty() ? 0.0 : second_half[second_half.size() / 2];
    f.late_share = static_cast<double>(late_at[p + 1] - late_at[p]) / static_cast<double>(t.size());
    f.concealed = concealed_at[p + 1] - concealed_at[p];
    f.last_concealed_s = last_concealed[p];
  }
  return figures;
}

}  // namespace tl::test
