#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "alloc_counter.h"
#include "mix_engine_rig.h"

namespace tl::mixer {
namespace {

using rig::kBlock;
using rig::q24;
using rig::Rig;

TEST(MixEngine, SumsChannelsWithGainAndConstantPowerPan) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 2);
  rig.engine.post({.kind = MixCommand::Kind::Gain, .node = a->id, .channel = 0, .value = 0.5f});
  rig.engine.post({.kind = MixCommand::Kind::Pan, .node = a->id, .channel = 0, .value = -1.0f});
  rig.engine.post({.kind = MixCommand::Kind::Pan, .node = a->id, .channel = 1, .value = 0.5f});
  rig.engine.start_at(0);
  // Prime one block so the gain ramps settle, then check the steady state.
  rig.send(*a, 0, 0.2f);
  rig.send(*a, kBlock, 0.2f);
  std::vector<float> l(kBlock), r(kBlock);
  rig.engine.process(l, r);
  rig.engine.process(l, r);
  const float ch0 = q24(0.2f), ch1 = q24(0.21f);
  const float theta = (0.5f + 1.0f) * 0.25f * 3.14159265f;
  EXPECT_NEAR(l[10], ch0 * 0.5f + ch1 * std::cos(theta), 1e-6f);
  EXPECT_NEAR(r[10], ch1 * std::sin(theta), 1e-6f);
  EXPECT_EQ(rig.engine.position(), 2 * kBlock);
}

TEST(MixEngine, CentrePanIsMinusThreeDecibelsPerSide) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(0);
  rig.send(*a, 0, 0.5f);
  std::vector<float> l(kBlock), r(kBlock);
  rig.engine.process(l, r);
  EXPECT_NEAR(l[0], q24(0.5f) * std::sqrt(0.5f), 1e-6f);
  EXPECT_NEAR(r[0], l[0], 1e-7f);
}

TEST(MixEngine, MuteAndSoloInPlace) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  NodeSlot* b = rig.add_node("b", 1);
  rig.engine.post({.kind = MixCommand::Kind::Solo, .node = b->id, .channel = 0, .value = 1.0f});
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  for (int block = 0; block < 3; ++block) {
    rig.send(*a, block * kBlock, 0.5f);
    rig.send(*b, block * kBlock, 0.25f);
    rig.engine.process(l, r);
  }
  EXPECT_NEAR(l[kBlock - 1], q24(0.25f) * std::sqrt(0.5f), 1e-6f) << "only the soloed channel is heard";
  rig.engine.post({.kind = MixCommand::Kind::Mute, .node = b->id, .channel = 0, .value = 1.0f});
  for (int block = 3; block < 5; ++block) {
    rig.send(*a, block * kBlock, 0.5f);
    rig.send(*b, block * kBlock, 0.25f);
    rig.engine.process(l, r);
  }
  EXPECT_EQ(l[kBlock - 1], 0.0f) << "a muted solo channel is silent and still solos";
}

TEST(MixEngine, GainChangeIsRampedWithoutAJump) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  rig.send(*a, 0, 0.5f);
  rig.engine.process(l, r);
  const float before = l[kBlock - 1];
  rig.engine.post({.kind = MixCommand::Kind::Gain, .node = a->id, .channel = 0, .value = 0.0f});
  rig.send(*a, kBlock, 0.5f);
  rig.engine.process(l, r);
  EXPECT_LT(std::fabs(l[0] - before), before * 0.05f) << "first sample after the change stays close";
  EXPECT_NEAR(l[kBlock - 1], 0.0f, 1e-7f);
  for (std::size_t i = 1; i < kBlock; ++i) EXPECT_LE(l[i], l[i - 1] + 1e-7f);
}

TEST(MixEngine, CountsClippingAndHandsTheMixToTheRecorder) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.post({.kind = MixCommand::Kind::Gain, .node = a->id, .channel = 0, .value = 4.0f});
  rig.engine.start_at(1000);
  rig.send(*a, 1000, 0.9f);
  std::vector<float> l(kBlock), r(kBlock);
  rig.engine.process(l, r);
  EXPECT_GT(rig.engine.clipped(), 0u);
  MixChunk chunk;
  ASSERT_TRUE(rig.chunks.try_pop(chunk));
  EXPECT_EQ(chunk.position, 1000);
  EXPECT_EQ(chunk.frames, kBlock);
  EXPECT_EQ(chunk.left[5], l[5]);
}

