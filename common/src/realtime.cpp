#include "tl/common/realtime.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tl::rt {
namespace {
thread_local int g_depth = 0;
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

bool in_realtime() noexcept {
  return g_depth > 0;
}

std::uint64_t realtime_allocations() noexcept {
  return g_allocations.load(std::memory_order_relaxed);
}

void note_realtime_allocation() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

RealtimeScope::RealtimeScope() noexcept {
  ++g_depth;
}
RealtimeScope::~RealtimeScope() {
  --g_depth;
}

bool try_set_realtime_priority(int priority) noexcept {
  sched_param param{};
  param.sched_priority = priority;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
}

int set_realtime_priority(std::thread& thread, int priority) noexcept {
  sched_param param{};
  param.sched_priority = priority;
  return pthread_setschedparam(thread.native_handle(), SCHED_FIFO, &param);
}

int lock_memory() noexcept {
  rlimit limit{};
  const bool unlimited = getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur == RLIM_INFINITY;
  // With a finite limit, MCL_FUTURE would make a later allocation fail once the
  // process outgrows it: better unlocked than out of memory.
  if (!unlimited && geteuid() != 0) return EPERM;
    // On fault: pages are locked as they are first touched, so thread stacks and
    // reserved rings do not all become resident at once.
#ifdef MCL_ONFAULT
  return mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0 ? 0 : errno;
#else
  return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno;
#endif
}

std::string describe(const RealtimeReport& report) {
  std::string line;
  if (report.priority_error == 0) {
    line = "real-time scheduling (SCHED_FIFO): " + report.threads;
  } else {
    line =
        "real-time scheduling refused (" + std::string(std::strerror(report.priority_error)) +
        "): " + report.threads +
        " run at normal priority, so on a busy host their wake-ups can be late by milliseconds and the live "
        "mix's play-out delay grows to cover it. Allow it with an rtprio limit ('@audio - rtprio 95' in "
        "/etc/security/limits.d/, the user in group audio) or, under systemd, LimitRTPRIO=95";
  }
  if (report.memory_error == 0) {
    line += "; memory locked";
  } else {
    line += "; memory not locked (" + std::string(std::strerror(report.memory_error)) +
            "): a page fault can stall a real-time thread; allow it with 'memlock unlimited' "
            "(LimitMEMLOCK=infinity)";
  }
  return line;
}

}  // namespace tl::rt
