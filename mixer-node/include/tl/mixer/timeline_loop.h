#pragma once
//! tlctl loop FROM TO: how a looping play folds the timeline. The mix engine's transport,
//! the backing tracks' reader, a take's transport record and its render all fold by it.

#include <cstdint>

#include "tl/common/units.h"

namespace tl::mixer {

//! A loop on the transport timeline: a play that reaches `to` goes on from `from`, lap
//! after lap. Positions are given on the straight timeline a play runs on (its `linear`
//! position: where it would be with no loop), which the loop folds back.
struct TimelineLoop {
  MediaTime from = 0;
  MediaTime to = 0;  //!< not after from: no loop
  bool on() const noexcept { return to > from; }
  MediaTime length() const noexcept { return to - from; }
  //! The timeline position of straight position l.
  MediaTime at(MediaTime l) const noexcept { return !on() || l < to ? l : from + (l - to) % length(); }
  //! Straight frames from l until the timeline next jumps back (INT64_MAX: never).
  MediaTime until_wrap(MediaTime l) const noexcept {
    if (!on()) return INT64_MAX;
    return l < to ? to - l : length() - (l - to) % length();
  }
  bool operator==(const TimelineLoop&) const = default;
};

}  // namespace tl::mixer
