#pragma once
//! Closing a take: every file written out to the take's length and closed, the tracks
//! conformed, and what each file holds, as take.json says it.

#include <cstdint>

#include "tl/mixer/node_registry.h"
#include "tl/mixer/take.h"
#include "tl/mixer/take_manifest.h"

namespace tl::mixer {

//! Closes take at `length` frames: each node track is written out (its node heard as far
//! as it was), closed and conformed, and mix.wav closed. Returns `manifest` (the take's
//! own fields) with every node track, the mix and whether the take is complete: levels,
//! what is still missing and why, the conform, where the live mix concealed each input.
//! shutting_down: the mixer is stopping (a track still missing audio was not asked for).
TakeManifest close_take(Take& take, std::int64_t length, TakeManifest manifest, NodeRegistry& registry,
                        bool shutting_down);

}  // namespace tl::mixer
