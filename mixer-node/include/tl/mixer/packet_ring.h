#pragma once
//! Single-producer single-consumer lock-free ring of datagrams of any size.
//!
//! Each datagram is stored in place after a small head (PacketSlot), so the memory a
//! ring needs follows the bytes it holds, not the largest packet times a slot count:
//! a node on loopback sends one 3 kB datagram per block where a 1,500-byte path needs
//! three, and both fit the same ring. A datagram never wraps around the end of the
//! storage: the producer skips the end's remainder (marking it when a head fits there),
//! and the consumer skips it likewise.
//!
//! Sized once at construction (the only allocation); begin_write/commit_write and
//! front/pop never lock or allocate, so either side may be a real-time thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace tl::mixer {

//! The head of one datagram in a PacketRing; its bytes follow it.
struct PacketSlot {
  std::int64_t arrival_ns = 0;  // session clock when it reached the host (the kernel's stamp)
  //! Session clock when the receiver read it, so the mix could have it (0: arrival_ns).
  //! The play-out delay must cover this; the path's transit and drift are arrival_ns's.
  std::int64_t ready_ns = 0;
  std::uint32_t size = 0;  // the datagram's bytes (at most room)
  std::uint32_t room = 0;  // bytes reserved after the head (set by the ring)

  //! Where the datagram is written (room bytes).
  std::span<std::uint8_t> space() noexcept { return {reinterpret_cast<std::uint8_t*>(this + 1), room}; }
  //! The datagram (size bytes).
  std::span<const std::uint8_t> datagram() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(this + 1), size};
  }
};

class PacketRing {
 public:
  //! capacity_bytes is rounded up to a power of two, and to at least twice the largest
  //! datagram's footprint: then an empty ring takes any datagram wherever it stands.
  explicit PacketRing(std::size_t capacity_bytes);

  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  std::size_t capacity_bytes() const noexcept { return capacity_; }

  //! Producer: a slot with room for a datagram of up to max_bytes, or nullptr when the
  //! ring has no such room. Fill space(), set size (<= room), then commit_write().
  PacketSlot* begin_write(std::size_t max_bytes) noexcept;
  //! Producer: publishes the slot returned by the last begin_write().
  void commit_write() noexcept;
  //! Producer: copies a datagram in; false when full (it is not queued).
  bool try_push(std::span<const std::uint8_t> datagram, std::int64_t arrival_ns,
                std::int64_t ready_ns = 0) noexcept;

  //! Consumer: the oldest datagram, or nullptr when empty. Valid until pop().
  PacketSlot* front() noexcept;
  //! Consumer: releases the datagram returned by front().
  void pop() noexcept;

  //! Datagrams queued (exact when called from either side while the other is idle).
  std::size_t size() const noexcept {
    return pushed_.load(std::memory_order_acquire) - popped_.load(std::memory_order_acquire);
  }

  //! Bytes a datagram of this size takes in the ring (its head and alignment included).
  static std::size_t footprint(std::size_t datagram_bytes) noexcept;

 private:
  PacketSlot* at(std::size_t position) noexcept;

  static constexpr std::size_t kLine = 64;
  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<std::uint64_t[]> storage_;  // 8-byte aligned for the heads
  // Producer side.
  alignas(kLine) std::atomic<std::size_t> head_{0};  // byte position, never wraps back
  std::atomic<std::size_t> pushed_{0};
  std::size_t tail_cache_ = 0;
  std::size_t pending_ = 0;  // where the slot of the last begin_write() starts
  PacketSlot* pending_slot_ = nullptr;
  // Consumer side.
  alignas(kLine) std::atomic<std::size_t> tail_{0};
  std::atomic<std::size_t> popped_{0};
  std::size_t head_cache_ = 0;
  PacketSlot* front_ = nullptr;
};

}  // namespace tl::mixer
