#include "tl/dsp/cascade_bank.h"

#include <algorithm>
#include <array>

#include "tl/dsp/eq.h"

namespace tl::dsp {
namespace {

// Four doubles, one AVX2 register per lane set: a section's two states stay in registers for
// up to five sections (with eight lanes, two registers each, they spilled to the stack on
// every sample and the bank was no faster than the wavefront). All uses are inlined into the
// AVX2 function below: no such vector crosses a call, so GCC's note that passing one without
// AVX enabled changes the ABI does not apply. GCC reports it at the end of the file, so it
// stays off to the end.
#pragma GCC diagnostic ignored "-Wpsabi"
constexpr std::size_t kLanes = 4;
typedef double V4 __attribute__((vector_size(kLanes * sizeof(double))));

//! Rows group[0..n) (n <= 4) through K sections each (identity past a row's own count).
//! Lanes past n read row 0 and are never written back.
template <std::size_t K>
__attribute__((always_inline)) inline void run_group(const std::array<const CascadeRow*, kLanes>& group,
                                                     std::size_t n, std::size_t frames) noexcept {
  static constexpr Biquad kIdentity{};
  std::array<float*, kLanes> d{};
  for (std::size_t l = 0; l < kLanes; ++l) d[l] = group[l < n ? l : 0]->data;
  V4 b0[K], b1[K], b2[K], a1[K], a2[K], s1[K], s2[K];
  for (std::size_t j = 0; j < K; ++j) {
    double vb0[kLanes], vb1[kLanes], vb2[kLanes], va1[kLanes], va2[kLanes], v1[kLanes], v2[kLanes];
    for (std::size_t l = 0; l < kLanes; ++l) {
      const Biquad& q = l < n && j < group[l]->count ? *group[l]->sections[j] : kIdentity;
      const BiquadCoeffs& c = q.coeffs();
      vb0[l] = c.b0;
      vb1[l] = c.b1;
      vb2[l] = c.b2;
      va1[l] = c.a1;
      va2[l] = c.a2;
      q.get_state(v1[l], v2[l]);
    }
    // Built whole from scalars (no function returns a vector: see the note above).
    b0[j] = V4{vb0[0], vb0[1], vb0[2], vb0[3]};
    b1[j] = V4{vb1[0], vb1[1], vb1[2], vb1[3]};
    b2[j] = V4{vb2[0], vb2[1], vb2[2], vb2[3]};
    a1[j] = V4{va1[0], va1[1], va1[2], va1[3]};
    a2[j] = V4{va2[0], va2[1], va2[2], va2[3]};
    s1[j] = V4{v1[0], v1[1], v1[2], v1[3]};
    s2[j] = V4{v2[0], v2[1], v2[2], v2[3]};
  }
  for (std::size_t t = 0; t < frames; ++t) {
    V4 x = {d[0][t], d[1][t], d[2][t], d[3][t]};
    for (std::size_t j = 0; j < K; ++j) {
      // Biquad::process's transposed direct form II, lane for lane.
      const V4 y = b0[j] * x + s1[j];
      s1[j] = (b1[j] * x + s2[j]) - a1[j] * y;
      s2[j] = b2[j] * x - a2[j] * y;
      x = y;
    }
    if (n == kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) d[l][t] = static_cast<float>(x[l]);
    } else {
      for (std::size_t l = 0; l < n; ++l) d[l][t] = static_cast<float>(x[l]);
    }
  }
  for (std::size_t l = 0; l < n; ++l) {
    for (std::size_t j = 0; j < group[l]->count; ++j) {
      Biquad& q = *group[l]->sections[j];
      q.set_state(s1[j][l], s2[j][l]);
      q.flush();
    }
  }
}

__attribute__((target("avx2,fma"))) void run_group_avx2(const std::array<const CascadeRow*, kLanes>& group,
                                                        std::size_t n, std::size_t k,
                                                        std::size_t frames) noexcept {
  switch (k) {
    case 1:
      return run_group<1>(group, n, frames);
    case 2:
      return run_group<2>(group, n, frames);
    case 3:
      return run_group<3>(group, n, frames);
    case 4:
      return run_group<4>(group, n, frames);
    case 5:
      return run_group<5>(group, n, frames);
    case 6:
      return run_group<6>(group, n, frames);
    case 7:
      return run_group<7>(group, n, frames);
    default:
      return run_group<8>(group, n, frames);
  }
}

// Read once while the program loads (a function-local static would take a lock on first use,
// on the mix thread).
const bool kLanesAvailable = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}();

//! One row alone: its sections as one wavefront (the fallback).
void run_row(const CascadeRow& row, std::size_t frames) noexcept {
  run_cascade(std::span<float>(row.data, frames), row.sections, std::min(row.count, kMaxCascadeSections));
}

}  // namespace

bool cascades_in_lanes() noexcept {
  return kLanesAvailable;
}

void run_cascades(std::span<const CascadeRow> rows, std::size_t frames) noexcept {
  if (frames == 0) return;
  // Rows with nothing to run take no lane; the rest go four at a time.
  for (std::size_t i = 0; i < rows.size();) {
    std::array<const CascadeRow*, kLanes> group{};
    std::size_t n = 0, k = 0;
    for (; i < rows.size() && n < kLanes; ++i) {
      if (rows[i].count == 0) continue;
      group[n++] = &rows[i];
      k = std::max(k, std::min(rows[i].count, kMaxCascadeSections));
    }
    if (n == 0) break;
    // A row alone runs as a wavefront (faster than one lane of four).
    if (!kLanesAvailable || n < 2) {
      for (std::size_t l = 0; l < n; ++l) run_row(*group[l], frames);
      continue;
    }
    run_group_avx2(group, n, k, frames);
  }
}

}  // namespace tl::dsp
