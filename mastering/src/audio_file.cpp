#include "tl/mastering/audio_file.h"

#include <sndfile.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tl::mastering {
namespace {

SNDFILE* sf(void* p) {
  return static_cast<SNDFILE*>(p);
}

}  // namespace

std::string subtype_name(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
      return "PCM 8-bit";
    case SF_FORMAT_PCM_16:
      return "PCM 16-bit";
    case SF_FORMAT_PCM_24:
      return "PCM 24-bit";
    case SF_FORMAT_PCM_32:
      return "PCM 32-bit";
    case SF_FORMAT_FLOAT:
      return "float";
    case SF_FORMAT_DOUBLE:
      return "double";
    default:
      return "other";
  }
}

Result<std::unique_ptr<AudioReader>> AudioReader::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error{"'" + path + "': no such file"};
  if (std::filesystem::is_directory(path, ec)) return Error{"'" + path + "' is a folder, not an audio file"};
  SF_INFO i{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &i);
  if (file == nullptr) return Error{"'" + path + "' is not a readable audio file: " + sf_strerror(nullptr)};
  if (i.channels < 1 || i.samplerate < 8000 || i.samplerate > 384000) {
    sf_close(file);
    return Error{"'" + path + "' has " + std::to_string(i.channels) + " channel(s) at " +
                 std::to_string(i.samplerate) + " Hz: not something to master"};
  }
  // Normalised floats in: full scale is 1.0 whatever the file's depth.
  sf_command(file, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
  AudioInfo info{.path = path,
                 .rate = static_cast<std::uint32_t>(i.samplerate),
                 .channels = static_cast<std::uint32_t>(i.channels),
                 .frames = i.frames,
                 .format = i.format};
  return std::unique_ptr<AudioReader>(new AudioReader(file, std::move(info)));
}

AudioReader::~AudioReader() {
  sf_close(sf(file_));
}

std::size_t AudioReader::read(std::span<float> interleaved) {
  const sf_count_t want = static_cast<sf_count_t>(interleaved.size() / info_.channels);
  const sf_count_t got = sf_readf_float(sf(file_), interleaved.data(), want);
  return got > 0 ? static_cast<std::size_t>(got) : 0;
}

Status AudioReader::seek(std::int64_t frame) {
  if (sf_seek(sf(file_), frame, SEEK_SET) != frame) {
    return Error{"cannot read '" + info_.path + "' from frame " + std::to_string(frame)};
  }
  return {};
}

Status AudioReader::rewind() {
  if (sf_seek(sf(file_), 0, SEEK_SET) != 0)
    return Error{"cannot read '" + info_.path + "' again from its start"};
  return {};
}

Result<std::unique_ptr<AudioWriter>> AudioWriter::create(const std::string& path, std::uint32_t rate,
                                                         std::uint32_t channels, int format) {
  SF_INFO i{};
  i.samplerate = static_cast<int>(rate);
  i.channels = static_cast<int>(channels);
  i.format = format;
  if (sf_format_check(&i) == 0) {
    return Error{"'" + path + "': this container cannot hold " + subtype_name(format) + " audio"};
  }
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &i);
  if (file == nullptr) return Error{"cannot create '" + path + "': " + sf_strerror(nullptr)};
  // Over full scale is clipped, never wrapped (the limiter keeps it under, dither aside).
  sf_command(file, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  return std::unique_ptr<AudioWriter>(new AudioWriter(file, path, channels));
}

AudioWriter::~AudioWriter() {
  if (file_ != nullptr) sf_close(sf(file_));
}

Status AudioWriter::write(std::span<const float> interleaved) {
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size() / channels_);
  errno = 0;
  if (sf_writef_float(sf(file_), interleaved.data(), frames) != frames) {
    const int e = errno;
    return Error{"cannot write '" + path_ + "': " + (e != 0 ? std::strerror(e) : sf_strerror(sf(file_)))};
  }
  return {};
}

Status AudioWriter::close() {
  if (file_ == nullptr) return {};
  const int err = sf_close(sf(file_));
  file_ = nullptr;
  if (err != 0) return Error{"cannot finish '" + path_ + "': " + sf_error_number(err)};
  return {};
}

}  // namespace tl::mastering
