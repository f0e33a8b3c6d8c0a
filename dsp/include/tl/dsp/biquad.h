#pragma once
//! Second-order IIR sections (RBJ audio-EQ cookbook designs) and their analytic response.
//!
//! Coefficients are computed and stored in double precision; the filter runs in
//! transposed direct form II with double state. All types are small value types:
//! no allocation, no locks, process() is real-time safe.

#include <array>
#include <cmath>
#include <complex>
#include <cstddef>
#include <span>

namespace tl::dsp {

//! Normalised biquad coefficients (a0 == 1):
//! H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
struct BiquadCoeffs {
  double b0 = 1.0, b1 = 0.0, b2 = 0.0, a1 = 0.0, a2 = 0.0;

  //! Identity (pass-through) section.
  static constexpr BiquadCoeffs identity() noexcept { return {}; }
  //! 2nd-order low-pass, -3 dB at f (for q = 1/sqrt 2).
  static BiquadCoeffs lowpass(double fs, double f, double q) noexcept;
  //! 2nd-order high-pass.
  static BiquadCoeffs highpass(double fs, double f, double q) noexcept;
  //! Peaking EQ: gain_db at f, bandwidth set by q (RBJ "constant-Q" form).
  static BiquadCoeffs peaking(double fs, double f, double q, double gain_db) noexcept;
  //! Low shelf: gain_db below f, 0 dB above; slope s (1 = steepest without overshoot).
  static BiquadCoeffs low_shelf(double fs, double f, double gain_db, double slope = 1.0) noexcept;
  //! High shelf: gain_db above f, 0 dB below.
  static BiquadCoeffs high_shelf(double fs, double f, double gain_db, double slope = 1.0) noexcept;
};

//! Complex response H(e^jw) at frequency f (Hz) for sample rate fs.
std::complex<double> response(const BiquadCoeffs& c, double fs, double f) noexcept;
//! |H(e^jw)| at frequency f.
double magnitude(const BiquadCoeffs& c, double fs, double f) noexcept;
//! |H| in dB at frequency f.
double magnitude_db(const BiquadCoeffs& c, double fs, double f) noexcept;

//! Q of each 2nd-order section of an order-n Butterworth (n even), index k in [0, n/2).
double butterworth_q(int order, int k) noexcept;

//! One biquad section with its state.
class Biquad {
 public:
  Biquad() = default;
  explicit Biquad(const BiquadCoeffs& c) noexcept : c_(c) {}

  //! Replaces the coefficients; the state is kept (use for smoothed updates).
  void set(const BiquadCoeffs& c) noexcept { c_ = c; }
  const BiquadCoeffs& coeffs() const noexcept { return c_; }
  //! Clears the state (silence in, silence out).
  void reset() noexcept { s1_ = s2_ = 0.0; }
  void get_state(double& s1, double& s2) const noexcept {
    s1 = s1_;
    s2 = s2_;
  }
  void set_state(double s1, double s2) noexcept {
    s1_ = s1;
    s2_ = s2;
  }
  //! Zeroes a state that has decayed to denormal range (call once per block on per-sample paths).
  void flush() noexcept {
    if (std::abs(s1_) < 1e-30) s1_ = 0.0;
    if (std::abs(s2_) < 1e-30) s2_ = 0.0;
  }

  float process(float x) noexcept {
    const double in = x;
    const double y = c_.b0 * in + s1_;
    s1_ = (c_.b1 * in + s2_) - c_.a1 * y;  // y enters last: short recurrence
    s2_ = c_.b2 * in - c_.a2 * y;
    return static_cast<float>(y);
  }
  double process(double in) noexcept {
    const double y = c_.b0 * in + s1_;
    s1_ = (c_.b1 * in + s2_) - c_.a1 * y;  // y enters last: short recurrence
    s2_ = c_.b2 * in - c_.a2 * y;
    return y;
  }
  //! In-place block processing.
  void process(std::span<float> block) noexcept {
    double s1 = s1_, s2 = s2_;
    const BiquadCoeffs c = c_;
    for (float& v : block) {
      const double in = v;
      const double y = c.b0 * in + s1;
      s1 = (c.b1 * in + s2) - c.a1 * y;  // y enters last: short recurrence
      s2 = c.b2 * in - c.a2 * y;
      v = static_cast<float>(y);
    }
    // Flush denormals: the state decays toward zero on silence.
    s1_ = std::abs(s1) < 1e-30 ? 0.0 : s1;
    s2_ = std::abs(s2) < 1e-30 ? 0.0 : s2;
  }

 private:
  BiquadCoeffs c_{};
  double s1_ = 0.0, s2_ = 0.0;
};

//! Filter slope for the strip's high- and low-pass filters.
enum class Slope { off, db12, db24 };

//! Butterworth low- or high-pass of 12 dB/oct (one section) or 24 dB/oct (two sections).
class PassFilter {
 public:
  enum class Kind { lowpass, highpass };
  PassFilter() = default;
  PassFilter(Kind kind, double fs, double f, Slope slope) noexcept { design(kind, fs, f, slope); }

  //! Sets the design; keeps the state so a change between blocks does not click.
  void design(Kind kind, double fs, double f, Slope slope) noexcept;
  Slope slope() const noexcept { return slope_; }
  void reset() noexcept {
    for (auto& s : sections_) s.reset();
  }
  void process(std::span<float> block) noexcept {
    if (slope_ == Slope::off) return;
    sections_[0].process(block);
    if (slope_ == Slope::db24) sections_[1].process(block);
  }
  float process(float x) noexcept {
    if (slope_ == Slope::off) return x;
    x = sections_[0].process(x);
    if (slope_ == Slope::db24) x = sections_[1].process(x);
    return x;
  }
  //! Analytic |H| of the current design.
  double magnitude(double fs, double f) const noexcept;
  const BiquadCoeffs& section(std::size_t i) const noexcept { return sections_[i].coeffs(); }
  //! The active sections (0, 1 or 2), for fusing into a longer cascade.
  std::size_t sections(Biquad** out) noexcept {
    if (slope_ == Slope::off) return 0;
    out[0] = &sections_[0];
    if (slope_ == Slope::db12) return 1;
    out[1] = &sections_[1];
    return 2;
  }

 private:
  std::array<Biquad, 2> sections_{};
  Slope slope_ = Slope::off;
};

}  // namespace tl::dsp
