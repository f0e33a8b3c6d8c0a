#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "tl/mixer/packet_ring.h"
#include "tl/protocol/audio_packet.h"

namespace tl::mixer {
namespace {

// A datagram whose bytes say which one it is: its number, then a pattern of it.
std::vector<std::uint8_t> datagram(std::uint32_t n, std::size_t size) {
  std::vector<std::uint8_t> d(size);
  for (std::size_t i = 0; i < size; ++i) d[i] = static_cast<std::uint8_t>(n * 31 + i);
  if (size >= 4) std::memcpy(d.data(), &n, 4);
  return d;
}

TEST(PacketRing, DatagramsOfAnySizeComeOutInOrderAndIntactAcrossManyLaps) {
  PacketRing ring(1);
  ASSERT_EQ(ring.capacity_bytes(), 32768u) << "twice the largest datagram, rounded up";
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::size_t> size(1, protocol::kMaxPacketBytes);
  std::deque<std::vector<std::uint8_t>> queued;
  std::uint32_t next = 0;
  std::size_t passed = 0;
  for (int step = 0; step < 20000; ++step) {
    if (rng() % 2 == 0) {
      const auto d = datagram(next, size(rng));
      if (ring.try_push(d, next, next + 1)) {
        queued.push_back(d);
        ++next;
      } else {
        // Refused only while it holds something: an empty ring takes any datagram.
        EXPECT_FALSE(queued.empty());
      }
    } else if (PacketSlot* p = ring.front()) {
      ASSERT_FALSE(queued.empty());
      const auto& want = queued.front();
      const auto got = p->datagram();
      ASSERT_EQ(std::vector<std::uint8_t>(got.begin(), got.end()), want);
      ASSERT_EQ(p->ready_ns, p->arrival_ns + 1);
      ring.pop();
      queued.pop_front();
      ++passed;
    } else {
      ASSERT_TRUE(queued.empty());
    }
    ASSERT_EQ(ring.size(), queued.size());
  }
  EXPECT_GT(passed, 1000u) << "the ring went round many times";
  EXPECT_GT(passed * protocol::kMaxPacketBytes / 2, 50 * ring.capacity_bytes());
}

TEST(PacketRing, AFullRingRefusesAndKeepsWhatItHolds) {
  PacketRing ring(1);
  const auto d = datagram(1, 1000);
  int pushed = 0;
  while (ring.try_push(d, 0)) ++pushed;
  EXPECT_EQ(pushed, static_cast<int>(ring.capacity_bytes() / PacketRing::footprint(1000)));
  EXPECT_EQ(ring.size(), static_cast<std::size_t>(pushed));
  EXPECT_EQ(ring.begin_write(1000), nullptr);
  // Larger than the whole ring: never.
  PacketRing small(1);
  EXPECT_EQ(small.begin_write(small.capacity_bytes()), nullptr);
  EXPECT_EQ(small.size(), 0u);
  // A reservation larger than what is written takes only what is written.
  PacketSlot* s = small.begin_write(3000);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->space().size(), 3000u);
  s->size = 10;
  small.commit_write();
  EXPECT_TRUE(small.try_push(datagram(2, 3000), 0)) << "the unused 2990 bytes were given back";
  ASSERT_NE(small.front(), nullptr);
  EXPECT_EQ(small.front()->datagram().size(), 10u);
}

// Under ThreadSanitizer this checks the ring's ordering too.
TEST(PacketRing, OneProducerAndOneConsumerThreadPassEveryDatagramInOrder) {
  PacketRing ring(65536);
  constexpr std::uint32_t kCount = 100000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::mt19937 rng(5);
    std::uniform_int_distribution<std::size_t> size(4, 4000);
    for (std::uint32_t n = 0; n < kCount && !stop.load(std::memory_order_relaxed); ++n) {
      const auto d = datagram(n, size(rng));
      while (!ring.try_push(d, n) && !stop.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  });
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::size_t> size(4, 4000);
  std::uint32_t got = 0;
  while (got < kCount && std::chrono::steady_clock::now() < deadline) {
    PacketSlot* p = ring.front();
    if (p == nullptr) {
      std::this_thread::yield();
      continue;
    }
    const auto want = datagram(got, size(rng));
    const auto bytes = p->datagram();
    if (std::vector<std::uint8_t>(bytes.begin(), bytes.end()) != want || p->arrival_ns != got) {
      ADD_FAILURE() << "datagram " << got << " came out changed or out of order";
      break;
    }
    ring.pop();
    ++got;
  }
  stop = true;
  producer.join();
  EXPECT_EQ(got, kCount);
}

}  // namespace
}  // namespace tl::mixer