TEST(MixEngine, LatePacketsAreCountedAndMissingAudioConcealedCount) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  rig.send(*a, 0, 0.5f);
  rig.engine.process(l, r);
  rig.engine.process(l, r);  // block 48..96 never arrived
  EXPECT_EQ(a->concealed.load(), kBlock);
  rig.send(*a, kBlock, 0.5f);  // arrives after its play-out
  rig.engine.process(l, r);
  EXPECT_EQ(a->late.load(), 1u);
}

TEST(MixEngine, ConcealedFramesAreReportedPerChannelAtTheNodesPositions) {
  // What tl-render --as-live needs to repeat the live mix: which input frames it missed.
  NodeRegistry registry(
      RegistryConfig{.sample_rate = 48000, .jitter_capacity_frames = 8192, .mix_queue_packets = 64});
  SpscRing<MixChunk> chunks(1024);
  SpscRing<ConcealedRun> concealed(64);
  MixEngine engine(registry, chunks,
                   MixConfig{.sample_rate = 48000, .max_block_frames = 1024, .master_chain = false},
                   &concealed);
  protocol::SessionKey key{};
  proto::RegisterNode reg;
  reg.set_name("a");
  reg.set_channels(2);
  reg.set_sample_rate(48000);
  reg.set_frames_per_packet(kBlock);
  reg.set_format(proto::FORMAT_PCM24);
  NodeSlot* a = registry.register_node(reg, key).value();
  // Packets of 24 frames: channel 1's second half of block 2 and both channels of block 4
  // never come; the rest does.
  const auto send = [&](MediaTime ts, std::uint8_t first, std::uint8_t count) {
    std::vector<std::uint8_t> payload(24u * count * 3u);
    const protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                                   .node_id = a->id,
                                   .media_ts = ts,
                                   .frame_count = 24,
                                   .channel_count = count,
                                   .first_channel = first,
                                   .format = protocol::SampleFormat::Pcm24};
    PacketSlot* p = a->to_mix->begin_write(protocol::kMaxPacketBytes);
    ASSERT_NE(p, nullptr);
    p->size = static_cast<std::uint32_t>(protocol::encode(h, payload, key, p->space()));
    a->to_mix->commit_write();
  };
  engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  for (MediaTime block = 0; block < 6; ++block) {
    for (MediaTime half = 0; half < 2; ++half) {
      const MediaTime ts = block * kBlock + half * 24;
      if (block == 4) continue;
      if (block == 2 && half == 1) {
        send(ts, 0, 1);
      } else {
        send(ts, 0, 2);
      }
    }
    engine.process(l, r);
  }
  std::vector<ConcealedRun> runs;
  ConcealedRun run;
  while (concealed.try_pop(run)) runs.push_back(run);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].channel, 1);
  EXPECT_EQ(runs[0].from, 2 * kBlock + 24);
  EXPECT_EQ(runs[0].frames, 24u);
  EXPECT_EQ(runs[1].channel, 0);
  EXPECT_EQ(runs[1].from, 4 * kBlock);
  EXPECT_EQ(runs[1].frames, kBlock);
  EXPECT_EQ(runs[2].channel, 1);
  EXPECT_EQ(runs[2].from, 4 * kBlock);
  for (const ConcealedRun& x : runs) {
    EXPECT_EQ(x.node, a->id);
    EXPECT_TRUE(x.exact);
  }
  EXPECT_EQ(engine.concealed_dropped(), 0u);
}

