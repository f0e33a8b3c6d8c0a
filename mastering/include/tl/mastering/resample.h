#pragma once
//! A streaming sample-rate converter for a master's last stage: libsoxr at its very high
//! quality (28-bit precision, linear phase, passband flat to 0.01 dB up to about 0.91 of
//! the lower rate's Nyquist, stopband about 170 dB down). Its output is aligned with its
//! input (the filter's delay is taken out: input frame i lands on output frame
//! i * out / in) and, once finished, exactly round(frames in * out / in) frames long.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/common/result.h"

struct soxr;  // libsoxr's resampler, behind soxr_t

namespace tl::mastering {

class Resampler {
 public:
  Resampler() = default;
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  //! The output length, in frames, of in_frames at in_rate converted to out_rate.
  static std::int64_t output_frames(std::int64_t in_frames, std::uint32_t in_rate,
                                    std::uint32_t out_rate) noexcept;

  //! Ready for a new signal of channels (1 or 2) interleaved, in blocks of up to
  //! max_block frames. May allocate; the error names both rates and libsoxr's reason.
  Status prepare(std::uint32_t in_rate, std::uint32_t out_rate, std::size_t channels, std::size_t max_block);
  //! Takes interleaved frames; the interleaved output they complete, which may be none
  //! at first (the filter's delay). The view is the resampler's own, valid until the
  //! next call; the caller may change it (dither it in place).
  Result<std::span<float>> process(std::span<const float> interleaved);
  //! After the last input: the rest of the output, so that all of it is
  //! output_frames(every frame given) long. Then prepare() again for another signal.
  Result<std::span<float>> finish();

 private:
  Status run(const float* in, std::size_t frames, std::size_t& produced);
  void release() noexcept;

  ::soxr* soxr_ = nullptr;
  std::uint32_t in_rate_ = 0, out_rate_ = 0;
  std::size_t channels_ = 1;
  std::int64_t frames_in_ = 0, frames_out_ = 0;
  std::vector<float> out_;
};

}  // namespace tl::mastering
