// Real-time load of a full mix: 256 mono channel strips (HPF, 4-band EQ, gate, compressor,
// fader/pan, 2 post-fader sends), 8 group buses, 2 effect buses (FDN reverb, tempo delay) and
// the master chain (EQ, glue compressor, true-peak limiter, meters) at 48 kHz, 48-frame blocks.
//
// Every channel really runs every stage on every block. Figures (counters):
//   rt_factor          audio seconds processed per CPU second (thread CPU time)
//   load_pct           % of one core needed to run this in real time (100 / rt_factor)
//   channels_per_core  256 * rt_factor for the mix; for BM_StripsOnly the strip-only cost
// Run: ./build/bin/bench_dsp_strip
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "tl/dsp/bus.h"
#include "tl/dsp/cascade_bank.h"
#include "tl/dsp/effects.h"
#include "tl/dsp/strip.h"

namespace {

using namespace tl::dsp;

constexpr double kFs = 48000.0;
constexpr std::size_t kBlock = 48;
constexpr std::size_t kChannels = 256;
constexpr std::size_t kGroups = 8;
constexpr std::size_t kLoop = 4800;  // per-channel source loop (100 ms)

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

//! Source material: each channel gets band-limited noise bursts plus a tone at its own
//! level, so gates open and close and compressors work.
std::vector<std::vector<float>> make_sources() {
  std::vector<std::vector<float>> src(kChannels, std::vector<float>(kLoop));
  std::mt19937 rng(42);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (std::size_t c = 0; c < kChannels; ++c) {
    const float level = 0.02f + 0.3f * static_cast<float>(c % 13) / 13.0f;
    const double f = 60.0 * (1.0 + static_cast<double>(c % 37));
    for (std::size_t i = 0; i < kLoop; ++i) {
      const bool burst = (i / 1200 + c) % 3 != 0;
      src[c][i] =
          (burst ? level : 0.001f) *
          (0.5f * n(rng) + static_cast<float>(std::sin(2.0 * 3.14159265358979 * f * double(i) / kFs)));
    }
  }
  return src;
}

StripParams strip_params(std::size_t c) {
  StripParams p{};
  p.trim_db = 3.0f;
  p.hpf_on = true;
  p.hpf_hz = 80.0f;
  p.gate_on = true;
  p.gate = {
      .threshold_db = -45.0f, .range_db = -40.0f, .attack_ms = 0.5f, .hold_ms = 20.0f, .release_ms = 120.0f};
  p.eq.bands[0].gain_db = 2.0f;
  p.eq.bands[1].gain_db = -3.0f;
  p.eq.bands[2].gain_db = 4.0f;
  p.eq.bands[3].gain_db = 1.5f;
  p.comp_on = true;
  p.comp = {.threshold_db = -20.0f,
            .ratio = 4.0f,
            .knee_db = 6.0f,
            .attack_ms = 5.0f,
            .release_ms = 80.0f,
            .makeup_db = 3.0f};
  p.fader_db = -6.0f - static_cast<float>(c % 7);
  p.pan = -1.0f + 2.0f * static_cast<float>(c) / (kChannels - 1);
  return p;
}

struct Mix {
  std::vector<std::vector<float>> src = make_sources();
  std::vector<ChannelStrip> strips{kChannels};
  std::vector<float> send_gain_rev = std::vector<float>(kChannels),
                     send_gain_dly = std::vector<float>(kChannels);
  std::vector<StereoBus> groups{kGroups};
  FdnReverb reverb;
  TempoDelay delay;
  MasterChain master;
  std::vector<float> ch_l = std::vector<float>(kBlock), ch_r = std::vector<float>(kBlock);
  std::vector<std::vector<float>> grp_l{kGroups, std::vector<float>(kBlock)},
      grp_r{kGroups, std::vector<float>(kBlock)};
  std::vector<float> send_rev = std::vector<float>(kBlock), send_dly = std::vector<float>(kBlock);
  std::vector<float> fx_l = std::vector<float>(kBlock), fx_r = std::vector<float>(kBlock);
  std::vector<float> mst_l = std::vector<float>(kBlock), mst_r = std::vector<float>(kBlock);
  std::size_t pos = 0;

