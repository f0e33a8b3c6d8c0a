#pragma once
//! The stream a processor is set up for.
//!
//! Every processor in tl::dsp is set up the same way: prepare(const ProcessSpec&, ...) once,
//! off the real-time path (it may allocate), with only the processor's own set-up after the
//! spec (its initial parameters, then a fixed limit such as a longest delay). After that,
//! reset() (where there is one) clears its state and process() runs a block. The idea is
//! juce_dsp's: one description of the stream rather than a sample rate here, a block size
//! there and a channel count elsewhere.

#include <cstddef>

namespace tl::dsp {

struct ProcessSpec {
  double sample_rate = 48000.0;  //!< Hz
  std::size_t max_block = 1024;  //!< longest block process() will be given, in frames
  //! Channels process() will be given. Processors whose layout is part of their type (a mono
  //! strip, a stereo bus, mono-in stereo-out effects) do not read it.
  std::size_t channels = 1;
};

}  // namespace tl::dsp