TEST(MixEngine, AMissingPacketIsConcealedByContinuingTheWaveformNotSilence) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.post({.kind = MixCommand::Kind::Pan, .node = a->id, .channel = 0, .value = -1.0f});
  rig.engine.start_at(0);
  // A 200 Hz tone (period 240 samples) in 48-frame packets; packet 20 is lost.
  const auto packet_of = [&](std::int64_t k) {
    std::vector<float> frames(kBlock);
    for (std::uint32_t f = 0; f < kBlock; ++f) {
      frames[f] =
          0.5f * std::sin(2.0f * 3.14159265f * 200.0f * static_cast<float>(k * kBlock + f) / 48000.0f);
    }
    return frames;
  };
  std::vector<float> l(kBlock), r(kBlock), heard;
  const auto before = test::realtime_allocations();
  for (std::int64_t k = 0; k < 30; ++k) {
    if (k != 20) {
      const auto frames = packet_of(k);
      std::vector<std::uint8_t> payload(kBlock * 3);
      protocol::pack_pcm(frames, protocol::SampleFormat::Pcm24, payload);
      protocol::PacketHeader h{.type = protocol::PacketType::Audio,
                               .node_id = a->id,
                               .seq = rig.seq++,
                               .media_ts = k * kBlock,
                               .frame_count = kBlock,
                               .channel_count = 1,
                               .format = protocol::SampleFormat::Pcm24};
      PacketSlot* p = a->to_mix->begin_write(protocol::kMaxPacketBytes);
      ASSERT_NE(p, nullptr);
      p->size = static_cast<std::uint32_t>(protocol::encode(h, payload, rig.key, p->space()));
      a->to_mix->commit_write();
    }
    rig.engine.process(l, r);
    heard.insert(heard.end(), l.begin(), l.end());
    MixChunk chunk;
    while (rig.chunks.try_pop(chunk)) {
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  EXPECT_EQ(a->concealed.load(), kBlock);
  // The lost block carries on the tone: close to what was lost, far from silence.
  double err = 0.0, energy = 0.0;
  for (std::uint32_t f = 0; f < kBlock; ++f) {
    const double want =
        0.5 * std::sin(2.0 * 3.14159265 * 200.0 * static_cast<double>(20 * kBlock + f) / 48000.0);
    const double got = heard[20 * kBlock + f];
    err += (got - want) * (got - want);
    energy += want * want;
  }
  std::printf("[ figure ] concealed 200 Hz block: error %.1f dB below the tone\n",
              10.0 * std::log10(energy / err));
  EXPECT_LT(err, 0.01 * energy) << "20 dB below the tone at least";
  // Around the gap the tone is what was sent (the crossfade lasts 2 ms after it).
  EXPECT_NEAR(heard[19 * kBlock + 10],
              0.5f * std::sin(2.0f * 3.14159265f * 200.0f * (19 * kBlock + 10) / 48000.0f), 1e-4f);
}

TEST(MixEngine, ThePlayOutDelayBeforeANodesFirstAudioIsNotConcealment) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  rig.send(*a, 4 * kBlock, 0.5f);  // the node's first audio lies ahead of the play-out position
  for (int block = 0; block < 5; ++block) rig.engine.process(l, r);
  EXPECT_EQ(a->concealed.load(), 0u);
  rig.engine.process(l, r);  // the block after its only packet is missing
  EXPECT_EQ(a->concealed.load(), kBlock);
}

TEST(MixEngine, ADefaultStripIsTransparent) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  rig.send(*a, 0, 0.3f);
  rig.engine.process(l, r);
  for (std::size_t i = 0; i < kBlock; ++i) EXPECT_EQ(l[i], q24(0.3f) * std::cos(0.25f * 3.14159265f));
}

TEST(MixEngine, StripHighPassRemovesDirectCurrent) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = a->id, .channel = 0};
  cmd.strip.hpf_on = true;
  cmd.strip.hpf_hz = 200.0f;
  ASSERT_TRUE(rig.engine.post(cmd));
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  for (int block = 0; block < 200; ++block) {  // 200 ms: the filter fades in and settles
    rig.send(*a, block * kBlock, 0.5f);
    rig.engine.process(l, r);
  }
  EXPECT_LT(std::fabs(l[kBlock - 1]), 1e-3f) << "a constant input is blocked by the high-pass";
}

TEST(MixEngine, StripTrimAndPolarityApplyBeforeTheFader) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = a->id, .channel = 0};
  cmd.strip.trim_db = -6.0206f;
  cmd.strip.phase_invert = true;
  cmd.strip.fader_db = 12.0f;  // ignored: the engine's gain is the fader
  ASSERT_TRUE(rig.engine.post(cmd));
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  for (int block = 0; block < 30; ++block) {  // past the 20 ms parameter glide
    rig.send(*a, block * kBlock, 0.4f);
    rig.engine.process(l, r);
  }
  EXPECT_NEAR(l[kBlock - 1], -0.5f * q24(0.4f) * std::sqrt(0.5f), 1e-5f);
}