  Mix() {
    for (std::size_t c = 0; c < kChannels; ++c) {
      strips[c].prepare({.sample_rate = kFs, .max_block = kBlock}, strip_params(c),
                        {.max_delay_samples = 4800});
      send_gain_rev[c] = 0.1f + 0.001f * static_cast<float>(c);
      send_gain_dly[c] = c % 4 == 0 ? 0.2f : 0.0f;
    }
    BusParams gp{};
    gp.comp_on = true;
    gp.comp = {
        .threshold_db = -18.0f, .ratio = 2.0f, .knee_db = 6.0f, .attack_ms = 10.0f, .release_ms = 150.0f};
    gp.eq.bands[1].gain_db = -2.0f;
    const ProcessSpec spec{.sample_rate = kFs, .max_block = kBlock};
    for (auto& g : groups) g.prepare(spec, gp);
    reverb.prepare(spec, {.rt60_s = 2.2f, .predelay_ms = 25.0f, .damping_hz = 7000.0f});
    delay.prepare(
        spec,
        {.bpm = 118.0f, .division = NoteDivision::dotted_eighth, .feedback = 0.35f, .damping_hz = 4000.0f});
    MasterParams mp{};
    mp.bus.eq.bands[0].gain_db = 1.0f;
    mp.bus.eq.bands[3].gain_db = 1.5f;
    mp.bus.comp_on = true;
    mp.bus.comp = {.threshold_db = -14.0f,
                   .ratio = 2.0f,
                   .knee_db = 6.0f,
                   .attack_ms = 30.0f,
                   .release_ms = 200.0f,
                   .sidechain_hpf_hz = 100.0f};
    mp.bus.fader_db = -12.0f;
    mp.limiter = {.ceiling_dbtp = -1.0f};
    master.prepare(spec, mp);
  }

