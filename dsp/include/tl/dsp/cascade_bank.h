#pragma once
//! Steady biquad cascades of many channels at once, one channel per SIMD lane.
//!
//! One channel's cascade is a chain of recurrences: however it is arranged (dsp::Equalizer
//! runs its sections as a wavefront), each sample waits on the one before. Channels are
//! independent, so four of them side by side in the lanes of an AVX2 register do four
//! channels' work per instruction: a mixer's strips run their steady filters here
//! (dsp::ChannelStrip::process_front() hands them over, process_back() takes the block on).
//!
//! Pure: no allocation, locks or I/O.

#include <cstddef>
#include <span>

#include "tl/dsp/biquad.h"

namespace tl::dsp {

//! One channel's block and the sections (in order) to run over it in place.
struct CascadeRow {
  float* data = nullptr;
  Biquad* const* sections = nullptr;
  std::size_t count = 0;  //!< 0..8
};

inline constexpr std::size_t kMaxCascadeSections = 8;

//! Runs every row's cascade over its first `frames` samples. Rows are taken four at a time
//! on CPUs with AVX2 and FMA (a row with fewer sections than the others in its group passes
//! the rest unchanged; rows with none are skipped); elsewhere, or for a last row alone, row
//! by row as a wavefront. Each section's state carries on as if it had run alone (to
//! rounding: about 1e-7 of full scale).
void run_cascades(std::span<const CascadeRow> rows, std::size_t frames) noexcept;

//! Whether run_cascades() uses vector lanes on this CPU.
bool cascades_in_lanes() noexcept;

}  // namespace tl::dsp
