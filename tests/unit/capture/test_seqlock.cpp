#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "alloc_counter.h"
#include "tl/capture/block_queue.h"
#include "tl/capture/seqlock.h"
#include "tl/common/realtime.h"
#include "tl/protocol/audio_packet.h"

namespace tl::capture {
namespace {

TEST(SeqLock, ReadsWhatWasStored) {
  SeqLock<ClockMap> s;
  ClockMap m;
  ASSERT_TRUE(s.try_load(m));
  EXPECT_FALSE(m.valid);
  s.store({.ref_node_ns = 5, .ref_offset_ns = -7, .slope = 1e-4, .valid = true});
  ASSERT_TRUE(s.try_load(m));
  EXPECT_EQ(m.ref_node_ns, 5);
  EXPECT_EQ(m.ref_offset_ns, -7);
  EXPECT_EQ(m.slope, 1e-4);
  EXPECT_TRUE(m.valid);
}

TEST(SeqLock, ReaderNeverSeesATornValueAndNeverAllocates) {
  // The writer stores maps whose fields all derive from one counter; a torn read would mix
  // two. It keeps writing until the reader has finished, so the two really overlap.
  SeqLock<ClockMap> s({.ref_node_ns = 0, .ref_offset_ns = 0, .slope = 0.0, .valid = true});
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> written{0};
  std::thread writer([&] {
    for (std::int64_t i = 1; !stop.load(std::memory_order_relaxed); ++i) {
      s.store({.ref_node_ns = i, .ref_offset_ns = -3 * i, .slope = static_cast<double>(i), .valid = true});
      written.store(i, std::memory_order_relaxed);
      // A short pause (the sender publishes every 100 ms; here about every microsecond).
      for (const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(1);
           std::chrono::steady_clock::now() < until;) {
      }
    }
  });
  while (written.load() < 1000) {
  }
  std::uint64_t reads = 0, torn = 0;
  std::int64_t last = 0, backwards = 0;
  const std::uint64_t before = test::realtime_allocations();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (int k = 0; k < 200'000 || (reads < 1000 && std::chrono::steady_clock::now() < give_up); ++k) {
    rt::RealtimeScope scope;
    ClockMap m;
    if (!s.try_load(m)) continue;  // every attempt overlapped a write: the caller keeps its copy
    ++reads;
    if (m.ref_offset_ns != -3 * m.ref_node_ns || m.slope != static_cast<double>(m.ref_node_ns)) ++torn;
    if (m.ref_node_ns < last) ++backwards;
    last = m.ref_node_ns;
  }
  EXPECT_EQ(test::realtime_allocations(), before);
  stop.store(true);
  writer.join();
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(backwards, 0) << "a reader never sees an older value after a newer one";
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(s.load().ref_node_ns, written.load());
}

TEST(MediaStamper, TimelineStartsFromThePublishedMapAndDoesNotFollowLaterMaps) {
  MediaStamper stamper(48000);
  // session = node + 2 s at node time 10 s, node 100 ppm fast (offset falls 100 ns per ms).
  stamper.publish(
      {.ref_node_ns = 10'000'000'000, .ref_offset_ns = 2'000'000'000, .slope = -100e-6, .valid = true});
  stamper.restart();
  BlockInfo a;
  a.capture_ns = 11'000'000'000;  // offset there: 2 s - 100 us
  stamper.stamp(a, 48);
  EXPECT_EQ(a.epoch, 1u);
  EXPECT_NE(a.flags & protocol::kFlagDiscontinuity, 0);
  EXPECT_EQ(a.media_ts, ns_to_frames(13'000'000'000 - 100'000, 48000));
  // A later estimate is published (drift reported, not applied): the timeline carries on.
  stamper.publish({.ref_node_ns = 0, .ref_offset_ns = 5'000'000'000, .slope = 0, .valid = true});
  BlockInfo b;
  b.capture_ns = 11'001'000'000;
  stamper.stamp(b, 48);
  EXPECT_EQ(b.media_ts, a.media_ts + 48);
  EXPECT_EQ(b.flags & protocol::kFlagDiscontinuity, 0);
  // A new timeline picks the new map up.
  stamper.restart();
  BlockInfo c;
  c.capture_ns = 1'000'000'000;
  stamper.stamp(c, 48);
  EXPECT_EQ(c.epoch, 2u);
  EXPECT_EQ(c.media_ts, ns_to_frames(6'000'000'000, 48000));
}

}  // namespace
}  // namespace tl::capture
