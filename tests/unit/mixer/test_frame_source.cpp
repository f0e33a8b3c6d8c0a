// A node whose audio comes from a FrameSource (track files, backing tracks) is mixed
// as the same audio arriving in packets would be: the same samples out, the same
// concealment where frames are missing, and no allocation on the mix thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "alloc_counter.h"
#include "mix_engine_rig.h"
#include "tl/mixer/frame_source.h"

namespace tl::mixer {
namespace {

using rig::kBlock;
using rig::Rig;

//! A tone on the mix's timeline, held in memory, with frames left out.
class ToneFrames final : public FrameSource {
 public:
  ToneFrames(std::uint32_t channels, MediaTime frames) : channels_(channels), frames_(frames) {}
  void leave_out(MediaTime from, MediaTime to) { gaps_.emplace_back(from, to); }

  //! The sample every path must agree on: 24-bit, as a PCM24 packet carries it.
  static float sample(std::uint32_t channel, MediaTime at) {
    const double v =
        0.5 * std::sin(2.0 * 3.14159265358979 * 200.0 * static_cast<double>(at) / 48000.0 + 0.3 * channel);
    return static_cast<float>(std::nearbyint(v * 8388608.0) / 8388608.0);
  }
  bool missing(MediaTime at) const {
    return std::any_of(gaps_.begin(), gaps_.end(),
                       [&](const auto& g) { return at >= g.first && at < g.second; });
  }

  std::uint32_t read(std::uint32_t channel, MediaTime at, std::span<float> out,
                     std::span<std::uint8_t> marks) noexcept override {
    std::uint32_t count = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const MediaTime t = at + static_cast<MediaTime>(i);
      const bool gap = missing(t);
      out[i] = gap || t < 0 || t >= frames_ ? 0.0f : sample(channel, t);
      marks[i] = gap ? 1 : 0;
      count += gap ? 1 : 0;
    }
    ++reads_;
    EXPECT_LT(channel, channels_);
    return count;
  }
  MediaTime audio_until(MediaTime end) const noexcept override {
    MediaTime until = std::min(end, frames_);
    while (until > 0 && missing(until - 1)) --until;
    return until;
  }
  int reads() const { return reads_; }

 private:
  std::uint32_t channels_;
  MediaTime frames_;
  std::vector<std::pair<MediaTime, MediaTime>> gaps_;
  int reads_ = 0;
};

//! The same tone as PCM24 packets of kBlock frames, the ones in a gap not sent.
void send_tone(Rig& rig, NodeSlot& slot, const ToneFrames& tone, std::int64_t packet) {
  const MediaTime ts = packet * kBlock;
  if (tone.missing(ts)) return;
  std::vector<float> frames(kBlock * slot.channels);
  for (std::uint32_t f = 0; f < kBlock; ++f)
    for (std::uint32_t c = 0; c < slot.channels; ++c)
      frames[f * slot.channels + c] = ToneFrames::sample(c, ts + f);
  rig.send_frames(slot, ts, frames, ts * 1'000'000'000 / 48000);
}

//! Both sides of `blocks` mix blocks, each input panned and shaped a little.
struct Heard {
  std::vector<float> left, right;
  std::uint64_t concealed = 0;
};
Heard mix(bool from_frames, ToneFrames& tone, int blocks) {
  Rig rig(true);
  NodeSlot* a = from_frames ? rig.registry.add_source("a", 2, tone).value() : rig.add_node("a", 2);
  rig.engine.post({.kind = MixCommand::Kind::Pan, .node = a->id, .channel = 0, .value = -0.5f});
  rig.engine.post({.kind = MixCommand::Kind::Gain, .node = a->id, .channel = 1, .value = 0.7f});
  MixCommand hpf{.kind = MixCommand::Kind::Strip, .node = a->id, .channel = 1};
  hpf.strip.hpf_on = true;
  hpf.strip.hpf_hz = 120.0f;
  rig.engine.post(hpf);
  rig.engine.start_at(0);
  Heard heard;
  std::vector<float> l(kBlock), r(kBlock);
  const auto before = test::realtime_allocations();
  for (int b = 0; b < blocks; ++b) {
    if (!from_frames) send_tone(rig, *a, tone, b);
    rig.engine.process(l, r);
    heard.left.insert(heard.left.end(), l.begin(), l.end());
    heard.right.insert(heard.right.end(), r.begin(), r.end());
    MixChunk chunk;
    while (rig.chunks.try_pop(chunk)) {
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before) << "the mix thread allocated";
  heard.concealed = a->concealed.load();
  return heard;
}

TEST(FrameSource, ANodeReadFromFramesMixesExactlyAsItsPackets) {
  ToneFrames tone(2, 48000);
  const Heard packets = mix(false, tone, 60);
  const Heard frames = mix(true, tone, 60);
  ASSERT_EQ(packets.left.size(), frames.left.size());
  EXPECT_TRUE(packets.left == frames.left) << "left side differs";
  EXPECT_TRUE(packets.right == frames.right) << "right side differs";
  EXPECT_GT(tone.reads(), 0);
  EXPECT_EQ(frames.concealed, 0u);
  // Not silence: the tone went through (so equal is not trivially equal).
  EXPECT_GT(*std::max_element(frames.left.begin(), frames.left.end()), 0.2f);
}

TEST(FrameSource, FramesItMarksMissingAreConcealedAsALostPacketsAre) {
  ToneFrames tone(2, 48000);
  tone.leave_out(20 * kBlock, 21 * kBlock);  // one packet's worth, both channels
  tone.leave_out(33 * kBlock, 35 * kBlock);
  const Heard packets = mix(false, tone, 60);
  const Heard frames = mix(true, tone, 60);
  EXPECT_EQ(frames.concealed, 2u * 3 * kBlock) << "3 blocks of 2 channels";
  EXPECT_EQ(packets.concealed, frames.concealed);
  EXPECT_TRUE(packets.left == frames.left) << "the concealment differs";
  EXPECT_TRUE(packets.right == frames.right);
  // Concealed, not silent: the gap carries on the tone.
  float gap_peak = 0.0f;
  for (std::size_t i = 20 * kBlock; i < 21 * kBlock; ++i)
    gap_peak = std::max(gap_peak, std::fabs(frames.left[i]));
  EXPECT_GT(gap_peak, 0.1f);
}

TEST(FrameSource, AGapOfOverASecondEndsTheStretchAsSilenceFromPacketsDoes) {
  // 1.5 s missing: the first second is concealed (the node is still streaming), the
  // rest is silence, and the audio after it starts a new stretch.
  ToneFrames tone(2, 3 * 48000);
  tone.leave_out(24000, 24000 + 72000);
  const int blocks = 2 * 48000 / static_cast<int>(kBlock) + 100;
  const Heard packets = mix(false, tone, blocks);
  const Heard frames = mix(true, tone, blocks);
  EXPECT_EQ(frames.concealed, 2u * 48000) << "one second of both channels";
  EXPECT_EQ(packets.concealed, frames.concealed);
  EXPECT_TRUE(packets.left == frames.left) << "the two inputs' mixes differ";
  EXPECT_TRUE(packets.right == frames.right);
  float quiet = 0.0f;
  for (std::size_t i = 24000 + 60000; i < 24000 + 70000; ++i)
    quiet = std::max(quiet, std::fabs(frames.left[i]));
  EXPECT_LT(quiet, 1e-6f) << "after the first second of the gap: silence";
}

}  // namespace
}  // namespace tl::mixer
