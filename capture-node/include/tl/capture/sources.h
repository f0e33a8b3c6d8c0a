#pragma once
//! Generated audio sources: tone, click, noise and file player.
//!
//! Each renders one block at a time into planar float buffers. render() is
//! real-time safe: no locks, allocation, logging or I/O (files are read fully
//! at open()).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tl/capture/block_queue.h"
#include "tl/capture/options.h"
#include "tl/capture/sim_clock.h"
#include "tl/common/result.h"

namespace tl::capture {

class GeneratedSource {
 public:
  virtual ~GeneratedSource() = default;
  //! Fills planar (channels x frames, channel c at planar + c*frames) for the block
  //! described by info (already stamped). May OR flags into info.flags.
  virtual void render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept = 0;
};

//! A sine at hz on every channel, peak amplitude from level_db (dBFS).
class ToneSource final : public GeneratedSource {
 public:
  ToneSource(double hz, float level_db, std::uint32_t rate) noexcept;
  void render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept override;

 private:
  double phase_ = 0.0;  // cycles, in [0, 1)
  double step_;
  float gain_;
};

//! One-sample impulses of 0.5 at every multiple of the period (period samples at
//! rate, as time: 1s, 500ms, ...) of the REAL monotonic clock, so clicks of several
//! nodes on one machine coincide in real time whatever their (simulated) clocks.
//! A click at real time T goes on the sample of the node's own stream captured at
//! T: node time N = clock.node_ns(T), stream sample n = floor((N - origin) * rate / 1e9)
//! where origin = capture_ns - frames_to_ns(frame) is the node time of the stream's
//! frame 0 (the producer keeps capture_ns = origin + frames_to_ns(frame)). n depends
//! on T only, so each click lands exactly once whatever the block boundaries.
//! Silent until stamped (no timeline yet).
//!
//! Shape::Pulse puts a band-limited pulse instead (pulse:PERIOD): a Blackman-windowed
//! sinc, its peak kAmplitude, centred on the exact instant between samples
//! ((N - origin) * rate / 1e9, not its floor), spread over kPulseHalf samples either
//! side and below 0.25 of the rate. Its energy centroid (sum n*x[n]^2 / sum x[n]^2) is
//! that instant to a few thousandths of a sample, so alignment is measured without
//! the one-sample clicks' quantisation (each node rounds down its own fraction).
class ClickSource final : public GeneratedSource {
 public:
  enum class Shape { OneSample, Pulse };
  ClickSource(std::int64_t period, std::uint32_t rate, const SimClock& clock = SimClock::real(),
              Shape shape = Shape::OneSample) noexcept
      : period_ns_(frames_to_ns(period, rate)), rate_(rate), clock_(clock), shape_(shape) {}
  void render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept override;
  static constexpr float kAmplitude = 0.5f;
  static constexpr std::int64_t kPulseHalf = 16;

  //! The stream sample that holds the click at real time real_ns (see above).
  std::int64_t click_frame(std::int64_t real_ns, std::int64_t origin_ns) const noexcept;
  //! Where the instant real_ns falls in the stream, between samples: click_frame + a
  //! fraction in [0, 1). A pulse is centred here.
  double click_position(std::int64_t real_ns, std::int64_t origin_ns) const noexcept;
  //! The pulse's value x samples from its centre (0 beyond kPulseHalf).
  static double pulse(double x) noexcept;

 private:
  std::int64_t period_ns_;
  std::uint32_t rate_;
  const SimClock& clock_;
  Shape shape_;
};

//! White noise, uniform, peak at level_db, independent per channel, seeded.
class NoiseSource final : public GeneratedSource {
 public:
  NoiseSource(float level_db, std::uint64_t seed) noexcept;
  void render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept override;

 private:
  std::uint64_t state_;
  float gain_;
};

//! Plays a WAV/FLAC file read fully at open(). Samples are read as left-justified
//! 32-bit integers and divided by 2^31, which is exact for 16- and 24-bit files,
//! so PCM24 on the wire carries them bit-exactly. After the end: silence flagged
//! kFlagSilence, or the file again with loop.
class FileSource final : public GeneratedSource {
 public:
  //! Errors (clear, for the operator): unreadable file, rate != rate (no resampling),
  //! channels given and different from the file's. channels == 0: take the file's.
  static Result<std::unique_ptr<FileSource>> open(const std::string& path, std::uint32_t rate, int channels,
                                                  bool loop);

  int channels() const noexcept { return channels_; }
  std::int64_t frames() const noexcept { return frames_; }
  void render(BlockInfo& info, float* planar, std::size_t channels, std::size_t frames) noexcept override;

 private:
  FileSource() = default;
  std::vector<std::int32_t> samples_;  // interleaved, left-justified
  int channels_ = 0;
  std::int64_t frames_ = 0;
  std::int64_t pos_ = 0;
  bool loop_ = false;
};

//! Converts a left-justified 32-bit sample to float in [-1, 1) (exact for <= 24 bits).
inline float int32_to_float(std::int32_t v) noexcept {
  return static_cast<float>(v) * (1.0f / 2147483648.0f);
}

}  // namespace tl::capture
