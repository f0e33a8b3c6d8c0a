#pragma once
//! Branch-light log/exp approximations for per-sample gain computers.
//!
//! Accuracy: |error| < 1e-6 dB over the range used by dynamics (-200..+40 dB); both
//! are pure functions with no tables, safe in real-time code.

#include <bit>
#include <cstdint>

namespace tl::dsp::fast {

//! log2(x) for x > 0 (x <= 0 or denormal gives a very negative finite number).
inline double log2(double x) noexcept {
  if (!(x > 1e-30)) x = 1e-30;
  const auto bits = std::bit_cast<std::uint64_t>(x);
  int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  // Mantissa in [1, 2), then re-centred to [sqrt(1/2), sqrt(2)) so the series converges fast.
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++e;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  // 2/ln2 * atanh(s) = 2/ln2 * (s + s^3/3 + s^5/5 + s^7/7 + s^9/9)
  const double p = s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9)))));
  return static_cast<double>(e) + 2.8853900817779268 * p;
}

//! 2^x, clamped to [2^-1000, 2^1000].
inline double exp2(double x) noexcept {
  if (x < -1000.0) x = -1000.0;
  if (x > 1000.0) x = 1000.0;
  const double n = static_cast<double>(static_cast<std::int64_t>(x + (x >= 0 ? 0.5 : -0.5)));
  const double f = (x - n) * 0.6931471805599453;  // |f| <= ln2/2
  const double p =
      1.0 +
      f * (1.0 + f * (0.5 + f * (1.0 / 6 + f * (1.0 / 24 + f * (1.0 / 120 + f * (1.0 / 720 + f / 5040))))));
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
