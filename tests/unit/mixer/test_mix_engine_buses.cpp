// The mix engine's buses, effects sends and cue mixes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mix_engine_rig.h"

namespace tl::mixer {
namespace {

using rig::BusRig;
using rig::kBlock;
using rig::q24;
using rig::Rig;

TEST(MixEngineBuses, AStripRoutedToAGroupBusIsHeardThroughItsFader) {
  BusRig rig;
  rig.run(2);
  const float direct = rig.l[kBlock - 1];
  ASSERT_GT(direct, 0.1f);
  dsp::StripParams p;
  p.route = 3;
  rig.strip(p);
  MixCommand bus{.kind = MixCommand::Kind::Bus, .bus = 2};
  bus.bus_params.fader_db = -6.0f;
  ASSERT_TRUE(rig.engine.post(bus));
  rig.run(1);
  // The move is a crossfade: the block's first frame is near the old level, not a jump.
  EXPECT_NEAR(rig.l[0], direct, 0.05f * direct);
  rig.run(120);  // the bus fader's 20 ms glide, and a meter window
  EXPECT_NEAR(rig.l[kBlock - 1], direct * 0.5012f, 1e-4f);
  EXPECT_GT(rig.engine.bus_peak(2), 0.0f);
  EXPECT_EQ(rig.engine.bus_peak(0), 0.0f) << "only the group it is routed to";
  bus.bus_params.mute = true;
  ASSERT_TRUE(rig.engine.post(bus));
  rig.run(60);
  EXPECT_EQ(rig.l[kBlock - 1], 0.0f) << "a muted group silences what is routed to it";
}

TEST(MixEngineBuses, ASendFeedsTheReverbWhoseTailOutlivesTheInput) {
  BusRig rig;
  dsp::StripParams p;
  p.sends[0] = {.on = true, .level_db = 0.0f};
  rig.strip(p);
  MixCommand verb{.kind = MixCommand::Kind::Reverb};
  verb.reverb.rt60_s = 2.0f;
  verb.reverb.predelay_ms = 0.0f;
  ASSERT_TRUE(rig.engine.post(verb));
  rig.run(200);        // 0.2 s of input
  rig.run(200, 0.0f);  // then silence: only the reverb is left
  float tail = 0.0f;
  for (float v : rig.l) tail = std::max(tail, std::fabs(v));
  EXPECT_GT(tail, 1e-3f) << "a 2 s reverb still rings 0.2 s after its input stopped";
  // Without the send the same input leaves nothing after it stops.
  BusRig dry;
  dry.run(200);
  dry.run(200, 0.0f);
  for (float v : dry.l) EXPECT_EQ(v, 0.0f);
}

TEST(MixEngineBuses, PostFaderSendsFollowTheFaderAndPreFaderOnesDoNot) {
  for (const bool pre : {false, true}) {
    BusRig rig;
    dsp::StripParams p;
    p.sends[1] = {.on = true, .level_db = 0.0f, .pre = pre};
    rig.strip(p);
    MixCommand delay{.kind = MixCommand::Kind::Delay};
    delay.delay.bpm = 240.0f;  // an eighth: 125 ms
    delay.delay.feedback = 0.0f;
    ASSERT_TRUE(rig.engine.post(delay));
    // The fader down to silence: a post-fader send goes quiet with it.
    ASSERT_TRUE(
        rig.engine.post({.kind = MixCommand::Kind::Gain, .node = rig.a->id, .channel = 0, .value = 0.0f}));
    rig.run(300);
    float echo = 0.0f;
    for (float v : rig.l) echo = std::max(echo, std::fabs(v));
    if (pre) {
      EXPECT_GT(echo, 0.05f) << "a pre-fader send ignores the fader";
    } else {
      EXPECT_EQ(echo, 0.0f) << "a post-fader send follows the fader";
    }
  }
}

//! Runs blocks until the cue queue of `listener` holds a chunk; returns the last one.
CueChunk last_cue(Rig& rig, NodeSlot& listener, std::vector<NodeSlot*> sources, int blocks, MediaTime& ts) {
  std::vector<float> l(kBlock), r(kBlock);
  CueChunk out;
  for (int b = 0; b < blocks; ++b, ts += kBlock) {
    for (NodeSlot* n : sources) rig.send(*n, ts, 0.1f);
    rig.engine.process(l, r);
    CueChunk c;
    while (listener.cue_out->try_pop(c)) out = c;
  }
  return out;
}

TEST(MixEngineCue, ANodesCueMixFollowsTheFadersAndPansWithItsOwnLevelsAndIgnoresSolo) {
  Rig rig;
  NodeSlot* a = rig.add_node("a", 1);
  NodeSlot* b = rig.add_node("b", 1);
  a->cue_out = std::make_unique<SpscRing<CueChunk>>(64);
  rig.engine.start_at(0);
  ASSERT_TRUE(
      rig.engine.post({.kind = MixCommand::Kind::Pan, .node = b->id, .value = 1.0f}));  // b hard right
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::CueOn, .node = a->id, .value = 1.0f, .bus = 3}));
  // The sums here go far over full scale: the cue's hearing protection is opened up.
  ASSERT_TRUE(
      rig.engine.post({.kind = MixCommand::Kind::CueLimit, .node = a->id, .value = 100.0f, .bus = 3}));
  MediaTime ts = 0;
  CueChunk c = last_cue(rig, *a, {a, b}, 4, ts);
  ASSERT_EQ(c.frames, kBlock);
  // Its limiter delays the cue by its look-ahead.
  const auto delay = static_cast<MediaTime>(rig.engine.cue_latency());
  EXPECT_LT(delay, kBlock) << "0.5 ms of look-ahead and the oversampler's delay: under a block";
  EXPECT_EQ(c.position, ts - kBlock - delay) << "a chunk carries the mix position of its audio";
  const float centre = 0.70710678f;
  EXPECT_NEAR(c.samples[0], q24(0.1f) * centre, 1e-6f) << "left: a at the centre";
  EXPECT_NEAR(c.samples[1], q24(0.1f) * centre + q24(0.1f), 1e-6f) << "right: a at the centre, b hard right";

  // More me (+6 dB), b off; a solo in the main mix does not reach the cue.
  ASSERT_TRUE(rig.engine.post(
      {.kind = MixCommand::Kind::CueLevel, .node = a->id, .value = 2.0f, .bus = 3, .source = a->id}));
  ASSERT_TRUE(rig.engine.post(
      {.kind = MixCommand::Kind::CueLevel, .node = a->id, .value = 0.0f, .bus = 3, .source = b->id}));
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::Solo, .node = b->id, .value = 1.0f}));
  c = last_cue(rig, *a, {a, b}, 3, ts);
  EXPECT_NEAR(c.samples[0], 2.0f * q24(0.1f) * centre, 1e-6f);
  EXPECT_NEAR(c.samples[1], 2.0f * q24(0.1f) * centre, 1e-6f);

  // Muted in the mix is silent in the cue too; off, nothing more is queued.
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::Mute, .node = a->id, .value = 1.0f}));
  c = last_cue(rig, *a, {a, b}, 3, ts);
  EXPECT_EQ(c.samples[0], 0.0f);
  ASSERT_TRUE(rig.engine.post({.kind = MixCommand::Kind::CueOn, .node = a->id, .value = 0.0f, .bus = 3}));
  c = last_cue(rig, *a, {a, b}, 1, ts);  // the block that applies it
  c = last_cue(rig, *a, {a, b}, 2, ts);
  EXPECT_EQ(c.frames, 0u) << "a cue mix that is off is not sent";
}

}  // namespace
}  // namespace tl::mixer
