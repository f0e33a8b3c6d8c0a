#include "tl/mastering/resample.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace tl::mastering {

Resampler::~Resampler() {
  release();
}

void Resampler::release() noexcept {
  if (soxr_ != nullptr) soxr_delete(soxr_);
  soxr_ = nullptr;
}

std::int64_t Resampler::output_frames(std::int64_t in_frames, std::uint32_t in_rate,
                                      std::uint32_t out_rate) noexcept {
  // Rounded to the nearest frame, halves up, in integers (exact for any length).
  return (in_frames * out_rate + in_rate / 2) / in_rate;
}

Status Resampler::prepare(std::uint32_t in_rate, std::uint32_t out_rate, std::size_t channels,
                          std::size_t max_block) {
  release();
  const std::string what =
      "cannot resample from " + std::to_string(in_rate) + " to " + std::to_string(out_rate) + " Hz";
  if (in_rate == 0 || out_rate == 0 || channels == 0) return Error{what + ": a rate or channel count of 0"};
  soxr_error_t error = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, 0);  // linear phase, 0.01 dB roll-off
  soxr_ = soxr_create(in_rate, out_rate, static_cast<unsigned>(channels), &error, &io, &quality, nullptr);
  if (soxr_ == nullptr || error != nullptr) {
    release();
    return Error{what + " (libsoxr: " + soxr_strerror(error) + ")"};
  }
  in_rate_ = in_rate;
  out_rate_ = out_rate;
  channels_ = channels;
  frames_in_ = frames_out_ = 0;
  // Room for a block's worth of output and the bursts libsoxr gives between its stages;
  // run() grows it if a burst is larger still.
  const auto per_block = static_cast<std::size_t>(
      std::ceil(static_cast<double>(max_block) * out_rate / static_cast<double>(in_rate)));
  out_.assign((2 * per_block + 1024) * channels, 0.0f);
  return {};
}

// Feeds frames (in == nullptr: the end of the input, drained once) and appends what comes
// out to out_ from produced on.
Status Resampler::run(const float* in, std::size_t frames, std::size_t& produced) {
  std::size_t used = 0;
  for (;;) {
    if (produced == out_.size() / channels_) out_.resize(out_.size() * 2);
    std::size_t idone = 0, odone = 0;
    const soxr_error_t error =
        soxr_process(soxr_, in == nullptr ? nullptr : in + used * channels_, frames - used, &idone,
                     out_.data() + produced * channels_, out_.size() / channels_ - produced, &odone);
    if (error != nullptr) {
      return Error{"resampling from " + std::to_string(in_rate_) + " to " + std::to_string(out_rate_) +
                   " Hz failed (libsoxr: " + error + ")"};
    }
    if (in != nullptr && idone == 0 && odone == 0) {
      return Error{"resampling from " + std::to_string(in_rate_) + " to " + std::to_string(out_rate_) +
                   " Hz stalled: libsoxr took no input and gave no output"};
    }
    used += idone;
    produced += odone;
    // Input: until it is all taken. The end: until the filter gives nothing more.
    if (in != nullptr ? used == frames : odone == 0) return {};
  }
}

Result<std::span<float>> Resampler::process(std::span<const float> interleaved) {
  if (soxr_ == nullptr) return Error{"the resampler was not prepared"};
  const std::size_t frames = interleaved.size() / channels_;
  std::size_t produced = 0;
  if (frames > 0) {
    if (Status s = run(interleaved.data(), frames, produced); !s) return Error{s.error()};
  }
  frames_in_ += static_cast<std::int64_t>(frames);
  frames_out_ += static_cast<std::int64_t>(produced);
  return std::span<float>(out_).first(produced * channels_);
}

Result<std::span<float>> Resampler::finish() {
  if (soxr_ == nullptr) return Error{"the resampler was not prepared"};
  std::size_t produced = 0;
  if (Status s = run(nullptr, 0, produced); !s) return Error{s.error()};
  release();
  // libsoxr ends on the rounded length itself (measured: 48 to 44.1 kHz and back, odd
  // lengths); the cut or the zeros here only settle how a half frame rounds.
  const std::int64_t want =
      std::max<std::int64_t>(0, output_frames(frames_in_, in_rate_, out_rate_) - frames_out_);
  const auto frames = static_cast<std::size_t>(want);
  if (frames * channels_ > out_.size()) out_.resize(frames * channels_);
  if (produced < frames)
    std::fill(out_.begin() + static_cast<std::ptrdiff_t>(produced * channels_),
              out_.begin() + static_cast<std::ptrdiff_t>(frames * channels_), 0.0f);
  frames_out_ += want;
  return std::span<float>(out_).first(frames * channels_);
}

}  // namespace tl::mastering
