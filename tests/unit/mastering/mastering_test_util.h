#pragma once
//! Helpers shared by the mastering unit tests: stereo test signals and a chain run over
//! them a block at a time.

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "tl/mastering/chain.h"

namespace tl::test {

inline constexpr double kRate = 48000.0;  //!< the rate the signals are made at

//! `seconds` of a stereo signal, interleaved: f(t, channel), channel 0 left, 1 right.
template <class Signal>
std::vector<float> stereo(double seconds, const Signal& f) {
  const auto frames = static_cast<std::size_t>(seconds * kRate);
  std::vector<float> out(frames * 2);
  for (std::size_t i = 0; i < frames; ++i) {
    for (int c = 0; c < 2; ++c) out[2 * i + c] = static_cast<float>(f(static_cast<double>(i) / kRate, c));
  }
  return out;
}

//! The same with a function of time for each channel.
inline std::vector<float> stereo(double seconds, double (*left)(double), double (*right)(double)) {
  return stereo(seconds, [&](double t, int c) { return c == 0 ? left(t) : right(t); });
}

//! Runs chain over interleaved stereo audio in place, 1024 frames at a time.
inline void run_chain(mastering::Chain& chain, std::vector<float>& audio) {
  constexpr std::size_t kBlock = 1024;
  const std::size_t frames = audio.size() / 2;
  for (std::size_t at = 0; at < frames; at += kBlock) {
    const std::size_t n = std::min(kBlock, frames - at);
    chain.process(std::span(audio).subspan(2 * at, 2 * n), n);
  }
}

}  // namespace tl::test
