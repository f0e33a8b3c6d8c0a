#include "tl/common/realtime.h"

#include <pthread.h>
#include <sched.h>

namespace tl::rt {
namespace {
thread_local int g_depth = 0;
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

bool in_realtime() noexcept { return g_depth > 0; }

std::uint64_t realtime_allocations() noexcept {
  return g_allocations.load(std::memory_order_relaxed);
}

void note_realtime_allocation() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

RealtimeScope::RealtimeScope() noexcept { ++g_depth; }
RealtimeScope::~RealtimeScope() { --g_depth; }

bool try_set_realtime_priority(int priority) noexcept {
  sched_param param{};
  param.sched_priority = priority;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
}

}  // namespace tl::rt