TEST(MixEngine, MasterChainOffIsADelayThatTheRecorderPositionsCompensate) {
  Rig rig(true);
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(0);
  const std::size_t latency = rig.engine.master_latency();
  ASSERT_GT(latency, 0u);
  std::vector<float> in, out;
  std::vector<float> l(kBlock), r(kBlock);
  for (int block = 0; block < 10; ++block) {
    rig.send(*a, block * kBlock, 0.1f + 0.01f * static_cast<float>(block));
    rig.engine.process(l, r);
    out.insert(out.end(), l.begin(), l.end());
    for (std::uint32_t i = 0; i < kBlock; ++i)
      in.push_back(q24(0.1f + 0.01f * static_cast<float>(block)) * std::cos(0.25f * 3.14159265f));
  }
  for (std::size_t i = latency; i < out.size(); ++i) ASSERT_EQ(out[i], in[i - latency]) << i;
  MixChunk chunk;
  ASSERT_TRUE(rig.chunks.try_pop(chunk));
  EXPECT_EQ(chunk.position, -static_cast<MediaTime>(latency));
}

TEST(MixEngine, MasterLimiterHoldsTheCeilingAndNothingClips) {
  Rig rig(true);
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.post({.kind = MixCommand::Kind::Gain, .node = a->id, .channel = 0, .value = 4.0f});
  MixCommand m{.kind = MixCommand::Kind::Master};
  m.master = master_off();
  m.master.limiter_on = true;
  m.master.limiter.ceiling_dbtp = -1.0f;
  ASSERT_TRUE(rig.engine.post(m));
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  float peak = 0.0f;
  for (int block = 0; block < 300; ++block) {
    rig.send(*a, block * kBlock, 0.9f);  // 0.9 * 4 * 0.707: 8.1 dB over full scale
    rig.engine.process(l, r);
    for (float v : l) peak = std::max(peak, std::fabs(v));
  }
  EXPECT_EQ(rig.engine.clipped(), 0u);
  EXPECT_LE(peak, std::pow(10.0f, -1.0f / 20.0f) + 1e-6f);
  const MasterMeters mm = rig.engine.master_meters();
  EXPECT_LE(mm.true_peak_dbtp, -0.99f);
}

TEST(MixEngine, MasterGlueCompressorGainReductionIsMetered) {
  Rig rig(true);
  NodeSlot* a = rig.add_node("a", 1);
  MixCommand m{.kind = MixCommand::Kind::Master};
  m.master = master_off();
  m.master.bus.comp_on = true;
  m.master.bus.comp.threshold_db = -30.0f;
  m.master.bus.comp.ratio = 4.0f;
  ASSERT_TRUE(rig.engine.post(m));
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  EXPECT_EQ(rig.engine.master_meters().comp_gr_db, 0.0f);
  for (int block = 0; block < 300; ++block) {  // a steady -9 dBFS per side, 21 dB over the threshold
    rig.send(*a, block * kBlock, 0.5f);
    rig.engine.process(l, r);
  }
  // 21 dB over at 4:1 is about 15.75 dB of reduction once settled (the knee softens it).
  EXPECT_LT(rig.engine.master_meters().comp_gr_db, -12.0f);
  EXPECT_GT(rig.engine.master_meters().comp_gr_db, -17.0f);
}

