#include "wav.h"

#include <ebur128.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tl::test {

Audio read_audio(const std::string& path) {
  Audio a;
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return a;
  a.rate = info.samplerate;
  a.channels = info.channels;
  a.format = info.format;
  a.samples.resize(static_cast<std::size_t>(info.frames * info.channels));
  const sf_count_t got = sf_readf_int(f, a.samples.data(), info.frames);
  a.samples.resize(static_cast<std::size_t>(got * info.channels));
  sf_close(f);
  return a;
}

double tone_amplitude(const Audio& a, int channel, std::int64_t from, std::int64_t n, double hz) {
  const double w = 2.0 * M_PI * hz / a.rate;
  double s1 = 0.0, s2 = 0.0;
  for (std::int64_t f = from; f < from + n; ++f) {
    const double x =
        static_cast<double>(a.samples[static_cast<std::size_t>(f * a.channels + channel)]) / 2147483648.0;
    const double s0 = x + 2.0 * std::cos(w) * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return 2.0 * std::sqrt(s1 * s1 + s2 * s2 - 2.0 * std::cos(w) * s1 * s2) / static_cast<double>(n);
}

double amplitude_db(double amplitude) {
  return 20.0 * std::log10(std::max(amplitude, 1e-9));
}

double true_peak_dbtp(const Audio& audio) {
  if (audio.channels <= 0 || audio.frames() == 0) return -std::numeric_limits<double>::infinity();
  ebur128_state* st = ebur128_init(static_cast<unsigned>(audio.channels),
                                   static_cast<unsigned long>(audio.rate), EBUR128_MODE_TRUE_PEAK);
  if (st == nullptr) return std::numeric_limits<double>::quiet_NaN();
  ebur128_add_frames_int(st, audio.samples.data(), static_cast<std::size_t>(audio.frames()));
  double peak = 0.0;
  for (int c = 0; c < audio.channels; ++c) {
    double p = 0.0;
    if (ebur128_true_peak(st, static_cast<unsigned>(c), &p) == EBUR128_SUCCESS) peak = std::max(peak, p);
  }
  ebur128_destroy(&st);
  return peak > 0.0 ? 20.0 * std::log10(peak) : -std::numeric_limits<double>::infinity();
}

namespace {

double ebur128_figure(const Audio& audio, int mode, int (*get)(ebur128_state*, double*)) {
  if (audio.channels <= 0 || audio.frames() == 0) return -std::numeric_limits<double>::infinity();
  ebur128_state* st =
      ebur128_init(static_cast<unsigned>(audio.channels), static_cast<unsigned long>(audio.rate), mode);
  if (st == nullptr) return std::numeric_limits<double>::quiet_NaN();
  ebur128_add_frames_int(st, audio.samples.data(), static_cast<std::size_t>(audio.frames()));
  double v = std::numeric_limits<double>::quiet_NaN();
  if (get(st, &v) != EBUR128_SUCCESS) v = std::numeric_limits<double>::quiet_NaN();
  ebur128_destroy(&st);
  return v;
}

}  // namespace

double integrated_lufs(const Audio& audio) {
  return ebur128_figure(audio, EBUR128_MODE_I,
                        [](ebur128_state* st, double* v) { return ebur128_loudness_global(st, v); });
}

double loudness_range_lu(const Audio& audio) {
  return ebur128_figure(audio, EBUR128_MODE_LRA,
                        [](ebur128_state* st, double* v) { return ebur128_loudness_range(st, v); });
}

bool write_wav(const std::string& path, int rate, int channels, int subtype,
               const std::vector<std::int32_t>& samples) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = (path.ends_with(".flac") ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | subtype;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (f == nullptr) return false;
  const sf_count_t frames = static_cast<sf_count_t>(samples.size()) / channels;
  const bool ok = sf_writef_int(f, samples.data(), frames) == frames;
  sf_close(f);
  return ok;
}

}  // namespace tl::test
