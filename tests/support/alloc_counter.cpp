#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "tl/common/realtime.h"

namespace {
std::atomic<std::uint64_t> g_total{0};

void* counted_alloc(std::size_t size) {
  g_total.fetch_add(1, std::memory_order_relaxed);
  if (tl::rt::in_realtime()) tl::rt::note_realtime_allocation();
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) {
  return counted_alloc(size);
}
void* operator new[](std::size_t size) {
  return counted_alloc(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace tl::test {
std::uint64_t realtime_allocations() {
  return tl::rt::realtime_allocations();
}
std::uint64_t total_allocations() {
  return g_total.load(std::memory_order_relaxed);
}
}  // namespace tl::test
