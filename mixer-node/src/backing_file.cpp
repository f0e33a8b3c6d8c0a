#include "tl/mixer/backing_file.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

namespace tl::mixer {

Status BackingFile::open(const std::filesystem::path& path) {
  close();
  SF_INFO info{};
  file_ = sf_open(path.c_str(), SFM_READ, &info);
  if (file_ == nullptr) return Error{"cannot read '" + path.string() + "': " + sf_strerror(nullptr)};
  channels_ = static_cast<std::uint32_t>(info.channels);
  file_rate_ = static_cast<std::uint32_t>(info.samplerate);
  if (file_rate_ != rate_ && channels_ > 2) {
    close();
    return Error{"'" + path.string() + "' is at " + std::to_string(file_rate_) + " Hz with " +
                 std::to_string(channels_) + " channels: only mono and stereo files are resampled to the " +
                 std::to_string(rate_) + " Hz of the session; convert it first"};
  }
  frames_ =
      file_rate_ == rate_ ? info.frames : mastering::Resampler::output_frames(info.frames, file_rate_, rate_);
  file_at_ = 0;
  pending_from_ = -1;
  return {};
}

void BackingFile::close() noexcept {
  if (file_ != nullptr) sf_close(file_);
  file_ = nullptr;
}

std::uint32_t BackingFile::read(MediaTime file_frame, float* out, std::uint32_t frames) {
  const auto ch = static_cast<std::size_t>(channels_);
  if (file_ == nullptr || file_frame < 0) return 0;
  if (file_rate_ == rate_) {
    if (file_at_ != file_frame) file_at_ = sf_seek(file_, file_frame, SEEK_SET);
    if (file_at_ != file_frame) return 0;
    const sf_count_t got = sf_readf_float(file_, out, frames);
    file_at_ += std::max<sf_count_t>(got, 0);
    return static_cast<std::uint32_t>(std::max<sf_count_t>(got, 0));
  }
  const std::size_t have = pending_.size() / ch;
  if (pending_from_ < 0 || file_frame < pending_from_ ||
      file_frame > pending_from_ + static_cast<MediaTime>(have)) {
    const std::uint32_t g = std::gcd(rate_, file_rate_);
    const MediaTime out_step = rate_ / g, in_step = file_rate_ / g;
    const MediaTime aligned = std::max<MediaTime>(file_frame - kWarmUp, 0) / out_step * out_step;
    const MediaTime in_frame = aligned / out_step * in_step;
    if (const Status s = resampler_.prepare(file_rate_, rate_, ch, 4096); !s) {
      spdlog::error("backing track '{}': {}", name_, s.error());
      return 0;
    }
    file_at_ = sf_seek(file_, in_frame, SEEK_SET);
    if (file_at_ != in_frame) return 0;
    pending_.clear();
    pending_from_ = aligned;
    finished_ = false;
  }
  const auto need = static_cast<std::size_t>(file_frame - pending_from_) + frames;
  while (pending_.size() / ch < need && !finished_) {
    in_.resize(4096 * ch);
    const sf_count_t got = sf_readf_float(file_, in_.data(), 4096);
    Result<std::span<float>> produced =
        got > 0 ? resampler_.process(std::span<const float>(in_.data(), static_cast<std::size_t>(got) * ch))
                : resampler_.finish();
    if (got <= 0) finished_ = true;
    if (!produced) {
      spdlog::error("backing track '{}': {}", name_, produced.error());
      finished_ = true;
      break;
    }
    file_at_ += std::max<sf_count_t>(got, 0);
    pending_.insert(pending_.end(), produced->begin(), produced->end());
  }
  const auto skip = static_cast<std::size_t>(file_frame - pending_from_);
  const std::size_t avail = pending_.size() / ch > skip ? pending_.size() / ch - skip : 0;
  const std::size_t n = std::min<std::size_t>(avail, frames);
  std::copy_n(pending_.begin() + static_cast<std::ptrdiff_t>(skip * ch), n * ch, out);
  const std::size_t used = std::min(skip + n, pending_.size() / ch);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used * ch));
  pending_from_ = file_frame + static_cast<MediaTime>(n);
  return static_cast<std::uint32_t>(n);
}

}  // namespace tl::mixer
