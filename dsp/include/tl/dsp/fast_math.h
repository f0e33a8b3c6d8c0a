#pragma once
//! Branch-light log/exp approximations for per-sample gain computers.
//!
//! Accuracy: |error| < 1e-6 dB over the range used by dynamics (-200..+40 dB); both
//! are pure functions with no tables, safe in real-time code.

#include <bit>
#include <cstdint>

namespace tl::dsp::fast {

//! log2(x) for x > 0 (x <= 0 or denormal gives a very negative finite number).
//! Branch-free: gain computers call it on data-dependent levels, where a mispredicted branch
//! costs more than the arithmetic.
inline double log2(double x) noexcept {
  x = x > 1e-30 ? x : 1e-30;  // also maps NaN to 1e-30
  // Subtracting the bits of sqrt(1/2) puts the exponent of x / sqrt(1/2) in the top bits, so
  // the mantissa is re-centred to [sqrt(1/2), sqrt(2)) without a compare.
  constexpr std::uint64_t kSqrtHalf = 0x3fe6a09e667f3bcdULL;
  const std::uint64_t u = std::bit_cast<std::uint64_t>(x) - kSqrtHalf;
  const auto e = static_cast<double>(static_cast<std::int64_t>(u) >> 52);
  const double m = std::bit_cast<double>((u & 0x000fffffffffffffULL) + kSqrtHalf);
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s, s4 = s2 * s2;
  // 2/ln2 * atanh(s) = 2/ln2 * (s + s^3/3 + s^5/5 + s^7/7 + s^9/9), |s| < 0.172; the odd
  // powers are summed in two halves (Estrin) to shorten the dependency chain.
  const double p = s * ((1.0 + s2 * (1.0 / 3)) + s4 * ((1.0 / 5 + s2 * (1.0 / 7)) + s4 * (1.0 / 9)));
  return e + 2.8853900817779268 * p;
}

//! 2^x, clamped to [2^-1000, 2^1000]. Branch-free.
inline double exp2(double x) noexcept {
  x = x < -1000.0 ? -1000.0 : x;
  x = x > 1000.0 ? 1000.0 : x;
  // Round to the nearest integer by adding and removing 1.5 * 2^52 (exact for |x| < 2^51).
  constexpr double kRound = 6755399441055744.0;
  const double n = (x + kRound) - kRound;
  const double f = (x - n) * 0.6931471805599453;  // |f| <= ln2/2
  // e^f to degree 7, as three independent pairs combined by powers of f (Estrin).
  const double f2 = f * f, f4 = f2 * f2;
  const double p = ((1.0 + f) + f2 * (0.5 + f * (1.0 / 6))) +
                   f4 * ((1.0 / 24 + f * (1.0 / 120)) + f2 * (1.0 / 720 + f * (1.0 / 5040)));
  const auto ni = static_cast<std::int64_t>(n) + 1023;
  return p * std::bit_cast<double>(static_cast<std::uint64_t>(ni) << 52);
}

//! 20*log10(x) (amplitude to dB).
inline double amp_to_db(double x) noexcept {
  return 6.020599913279624 * log2(x);
}
//! 10*log10(x) (power to dB).
inline double pow_to_db(double x) noexcept {
  return 3.010299956639812 * log2(x);
}
//! 10^(db/20).
inline double db_to_amp(double db) noexcept {
  return exp2(db * 0.16609640474436813);
}

}  // namespace tl::dsp::fast