TEST(MixEngine, EveryChannelIsFilteredAndMixedWhenANodeSpansTwoBatchesOfRows) {
  // 15 nodes of 9 channels (the engine takes rows 64 at a time, so the eighth node's
  // channels are split between two batches): every odd channel has a high-pass filter and a
  // boost (its sections run with the other rows' in vector lanes) and loses its DC; the even
  // ones pass. The first node's cue mix turns the eighth down: all its channels ramp together
  // over the block, on both sides of the split.
  Rig rig;
  const std::uint32_t per_node = 9;
  std::vector<NodeSlot*> nodes;
  for (int n = 0; n < 15; ++n) nodes.push_back(rig.add_node(std::to_string(n).insert(0, 1, 'n'), per_node));
  NodeSlot* split = nodes[7];
  nodes[0]->cue_out = std::make_unique<SpscRing<CueChunk>>(64);
  for (NodeSlot* n : nodes) {
    for (std::uint16_t ch = 1; ch < per_node; ch += 2) {
      MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = n->id, .channel = ch};
      cmd.strip.hpf_on = true;
      cmd.strip.hpf_hz = 100.0f;
      cmd.strip.eq.bands[1].gain_db = 3.0f;
      ASSERT_TRUE(rig.engine.post(cmd));
    }
  }
  ASSERT_TRUE(
      rig.engine.post({.kind = MixCommand::Kind::CueOn, .node = nodes[0]->id, .value = 1.0f, .bus = 3}));
  ASSERT_TRUE(
      rig.engine.post({.kind = MixCommand::Kind::CueLimit, .node = nodes[0]->id, .value = 100.0f, .bus = 3}));
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  MediaTime ts = 0;
  CueChunk c;
  for (int b = 0; b < 1000; ++b, ts += kBlock) {
    for (NodeSlot* n : nodes) rig.send(*n, ts, 0.1f);
    rig.engine.process(l, r);
    while (nodes[0]->cue_out->try_pop(c)) {
    }
  }
  // Channel c of every node carries 0.1 + 0.01 c; only the even ones are left.
  const double centre = 0.70710678;
  double node_sum = 0.0;
  for (std::uint32_t ch = 0; ch < per_node; ch += 2) node_sum += q24(0.1f + 0.01f * static_cast<float>(ch));
  EXPECT_NEAR(l[10], 15.0 * node_sum * centre, 1e-4);
  EXPECT_NEAR(r[10], 15.0 * node_sum * centre, 1e-4);

  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::CueLevel,
                               .node = nodes[0]->id,
                               .value = 0.5f,
                               .bus = 3,
                               .source = split->id}));
  for (NodeSlot* n : nodes) rig.send(*n, ts, 0.1f);
  rig.engine.process(l, r);
  CueChunk ramp{};
  while (nodes[0]->cue_out->try_pop(c)) ramp = c;
  ASSERT_EQ(ramp.frames, kBlock);
  // The cue limiter's look-ahead delays it: the block's ramp starts that far in.
  const std::size_t delay = rig.engine.cue_latency();
  for (std::size_t i = 0; i < kBlock; ++i) {
    const double level = i < delay ? 1.0 : 1.0 - 0.5 * static_cast<double>(i - delay + 1) / kBlock;
    EXPECT_NEAR(ramp.samples[2 * i], (14.0 + level) * node_sum * centre, 1e-4) << "frame " << i;
  }
}

TEST(MixEngine, ACommandWithAnIdIsReportedAtTheBlockItWasAppliedAt) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  rig.engine.start_at(4800);
  std::vector<float> l(kBlock), r(kBlock);
  rig.engine.process(l, r);
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::Gain, .id = 7, .node = a->id, .value = 0.5f}));
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::Pan, .node = a->id, .value = 0.5f}));  // no id
  AppliedChange applied;
  EXPECT_FALSE(rig.engine.next_applied(applied)) << "not applied before the next block";
  rig.engine.process(l, r);
  ASSERT_TRUE(rig.engine.next_applied(applied));
  EXPECT_EQ(applied.id, 7u);
  EXPECT_EQ(applied.position, 4800 + kBlock);
  EXPECT_FALSE(rig.engine.next_applied(applied)) << "commands without an id are not reported";
}

