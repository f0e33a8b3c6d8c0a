#pragma once
//! Varispeed reading for the live path: a stream whose clock runs at another
//! rate than the session's is read at a slowly varying step (input samples per
//! output sample, e.g. 1.0002 for a node 200 ppm fast), band-limited through a
//! windowed-sinc kernel, so its queue neither drains nor grows and no sample is
//! ever dropped or repeated (no clicks).
//!
//! One plan serves every channel of a stream: plan() works out each output
//! frame's input position and kernel weights once per block, apply() runs them
//! over one channel's input window. Output frame i reads the input at
//! frac + i * step past input index half_taps() - 1 of the window: the caller
//! reads the window starting half_taps() - 1 samples before the whole part of
//! its read cursor. prepare() allocates; plan() and apply() never do.

#include <cstddef>
#include <memory>
#include <span>

#include "tl/dsp/process_spec.h"
#include "tl/dsp/sinc_kernel.h"

namespace tl::dsp {

class Varispeed {
 public:
  //! The live kernel: 16 samples each side, flat to about 18 kHz at 48 kHz.
  static constexpr SincKernelSpec kLiveKernel{.half_taps = 16, .phases = 512, .beta = 8.0, .cutoff = 0.92};
  static constexpr double kMaxStepDeviation = 0.01;  //!< steps outside 1 +- this are clamped

  Varispeed();

  //! Sizes the plan for blocks of up to spec.max_block output frames. One plan serves any
  //! number of channels and the kernel does not depend on the rate: only max_block is read.
  void prepare(const ProcessSpec& spec);

  int half_taps() const noexcept { return kernel_.half_taps(); }

  //! Plans frames outputs starting frac (0 <= frac < 1) past the cursor's whole
  //! sample, step input samples apart. Returns the input window length to read.
  std::size_t plan(double frac, double step, std::size_t frames) noexcept;

  //! The cursor after the planned block, relative to the whole sample it started
  //! from: frac + frames * step.
  double advance() const noexcept { return advance_; }

  //! The first window index the kernel of output frame i reaches (it reads
  //! taps() samples from there).
  std::size_t first_index(std::size_t i) const noexcept { return first_[i]; }
  int taps() const noexcept { return kernel_.taps(); }

  //! Runs the plan over one channel: window as sized by plan(), out of the planned length.
  void apply(std::span<const float> window, std::span<float> out) const noexcept;

 private:
  SincKernel kernel_;
  std::size_t max_block_ = 0;
  std::size_t frames_ = 0;
  double advance_ = 0.0;
  std::unique_ptr<std::size_t[]> first_;  // per output frame: first window index
  std::unique_ptr<float[]> weights_;      // per output frame: taps weights
};

}  // namespace tl::dsp
