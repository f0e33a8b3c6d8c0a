#pragma once
//! Single-producer single-consumer lock-free ring of fixed-size slots.
//!
//! Sized once at construction (the only allocation); push and pop never lock
//! or allocate, so either side may be a real-time thread. Slots can be filled
//! and read in place (begin_write/commit_write, front/pop) for large items.

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>

namespace tl {

template <typename T>
class SpscRing {
 public:
  //! capacity is rounded up to a power of two.
  explicit SpscRing(std::size_t capacity)
      : capacity_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)),
        mask_(capacity_ - 1),
        slots_(std::make_unique<T[]>(capacity_)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const noexcept { return capacity_; }

  //! Producer: slot to fill in place, or nullptr when full. Call commit_write() after filling.
  T* begin_write() noexcept {
    const auto head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ == capacity_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head - tail_cache_ == capacity_) return nullptr;
    }
    return &slots_[head & mask_];
  }

  //! Producer: publishes the slot returned by begin_write().
  void commit_write() noexcept {
    head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  //! Producer: copies item in; returns false when full (the item is not queued).
  bool try_push(const T& item) noexcept {
    T* slot = begin_write();
    if (slot == nullptr) return false;
    *slot = item;
    commit_write();
    return true;
  }

  //! Consumer: oldest item, or nullptr when empty. Valid until pop().
  T* front() noexcept {
    const auto tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return nullptr;
    }
    return &slots_[tail & mask_];
  }

  //! Consumer: releases the item returned by front().
  void pop() noexcept { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  //! Consumer: copies the oldest item out; returns false when empty.
  bool try_pop(T& out) noexcept {
    T* item = front();
    if (item == nullptr) return false;
    out = *item;
    pop();
    return true;
  }

  //! Approximate fill level (exact when called from either side while the other is idle).
  std::size_t size() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

 private:
  static constexpr std::size_t kLine = 64;
  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(kLine) std::atomic<std::size_t> head_{0};  // written by producer
  alignas(kLine) std::size_t tail_cache_ = 0;        // producer's view of tail
  alignas(kLine) std::atomic<std::size_t> tail_{0};  // written by consumer
  alignas(kLine) std::size_t head_cache_ = 0;        // consumer's view of head
};

}  // namespace tl
