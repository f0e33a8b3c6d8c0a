#pragma once
//! Linkwitz-Riley band splitting and a multiband compressor built on it.
//!
//! Value types like every tl::dsp processor: prepare() once (may allocate), set_params()
//! between blocks, process() in real time (no allocation, no locks, no logging).

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "tl/dsp/biquad.h"
#include "tl/dsp/dynamics.h"
#include "tl/dsp/process_spec.h"

namespace tl::dsp {

//! What a MultibandCompressor is set up with: its bands, where they split, and a
//! compressor per band.
struct MultibandParams {
  std::size_t bands = 3;                                    //!< 2..4 (clamped)
  std::array<float, 3> split_hz{120.0f, 2000.0f, 8000.0f};  //!< ascending; the first bands-1 are used
  std::array<CompressorParams, 4> band{};                   //!< one compressor per band
  std::array<bool, 4> band_on{true, true, true, true};      //!< off: the band passes unchanged
};

//! Splits a mono or stereo stream into 2..4 Linkwitz-Riley (LR4, 24 dB/oct) bands.
//!
//! Split i is a low-pass/high-pass pair at split_hz[i]: the low part is band i, the high part
//! goes on to the next split (the last split's high part is the top band). Band j below
//! split i also runs through that split's allpass (LP + HP of an LR4 pair), so all bands
//! share one phase and their sum is the input through one allpass per split: flat in
//! magnitude, with no latency. At a split frequency both neighbouring bands are at -6 dB.
class Crossover {
 public:
  static constexpr std::size_t kMaxBands = 4;
  static constexpr std::size_t kMaxChannels = 2;

  //! spec.channels 1 or 2 (clamped). bands is clamped to 2..4; the first bands-1 entries of
  //! split_hz are the split frequencies, kept within [10 Hz, 0.45 fs] and sorted ascending
  //! (a missing entry takes MultibandParams' default). Clears the state.
  void prepare(const ProcessSpec& spec, std::size_t bands, std::span<const float> split_hz) noexcept;
  //! Clears every channel's filter state.
  void reset() noexcept;
  //! Splits channel `ch` of `in` (frames n) into out[b][0..n) for b < bands. Real-time.
  //! `in` may be one of the out buffers (it is read before any band is written); out must
  //! hold at least bands() pointers and ch must be below the prepared channel count.
  void split(std::size_t ch, std::span<const float> in, std::span<float* const> out) noexcept;
  std::size_t bands() const noexcept { return bands_; }
  //! The split frequencies in use (Hz), the first bands()-1 entries.
  const std::array<double, kMaxBands - 1>& split_hz() const noexcept { return split_hz_; }

 private:
  //! One channel's filters: an LR4 low-pass and high-pass (two Butterworth sections each)
  //! per split, and for split i one allpass section for each band below it (ap[i][j], j < i).
  struct Channel {
    std::array<std::array<Biquad, 2>, kMaxBands - 1> lp{}, hp{};
    std::array<std::array<Biquad, kMaxBands - 1>, kMaxBands - 1> ap{};
  };
  std::size_t bands_ = 2, channels_ = 1;
  std::array<double, kMaxBands - 1> split_hz_{};
  std::array<Channel, kMaxChannels> ch_{};
};

//! Compressor per Linkwitz-Riley band (2..4 bands), mono or stereo-linked per band, in place.
//! With no band compressing, the output is the input through the crossover's allpass:
//! the same magnitude, no latency.
class MultibandCompressor {
 public:
  //! Mono or stereo by the process() overload called; spec.channels is not read. Allocates
  //! the band buffers (bands x 2 channels x spec.max_block) and sets the bands, the split
  //! frequencies and the compressors from p.
  void prepare(const ProcessSpec& spec, const MultibandParams& p);
  //! Applies the compressors' parameters and band_on between blocks; p.bands and
  //! p.split_hz are ignored (they are fixed by prepare). A band switched on starts from
  //! a cleared detector, so it does not jump to a stale gain.
  void set_params(const MultibandParams& p) noexcept;
  void reset() noexcept;

  //! In place. A block longer than spec.max_block is processed in chunks of max_block.
  void process(std::span<float> mono) noexcept;
  //! In place, each band stereo-linked (one gain for both channels of a band). Processes
  //! min(left.size(), right.size()) frames, in chunks of spec.max_block when longer.
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! Band's current gain reduction in dB (<= 0); 0 for a band that is off or absent.
  float gain_reduction_db(std::size_t band) const noexcept;
  std::size_t bands() const noexcept { return xover_.bands(); }
  const Crossover& crossover() const noexcept { return xover_; }

 private:
  float* band_buffer(std::size_t band, std::size_t ch) noexcept {
    return buf_.data() + (band * Crossover::kMaxChannels + ch) * max_block_;
  }

  Crossover xover_;
  std::array<Compressor, Crossover::kMaxBands> comp_{};
  std::array<bool, Crossover::kMaxBands> on_{};
  std::size_t max_block_ = 1;
  std::vector<float> buf_;  // [band][channel][max_block_]
};

}  // namespace tl::dsp
