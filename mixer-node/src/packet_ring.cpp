#include "tl/mixer/packet_ring.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>

#include "tl/protocol/audio_packet.h"

namespace tl::mixer {
namespace {

// A head whose room says this: the rest of the storage up to its end is unused.
constexpr std::uint32_t kSkipToStart = std::numeric_limits<std::uint32_t>::max();

}  // namespace

PacketRing::PacketRing(std::size_t capacity_bytes)
    : capacity_(std::bit_ceil(std::max(capacity_bytes, 2 * footprint(protocol::kMaxPacketBytes)))),
      mask_(capacity_ - 1),
      storage_(std::make_unique<std::uint64_t[]>(capacity_ / sizeof(std::uint64_t))) {}

std::size_t PacketRing::footprint(std::size_t datagram_bytes) noexcept {
  return (sizeof(PacketSlot) + datagram_bytes + 7) & ~std::size_t{7};
}

PacketSlot* PacketRing::at(std::size_t position) noexcept {
  return reinterpret_cast<PacketSlot*>(reinterpret_cast<std::byte*>(storage_.get()) + (position & mask_));
}

PacketSlot* PacketRing::begin_write(std::size_t max_bytes) noexcept {
  const std::size_t need = footprint(max_bytes);
  if (need > capacity_) return nullptr;
  std::size_t head = head_.load(std::memory_order_relaxed);
  const std::size_t to_end = capacity_ - (head & mask_);
  // A datagram never wraps: when it does not fit before the end, it starts over at 0.
  const std::size_t pad = to_end < need ? to_end : 0;
  if (head + pad + need - tail_cache_ > capacity_) {
    tail_cache_ = tail_.load(std::memory_order_acquire);
    if (head + pad + need - tail_cache_ > capacity_) return nullptr;
  }
  if (pad != 0) {
    if (to_end >= sizeof(PacketSlot)) new (at(head)) PacketSlot{.room = kSkipToStart};
    head += pad;
  }
  pending_ = head;
  pending_slot_ = new (at(head)) PacketSlot{.room = static_cast<std::uint32_t>(max_bytes)};
  return pending_slot_;
}

void PacketRing::commit_write() noexcept {
  const std::uint32_t size = std::min(pending_slot_->size, pending_slot_->room);
  pending_slot_->size = size;
  head_.store(pending_ + footprint(size), std::memory_order_release);
  pushed_.store(pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

bool PacketRing::try_push(std::span<const std::uint8_t> datagram, std::int64_t arrival_ns,
                          std::int64_t ready_ns) noexcept {
  PacketSlot* slot = begin_write(datagram.size());
  if (slot == nullptr) return false;
  slot->arrival_ns = arrival_ns;
  slot->ready_ns = ready_ns;
  slot->size = static_cast<std::uint32_t>(datagram.size());
  if (!datagram.empty()) std::memcpy(slot->space().data(), datagram.data(), datagram.size());
  commit_write();
  return true;
}

PacketSlot* PacketRing::front() noexcept {
  std::size_t tail = tail_.load(std::memory_order_relaxed);
  for (;;) {
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return nullptr;
    }
    const std::size_t to_end = capacity_ - (tail & mask_);
    if (to_end >= sizeof(PacketSlot) && at(tail)->room != kSkipToStart) return at(tail);
    // The producer skipped the end here (it had no room for the next datagram).
    tail += to_end;
    tail_.store(tail, std::memory_order_release);
  }
}

void PacketRing::pop() noexcept {
  const std::size_t tail = tail_.load(std::memory_order_relaxed);
  tail_.store(tail + footprint(at(tail)->size), std::memory_order_release);
  popped_.store(popped_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

}  // namespace tl::mixer
