#pragma once
//! Marks real-time sections so tests can prove they neither allocate nor lock.
//!
//! Production code wraps each audio callback and mix block in a RealtimeScope.
//! A test binary that replaces operator new checks in_realtime() and counts
//! allocations made inside such a scope; that count must stay zero.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

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
//! The same for another thread: 0 when granted, else the errno (EPERM: not allowed).
int set_realtime_priority(std::thread& thread, int priority) noexcept;

//! Locks the process's pages in memory, now and as it grows (mlockall), when that
//! cannot fail an allocation later: the process may lock without limit (root,
//! CAP_IPC_LOCK, or an unlimited memlock limit). 0 when locked, else the errno
//! (EPERM when the limit is finite and locking is skipped).
int lock_memory() noexcept;

//! How the process's real-time threads were set up, for one log line.
struct RealtimeReport {
  std::string threads;     //!< e.g. "mix thread 70, receive thread 60"
  int priority_error = 0;  //!< errno of the first refused thread, 0: all granted
  int memory_error = 0;    //!< from lock_memory()
};
//! One line for the operator: what was granted and, if something was not, what that
//! costs and how to allow it.
std::string describe(const RealtimeReport& report);

}  // namespace tl::rt
