#include "tl/mixer/track_writer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "tl/protocol/pcm.h"

namespace tl::mixer {
namespace {
constexpr std::uint32_t kChunkFrames = 4096;

}  // namespace

Result<std::unique_ptr<TrackWriter>> TrackWriter::open(const std::string& path, const TrackFileInfo& info,
                                                       std::uint32_t window_frames) {
  SF_INFO sf{};
  sf.samplerate = static_cast<int>(info.sample_rate);
  sf.channels = static_cast<int>(info.channels);
  sf.format = SF_FORMAT_RF64 | SF_FORMAT_PCM_24;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &sf);
  if (file == nullptr) {
    return Error{"cannot create '" + path + "': " + sf_strerror(nullptr)};
  }
  sf_command(file, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
  SF_BROADCAST_INFO bext{};
  std::strncpy(bext.description, info.description.c_str(), sizeof bext.description - 1);
  std::strncpy(bext.originator, "tracklink", sizeof bext.originator - 1);
  const auto ref = static_cast<std::uint64_t>(std::max<MediaTime>(info.time_reference, 0));
  bext.time_reference_low = static_cast<std::uint32_t>(ref & 0xFFFFFFFFu);
  bext.time_reference_high = static_cast<std::uint32_t>(ref >> 32);
  bext.version = 1;
  bext.coding_history_size = 0;
  if (sf_command(file, SFC_SET_BROADCAST_INFO, &bext, sizeof bext) != SF_TRUE) {
    sf_close(file);
    return Error{"cannot set the BWF bext chunk of '" + path + "'"};
  }
  return std::unique_ptr<TrackWriter>(new TrackWriter(file, info.channels, window_frames));
}

TrackWriter::TrackWriter(SNDFILE* file, std::uint32_t channels, std::uint32_t window_frames)
    : file_(file),
      channels_(channels),
      window_(std::bit_ceil(std::max<std::uint32_t>(window_frames, kChunkFrames))),
      mask_(window_ - 1),
      samples_(std::make_unique<float[]>(static_cast<std::size_t>(window_) * channels)),
      present_(std::make_unique<std::uint8_t[]>(window_)),
      out_(std::make_unique<std::int32_t[]>(static_cast<std::size_t>(kChunkFrames) * channels)) {
  std::memset(present_.get(), 0, window_);
}

TrackWriter::~TrackWriter() {
  if (!closed_) sf_close(file_);
}

void TrackWriter::put(std::int64_t offset, std::span<const float> interleaved) {
  const auto frames = static_cast<std::int64_t>(interleaved.size() / channels_);
  if (frames == 0) return;
  if (offset + frames > head_ + window_) flush_until(offset + frames - window_);
  for (std::int64_t f = 0; f < frames; ++f) {
    const std::int64_t at = offset + f;
    if (at < head_) {
      ++late_;
      continue;
    }
    const std::size_t idx = static_cast<std::size_t>(at) & mask_;
    std::memcpy(&samples_[idx * channels_], &interleaved[static_cast<std::size_t>(f) * channels_],
                channels_ * sizeof(float));
    present_[idx] = 1;
    if (first_offset_ < 0 || at < first_offset_) first_offset_ = at;
  }
}

void TrackWriter::write_run(std::int64_t until) {
  while (head_ < until) {
    const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(until - head_, kChunkFrames));
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::size_t idx = static_cast<std::size_t>(head_ + i) & mask_;
      const bool have = present_[idx] != 0;
      // A gap counts as lost once audio resumes after it; silence after the
      // node's last audio (it stopped or the take ended) is not a loss.
      if (have) {
        lost_ += pending_gap_;
        pending_gap_ = 0;
      } else if (first_offset_ >= 0 && head_ + i >= first_offset_) {
        ++pending_gap_;
      }
      for (std::uint32_t c = 0; c < channels_; ++c) {
        const float v = have ? samples_[idx * channels_ + c] : 0.0f;
        bool clipped = false;
        out_[i * channels_ + c] = protocol::float_to_int24(v, clipped) * 256;
        if (clipped) ++clipped_;
        const double a = std::fabs(static_cast<double>(v));
        peak_ = std::max(peak_, std::min(a, 1.0));
        sum_sq_ += static_cast<double>(v) * v;
      }
      present_[idx] = 0;
    }
    counted_ += static_cast<std::uint64_t>(n) * channels_;
    sf_writef_int(file_, out_.get(), n);
    head_ += n;
  }
}

void TrackWriter::flush_until(std::int64_t offset) {
  if (offset > head_) write_run(offset);
}

void TrackWriter::update_header() {
  if (!closed_) sf_command(file_, SFC_UPDATE_HEADER_NOW, nullptr, 0);
}

void TrackWriter::finish(std::int64_t total_frames) {
  if (closed_) return;
  flush_until(total_frames);
  sf_close(file_);
  closed_ = true;
}

double TrackWriter::rms() const noexcept {
  return counted_ == 0 ? 0.0 : std::sqrt(sum_sq_ / static_cast<double>(counted_));
}

}  // namespace tl::mixer
