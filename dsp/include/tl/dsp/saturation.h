#pragma once
//! Tape-style saturation for the mastering chain: a smooth, optionally asymmetric soft
//! clipper run at kOversampling times the stream's rate between linear-phase filters.
//!
//! Value type like every tl::dsp processor: prepare() once (allocates), set_params()
//! between blocks, process() in real time (no allocation, no locks, no logging).

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "tl/dsp/process_spec.h"
#include "tl/dsp/smoother.h"

namespace tl::dsp {

struct SaturationParams {
  float drive_db = 6.0f;   //!< 0..24 (clamped): input gain into the curve
  float mix = 1.0f;        //!< 0..1 (clamped) wet/dry; the dry path is delayed by latency()
  float bias = 0.0f;       //!< 0..0.3 (clamped): asymmetry (even harmonics); DC removed after
  bool compensate = true;  //!< output gain that keeps a low-level signal at unity
};

//! y = c (tanh(g x + b) - tanh(b)) with g the drive, b the bias and c the compensation
//! 1 / (g sech^2 b), or 1 without compensate. tanh is analytic (its nearest poles are at
//! +-i pi/2), so the harmonics of a sine fall off geometrically: at drive 12 dB on a
//! -6 dBFS sine by ~6.3 dB per order. The wet path is DC-blocked (5 Hz) for the DC bias makes.
//!
//! Oversampling: three 2x stages of linear-phase polyphase FIRs up, the curve, the same
//! stages down. The first stage (Kaiser-windowed sinc, 287 taps at 2 fs) is flat within
//! +-0.001 dB up to 0.907 of Nyquist (20 kHz at 44.1 kHz) and 100 dB down from Nyquist on;
//! the others are short half-band filters. Aliasing of a -6 dBFS sine at drive 12 dB stays
//! below -120 dBFS at 44.1 and 48 kHz (see test_saturation.cpp).
class Saturator {
 public:
  //! 8, not 4: at 4x the 11th harmonic of a 17 kHz tone (187 kHz, -77 dBFS at drive 12 dB
  //! on a -6 dBFS sine) folds about 4 fs = 192 kHz to 5 kHz, above the -90 dBFS target.
  //! At 8x the first that can fold into the audio band is the 21st (-140 dBFS).
  static constexpr int kOversampling = 8;
  static constexpr std::size_t kMaxChannels = 2;

  //! spec.channels 1 or 2 (clamped). Allocates the filter buffers for spec.max_block frames
  //! and starts at p with no glide. Clears the state.
  void prepare(const ProcessSpec& spec, const SaturationParams& p);
  //! New parameters (clamped), reached over 20 ms: drive in dB, bias, mix and the
  //! compensation glide, so a change makes no click and a low-level signal stays at unity
  //! throughout with compensate on.
  void set_params(const SaturationParams& p) noexcept;
  const SaturationParams& params() const noexcept { return p_; }
  //! Clears filters, DC blocker and dry delay; the parameters jump to their targets.
  void reset() noexcept;

  //! In place, channel 0. A block longer than spec.max_block is processed in chunks.
  void process(std::span<float> mono) noexcept;
  //! In place, min(left.size(), right.size()) frames; both channels share one parameter
  //! glide. Needs spec.channels == 2: prepared mono, only left is processed.
  void process(std::span<float> left, std::span<float> right) noexcept;

  //! Frames from input to output at the base rate: the up and down filters' group delay,
  //! the same at every rate (152 frames, 3.2 ms at 48 kHz). The dry path is delayed by it.
  std::size_t latency() const noexcept { return latency_; }

  //! The curve alone, with p's drive, bias and compensation (no oversampling, no DC
  //! blocker): what process() applies at kOversampling x the rate.
  static float transfer(float x, const SaturationParams& p) noexcept;

 private:
  static constexpr std::size_t kStages = 3;  // 2^kStages == kOversampling

  //! One 2x stage's taps, shared by the channels. The prototype low-pass h (odd length L,
  //! symmetric about its centre) interpolates as two polyphase branches (each summing to 1)
  //! and decimates as h / 2 split the same way, keeping the high-rate samples of phase
  //! down_phase.
  struct Stage {
    std::size_t length = 0;      // L
    std::size_t factor = 1;      // input rate / base rate (1, 2, 4)
    std::size_t down_phase = 0;  // 0 or 1: which high-rate samples line up with the input grid
    bool half_band = false;      // every other tap of h is 0 but the centre
    float centre = 0.0f;         // h's centre tap
    // Interpolation branches, oldest sample's tap first (half-band: [1] empty, the centre alone).
    std::array<std::vector<float>, 2> up;
    // h / 2 on the even and odd high-rate samples, oldest first (half-band: [1] empty).
    std::array<std::vector<float>, 2> down;
  };
  //! One channel's buffers for a stage, each a history followed by a block.
  struct StageBuffers {
    std::vector<float> up_in;    // [up history | block at the stage's input rate]
    std::vector<float> down_in;  // [down history | block at twice that rate]
  };
  struct Channel {
    std::array<StageBuffers, kStages> stage;
    std::vector<float> wet;  // max_block
    std::vector<float> dry;  // latency_ frames, a ring
    std::size_t dry_pos = 0;
    double dc_x1 = 0.0, dc_y1 = 0.0;
  };
  //! The curve's constants for one base frame.
  struct Frame {
    float drive = 1.0f, bias = 0.0f, bias_out = 0.0f, out_gain = 1.0f, mix = 1.0f;
  };

  static Frame frame_of(float drive_db, float bias, float comp_weight, float mix) noexcept;
  void run(std::size_t n, std::span<float* const> io) noexcept;
  void run_wet(Channel& ch, float* io, std::size_t n) noexcept;

  ProcessSpec spec_{};
  SaturationParams p_{};
  std::size_t channels_ = 1, max_block_ = 1, latency_ = 0;
  double dc_r_ = 0.0, dc_gain_ = 1.0;
  std::array<Stage, kStages> stages_{};
  std::array<Channel, kMaxChannels> ch_{};
  LinearSmoother drive_db_, bias_, comp_, mix_;
  bool steady_ = true;             // every smoother settled: one Frame for the block
  Frame steady_frame_{};           // valid while steady_
  std::vector<Frame> frames_;      // per base frame of a block while gliding
  std::vector<float> even_, odd_;  // a decimator's input split into its two phases
};

}  // namespace tl::dsp
