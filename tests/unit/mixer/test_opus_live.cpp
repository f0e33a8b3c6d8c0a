// The Opus live path: decoding in media-time order, holding reordered packets,
// Opus's concealment and FEC for lost ones, and every guess flagged.
#include "tl/mixer/opus_live.h"

#include <gtest/gtest.h>
#include <opus.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "alloc_counter.h"
#include "tl/common/realtime.h"
#include "tl/protocol/opus_payload.h"

namespace tl::mixer {
namespace {

using protocol::PacketHeader;

//! Mono Opus packets of a tone, as a node would send them.
class Encoder {
 public:
  Encoder(std::uint32_t frames, std::int32_t bitrate, int signal) : frames_(frames) {
    int err = 0;
    enc_ = opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &err);
    opus_encoder_ctl(enc_, OPUS_SET_BITRATE(bitrate));
    opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(20));
    opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(signal));
  }
  ~Encoder() { opus_encoder_destroy(enc_); }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  struct Packet {
    PacketHeader header;
    std::vector<std::uint8_t> payload;
  };
  //! The next packet (a 330 Hz tone at -12 dBFS, 10 ms from the start).
  Packet next() {
    std::vector<float> pcm(frames_);
    for (auto& v : pcm) {
      v = 0.25f *
          static_cast<float>(std::sin(2.0 * std::numbers::pi * 330.0 * static_cast<double>(n_++) / 48000.0));
    }
    std::vector<std::uint8_t> frame(protocol::kOpusMaxFrameBytes);
    const int bytes = opus_encode_float(enc_, pcm.data(), static_cast<int>(frames_), frame.data(),
                                        static_cast<opus_int32>(frame.size()));
    Packet p;
    p.payload.resize(static_cast<std::size_t>(bytes) + 2);
    protocol::append_opus_frame(p.payload, 0, {frame.data(), static_cast<std::size_t>(bytes)});
    p.header.type = protocol::PacketType::Audio;
    p.header.seq = seq_++;
    p.header.media_ts = 480 + static_cast<MediaTime>(n_ - frames_);
    p.header.frame_count = static_cast<std::uint16_t>(frames_);
    p.header.channel_count = 1;
    p.header.format = protocol::SampleFormat::Opus;
    if (p.header.seq == 0) p.header.flags = protocol::kFlagDiscontinuity;
    return p;
  }

 private:
  OpusEncoder* enc_ = nullptr;
  std::uint32_t frames_;
  std::uint64_t n_ = 0;
  Seq seq_ = 0;
};

struct Run {
  MediaTime at = 0;
  std::uint16_t frames = 0, flags = 0;
  double rms = 0.0;
};

class Collect final : public OpusLive::Sink {
 public:
  void deliver(const OpusLive::Decoded& d) override {
    double sum = 0.0;
    for (const float v : d.interleaved) sum += static_cast<double>(v) * v;
    runs.push_back(
        {d.media_ts, d.frames, d.flags, std::sqrt(sum / static_cast<double>(d.interleaved.size()))});
  }
  std::vector<Run> runs;
};

std::unique_ptr<OpusLive> make(std::uint32_t frames) {
  auto live = OpusLive::create({.channels = 1, .rate = 48000, .frames = frames});
  EXPECT_TRUE(live);
  return std::move(live.value());
}

bool feed(OpusLive& live, const Encoder::Packet& p, Collect& sink) {
  return live.accept(p.header, p.payload, 0, sink);
}

constexpr std::uint16_t kGuess = protocol::kFlagConcealed | protocol::kFlagFec;

