#pragma once
//! Time, sequence and level units shared by every module.
//!
//! Sequence numbers wrap; never compare raw uint32_t values, use seq_diff().
//! Media time is a 64-bit sample position on the session clock.

#include <cmath>
#include <cstdint>

namespace tl {

//! A sample position on the session clock (frames since the mixer's epoch).
using MediaTime = std::int64_t;

//! Packet sequence number, wraps at 2^32.
using Seq = std::uint32_t;

//! Signed distance from b to a, correct across wrap-around while |a-b| < 2^31.
constexpr std::int32_t seq_diff(Seq a, Seq b) noexcept {
  return static_cast<std::int32_t>(a - b);
}

//! True when a comes before b (wrap-safe).
constexpr bool seq_before(Seq a, Seq b) noexcept {
  return seq_diff(a, b) < 0;
}

//! Linear gain from decibels.
inline float db_to_gain(float db) noexcept {
  return std::pow(10.0f, db / 20.0f);
}

//! Linear gain from decibels, in double precision (for coefficients kept in double).
inline double db_to_gain(double db) noexcept {
  return std::pow(10.0, db / 20.0);
}

//! Decibels from a linear amplitude; -inf for silence is clamped to floor_db.
inline double gain_to_db(double gain, double floor_db = -150.0) noexcept {
  if (gain <= 0.0) return floor_db;
  const double db = 20.0 * std::log10(gain);
  return db < floor_db ? floor_db : db;
}

//! a / b rounded towards minus infinity (b != 0).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

//! Frames covered by a duration in nanoseconds at a sample rate (floor).
constexpr std::int64_t ns_to_frames(std::int64_t ns, std::int64_t rate) noexcept {
  // Split to avoid overflow for long durations: ns up to ~292 years.
  return (ns / kNanosPerSecond) * rate + ((ns % kNanosPerSecond) * rate) / kNanosPerSecond;
}

//! The sample nearest to a time in nanoseconds (rate > 0, ns >= 0): where a sample
//! captured at that instant belongs on a timeline, half a sample either way.
constexpr std::int64_t ns_to_nearest_frame(std::int64_t ns, std::int64_t rate) noexcept {
  return ns_to_frames(ns + kNanosPerSecond / (2 * rate), rate);
}

//! Frames covered by a duration in milliseconds at a sample rate, unrounded: the caller
//! rounds as it needs (a delay line's length up, a ramp's to the nearest frame).
constexpr double ms_to_frames(double ms, double rate) noexcept {
  return ms * rate / 1000.0;
}

//! Nanoseconds covered by a frame count at a sample rate.
constexpr std::int64_t frames_to_ns(std::int64_t frames, std::int64_t rate) noexcept {
  return (frames / rate) * kNanosPerSecond + ((frames % rate) * kNanosPerSecond) / rate;
}

}  // namespace tl
