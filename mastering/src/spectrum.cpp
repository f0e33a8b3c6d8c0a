#include "tl/mastering/spectrum.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "mid_side.h"
#include "tl/mastering/audio_file.h"

namespace tl::mastering {
namespace {

constexpr std::size_t kFftSize = 8192;
constexpr int kFirstBand = -16;  // 1000 x 2^(-16/3) = 25 Hz

double to_db(double power) {
  return 10.0 * std::log10(std::max(power, 1e-30));
}

}  // namespace

double band_centre_hz(std::size_t band) noexcept {
  return 1000.0 * std::exp2(static_cast<double>(kFirstBand + static_cast<int>(band)) / 3.0);
}

std::array<std::vector<BinShare>, kSpectrumBands> band_shares(double bin_hz, std::size_t bins) {
  std::array<std::vector<BinShare>, kSpectrumBands> out;
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    const double lo = band_centre_hz(b) * std::exp2(-1.0 / 6.0),
                 hi = band_centre_hz(b) * std::exp2(1.0 / 6.0);
    for (std::size_t k = 1; k < bins; ++k) {
      const double from = (static_cast<double>(k) - 0.5) * bin_hz, to = from + bin_hz;
      const double overlap = std::min(to, hi) - std::max(from, lo);
      if (overlap > 0.0) out[b].push_back({k, overlap / bin_hz});
    }
  }
  return out;
}

bool in_judged_range(std::size_t band) noexcept {
  const double hz = band_centre_hz(band);
  return hz >= 60.0 && hz <= 13000.0;  // the third-octave bands 63 Hz .. 12.5 kHz
}

double Spectrum::side_to_mid_db() const noexcept {
  double mid = 0.0, side = 0.0;
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    if (!in_judged_range(b)) continue;
    mid += std::pow(10.0, mid_db[b] / 10.0);
    side += std::pow(10.0, side_db[b] / 10.0);
  }
  return to_db(side) - to_db(mid);
}

std::array<double, kSpectrumBands> tone_shape(const std::array<double, kSpectrumBands>& band_db) noexcept {
  std::array<double, kSpectrumBands> smooth{};
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    const double lo = band_db[b == 0 ? 0 : b - 1], hi = band_db[b + 1 == kSpectrumBands ? b : b + 1];
    smooth[b] = 0.25 * lo + 0.5 * band_db[b] + 0.25 * hi;
  }
  double mean = 0.0;
  int n = 0;
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    if (!in_judged_range(b)) continue;
    mean += smooth[b];
    ++n;
  }
  mean /= n;
  for (double& v : smooth) v -= mean;
  return smooth;
}

void SpectrumAnalyzer::prepare(double rate, std::size_t channels) {
  rate_ = rate;
  channels_ = channels;
  mid_.assign(kFftSize, 0.0f);
  side_.assign(kFftSize, 0.0f);
  filled_ = 0;
  window_.resize(kFftSize);
  for (std::size_t i = 0; i < kFftSize; ++i) {
    window_[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / kFftSize);
  }
  fft_.prepare(kFftSize);
  mid_sum_.assign(kFftSize / 2 + 1, 0.0);
  side_sum_.assign(kFftSize / 2 + 1, 0.0);
  windows_ = 0;
}

void SpectrumAnalyzer::add(std::span<const float> interleaved, std::size_t frames) {
  for (std::size_t i = 0; i < frames; ++i) {
    const float* f = interleaved.data() + i * channels_;
    const float l = f[0], r = channels_ > 1 ? f[1] : f[0];
    const MidSide ms = MidSide::of(l, r);
    mid_[filled_] = ms.mid;
    side_[filled_] = ms.side;
    if (++filled_ == kFftSize) {
      run_window();
      // Half overlapping: the second half becomes the next window's first.
      std::copy(mid_.begin() + kFftSize / 2, mid_.end(), mid_.begin());
      std::copy(side_.begin() + kFftSize / 2, side_.end(), side_.begin());
      filled_ = kFftSize / 2;
    }
  }
}

void SpectrumAnalyzer::run_window() {
  // Two real signals in one complex transform: z = mid + i side.
  std::vector<std::complex<double>>& z = z_;
  z.resize(kFftSize);
  for (std::size_t i = 0; i < kFftSize; ++i) {
    const double w = i < filled_ ? window_[i] : 0.0;
    z[i] = {w * mid_[i], w * side_[i]};
  }
  fft_.forward(z);
  for (std::size_t k = 0; k <= kFftSize / 2; ++k) {
    const std::complex<double> a = z[k], b = std::conj(z[(kFftSize - k) % kFftSize]);
    const std::complex<double> m = 0.5 * (a + b), s = std::complex<double>(0.0, -0.5) * (a - b);
    mid_sum_[k] += std::norm(m);
    side_sum_[k] += std::norm(s);
  }
  ++windows_;
}

Spectrum SpectrumAnalyzer::result() const {
  SpectrumAnalyzer last = *this;
  // A part window is counted only when no whole one was (a file shorter than a window).
  if (last.windows_ == 0 && last.filled_ > 0) last.run_window();
  Spectrum s;
  s.rate = rate_;
  s.fft_size = kFftSize;
  s.windows = last.windows_;
  double energy = 0.0;  // of the window: a full-scale sine's bins sum to 1/4 of it
  for (const double w : window_) energy += w * w;
  const double scale =
      last.windows_ > 0 ? 1.0 / (static_cast<double>(last.windows_) * energy * kFftSize / 4) : 0.0;
  s.mid_bins.resize(kFftSize / 2 + 1);
  s.side_bins.resize(kFftSize / 2 + 1);
  for (std::size_t k = 0; k <= kFftSize / 2; ++k) {
    s.mid_bins[k] = last.mid_sum_[k] * scale;
    s.side_bins[k] = last.side_sum_[k] * scale;
  }
  const auto shares = band_shares(s.bin_hz(1), s.mid_bins.size());
  for (std::size_t b = 0; b < kSpectrumBands; ++b) {
    double mid = 0.0, side = 0.0;
    for (const BinShare& x : shares[b]) {
      mid += x.weight * s.mid_bins[x.bin];
      side += x.weight * s.side_bins[x.bin];
    }
    s.mid_db[b] = to_db(mid);
    s.side_db[b] = to_db(side);
  }
  return s;
}

Result<Spectrum> spectrum_of_file(const std::string& path, const Progress& progress) {
  auto reader = AudioReader::open(path);
  if (!reader) return Error{reader.error()};
  const AudioInfo& info = (*reader)->info();
  if (info.channels > 2)
    return Error{"'" + path + "': " + std::to_string(info.channels) + " channels; mono or stereo only"};
  SpectrumAnalyzer analyzer;
  analyzer.prepare(info.rate, info.channels);
  std::vector<float> block(4096 * static_cast<std::size_t>(info.channels));
  std::int64_t done = 0;
  for (;;) {
    const std::size_t got = (*reader)->read(block);
    if (got == 0) break;
    analyzer.add(block, got);
    done += static_cast<std::int64_t>(got);
    if (progress && info.frames > 0)
      progress(static_cast<double>(done) / static_cast<double>(info.frames), "spectrum");
  }
  if (done == 0) return Error{"'" + path + "' holds no audio"};
  return analyzer.result();
}

}  // namespace tl::mastering
