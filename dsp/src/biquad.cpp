#include "tl/dsp/biquad.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tl::dsp {
namespace {

struct Raw {
  double b0, b1, b2, a0, a1, a2;
};

BiquadCoeffs normalise(const Raw& r) noexcept {
  return {r.b0 / r.a0, r.b1 / r.a0, r.b2 / r.a0, r.a1 / r.a0, r.a2 / r.a0};
}

double omega(double fs, double f) noexcept {
  // Keep the design inside (0, Nyquist) so tan/sin stay finite.
  const double nyq = 0.5 * fs;
  const double fc = std::clamp(f, 1e-3, nyq * 0.9999);
  return 2.0 * std::numbers::pi * fc / fs;
}

}  // namespace

BiquadCoeffs BiquadCoeffs::lowpass(double fs, double f, double q) noexcept {
  const double w = omega(fs, f);
  const double cw = std::cos(w);
  const double alpha = std::sin(w) / (2.0 * q);
  return normalise({(1.0 - cw) / 2.0, 1.0 - cw, (1.0 - cw) / 2.0, 1.0 + alpha, -2.0 * cw, 1.0 - alpha});
}

BiquadCoeffs BiquadCoeffs::highpass(double fs, double f, double q) noexcept {
  const double w = omega(fs, f);
  const double cw = std::cos(w);
  const double alpha = std::sin(w) / (2.0 * q);
  return normalise({(1.0 + cw) / 2.0, -(1.0 + cw), (1.0 + cw) / 2.0, 1.0 + alpha, -2.0 * cw, 1.0 - alpha});
}

BiquadCoeffs BiquadCoeffs::peaking(double fs, double f, double q, double gain_db) noexcept {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = omega(fs, f);
  const double cw = std::cos(w);
  const double alpha = std::sin(w) / (2.0 * q);
  return normalise(
      {1.0 + alpha * a, -2.0 * cw, 1.0 - alpha * a, 1.0 + alpha / a, -2.0 * cw, 1.0 - alpha / a});
}

BiquadCoeffs BiquadCoeffs::low_shelf(double fs, double f, double gain_db, double slope) noexcept {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = omega(fs, f);
  const double cw = std::cos(w);
  const double alpha = std::sin(w) / 2.0 * std::sqrt((a + 1.0 / a) * (1.0 / slope - 1.0) + 2.0);
  const double k = 2.0 * std::sqrt(a) * alpha;
  return normalise({a * ((a + 1.0) - (a - 1.0) * cw + k), 2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
                    a * ((a + 1.0) - (a - 1.0) * cw - k), (a + 1.0) + (a - 1.0) * cw + k,
                    -2.0 * ((a - 1.0) + (a + 1.0) * cw), (a + 1.0) + (a - 1.0) * cw - k});
}

BiquadCoeffs BiquadCoeffs::high_shelf(double fs, double f, double gain_db, double slope) noexcept {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = omega(fs, f);
  const double cw = std::cos(w);
  const double alpha = std::sin(w) / 2.0 * std::sqrt((a + 1.0 / a) * (1.0 / slope - 1.0) + 2.0);
  const double k = 2.0 * std::sqrt(a) * alpha;
  return normalise({a * ((a + 1.0) + (a - 1.0) * cw + k), -2.0 * a * ((a - 1.0) + (a + 1.0) * cw),
                    a * ((a + 1.0) + (a - 1.0) * cw - k), (a + 1.0) - (a - 1.0) * cw + k,
                    2.0 * ((a - 1.0) - (a + 1.0) * cw), (a + 1.0) - (a - 1.0) * cw - k});
}

std::complex<double> response(const BiquadCoeffs& c, double fs, double f) noexcept {
  const double w = 2.0 * std::numbers::pi * f / fs;
  const std::complex<double> z1 = std::polar(1.0, -w);
  const std::complex<double> z2 = z1 * z1;
  return (c.b0 + c.b1 * z1 + c.b2 * z2) / (1.0 + c.a1 * z1 + c.a2 * z2);
}

double magnitude(const BiquadCoeffs& c, double fs, double f) noexcept {
  return std::abs(response(c, fs, f));
}

double magnitude_db(const BiquadCoeffs& c, double fs, double f) noexcept {
  return 20.0 * std::log10(std::max(magnitude(c, fs, f), 1e-30));
}

double butterworth_q(int order, int k) noexcept {
  // Poles of an order-n Butterworth sit at angles (2k+1)pi/(2n) from the imaginary axis.
  const double theta = (2.0 * k + 1.0) * std::numbers::pi / (2.0 * order);
  return 1.0 / (2.0 * std::sin(theta));
}

void PassFilter::design(Kind kind, double fs, double f, Slope slope) noexcept {
  if (slope != slope_) reset();
  slope_ = slope;
  const int order = slope == Slope::db24 ? 4 : 2;
  const int n = slope == Slope::off ? 0 : order / 2;
  for (int k = 0; k < n; ++k) {
    const double q = butterworth_q(order, k);
    sections_[static_cast<std::size_t>(k)].set(kind == Kind::lowpass ? BiquadCoeffs::lowpass(fs, f, q)
                                                                     : BiquadCoeffs::highpass(fs, f, q));
  }
}

double PassFilter::magnitude(double fs, double f) const noexcept {
  if (slope_ == Slope::off) return 1.0;
  double m = tl::dsp::magnitude(sections_[0].coeffs(), fs, f);
  if (slope_ == Slope::db24) m *= tl::dsp::magnitude(sections_[1].coeffs(), fs, f);
  return m;
}

}  // namespace tl::dsp
