// The cue mix as Opus (issue 18): stamps that put decoded audio where it belongs, loss
// concealed in place, reordering waited for, and nothing allocated on the node's side.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "alloc_counter.h"
#include "tl/common/realtime.h"
#include "tl/protocol/opus_cue.h"

namespace tl::protocol {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr std::size_t kChunk = 224;  // the mixer's cue chunks: not a whole Opus frame

struct Packet {
  MediaTime media_ts = 0;
  std::vector<std::uint8_t> payload;
};

//! Encodes `frames` of stereo from `signal(position, side)` at mix positions from `from`,
//! in cue-chunk pieces as the mixer hands them over.
template <typename Signal>
std::vector<Packet> encode(CueEncoder& enc, MediaTime from, std::size_t frames, Signal signal) {
  std::vector<Packet> out;
  std::vector<float> chunk;
  for (std::size_t at = 0; at < frames; at += kChunk) {
    const std::size_t n = std::min(kChunk, frames - at);
    chunk.resize(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      const MediaTime p = from + static_cast<MediaTime>(at + i);
      chunk[2 * i] = signal(p, 0);
      chunk[2 * i + 1] = signal(p, 1);
    }
    EXPECT_TRUE(
        enc.add(from + static_cast<MediaTime>(at), chunk, [&](MediaTime ts, std::span<const std::uint8_t> p) {
          out.push_back({ts, {p.begin(), p.end()}});
        }));
  }
  return out;
}

//! What the decoder emits, by position (left side), and the order it came in.
struct Heard {
  std::map<MediaTime, float> left;
  std::vector<MediaTime> runs;  // each run's first position, in order
  void operator()(MediaTime at, std::span<const float> stereo) {
    runs.push_back(at);
    for (std::size_t i = 0; i < stereo.size() / 2; ++i) left[at + static_cast<MediaTime>(i)] = stereo[2 * i];
  }
  //! True when the runs came in position order with nothing between them missing.
  bool contiguous() const {
    MediaTime expect = left.begin()->first;
    for (const auto& [p, v] : left) {
      if (p != expect) return false;
      ++expect;
    }
    return std::is_sorted(runs.begin(), runs.end());
  }
};

TEST(OpusCue, DecodedAudioIsStampedWhereItsInputWasAndAClickKeepsItsSample) {
  auto enc = CueEncoder::create(kCueOpusDefaultBitrate);
  ASSERT_TRUE(enc) << enc.error();
  EXPECT_EQ((*enc)->lookahead(), 120) << "CELT only: 2.5 ms";
  auto dec = CueDecoder::create();
  ASSERT_TRUE(dec) << dec.error();
  // A click every 4801 frames (so at every place in an Opus frame in turn) over a quiet
  // 440 Hz tone, from mix position 100000.
  const auto signal = [](MediaTime p, int side) {
    const float tone =
        0.05f * static_cast<float>(std::sin(2.0 * kPi * 440.0 * static_cast<double>(p) / 48000.0));
    return (p % 4801 == 0 ? 0.5f : 0.0f) + (side == 0 ? tone : -tone);
  };
  const auto packets = encode(**enc, 100000, 200 * kCueOpusFrames, signal);
  ASSERT_EQ(packets.size(), 200u);
  EXPECT_EQ(packets[0].media_ts, 100000 - 120) << "the first decoded sample's place";
  Heard heard;
  for (const Packet& p : packets) ASSERT_TRUE((*dec)->accept(p.media_ts, kCueOpusFrames, p.payload, heard));
  EXPECT_TRUE(heard.contiguous());
  EXPECT_EQ((*dec)->counters().decoded_frames, 200u * kCueOpusFrames);
  // Each click's loudest decoded sample is where the click was put in, and a parabola
  // through it and its neighbours (how the overdub test finds clicks) within 0.1 frame.
  int clicks = 0;
  double worst = 0.0;
  for (MediaTime click = 100000 - 100000 % 4801 + 2 * 4801; click < 100000 + 199 * 240 - 100; click += 4801) {
    MediaTime best = click;
    for (MediaTime p = click - 20; p <= click + 20; ++p) {
      if (std::fabs(heard.left.at(p)) > std::fabs(heard.left.at(best))) best = p;
    }
    EXPECT_EQ(best, click);
    const double l = std::fabs(heard.left.at(best - 1)), c = std::fabs(heard.left.at(best)),
                 r = std::fabs(heard.left.at(best + 1)), den = l - 2.0 * c + r;
    worst = std::max(worst,
                     std::fabs(static_cast<double>(best - click) + (den < 0.0 ? 0.5 * (l - r) / den : 0.0)));
    ++clicks;
  }
  EXPECT_GE(clicks, 8);
  std::printf("[ figure ] %d clicks through the Opus cue at %u kb/s: worst %.3f frames off\n", clicks,
              kCueOpusDefaultBitrate / 1000, worst);
  EXPECT_LT(worst, 0.1);
  // Between clicks, the tone: correlated with the input at no lag.
  double same = 0.0, shifted = 0.0;
  for (MediaTime p = 110500; p < 110500 + 2000; ++p) {
    same += heard.left.at(p) * signal(p, 0);
    shifted += heard.left.at(p) * signal(p + 1, 0);
  }
  EXPECT_GT(same, shifted) << "no lag between the stamps and the audio";
}

TEST(OpusCue, ALostPacketIsConcealedInItsPlaceWhenDueAndAReorderedOneWaitedFor) {
  auto enc = CueEncoder::create(kCueOpusDefaultBitrate);
  auto dec = CueDecoder::create();
  ASSERT_TRUE(enc && dec);
  const auto packets = encode(**enc, 0, 30 * kCueOpusFrames, [](MediaTime p, int) {
    return 0.2f * static_cast<float>(std::sin(2.0 * kPi * 300.0 * static_cast<double>(p) / 48000.0));
  });
  ASSERT_EQ(packets.size(), 30u);
  Heard heard;
  CueDecoder& d = **dec;
  for (std::size_t i = 0; i < 5; ++i)
    d.accept(packets[i].media_ts, kCueOpusFrames, packets[i].payload, heard);
  // 6 and 5 swap places: 6 waits, 5 comes, both decode in order.
  d.accept(packets[6].media_ts, kCueOpusFrames, packets[6].payload, heard);
  EXPECT_TRUE(d.holding());
  d.accept(packets[5].media_ts, kCueOpusFrames, packets[5].payload, heard);
  EXPECT_FALSE(d.holding());
  EXPECT_EQ(d.counters().held_packets, 1u);
  EXPECT_EQ(d.counters().concealed_frames, 0u);
  // 7 is lost: 8 and 9 wait until 7's audio is nearly due, then 7 is concealed.
  d.accept(packets[8].media_ts, kCueOpusFrames, packets[8].payload, heard);
  d.accept(packets[9].media_ts, kCueOpusFrames, packets[9].payload, heard);
  d.give_up_before(packets[7].media_ts - 1, heard);
  EXPECT_TRUE(d.holding()) << "not due yet";
  d.give_up_before(packets[7].media_ts, heard);
  EXPECT_FALSE(d.holding());
  EXPECT_EQ(d.counters().concealed_frames, kCueOpusFrames);
  // 7 turns up after all: late, dropped.
  d.accept(packets[7].media_ts, kCueOpusFrames, packets[7].payload, heard);
  EXPECT_EQ(d.counters().late_packets, 1u);
  for (std::size_t i = 10; i < 30; ++i)
    d.accept(packets[i].media_ts, kCueOpusFrames, packets[i].payload, heard);
  EXPECT_TRUE(heard.contiguous()) << "no silent gap: the lost frame is concealed in its place";
  EXPECT_EQ(heard.left.size(), 30u * kCueOpusFrames);
  EXPECT_EQ(heard.left.begin()->first, packets[0].media_ts);
  // The concealment is no silence: Opus carried the tone on.
  double energy = 0.0;
  for (MediaTime p = packets[7].media_ts; p < packets[8].media_ts; ++p)
    energy += heard.left.at(p) * heard.left.at(p);
  EXPECT_GT(energy / kCueOpusFrames, 0.2 * 0.2 / 2 / 100);
}

TEST(OpusCue, AFullHoldGivesUpTheOldestGapAndALongGapStartsAgain) {
  auto enc = CueEncoder::create(kCueOpusDefaultBitrate);
  auto dec = CueDecoder::create();
  ASSERT_TRUE(enc && dec);
  const auto packets = encode(**enc, 0, 60 * kCueOpusFrames, [](MediaTime, int) { return 0.1f; });
  Heard heard;
  CueDecoder& d = **dec;
  d.accept(packets[0].media_ts, kCueOpusFrames, packets[0].payload, heard);
  // 1 is lost; 2 .. 17 fill the hold, 18 gives up the gap.
  for (std::size_t i = 2; i < 2 + CueDecoder::kHold; ++i)
    d.accept(packets[i].media_ts, kCueOpusFrames, packets[i].payload, heard);
  EXPECT_TRUE(d.holding());
  d.accept(packets[18].media_ts, kCueOpusFrames, packets[18].payload, heard);
  EXPECT_FALSE(d.holding());
  EXPECT_EQ(d.counters().concealed_frames, kCueOpusFrames);
  EXPECT_EQ(d.next(), packets[19].media_ts);
  // 19 .. 40 lost (more than kMaxConcealedFrames): silence, and decoding starts again at 41.
  d.accept(packets[41].media_ts, kCueOpusFrames, packets[41].payload, heard);
  d.give_up_before(packets[41].media_ts, heard);
  EXPECT_EQ(d.counters().restarts, 1u);
  EXPECT_EQ(d.next(), packets[42].media_ts);
  EXPECT_EQ(d.counters().concealed_frames, kCueOpusFrames) << "nothing more concealed";
  // A bad payload is counted, and changes nothing.
  const std::vector<std::uint8_t> bad = {0, 9, 1, 2};
  EXPECT_FALSE(d.accept(packets[42].media_ts, kCueOpusFrames, bad, heard));
  EXPECT_FALSE(d.accept(packets[42].media_ts, 120, packets[42].payload, heard));
  EXPECT_EQ(d.counters().bad_packets, 2u);
  EXPECT_TRUE(d.accept(packets[42].media_ts, kCueOpusFrames, packets[42].payload, heard));
  EXPECT_EQ(d.next(), packets[43].media_ts);
}

TEST(OpusCue, TheNodesDecoderNeverAllocates) {
  auto enc = CueEncoder::create(kCueOpusDefaultBitrate);
  auto dec = CueDecoder::create();
  ASSERT_TRUE(enc && dec);
  const auto packets = encode(**enc, 0, 40 * kCueOpusFrames, [](MediaTime p, int) {
    return 0.2f * static_cast<float>(std::sin(2.0 * kPi * 500.0 * static_cast<double>(p) / 48000.0));
  });
  double sum = 0.0;
  const std::uint64_t before = test::realtime_allocations();
  {
    rt::RealtimeScope scope;
    const auto play = [&](MediaTime, std::span<const float> stereo) { sum += stereo[0]; };
    // Every fifth lost, every seventh swapped with the next: concealment and the hold too.
    for (std::size_t i = 0; i < packets.size(); ++i) {
      const std::size_t k = i % 7 == 0 && i + 1 < packets.size() ? i + 1 : i % 7 == 1 && i > 0 ? i - 1 : i;
      if (k % 5 == 4) continue;
      (*dec)->accept(packets[k].media_ts, kCueOpusFrames, packets[k].payload, play);
      (*dec)->give_up_before(packets[k].media_ts - 2 * static_cast<MediaTime>(kCueOpusFrames), play);
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  EXPECT_GT((*dec)->counters().concealed_frames, 0u);
  EXPECT_GT((*dec)->counters().held_packets, 0u);
  EXPECT_GT(test::total_allocations(), 0u);
}

}  // namespace
}  // namespace tl::protocol
