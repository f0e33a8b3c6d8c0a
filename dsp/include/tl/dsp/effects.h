#pragma once
//! Send effects: feedback-delay-network reverb and a tempo-synced delay. Mono in, stereo
//! wet out. prepare() allocates; set_params() and process() are real-time safe.

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "tl/dsp/process_spec.h"
#include "tl/dsp/smoother.h"

namespace tl::dsp {

struct ReverbParams {
  float rt60_s = 2.0f;         //!< decay time (60 dB) at low frequencies
  float predelay_ms = 20.0f;   //!< up to the max_predelay_ms given to prepare()
  float damping_hz = 8000.0f;  //!< high frequencies decay faster above this; 0 or >= fs/2 = off
  float size = 1.0f;           //!< scales the delay lengths (0.5 .. 2), fixed at prepare()
  float level_db = 0.0f;       //!< wet output level
};

//! 8-line FDN: Hadamard feedback (orthogonal, lossless), per-line gain g_i = 10^(-3 L_i / (fs RT60))
//! so every mode decays 60 dB in RT60, one-pole damping in each loop, pre-delay in front.
class FdnReverb {
 public:
  static constexpr std::size_t kLines = 8;

  //! Mono in, stereo out (spec.channels is not read); max_predelay_ms bounds predelay_ms.
  void prepare(const ProcessSpec& spec, const ReverbParams& p = {}, double max_predelay_ms = 250.0);
  void set_params(const ReverbParams& p) noexcept;
  void reset() noexcept;
  //! out_left/out_right receive the wet signal (overwritten), same length as in.
  void process(std::span<const float> in, std::span<float> out_left, std::span<float> out_right) noexcept;

 private:
  double fs_ = 48000.0;
  ReverbParams p_{};
  std::array<std::vector<float>, kLines> lines_{};
  std::array<std::size_t, kLines> len_{}, pos_{};
  std::array<double, kLines> gain_{}, damp_state_{};
  double damp_ = 0.0;
  std::vector<float> pre_;
  std::size_t pre_pos_ = 0, pre_len_ = 0;
  LinearSmoother level_;
};

//! Note values for the tempo delay, in quarter notes.
enum class NoteDivision {
  whole,
  half,
  quarter,
  eighth,
  sixteenth,
  dotted_quarter,
  dotted_eighth,
  triplet_quarter,
  triplet_eighth
};
double quarter_notes(NoteDivision d) noexcept;

struct TempoDelayParams {
  float bpm = 120.0f;
  NoteDivision division = NoteDivision::eighth;
  float feedback = 0.4f;    //!< 0 .. 0.98 (clamped)
  float damping_hz = 0.0f;  //!< low-pass in the feedback path; 0 = off
  float level_db = 0.0f;    //!< wet output level
  bool ping_pong = false;   //!< alternate echoes left/right
};

//! Delay time = 60 / bpm * quarter_notes(division) seconds (rounded to whole samples).
//! A tempo change glides the read position (~50 ms), as a tape delay would.
class TempoDelay {
 public:
  //! Mono in, stereo out (spec.channels is not read); max_delay_s bounds the longest time
  //! (slow tempo, long note).
  void prepare(const ProcessSpec& spec, const TempoDelayParams& p = {}, double max_delay_s = 4.0);
  void set_params(const TempoDelayParams& p) noexcept;
  void reset() noexcept;
  //! Delay time in samples for the current target.
  double delay_samples() const noexcept { return target_; }
  void process(std::span<const float> in, std::span<float> out_left, std::span<float> out_right) noexcept;

 private:
  double time_samples(const TempoDelayParams& p) const noexcept;
  double fs_ = 48000.0;
  TempoDelayParams p_{};
  float read(const std::vector<float>& buf, double delay) const noexcept;
  std::vector<float> buf_l_, buf_r_;  // right line only carries echoes in ping-pong mode
  std::size_t pos_ = 0;
  double current_ = 1.0, target_ = 1.0, glide_ = 1.0;
  double damp_ = 0.0, damp_l_ = 0.0, damp_r_ = 0.0, feedback_ = 0.0;
  LinearSmoother level_;
};

}  // namespace tl::dsp
