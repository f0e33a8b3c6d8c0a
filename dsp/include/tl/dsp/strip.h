#pragma once
//! Mono input channel strip, in signal order: trim, polarity, delay, HPF, LPF, 4-band EQ,
//! gate, compressor, fader, mute and constant-power pan to stereo.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/dsp/biquad.h"
#include "tl/dsp/cascade_bank.h"
#include "tl/dsp/dynamics.h"
#include "tl/dsp/eq.h"
#include "tl/dsp/meter.h"
#include "tl/dsp/pan.h"
#include "tl/dsp/process_spec.h"
#include "tl/dsp/smoother.h"

namespace tl::dsp {

//! A send from a strip to one of the effect buses.
struct SendParams {
  bool on = false;
  float level_db = 0.0f;  //!< -inf (kFaderOffDb) .. +10 dB
  bool pre = false;       //!< pre-fader (the strip's fader does not move it); mute and solo still do
};

inline constexpr std::size_t kGroupBuses = 8;  //!< route 1..8
inline constexpr std::size_t kSends = 2;       //!< fx1 (reverb), fx2 (tempo delay)

//! Everything an operator sets on a strip. Plain data: copy it into the strip between blocks.
struct StripParams {
  float trim_db = 0.0f;
  bool phase_invert = false;
  std::int32_t delay_samples = 0;  //!< clamped to the prepared maximum
  bool hpf_on = false;
  float hpf_hz = 80.0f;
  Slope hpf_slope = Slope::db12;
  bool lpf_on = false;
  float lpf_hz = 16000.0f;
  Slope lpf_slope = Slope::db12;
  bool gate_on = false;
  GateParams gate{};
  EqParams eq{};  //!< all bands at 0 dB: pass-through
  bool comp_on = false;
  CompressorParams comp{};
  float fader_db = 0.0f;  //!< kFaderOffDb or below: silent
  float pan = 0.0f;       //!< -1 (left) .. +1 (right)
  bool mute = false;
  //! Where the strip's panned output goes: 0 the master, 1..kGroupBuses a group bus.
  //! Read by the mixer (the strip itself only processes).
  std::uint8_t route = 0;
  std::array<SendParams, kSends> sends{};
};

//! The strip's own set-up, fixed at prepare().
struct StripConfig {
  std::int32_t max_delay_samples = 48000;
  double smooth_ms = 20.0;  //!< gain ramps, filter glides and bypass cross-fades
};

//! One mono channel strip. prepare() allocates; set_params() and process() never allocate,
//! lock or block, so both may run on the mix thread (set_params between blocks).
class ChannelStrip {
 public:
  //! Mono in (spec.channels is not read); blocks up to spec.max_block frames.
  void prepare(const ProcessSpec& spec, const StripParams& initial = {}, const StripConfig& cfg = {});
  //! Applies new parameters; every change is smoothed over cfg.smooth_ms.
  void set_params(const StripParams& p) noexcept;
  const StripParams& params() const noexcept { return p_; }
  //! Clears filter, dynamics and delay state; parameters jump to their targets.
  void reset() noexcept;

  //! in.size() <= max_block; out_left and out_right have in.size() samples (may not alias in).
  void process(std::span<const float> in, std::span<float> out_left, std::span<float> out_right) noexcept;

  //! Mono, in place, through the fader: no pan and no meter (the mix engine pans, sums
  //! and meters the block itself). block.size() <= max_block.
  void process(std::span<float> block) noexcept;
  //! process(block) in three steps, for a caller that runs many strips' steady filters
  //! together (dsp::run_cascades): process_front() runs the trim, the delay and the filters
  //! that are switching or gliding, and puts the steady sections to run next, in order, in
  //! sections[0..k) (room for kMaxCascadeSections), returning k; process_back() runs the
  //! dynamics and the fader. block.size() <= max_block, the same block for both.
  std::size_t process_front(std::span<float> block, Biquad** sections) noexcept;
  void process_back(std::span<float> block) noexcept;

  //! The last stereo block's post-fader, pre-pan mono signal (for post-fader sends and metering).
  std::span<const float> post_fader() const noexcept { return {mono_.data(), last_n_}; }
  float gate_gain_db() const noexcept { return gate_.gain_db(); }
  float comp_gain_reduction_db() const noexcept { return comp_.gain_reduction_db(); }
  //! Post-fader meter, accumulated over blocks; the caller reads and resets it.
  PeakRmsMeter& meter() noexcept { return meter_; }

 private:
  //! Runs `stage` on the block honouring a 0..1 wet cross-fade.
  template <class Stage>
  void blend(LinearSmoother& wet, std::span<float> block, Stage&& stage) noexcept;
  void run_pass(PassFilter& f, OnePoleSmoother& logf, PassFilter::Kind kind, Slope slope,
                std::span<float> block) noexcept;
  //! Trim, delay, filters, dynamics and fader, in place.
  void run_chain(std::span<float> block) noexcept;
  //! Dynamics and fader.
  void run_back(std::span<float> block) noexcept;
  //! Moves the pan smoothers on n samples (a mono block leaves panning to the caller).
  void skip_pan(std::size_t n) noexcept;

  ProcessSpec spec_{};
  StripConfig cfg_{};
  StripParams p_{};
  LinearSmoother in_gain_, fader_, pan_l_, pan_r_;
  LinearSmoother hpf_wet_, lpf_wet_, gate_wet_, comp_wet_;
  OnePoleSmoother hpf_logf_, lpf_logf_;
  PassFilter hpf_, lpf_;
  Gate gate_;
  Equalizer eq_;
  Compressor comp_;
  std::vector<float> delay_;
  std::size_t delay_pos_ = 0;
  std::int32_t delay_cur_ = 0, delay_next_ = 0;
  std::int64_t history_ = 0;   // frames of real audio the delay line holds (0: not kept)
  bool delay_fading_ = false;  // a change's cross-fade has begun
  LinearSmoother delay_xfade_;
  std::vector<float> mono_, dry_;
  std::size_t last_n_ = 0;
  PeakRmsMeter meter_;
};

}  // namespace tl::dsp
