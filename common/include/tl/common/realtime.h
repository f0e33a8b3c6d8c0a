#pragma once
//! Marks real-time sections so tests can prove they neither allocate nor lock.
//!
//! Production code wraps each audio callback and mix block in a RealtimeScope.
//! A test binary that replaces operator new checks in_realtime() and counts
//! allocations made inside such a scope; that count must stay zero.

#include <atomic>
#include <cstdint>

namespace tl::rt {

//! True while the calling thread is inside a RealtimeScope.
bool in_realtime() noexcept;

//! Allocations seen inside real-time scopes by an instrumented operator new (tests only).
std::uint64_t realtime_allocations() noexcept;
void note_realtime_allocation() noexcept;

class RealtimeScope {
 public:
  RealtimeScope() noexcept;
  ~RealtimeScope();
  RealtimeScope(const RealtimeScope&) = delete;
  RealtimeScope& operator=(const RealtimeScope&) = delete;
};

//! Best-effort: asks for SCHED_FIFO at the given priority; returns false when refused
//! (normal without CAP_SYS_NICE; the thread then runs at normal priority).
bool try_set_realtime_priority(int priority) noexcept;

}  // namespace tl::rt
