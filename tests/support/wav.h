#pragma once
//! Reads and writes test audio files through libsndfile.

#include <cstdint>
#include <string>
#include <vector>

namespace tl::test {

struct Audio {
  int rate = 0;
  int channels = 0;
  int format = 0;                     // libsndfile SF_FORMAT_* value
  std::vector<std::int32_t> samples;  // interleaved, left-justified 32-bit (sf_read_int)
  std::int64_t frames() const { return channels ? static_cast<std::int64_t>(samples.size()) / channels : 0; }
};

//! Reads a whole file; rate==0 when it cannot be opened.
Audio read_audio(const std::string& path);

//! The largest true peak over the channels (BS.1770 as libebur128 measures it), in dBTP;
//! -inf for silence or no audio.
double true_peak_dbtp(const Audio& audio);

//! Integrated loudness (BS.1770) as libebur128 measures it, in LUFS; -inf for silence.
double integrated_lufs(const Audio& audio);

//! Loudness range (EBU Tech 3342) as libebur128 measures it, in LU.
double loudness_range_lu(const Audio& audio);

//! The amplitude (peak, 1.0 full scale) of a frequency in frames [from, from + n) of one
//! channel (Goertzel).
double tone_amplitude(const Audio& a, int channel, std::int64_t from, std::int64_t n, double hz);
//! An amplitude in dB (full scale 1.0); -180 for silence.
double amplitude_db(double amplitude);

//! Writes interleaved 32-bit left-justified samples as a WAV (a FLAC when the path ends
//! in .flac) of the given subtype (SF_FORMAT_PCM_16 or SF_FORMAT_PCM_24).
bool write_wav(const std::string& path, int rate, int channels, int subtype,
               const std::vector<std::int32_t>& samples);

}  // namespace tl::test
