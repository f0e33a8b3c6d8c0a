#pragma once
//! Counts heap allocations made inside tl::rt::RealtimeScope sections.
//!
//! Linking a test that calls realtime_allocations_since_start() replaces the
//! global operator new for that binary; allocations outside real-time scopes
//! are untouched.

#include <cstdint>

namespace tl::test {

//! Allocations seen inside real-time scopes since the process started.
std::uint64_t realtime_allocations();

//! Total allocations in this process (to show the counter works at all).
std::uint64_t total_allocations();

}  // namespace tl::test
