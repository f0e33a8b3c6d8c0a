// Real-time load of the real MixEngine: 32 nodes x 8 channels = 256 mono inputs arriving as
// PCM24 packets, each channel strip running HPF, 4-band EQ, gate and compressor and two sends
// (fx1 reverb post-fader, fx2 tempo delay pre-fader), routed across the 8 group buses (each
// with EQ and compressor), the master chain on (EQ, glue compressor, true-peak limiter,
// meters), 48 kHz, 48-frame blocks: the configuration issue 6 sets the target for.
//
// Only MixEngine::process() is timed (thread CPU time), after one untimed second: draining the
// packet queues, jitter buffers, strips, pan/sum, master, meters and the hand-off to the
// recorder queue.
// Figures: load_pct (% of one core for real time), rt_factor, channels_per_core.
// Run: ./build/bin/bench_mix_engine [seconds]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "tl/mixer/mix_engine.h"
#include "tl/protocol/pcm.h"

namespace {

using namespace tl;
using namespace tl::mixer;

constexpr std::uint32_t kFs = 48000, kBlock = 48, kNodes = 32, kChannels = 8;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  NodeRegistry registry(RegistryConfig{
      .sample_rate = kFs, .jitter_capacity_frames = 8192, .mix_queue_packets = 64, .max_block_frames = 1024});
  SpscRing<MixChunk> chunks(1024);
  MixEngine engine(registry, chunks,
                   MixConfig{.sample_rate = kFs, .max_block_frames = 1024, .latency_frames = 0});
  protocol::SessionKey key{};
  std::vector<NodeSlot*> nodes;
  for (std::uint32_t n = 0; n < kNodes; ++n) {
    proto::RegisterNode r;
    r.set_name("node-" + std::to_string(n));
    r.set_channels(kChannels);
    r.set_sample_rate(kFs);
    r.set_frames_per_packet(kBlock);
    r.set_format(proto::FORMAT_PCM24);
    nodes.push_back(registry.register_node(r, key).value());
  }
  // Every strip: HPF, 4 EQ bands cut or boosted, gate and compressor working.
  dsp::StripParams p;
  p.hpf_on = true;
  p.hpf_hz = 90.0f;
  p.eq.bands[0].gain_db = 2.0f;
  p.eq.bands[1].gain_db = -3.0f;
  p.eq.bands[2].gain_db = 2.5f;
  p.eq.bands[3].gain_db = 1.5f;
  p.gate_on = true;
  p.gate.threshold_db = -45.0f;
  p.comp_on = true;
  p.comp.threshold_db = -24.0f;
  p.sends[0] = {.on = true, .level_db = -12.0f};
  p.sends[1] = {.on = true, .level_db = -18.0f, .pre = true};
  for (NodeSlot* n : nodes) {
    for (std::uint16_t c = 0; c < kChannels; ++c) {
      MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = n->id, .channel = c};
      cmd.strip = p;
      cmd.strip.route = static_cast<std::uint8_t>(1 + c % dsp::kGroupBuses);
      while (!engine.post(cmd)) {
        std::vector<float> l(kBlock), r(kBlock);
        engine.process(l, r);
      }
    }
  }
  MixCommand m{.kind = MixCommand::Kind::Master};
  m.master.bus.eq.bands[3].gain_db = 1.0f;
  m.master.bus.comp_on = true;
  m.master.bus.comp.threshold_db = -12.0f;
  m.master.limiter_on = true;
  engine.post(m);
  for (std::uint8_t b = 0; b < kBuses; ++b) {
    MixCommand bus{.kind = MixCommand::Kind::Bus, .bus = b};
    bus.bus_params.eq.bands[1].gain_db = -2.0f;
    bus.bus_params.comp_on = true;
    bus.bus_params.comp.threshold_db = -18.0f;
    engine.post(bus);
  }

  // Source: per channel a tone plus noise bursts (gates open and close, compressors work).
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  const std::uint32_t loop_blocks = 100;
  std::vector<std::vector<std::uint8_t>> payloads(loop_blocks);
  for (std::uint32_t b = 0; b < loop_blocks; ++b) {
    std::vector<float> frames(kBlock * kChannels);
    for (std::uint32_t f = 0; f < kBlock; ++f) {
      const double t = static_cast<double>(b * kBlock + f) / kFs;
      for (std::uint32_t c = 0; c < kChannels; ++c) {
        const float burst = (b / 20 + c) % 2 == 0 ? noise(rng) : 0.0f;
        frames[f * kChannels + c] =
            0.02f * static_cast<float>(std::sin(2.0 * M_PI * (110.0 + 50.0 * c) * t)) + burst;
      }
    }
    payloads[b].resize(frames.size() * 3);
    protocol::pack_pcm(frames, protocol::SampleFormat::Pcm24, payloads[b]);
  }

  engine.start_at(0);
  std::vector<float> left(kBlock), right(kBlock);
  // The first second is not timed: the settings above glide in from the defaults (every
  // filter recomputing its coefficients every few samples, as on any change) and the
  // caches warm up; the figure is the steady load.
  const auto warmup = static_cast<std::uint64_t>(kFs / kBlock);
  const auto blocks = static_cast<std::uint64_t>(seconds * kFs / kBlock);
  double cpu = 0.0;
  Seq seq = 0;
  for (std::uint64_t b = 0; b < warmup + blocks; ++b) {
    const MediaTime ts = static_cast<MediaTime>(b * kBlock);
    for (NodeSlot* n : nodes) {
      protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                               .node_id = n->id,
                               .seq = seq,
                               .media_ts = ts,
                               .frame_count = kBlock,
                               .channel_count = kChannels,
                               .format = protocol::SampleFormat::Pcm24};
      PacketSlot* slot = n->to_mix->begin_write(protocol::kMaxPacketBytes);
      if (slot == nullptr) continue;
      slot->size =
          static_cast<std::uint32_t>(protocol::encode(h, payloads[b % loop_blocks], key, slot->space()));
      n->to_mix->commit_write();
    }
    ++seq;
    const double t0 = thread_cpu_seconds();
    engine.process(left, right);
    if (b >= warmup) cpu += thread_cpu_seconds() - t0;
    MixChunk chunk;
    while (chunks.try_pop(chunk)) {
    }
  }
  const double audio = static_cast<double>(blocks * kBlock) / kFs;
  const double rt = audio / cpu;
  const std::uint32_t inputs = kNodes * kChannels;
  std::printf(
      "bench_mix_engine: %u inputs (%u nodes x %u ch, PCM24 packets), HPF + 4-band EQ + gate + comp + 2 "
      "sends "
      "on every strip, 8 group buses and 2 effect buses (reverb, delay) with EQ + comp, master EQ + comp + "
      "true-peak limiter, %u Hz, %u-frame blocks, %.1f s of audio timed (after 1 s untimed)\n",
      inputs, kNodes, kChannels, kFs, kBlock, audio);
  std::printf(
      "  process() CPU %.3f s  load_pct %.1f %% of one core  rt_factor %.2f  channels_per_core %.0f  "
      "per block %.1f us (budget %.0f us)\n",
      cpu, 100.0 / rt, rt, inputs * rt, 1e6 * cpu / static_cast<double>(blocks), 1e6 * kBlock / kFs);
  std::printf("  clipped %llu, master momentary %.1f LUFS, limiter gr %.1f dB\n",
              static_cast<unsigned long long>(engine.clipped()),
              static_cast<double>(engine.master_meters().momentary_lufs),
              static_cast<double>(engine.master_meters().limiter_gr_db));
  return 0;
}