TEST(OpusLive, PacketsInOrderAreDecodedAtOnceAndFlaggedLossy) {
  Encoder enc(240, 96000, OPUS_SIGNAL_MUSIC);
  auto live = make(240);
  Collect sink;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(feed(*live, enc.next(), sink));
  ASSERT_EQ(sink.runs.size(), 20u);
  for (std::size_t i = 0; i < sink.runs.size(); ++i) {
    EXPECT_EQ(sink.runs[i].at, 480 + static_cast<MediaTime>(240 * i));
    EXPECT_NE(sink.runs[i].flags & protocol::kFlagLossy, 0);
    EXPECT_EQ(sink.runs[i].flags & kGuess, 0);
  }
  EXPECT_NE(sink.runs[0].flags & protocol::kFlagDiscontinuity, 0) << "the packet's own flags travel on";
  // The tone comes through: -12 dBFS peak is an RMS of about 0.177.
  EXPECT_NEAR(sink.runs.back().rms, 0.177, 0.03);
  EXPECT_EQ(live->counters().decoded_samples, 20u * 240u);
}

TEST(OpusLive, AReorderedPacketWaitsAndNothingIsConcealed) {
  Encoder enc(240, 96000, OPUS_SIGNAL_MUSIC);
  auto live = make(240);
  Collect sink;
  const auto p0 = enc.next(), p1 = enc.next(), p2 = enc.next(), p3 = enc.next();
  feed(*live, p0, sink);
  feed(*live, p2, sink);                              // p1 is late, not lost
  live->deliver_due(p1.header.media_ts, 0, 0, sink);  // its audio is not due yet
  EXPECT_EQ(sink.runs.size(), 1u);
  feed(*live, p1, sink);
  feed(*live, p3, sink);
  ASSERT_EQ(sink.runs.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sink.runs[i].at, 480 + static_cast<MediaTime>(240 * i));
    EXPECT_EQ(sink.runs[i].flags & kGuess, 0);
  }
  EXPECT_EQ(live->counters().held_packets, 1u);
  EXPECT_EQ(live->counters().concealed_samples + live->counters().fec_samples, 0u);
}

TEST(OpusLive, ALostPacketIsConcealedByOpusWhenDueAndALateOneIsCounted) {
  Encoder enc(240, 96000, OPUS_SIGNAL_MUSIC);  // 5 ms frames: CELT, which carries no FEC
  auto live = make(240);
  Collect sink;
  std::vector<Encoder::Packet> p;
  for (int i = 0; i < 12; ++i) p.push_back(enc.next());
  for (int i = 0; i < 8; ++i) feed(*live, p[static_cast<std::size_t>(i)], sink);
  feed(*live, p[10], sink);  // 8 and 9 lost
  EXPECT_EQ(sink.runs.size(), 8u);
  live->deliver_due(p[8].header.media_ts + 1, 0, 0, sink);
  ASSERT_EQ(sink.runs.size(), 11u);
  EXPECT_EQ(sink.runs[8].at, p[8].header.media_ts);
  EXPECT_EQ(sink.runs[9].at, p[9].header.media_ts);
  for (int i : {8, 9}) {
    EXPECT_NE(sink.runs[static_cast<std::size_t>(i)].flags & protocol::kFlagConcealed, 0) << i;
    // Opus continues the tone through the loss rather than going silent.
    EXPECT_GT(sink.runs[static_cast<std::size_t>(i)].rms, 0.05) << i;
  }
  EXPECT_EQ(sink.runs[10].at, p[10].header.media_ts);
  EXPECT_EQ(sink.runs[10].flags & kGuess, 0);
  EXPECT_EQ(live->counters().concealed_samples, 480u);
  feed(*live, p[9], sink);  // the lost one turns up after all: too late
  EXPECT_EQ(live->counters().late_packets, 1u);
  feed(*live, p[11], sink);
  EXPECT_EQ(sink.runs.back().at, p[11].header.media_ts);
}

