#pragma once
//! Audio input from a sound card through RtAudio (ALSA, JACK, PulseAudio).
//!
//! Opened non-interleaved float32 with realtime scheduling, buffer = frames per
//! packet. The callback regroups whatever the driver delivers into blocks of
//! exactly frames-per-packet frames and queues them; it never locks, allocates,
//! logs or does I/O. With a DuplexCue, the same stream also plays the cue mix on the
//! device's stereo output, each output frame with its input twin (cue_output.h).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "tl/capture/cue_output.h"
#include "tl/capture/producer.h"
#include "tl/common/result.h"

class RtAudio;

namespace tl::capture {

class DeviceInput {
 public:
  //! api: "", "alsa", "jack" or "pulse". name: substring of the device name ("" = default input).
  static Result<std::unique_ptr<DeviceInput>> open(const std::string& api, const std::string& name,
                                                   int channels, std::uint32_t rate, BlockQueue& queue,
                                                   MediaStamper& stamper,
                                                   const SimClock& clock = SimClock::real(),
                                                   DuplexCue* cue = nullptr);
  ~DeviceInput();
  DeviceInput(const DeviceInput&) = delete;
  DeviceInput& operator=(const DeviceInput&) = delete;

  Status start();
  void stop();

  const std::string& device_name() const noexcept { return device_name_; }
  //! The driver's latency of the stream, frames: input plus output for a duplex one
  //! (RtAudio's figure; -1 when it gives none).
  std::int64_t stream_latency() const noexcept { return stream_latency_; }
  //! Input overflows reported by the driver.
  //! The device's sample rate against this machine's clock, as its DLL measures
  //! it: (rate / nominal - 1) * 1e6, + when the device runs fast. Any thread.
  double rate_error_ppm() const noexcept { return rate_error_ppm_.load(std::memory_order_relaxed); }
  std::uint64_t driver_overflows() const noexcept {
    return driver_overflows_.load(std::memory_order_relaxed);
  }

 private:
  DeviceInput(BlockQueue& queue, MediaStamper& stamper, std::uint32_t rate, const SimClock& clock,
              DuplexCue* cue);
  static int callback(void* out, void* in, unsigned n, double stream_time, unsigned status, void* user);

  std::unique_ptr<RtAudio> audio_;
  BlockAssembler assembler_;
  const SimClock& clock_;
  DuplexCue* cue_;  // plays on the device's output, or nullptr
  std::string device_name_;
  std::int64_t stream_latency_ = -1;
  std::atomic<std::uint64_t> driver_overflows_{0};
  std::atomic<double> rate_error_ppm_{0.0};
};

//! --calibrate with --source device: the round trip of the device's own output to its input
//! (a cable, or on JACK a connection), in frames, measured as the node places overdubs by
//! it: a click written with output frame k comes back in input frame k + round trip (both
//! in one duplex stream). Plays a click every 1.25 s and stops once five in a row came
//! back (measure_round_trip); clicks before the cable was there are passed over. An
//! error after timeout_s without five.
Result<double> calibrate_device(const std::string& api, const std::string& name, std::uint32_t rate,
                                std::uint32_t period, double timeout_s);

//! Every device of every compiled RtAudio API: api, index, name, input channels, rates.
std::string list_devices();

}  // namespace tl::capture
