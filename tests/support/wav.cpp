#include "wav.h"

#include <sndfile.h>

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

bool write_wav(const std::string& path, int rate, int channels, int subtype,
               const std::vector<std::int32_t>& samples) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | subtype;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (f == nullptr) return false;
  const sf_count_t frames = static_cast<sf_count_t>(samples.size()) / channels;
  const bool ok = sf_writef_int(f, samples.data(), frames) == frames;
  sf_close(f);
  return ok;
}

}  // namespace tl::test
