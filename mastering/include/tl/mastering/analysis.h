#pragma once
//! The loudness figures a mastering engineer reads off a file: BS.1770 integrated
//! loudness, loudness range (EBU Tech 3342), short-term maximum, true peak (4x
//! oversampled, PreciseTruePeak) and sample peak, streamed a block at a time.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "tl/dsp/loudness.h"
#include "tl/mastering/true_peak.h"

namespace tl::mastering {

struct LoudnessFigures {
  double integrated_lufs = -200.0;  //!< -200: nothing above the absolute gate
  double range_lu = 0.0;            //!< LRA
  double short_term_max_lufs = -200.0;
  double true_peak_dbtp = -150.0;
  double sample_peak_dbfs = -150.0;
  std::int64_t frames = 0;
  double seconds = 0.0;
  //! Peak-to-loudness ratio (true peak - integrated), in dB.
  double plr() const noexcept { return true_peak_dbtp - integrated_lufs; }
};

//! The loudness at one moment: every 100 ms of the file (the meter's hop).
struct LoudnessPoint {
  float seconds = 0.0f;             //!< the end of the hop
  float momentary_lufs = -200.0f;   //!< 400 ms window (-200 until 400 ms are in)
  float short_term_lufs = -200.0f;  //!< 3 s window (-200 until 3 s are in)
  float peak = 0.0f;                //!< the hop's largest |sample| (linear): the waveform
};

class Analyzer {
 public:
  static constexpr std::size_t kMaxChannels = 2;
  //! channels: 1 or 2. true_peak false: the true peak is not measured (it reads -150),
  //! for a quick look at the loudness alone.
  void prepare(double sample_rate, std::size_t channels, bool true_peak = true);
  //! Interleaved frames.
  void process(std::span<const float> interleaved);
  //! The figures so far (flushes the true-peak interpolators: call once, at the end).
  LoudnessFigures finish();
  //! Loudness over time, a point every 100 ms (16 bytes each: 576 KB for an hour).
  const std::vector<LoudnessPoint>& curve() const noexcept { return curve_; }

 private:
  void feed();  // the buffered frames into the meter
  void hop();

  std::size_t channels_ = 1, hop_frames_ = 4800, fill_ = 0, metered_ = 0;
  bool measure_true_peak_ = true;
  double rate_ = 48000.0;
  std::int64_t frames_ = 0;
  dsp::LoudnessMeter meter_;
  std::array<PreciseTruePeak, kMaxChannels> true_peak_{};
  std::array<std::vector<float>, kMaxChannels> planar_{};
  float sample_peak_ = 0.0f;
  float hop_peak_ = 0.0f;           // of the hop being filled
  std::vector<double> short_term_;  // every 100 ms once 3 s are in: the loudness range's input
  double short_term_max_ = -200.0;
  std::vector<LoudnessPoint> curve_;
};

}  // namespace tl::mastering