TEST(MixEngine, ProcessNeverAllocates) {
  Rig rig(true);
  NodeSlot* a = rig.add_node("a", 8);
  NodeSlot* b = rig.add_node("b", 2);
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  // Every strip with HPF, EQ, gate and compressor active, and changing while it runs.
  dsp::StripParams busy;
  busy.hpf_on = true;
  busy.hpf_hz = 100.0f;
  busy.eq.bands[1].gain_db = 4.0f;
  busy.eq.bands[2].gain_db = -3.0f;
  busy.gate_on = true;
  busy.comp_on = true;
  busy.comp.threshold_db = -30.0f;
  busy.delay_samples = 24;
  for (NodeSlot* n : {a, b}) {
    for (std::uint32_t c = 0; c < n->channels; ++c) {
      MixCommand cmd{
          .kind = MixCommand::Kind::Strip, .node = n->id, .channel = static_cast<std::uint16_t>(c)};
      cmd.strip = busy;
      cmd.strip.hpf_on = n == a;  // b keeps its (constant) level for the compressor
      ASSERT_TRUE(rig.engine.post(cmd));
    }
  }
  MixCommand m{.kind = MixCommand::Kind::Master};
  m.master.limiter_on = true;
  m.master.bus.comp_on = true;
  m.master.bus.eq.bands[3].gain_db = 2.0f;
  ASSERT_TRUE(rig.engine.post(m));
  // Half of a's strips through group buses, every strip sending to both effects.
  for (std::uint32_t c = 0; c < a->channels; ++c) {
    MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = a->id, .channel = static_cast<std::uint16_t>(c)};
    cmd.strip = busy;
    cmd.strip.route = static_cast<std::uint8_t>(c % 2 == 0 ? 1 + c / 2 : 0);
    cmd.strip.sends[0] = {.on = true, .level_db = -10.0f};
    cmd.strip.sends[1] = {.on = true, .level_db = -12.0f, .pre = true};
    ASSERT_TRUE(rig.engine.post(cmd));
  }
  MixCommand group{.kind = MixCommand::Kind::Bus, .bus = 0};
  group.bus_params.comp_on = true;
  group.bus_params.fader_db = -3.0f;
  ASSERT_TRUE(rig.engine.post(group));
  MixCommand verb{.kind = MixCommand::Kind::Reverb};
  verb.reverb.rt60_s = 1.5f;
  ASSERT_TRUE(rig.engine.post(verb));
  MixCommand echo{.kind = MixCommand::Kind::Delay};
  echo.delay.bpm = 90.0f;
  ASSERT_TRUE(rig.engine.post(echo));
  // b hears a cue mix with more of itself.
  b->cue_out = std::make_unique<SpscRing<CueChunk>>(64);
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::CueOn, .node = b->id, .value = 1.0f, .bus = 0}));
  ASSERT_TRUE(rig.engine.post(
      {.kind = MixCommand::Kind::CueLevel, .node = b->id, .value = 2.0f, .bus = 0, .source = b->id}));
  const auto before = test::realtime_allocations();
  // 0.6 s of blocks with arrival times: the play-out delay's estimates run too.
  for (int block = 0; block < 600; ++block) {
    const std::int64_t arrival = (block + 1) * 1'000'000LL + 300'000LL * (block % 5);
    rig.send(*a, block * kBlock, 0.1f, arrival);
    rig.send(*b, block * kBlock, 0.1f, arrival);
    rig.engine.post({.kind = MixCommand::Kind::Gain, .node = a->id, .channel = 1, .value = 0.5f});
    if (block % 20 == 0) {
      MixCommand cmd{.kind = MixCommand::Kind::Strip, .node = a->id, .channel = 2};
      cmd.strip = busy;
      cmd.strip.eq.bands[0].gain_db = static_cast<float>(block % 7);
      cmd.strip.hpf_hz = 80.0f + static_cast<float>(block);
      rig.engine.post(cmd);
    }
    rig.engine.process(l, r);
    MixChunk chunk;
    while (rig.chunks.try_pop(chunk)) {
    }
    CueChunk cue;
    while (b->cue_out->try_pop(cue)) {
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  EXPECT_EQ(b->cue_dropped.load(), 0u) << "the cue mix was made during the run";
  EXPECT_GT(a->levels[0].peak.load(), 0.0f) << "levels were published during the run";
  EXPECT_GT(a->need_ms.load(), 0.0f) << "the play-out delay was estimated during the run";
  EXPECT_LT(b->levels[0].comp_gr_db.load(), -1.0f) << "the compressor was working";
  EXPECT_GT(rig.engine.bus_peak(0), 0.0f) << "a group bus carried audio";
  EXPECT_GT(rig.engine.bus_peak(kBuses - 2), 0.0f) << "the reverb carried audio";
}

TEST(MixEngine, ADriftingNodeIsFollowedByItsVarispeedWithoutAllocating) {
  Rig rig;
  NodeSlot* a = rig.add_node("fast", 2);
  a->reported_drift_ppm.store(300.0f);  // as its NodeReport says
  // The node's clock runs 300 ppm fast; its packets reach the mixer 1 ms after their
  // last sample was captured; the mix plays 20 ms behind the session clock.
  const double skew = 300e-6;
  const MediaTime latency = 960;
  rig.engine.start_at(-latency);
  std::vector<float> l(kBlock), r(kBlock);
  std::int64_t packet = 0;
  const float steady = (q24(0.2f) + q24(0.21f)) * std::cos(0.25f * 3.14159265f);
  float worst = 0.0f;
  const auto before = test::realtime_allocations();
  for (std::int64_t block = 0; block < 12'000; ++block) {  // 12 s
    const double now = static_cast<double>(block * kBlock);
    for (double arrival = static_cast<double>((packet + 1) * kBlock) / (1.0 + skew) + 48.0; arrival <= now;
         arrival = static_cast<double>((packet + 1) * kBlock) / (1.0 + skew) + 48.0) {
      rig.send(*a, packet * kBlock, 0.2f, static_cast<std::int64_t>(arrival * 1e9 / 48000.0));
      ++packet;
    }
    rig.engine.process(l, r);
    MixChunk chunk;
    while (rig.chunks.try_pop(chunk)) {
    }
    // Steady once the node has played for a second: the varispeed passes DC unchanged.
    if (block > 2000) {
      for (const float v : l) worst = std::max(worst, std::fabs(v - steady));
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  EXPECT_NEAR(a->varispeed_ppm.load(), 300.0f, 20.0f) << "the cursor follows the node's clock";
  EXPECT_NEAR(a->drift_ppm.load(), 300.0f, 5.0f);
  EXPECT_LT(worst, 1e-4f) << "no gap or jump while the varispeed engaged";
  EXPECT_EQ(a->concealed.load(), 0u);
}

//! A silent node `a` with a cue, a click at 150 BPM (a beat every 19200 frames at 48 kHz,
//! 3 to a bar) and `play` posted, run for 2.7 s: a's cue (left) by mix position.
struct ClickRun {
  std::vector<float> cue;
  MediaTime cue_from = INT64_MIN;
  float mix_peak = 0.0f;
  float at(MediaTime p) const { return cue.at(static_cast<std::size_t>(p - cue_from)); }
  //! The first mix position from p on that is not silence (-1: none within 400 frames).
  MediaTime onset(MediaTime p) const {
    for (MediaTime f = p; f < p + 400; ++f)
      if (at(f) != 0.0f) return f;
    return -1;
  }
};

ClickRun run_click(bool click_on, const MixCommand& play) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  a->cue_out = std::make_unique<SpscRing<CueChunk>>(4096);
  EXPECT_TRUE(rig.engine.post({.kind = MixCommand::Kind::CueOn, .node = a->id, .value = 1.0f, .bus = 0}));
  EXPECT_TRUE(rig.engine.post({.kind = MixCommand::Kind::CueLimit, .node = a->id, .value = 0.0f, .bus = 0}));
  MixCommand click{.kind = MixCommand::Kind::Click, .value = 0.5f};
  click.beat_frames = 19200.0;
  click.beats_per_bar = 3;
  click.click_on = click_on;
  EXPECT_TRUE(rig.engine.post(click));
  EXPECT_TRUE(rig.engine.post(play));
  rig.engine.start_at(0);
  std::vector<float> l(kBlock), r(kBlock);
  ClickRun out;
  for (int b = 0; b < 2700; ++b) {
    rig.send(*a, b * static_cast<MediaTime>(kBlock), 0.0f);
    rig.engine.process(l, r);
    for (const float v : l) out.mix_peak = std::max(out.mix_peak, std::fabs(v));
    CueChunk c;
    while (a->cue_out->try_pop(c)) {
      if (out.cue_from == INT64_MIN) out.cue_from = c.position;
      for (std::uint32_t i = 0; i < c.frames; ++i) out.cue.push_back(c.samples[2 * i]);
    }
    MixChunk m;
    while (rig.chunks.try_pop(m)) {
    }
  }
  return out;
}

TEST(MixEngineClick, TheMetronomeIsInEveryCueOnTheTimelinesBeatsAndNeverInTheMix) {
  // Played from timeline 1000.
  MixCommand play{.kind = MixCommand::Kind::Transport, .value = kTransportPlay};
  play.at = 1000;
  const ClickRun run = run_click(true, play);
  EXPECT_EQ(run.mix_peak, 0.0f) << "never in the main mix";
  ASSERT_LE(run.cue_from, 0)
      << "stamped with the mix position of its audio (the limiter's look-ahead before 0)";
  const auto at = [&](MediaTime p) { return run.at(p); };
  // The play landed on the first block (mix position 0): timeline t is mix position t - 1000.
  const auto onset = [&](MediaTime p) { return run.onset(p); };
  // Beats at timeline 19200 k: mix position 19200 k - 1000, the click starting there (its
  // first sample is sin(0) = 0: the next one is the burst).
  for (MediaTime k = 1; k <= 4; ++k) {
    EXPECT_EQ(onset(19200 * k - 1000 - 5), 19200 * k - 1000 + 1) << "beat " << k;
  }
  // Silent between beats, and the bar's first beat higher (more zero crossings in 2 ms).
  EXPECT_EQ(onset(19200 + 3000 - 1000), -1);
  const auto crossings = [&](MediaTime from) {
    int n = 0;
    for (MediaTime f = from + 1; f < from + 96; ++f) n += (at(f) >= 0.0f) != (at(f - 1) >= 0.0f);
    return n;
  };
  EXPECT_GT(crossings(3 * 19200 - 1000 + 1), crossings(19200 - 1000 + 1)) << "beat 1 of bar 2 is higher";
}

TEST(MixEngineClick, ACountInClicksUpToItsPositionWithTheClickOff) {
  // A play from bar 3 (timeline 2 bars = 115200) counting in one bar: it starts at 57600.
  MixCommand play{.kind = MixCommand::Kind::Transport, .value = kTransportPlay};
  play.at = 57600;
  play.count_in_to = 115200;
  const ClickRun run = run_click(false, play);
  EXPECT_EQ(run.mix_peak, 0.0f);
  // Timeline t is mix position t - 57600: the count-in bar's three beats click (the first
  // at mix position 0), then nothing at bar 3's beats, the click being off.
  for (MediaTime k = 0; k < 3; ++k) {
    const MediaTime beat = 19200 * k;
    EXPECT_EQ(run.onset(std::max<MediaTime>(beat - 5, run.cue_from)), beat + 1) << "count-in beat " << k;
  }
  for (MediaTime k = 3; k < 7; ++k) EXPECT_EQ(run.onset(19200 * k - 5), -1) << "beat " << k;
  // Without the count-in, nothing at all.
  play.count_in_to = kNoCountIn;
  const ClickRun none = run_click(false, play);
  for (MediaTime k = 0; k < 7; ++k)
    EXPECT_EQ(none.onset(std::max<MediaTime>(19200 * k - 5, none.cue_from)), -1);
}

TEST(MixEngineClick, ALoopClicksOnItsOwnBeatsEveryLap) {
  // A loop of timeline 19200..48000 (beat 1 to a beat and a half on), played from 9600:
  // beat 1 at mix position 9600, then every lap (28800 frames) its first beat again at the
  // wrap, and the half beat it cuts off never sounds.
  MixCommand play{.kind = MixCommand::Kind::Transport, .value = kTransportPlay};
  play.at = 9600;
  play.loop = {.from = 19200, .to = 48000};
  const ClickRun run = run_click(true, play);
  for (MediaTime lap = 0; lap < 4; ++lap) {
    const MediaTime beat1 = 9600 + lap * 28800;
    EXPECT_EQ(run.onset(beat1 - 5), beat1 + 1) << "lap " << lap;
    EXPECT_EQ(run.onset(beat1 + 19200 - 5), beat1 + 19200 + 1) << "beat 2, lap " << lap;
    EXPECT_EQ(run.onset(beat1 + 19200 + 2000), -1) << "nothing until the wrap, lap " << lap;
  }
  // A count-in to the loop's start counts in once, not every lap.
  play.at = 0;
  play.count_in_to = 19200;
  const ClickRun counted = run_click(false, play);
  EXPECT_EQ(counted.onset(std::max<MediaTime>(-5, counted.cue_from)), 1) << "the count-in's beat";
  EXPECT_EQ(counted.onset(19200 + 28800 - 5), -1) << "the next lap's beat 1: the click is off";
}

TEST(TimelineLoop, FoldsTheStraightTimelineAndSaysWhereItNextWraps) {
  const TimelineLoop loop{.from = 100, .to = 150};
  EXPECT_EQ(loop.at(99), 99);
  EXPECT_EQ(loop.at(149), 149);
  EXPECT_EQ(loop.at(150), 100);
  EXPECT_EQ(loop.at(199), 149);
  EXPECT_EQ(loop.at(200), 100);
  EXPECT_EQ(loop.until_wrap(0), 150);
  EXPECT_EQ(loop.until_wrap(150), 50);
  EXPECT_EQ(loop.until_wrap(199), 1);
  EXPECT_EQ(TimelineLoop{}.at(1000), 1000) << "none: straight on";
  EXPECT_EQ(TimelineLoop{}.until_wrap(1000), INT64_MAX);
  Transport t;
  t.apply(kTransportPlay, 120, 1, 1000, loop);
  EXPECT_EQ(t.at(1030), 100) << "straight 150: the wrap";
  EXPECT_EQ(t.linear(1030), 150);
  t.apply(kTransportStop, 0, 0, 1031);
  EXPECT_EQ(t.at(5000), 101) << "stopped where it was";
  EXPECT_FALSE(t.loop.on());
}

}  // namespace
}  // namespace tl::mixer