TEST(OpusLive, FecRebuildsALostFrameFromTheNextPacketInSilkMode) {
  // 20 ms frames of a low-rate voice signal: SILK, whose packets carry the frame
  // before at low rate.
  Encoder enc(960, 16000, OPUS_SIGNAL_VOICE);
  auto live = make(960);
  Collect sink;
  std::vector<Encoder::Packet> p;
  for (int i = 0; i < 20; ++i) p.push_back(enc.next());
  ASSERT_LT(p[15].payload[2] >> 3, 16) << "the encoder did not choose SILK or hybrid";
  for (int i = 0; i < 15; ++i) feed(*live, p[static_cast<std::size_t>(i)], sink);
  feed(*live, p[16], sink);  // 15 lost
  live->deliver_due(p[16].header.media_ts, 0, 0, sink);
  ASSERT_EQ(sink.runs.size(), 17u);
  EXPECT_NE(sink.runs[15].flags & protocol::kFlagFec, 0);
  EXPECT_GT(sink.runs[15].rms, 0.05);
  EXPECT_EQ(live->counters().fec_samples, 960u);
  EXPECT_EQ(live->counters().concealed_samples, 0u);
}

TEST(OpusLive, GuessesOfAudioTheMixHasPlayedAreNotDelivered) {
  Encoder enc(240, 96000, OPUS_SIGNAL_MUSIC);
  auto live = make(240);
  Collect sink;
  std::vector<Encoder::Packet> p;
  for (int i = 0; i < 6; ++i) p.push_back(enc.next());
  feed(*live, p[0], sink);
  feed(*live, p[4], sink);  // 1-3 lost, and the mix has read past 1 and 2
  live->deliver_due(p[4].header.media_ts, p[3].header.media_ts, 0, sink);
  ASSERT_EQ(sink.runs.size(), 3u);
  EXPECT_EQ(sink.runs[1].at, p[3].header.media_ts);
  EXPECT_EQ(sink.runs[2].at, p[4].header.media_ts);
  EXPECT_EQ(live->counters().concealed_samples, 720u) << "concealed (decoder state), though not delivered";
}

TEST(OpusLive, MalformedPacketsAreRejectedAndCounted) {
  Encoder enc(240, 96000, OPUS_SIGNAL_MUSIC);
  auto live = make(240);
  Collect sink;
  auto p = enc.next();
  auto wrong_size = p;
  wrong_size.header.frame_count = 480;
  EXPECT_FALSE(feed(*live, wrong_size, sink));
  auto short_payload = p;
  short_payload.payload.pop_back();
  EXPECT_FALSE(feed(*live, short_payload, sink));
  auto long_payload = p;
  long_payload.payload.push_back(0);
  EXPECT_FALSE(feed(*live, long_payload, sink));
  auto bad_channel = p;
  bad_channel.header.first_channel = 1;
  EXPECT_FALSE(feed(*live, bad_channel, sink));
  EXPECT_EQ(live->counters().bad_packets, 4u);
  EXPECT_TRUE(sink.runs.empty());
  EXPECT_TRUE(feed(*live, p, sink));
  EXPECT_EQ(sink.runs.size(), 1u);
}

TEST(OpusLive, OnlyOpusFrameSizesAt48kHz) {
  EXPECT_FALSE(OpusLive::create({.channels = 1, .rate = 48000, .frames = 48}));
  EXPECT_FALSE(OpusLive::create({.channels = 1, .rate = 44100, .frames = 240}));
  EXPECT_TRUE(OpusLive::create({.channels = 2, .rate = 48000, .frames = 960}));
}

TEST(OpusLive, DecodingAndConcealingNeverAllocate) {
  Encoder enc(240, 96000, OPUS_SIGNAL_MUSIC);
  auto live = make(240);
  Collect sink;
  sink.runs.reserve(64);
  std::vector<Encoder::Packet> p;
  for (int i = 0; i < 40; ++i) p.push_back(enc.next());
  const std::uint64_t before = test::realtime_allocations();
  {
    rt::RealtimeScope scope;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (i % 7 == 3) continue;  // lost
      live->accept(p[i].header, p[i].payload, 0, sink);
      live->deliver_due(p[i].header.media_ts, 0, 0, sink);
    }
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  EXPECT_GT(live->counters().concealed_samples, 0u);
  EXPECT_GT(test::total_allocations(), 0u);
}

}  // namespace
}  // namespace tl::mixer