  //! One 48-frame block of the whole console.
  void block() {
    for (std::size_t g = 0; g < kGroups; ++g) {
      std::fill(grp_l[g].begin(), grp_l[g].end(), 0.0f);
      std::fill(grp_r[g].begin(), grp_r[g].end(), 0.0f);
    }
    std::fill(send_rev.begin(), send_rev.end(), 0.0f);
    std::fill(send_dly.begin(), send_dly.end(), 0.0f);
    for (std::size_t c = 0; c < kChannels; ++c) {
      ChannelStrip& s = strips[c];
      s.process(std::span<const float>(src[c].data() + pos, kBlock), ch_l, ch_r);
      const std::size_t g = c % kGroups;
      mix_into(grp_l[g], ch_l);
      mix_into(grp_r[g], ch_r);
      mix_into(send_rev, s.post_fader(), send_gain_rev[c]);
      if (send_gain_dly[c] != 0.0f) mix_into(send_dly, s.post_fader(), send_gain_dly[c]);
    }
    std::fill(mst_l.begin(), mst_l.end(), 0.0f);
    std::fill(mst_r.begin(), mst_r.end(), 0.0f);
    for (std::size_t g = 0; g < kGroups; ++g) {
      groups[g].process(grp_l[g], grp_r[g]);
      mix_into(mst_l, grp_l[g]);
      mix_into(mst_r, grp_r[g]);
    }
    reverb.process(send_rev, fx_l, fx_r);
    mix_into(mst_l, fx_l);
    mix_into(mst_r, fx_r);
    delay.process(send_dly, fx_l, fx_r);
    mix_into(mst_l, fx_l);
    mix_into(mst_r, fx_r);
    master.process(mst_l, mst_r);
    pos = (pos + kBlock) % kLoop;
  }
};

void report(benchmark::State& state, double cpu, std::size_t channels) {
  const double audio = static_cast<double>(state.iterations()) * kBlock / kFs;
  const double rt = audio / cpu;
  state.counters["rt_factor"] = rt;
  state.counters["load_pct"] = 100.0 / rt;
  state.counters["channels_per_core"] = static_cast<double>(channels) * rt;
}

void BM_FullMix256(benchmark::State& state) {
  auto mix = std::make_unique<Mix>();
  for (int i = 0; i < 1000; ++i) mix->block();  // settle detectors, warm caches
  const double t0 = thread_cpu_seconds();
  for (auto _ : state) {
    mix->block();
    benchmark::DoNotOptimize(mix->mst_l.data());
    benchmark::ClobberMemory();
  }
  report(state, thread_cpu_seconds() - t0, kChannels);
  state.counters["master_lufs_i"] = mix->master.loudness().integrated_lufs();
}
BENCHMARK(BM_FullMix256)->Unit(benchmark::kMicrosecond)->MinTime(3.0);

//! Strips alone (no buses): the per-channel cost that sets how many inputs one core takes.
void BM_StripsOnly(benchmark::State& state) {
  auto mix = std::make_unique<Mix>();
  std::size_t pos = 0;
  const double t0 = thread_cpu_seconds();
  for (auto _ : state) {
    for (std::size_t c = 0; c < kChannels; ++c)
      mix->strips[c].process(std::span<const float>(mix->src[c].data() + pos, kBlock), mix->ch_l, mix->ch_r);
    benchmark::DoNotOptimize(mix->ch_l.data());
    benchmark::ClobberMemory();
    pos = (pos + kBlock) % kLoop;
  }
  report(state, thread_cpu_seconds() - t0, kChannels);
}
BENCHMARK(BM_StripsOnly)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

//! The strips as bench_mix_engine sets them (HPF 90 Hz, 4 EQ bands, gate at -45 dB, compressor
//! at -24 dB; fader, pan and mute stay with the engine) on its material: a -34 dBFS tone per
//! channel, with noise bursts (sigma 0.05) on alternate 20-block stretches, each strip run in
//! place in mono as the engine runs it. Arg 0: one strip after the other; arg 1: as the engine
//! does, every strip's front, all the steady filters at once in vector lanes (run_cascades),
//! every strip's back. The engine's own work (packets, jitter buffers, buses) is not in this.
void BM_StripsEngineSetup(benchmark::State& state) {
  const bool lanes = state.range(0) != 0;
  StripParams p{};
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
  constexpr std::size_t kEngineChannels = 8, kLoopBlocks = 100;
  std::vector<std::vector<float>> src(kEngineChannels, std::vector<float>(kLoopBlocks * kBlock));
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (std::size_t i = 0; i < kLoopBlocks * kBlock; ++i) {
    const double t = static_cast<double>(i) / kFs;
    for (std::size_t c = 0; c < kEngineChannels; ++c) {
      const float burst = (i / kBlock / 20 + c) % 2 == 0 ? noise(rng) : 0.0f;
      src[c][i] =
          0.02f * static_cast<float>(std::sin(2.0 * 3.14159265358979 * (110.0 + 50.0 * double(c)) * t)) +
          burst;
    }
  }
  std::vector<ChannelStrip> strips(kChannels);
  for (auto& s : strips) s.prepare({.sample_rate = kFs, .max_block = 1024}, p, {.max_delay_samples = 4800});
  std::vector<float> rows(kChannels * kBlock);
  std::vector<std::array<Biquad*, kMaxCascadeSections>> sections(kChannels);
  std::vector<CascadeRow> cascade(kChannels);
  std::size_t pos = 0;
  const auto block = [&] {
    for (std::size_t c = 0; c < kChannels; ++c)
      std::copy_n(src[c % kEngineChannels].data() + pos, kBlock, rows.data() + c * kBlock);
    if (lanes) {
      for (std::size_t c = 0; c < kChannels; ++c) {
        const std::span<float> row(rows.data() + c * kBlock, kBlock);
        cascade[c] = {.data = row.data(),
                      .sections = sections[c].data(),
                      .count = strips[c].process_front(row, sections[c].data())};
      }
      run_cascades(cascade, kBlock);
      for (std::size_t c = 0; c < kChannels; ++c)
        strips[c].process_back(std::span<float>(rows.data() + c * kBlock, kBlock));
    } else {
      for (std::size_t c = 0; c < kChannels; ++c)
        strips[c].process(std::span<float>(rows.data() + c * kBlock, kBlock));
    }
    pos = (pos + kBlock) % (kLoopBlocks * kBlock);
  };
  for (int i = 0; i < 200; ++i) block();  // settle detectors and filters
  const double t0 = thread_cpu_seconds();
  for (auto _ : state) {
    block();
    benchmark::DoNotOptimize(rows.data());
    benchmark::ClobberMemory();
  }
  report(state, thread_cpu_seconds() - t0, kChannels);
}
BENCHMARK(BM_StripsEngineSetup)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
