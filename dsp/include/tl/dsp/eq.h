#pragma once
//! Parametric EQ bands whose frequency, gain and Q glide (no zipper noise) when changed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "tl/dsp/biquad.h"
#include "tl/dsp/process_spec.h"
#include "tl/dsp/smoother.h"

namespace tl::dsp {

enum class BandType { low_shelf, peaking, high_shelf };

//! A band type's name where people read and write it (tlctl, scene files, mastering
//! presets): "low-shelf", "peak" or "high-shelf".
std::string_view name_of(BandType t) noexcept;
//! The type a name names; none for a name that is not one of the three.
std::optional<BandType> band_type_named(std::string_view name) noexcept;

struct EqBandParams {
  BandType type = BandType::peaking;
  float freq_hz = 1000.0f;
  float gain_db = 0.0f;  //!< 0 dB is an exact pass-through
  float q = 0.707f;      //!< peaking: Q; shelves: slope (1 = steepest monotonic)
  bool on = true;        //!< off glides the gain to 0 dB, then the band is skipped
};

//! One EQ band. Parameters are smoothed (log-frequency, dB gain, Q; ~20 ms) and the
//! coefficients are recomputed every kControlInterval samples while they move.
class EqBand {
 public:
  static constexpr std::size_t kControlInterval = 16;

  //! Mono; smooth_ms is the glide time of frequency, gain and Q.
  void prepare(const ProcessSpec& spec, double smooth_ms = 20.0) noexcept;
  //! Jumps to p with no glide (use before the first block).
  void reset(const EqBandParams& p) noexcept;
  //! Glides to p; call between blocks.
  void set(const EqBandParams& p) noexcept;
  const EqBandParams& target() const noexcept { return p_; }
  //! True when the band is a settled pass-through and process() does nothing.
  bool bypassed() const noexcept { return bypassed_; }
  void process(std::span<float> block) noexcept;
  //! Coefficients currently in use.
  const BiquadCoeffs& coeffs() const noexcept { return bq_.coeffs(); }
  //! True when the band is active with fixed coefficients (can be fused with others).
  bool steady() const noexcept { return !bypassed_ && log_f_.settled() && gain_.settled() && q_.settled(); }
  Biquad& section() noexcept { return bq_; }

 private:
  void update_coeffs() noexcept;
  double fs_ = 48000.0;
  EqBandParams p_{};
  OnePoleSmoother log_f_, gain_, q_;
  Biquad bq_;
  bool bypassed_ = true;
  std::size_t phase_ = 0;
};

struct EqParams {
  bool on = true;
  std::array<EqBandParams, 4> bands{{
      {BandType::low_shelf, 100.0f, 0.0f, 1.0f, true},
      {BandType::peaking, 400.0f, 0.0f, 1.0f, true},
      {BandType::peaking, 2500.0f, 0.0f, 1.0f, true},
      {BandType::high_shelf, 8000.0f, 0.0f, 1.0f, true},
  }};
};

//! Runs k (up to 8) steady sections over one block, in order, as one fused wavefront.
void run_cascade(std::span<float> block, Biquad* const* sections, std::size_t k) noexcept;

//! Four-band EQ (low shelf, two peaking, high shelf by default).
class Equalizer {
 public:
  //! Mono.
  void prepare(const ProcessSpec& spec) noexcept {
    for (auto& b : bands_) b.prepare(spec);
  }
  void reset(const EqParams& p) noexcept {
    for (std::size_t i = 0; i < 4; ++i) bands_[i].reset(band(p, i));
  }
  void set(const EqParams& p) noexcept {
    for (std::size_t i = 0; i < 4; ++i) bands_[i].set(band(p, i));
  }
  //! Settled bands run as one fused cascade (a wavefront across SIMD lanes, so the sections'
  //! recurrences overlap); moving bands run one after the other with control-rate updates.
  void process(std::span<float> block) noexcept { process(block, {}); }
  //! As process(), with up to 4 fixed sections (e.g. a steady HPF/LPF) fused in front.
  void process(std::span<float> block, std::span<Biquad* const> pre) noexcept;
  //! process() without running the fused cascade: moving bands run on the block, and pre
  //! plus the settled bands are put in fused[0..k) (room for 8), returning k.
  std::size_t process_front(std::span<float> block, std::span<Biquad* const> pre, Biquad** fused) noexcept;
  const EqBand& band(std::size_t i) const noexcept { return bands_[i]; }

 private:
  static EqBandParams band(const EqParams& p, std::size_t i) noexcept {
    EqBandParams b = p.bands[i];
    b.on = b.on && p.on;
    return b;
  }
  std::array<EqBand, 4> bands_{};
};

}  // namespace tl::dsp
