// Talkback in the mix engine: a voice into chosen cue mixes and the monitor, the programme
// dimmed under it with ramps, a file's voice ending on its own, never in the main mix.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "alloc_counter.h"
#include "mix_engine_rig.h"

namespace tl::mixer {
namespace {

using rig::kBlock;
using rig::q24;
using rig::Rig;

constexpr float kCentre = 0.70710678f;

//! A band, a talkback mic (muted in the main mix) and two listeners with cue mixes: each
//! block, the band sends 0.2 and the mic 0.1; the cues, the monitor (what process()
//! leaves) and the recorder's mix are kept, left side, by mix position.
struct TalkRig : Rig {
  NodeSlot* band = add_node("band", 1);
  NodeSlot* mic = add_node("talk", 1);
  NodeSlot* singer = add_node("singer", 1);
  NodeSlot* drummer = add_node("drummer", 1);
  std::vector<float> singer_cue, drummer_cue, monitor, recorded;
  MediaTime block = 0;

  TalkRig() {
    for (auto [slot, cue] : {std::pair{singer, 0}, std::pair{drummer, 1}}) {
      slot->cue_out = std::make_unique<SpscRing<CueChunk>>(8192);
      const auto bus = static_cast<std::uint8_t>(cue);
      EXPECT_TRUE(
          engine.post({.kind = MixCommand::Kind::CueOn, .node = slot->id, .value = 1.0f, .bus = bus}));
      EXPECT_TRUE(
          engine.post({.kind = MixCommand::Kind::CueLimit, .node = slot->id, .value = 0.0f, .bus = bus}));
      // The listeners are silent in every mix (their own input would only add a constant).
      EXPECT_TRUE(engine.post({.kind = MixCommand::Kind::Mute, .node = slot->id, .value = 1.0f}));
    }
    EXPECT_TRUE(engine.post({.kind = MixCommand::Kind::Mute, .node = mic->id, .value = 1.0f}));
    engine.start_at(0);
  }
  void talk(std::size_t line, const TalkLine& setting, std::uint64_t generation) {
    MixCommand cmd{.kind = MixCommand::Kind::Talk, .bus = static_cast<std::uint8_t>(line)};
    cmd.generation = generation;
    cmd.talk = setting;
    ASSERT_TRUE(engine.post(cmd));
  }
  void run(int blocks) {
    std::vector<float> l(kBlock), r(kBlock);
    for (int b = 0; b < blocks; ++b, block += kBlock) {
      send(*band, block, 0.2f);
      send(*mic, block, 0.1f);
      send(*singer, block, 0.0f);
      send(*drummer, block, 0.0f);
      engine.process(l, r);
      monitor.insert(monitor.end(), l.begin(), l.end());
      for (auto [slot, out] : {std::pair{singer, &singer_cue}, std::pair{drummer, &drummer_cue}}) {
        CueChunk c;
        while (slot->cue_out->try_pop(c))
          for (std::uint32_t i = 0; i < c.frames; ++i) out->push_back(c.samples[2 * i]);
      }
      MixChunk m;
      while (chunks.try_pop(m)) recorded.insert(recorded.end(), m.left.begin(), m.left.begin() + m.frames);
    }
  }
};

//! The largest step from one sample to the next in v[from, to).
float largest_step(const std::vector<float>& v, std::size_t from, std::size_t to) {
  float step = 0.0f;
  for (std::size_t i = from + 1; i < to && i < v.size(); ++i)
    step = std::max(step, std::fabs(v[i] - v[i - 1]));
  return step;
}

TEST(TalkMix, AMicTalksIntoOneCueDimmingItAndNeverIntoTheMainMix) {
  TalkRig rig;
  rig.run(20);
  const float band = q24(0.2f) * kCentre, voice = q24(0.1f);
  const std::size_t start = rig.singer_cue.size() - 1;
  ASSERT_NEAR(rig.singer_cue.back(), band, 1e-6f) << "the band alone: the mic is muted";
  const auto before = test::realtime_allocations();
  rig.talk(
      0, TalkLine{.source = rig.mic->id, .listeners = 1u << (rig.singer->id - 1), .level = 1.0f, .dim = 0.1f},
      1);
  rig.run(20);
  EXPECT_EQ(test::realtime_allocations(), before);
  EXPECT_EQ(rig.engine.talk().applied(), 1u);
  EXPECT_NEAR(rig.singer_cue.back(), 0.1f * band + voice, 1e-5f) << "the voice over the band dimmed 20 dB";
  EXPECT_NEAR(rig.drummer_cue.back(), band, 1e-6f) << "another cue hears nothing of it";
  EXPECT_NEAR(rig.monitor.back(), band, 1e-6f) << "not talking to the monitor";
  EXPECT_NEAR(rig.recorded.back(), band, 1e-6f) << "never in the main mix";
  // It came in over 10 ms (480 frames), no step larger than the ramp's.
  EXPECT_LT(largest_step(rig.singer_cue, start, rig.singer_cue.size()), 1.5f / 480.0f * (voice + band));
  const float after = rig.singer_cue.back();
  std::size_t between = 0;  // samples on the way, neither the band alone nor the voice over it
  for (std::size_t i = start; i < rig.singer_cue.size(); ++i) {
    const float v = rig.singer_cue[i];
    between += std::fabs(v - band) > 1e-4f && std::fabs(v - after) > 1e-4f;
  }
  EXPECT_GT(between, 400u) << "a 10 ms ramp, not a jump";

  // Off: the band comes back to full level, the voice goes, as smoothly.
  const std::size_t off = rig.singer_cue.size() - 1;
  rig.talk(0, TalkLine{}, 2);
  rig.run(20);
  EXPECT_NEAR(rig.singer_cue.back(), band, 1e-6f);
  EXPECT_LT(largest_step(rig.singer_cue, off, rig.singer_cue.size()), 1.5f / 480.0f * (voice + band));
}

TEST(TalkMix, AFileTalksToTheMonitorAndACueUntilItEnds) {
  TalkRig rig;
  rig.run(20);
  TalkClip clip;
  clip.samples.assign(4800, 0.3f);  // 0.1 s
  rig.talk(2,
           TalkLine{.clip = &clip,
                    .listeners = 1u << (rig.drummer->id - 1),
                    .monitor = true,
                    .level = 0.5f,
                    .dim = 0.5f},
           7);
  rig.run(50);  // 2400 frames in: talking
  const float band = q24(0.2f) * kCentre;
  EXPECT_NEAR(rig.drummer_cue.back(), 0.5f * band + 0.15f, 1e-5f);
  EXPECT_NEAR(rig.monitor.back(), 0.5f * band + 0.15f, 1e-5f) << "the monitor hears it, dimmed the same";
  EXPECT_NEAR(rig.recorded.back(), band, 1e-6f) << "mix.wav does not";
  EXPECT_NEAR(rig.singer_cue.back(), band, 1e-6f);
  EXPECT_EQ(rig.engine.talk().ended(2), 0u);
  rig.run(80);  // past its end and the ramp back
  EXPECT_EQ(rig.engine.talk().ended(2), 7u) << "the line stopped at the file's end";
  EXPECT_NEAR(rig.drummer_cue.back(), band, 1e-6f);
  EXPECT_NEAR(rig.monitor.back(), band, 1e-6f);
  EXPECT_EQ(rig.engine.talk().reading(2), nullptr) << "its gains are down: the clip is the io thread's";
  EXPECT_FALSE(rig.engine.talk().sounding(2));
}

TEST(TalkMix, AVoiceStoppedMidWayFadesOutOnItsOwnSamplesThenLetsItsClipGo) {
  TalkRig rig;
  TalkClip clip;
  clip.samples.assign(48000, 0.4f);
  rig.talk(0, TalkLine{.clip = &clip, .listeners = 1u << (rig.singer->id - 1), .level = 1.0f, .dim = 1.0f},
           1);
  rig.run(20);
  EXPECT_EQ(rig.engine.talk().reading(0), &clip);
  const std::size_t off = rig.singer_cue.size() - 1;
  rig.talk(0, TalkLine{}, 2);
  rig.run(1);
  EXPECT_EQ(rig.engine.talk().reading(0), &clip) << "still read while its gain comes down";
  EXPECT_TRUE(rig.engine.talk().sounding(0));
  rig.run(20);
  EXPECT_LT(largest_step(rig.singer_cue, off, rig.singer_cue.size()), 1.5f / 480.0f * 0.4f) << "no click";
  EXPECT_EQ(rig.engine.talk().reading(0), nullptr);
  EXPECT_FALSE(rig.engine.talk().sounding(0));
  EXPECT_EQ(rig.engine.talk().ended(0), 0u) << "stopped, not ended";
}

TEST(TalkMix, TwoVoicesIntoOneCueAddUpUnderTheDeeperDim) {
  TalkRig rig;
  TalkClip clip;
  clip.samples.assign(48000, 0.05f);
  const std::uint64_t singer = 1u << (rig.singer->id - 1);
  rig.talk(0, TalkLine{.source = rig.mic->id, .listeners = singer, .level = 1.0f, .dim = 0.5f}, 1);
  rig.talk(1, TalkLine{.clip = &clip, .listeners = singer, .level = 2.0f, .dim = 0.25f}, 2);
  rig.run(40);
  const float band = q24(0.2f) * kCentre;
  EXPECT_NEAR(rig.singer_cue.back(), 0.25f * band + q24(0.1f) + 2.0f * 0.05f, 1e-5f);
}

}  // namespace
}  // namespace tl::mixer
