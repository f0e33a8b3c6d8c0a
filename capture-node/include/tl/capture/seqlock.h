#pragma once
//! A single-writer seqlock for a small trivially copyable value (e.g. tl::ClockMap):
//! the writer never waits, readers never lock and never block the writer.
//!
//! The value is kept in relaxed atomic words (no data race, TSan-clean); a reader
//! that overlaps a write sees an odd or changed sequence and retries. try_load()
//! gives up after a bounded number of attempts so a real-time reader cannot spin
//! on a preempted writer: it then keeps the copy it already has.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tl::capture {

template <typename T>
class SeqLock {
  static_assert(std::is_trivially_copyable_v<T>, "SeqLock holds trivially copyable values");
  static constexpr std::size_t kWords = (sizeof(T) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);

 public:
  SeqLock() noexcept { store(T{}); }
  explicit SeqLock(const T& v) noexcept { store(v); }

  //! One writer thread only. Wait-free.
  void store(const T& v) noexcept {
    std::array<std::uint64_t, kWords> buf{};
    std::memcpy(buf.data(), &v, sizeof(T));
    const std::uint32_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);  // odd: write in progress
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(buf[i], std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }

  //! Any thread, real-time safe. Returns false (out untouched) when every attempt
  //! overlapped a write.
  bool try_load(T& out, int attempts = 64) const noexcept {
    std::array<std::uint64_t, kWords> buf{};
    for (int a = 0; a < attempts; ++a) {
      const std::uint32_t s1 = seq_.load(std::memory_order_acquire);
      if ((s1 & 1u) != 0) continue;
      for (std::size_t i = 0; i < kWords; ++i) buf[i] = words_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) != s1) continue;
      std::memcpy(static_cast<void*>(&out), buf.data(), sizeof(T));
      return true;
    }
    return false;
  }

  //! Non-real-time readers: retries until it gets a consistent copy.
  T load() const noexcept {
    T v{};
    while (!try_load(v)) {
    }
    return v;
  }

  //! Number of completed stores (for tests).
  std::uint32_t version() const noexcept { return seq_.load(std::memory_order_acquire) / 2; }

 private:
  std::atomic<std::uint32_t> seq_{0};
  std::array<std::atomic<std::uint64_t>, kWords> words_{};
};

}  // namespace tl::capture
