#pragma once
//! What drives the mix engine: a monitor output device, or (headless) a
//! high-precision timer thread. Either way one clock calls process() per block.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tl/common/histogram.h"
#include "tl/common/result.h"
#include "tl/mixer/mix_engine.h"
#include "tl/mixer/session_clock.h"

class RtAudio;

namespace tl::mixer {

class MixDriver {
 public:
  virtual ~MixDriver() = default;
  virtual Status start() = 0;
  virtual void stop() = 0;
  //! "timer" or "device:<name>".
  virtual std::string describe() const = 0;
  //! Blocks that started later than their deadline by more than one block.
  virtual std::uint64_t overruns() const noexcept = 0;
  //! How late the mix thread woke for its blocks (headless; empty when a device clocks it).
  virtual const DurationHistogram* wake_lateness() const noexcept { return nullptr; }
  //! 0 when the mix thread runs with real-time priority, else why not (errno), after start().
  virtual int realtime_error() const noexcept { return 0; }
};

//! Headless: a thread sleeps to absolute deadlines on the monotonic clock and
//! runs one block each time the session clock passes block end + the engine's
//! play-out delay (which adapts; a change moves the deadlines, not the audio).
class TimerMixDriver final : public MixDriver {
 public:
  TimerMixDriver(MixEngine& engine, const SessionClock& clock, std::uint32_t block_frames);
  ~TimerMixDriver() override;
  Status start() override;
  void stop() override;
  std::string describe() const override { return "timer"; }
  std::uint64_t overruns() const noexcept override { return overruns_.load(std::memory_order_relaxed); }
  const DurationHistogram* wake_lateness() const noexcept override { return &lateness_; }
  int realtime_error() const noexcept override { return realtime_error_; }

  //! The mix thread's real-time priority (SCHED_FIFO).
  static constexpr int kPriority = 70;

 private:
  void run();
  MixEngine& engine_;
  const SessionClock& clock_;
  std::uint32_t block_frames_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> overruns_{0};
  DurationHistogram lateness_;
  int realtime_error_ = 0;
};

//! An RtAudio output device (ALSA, JACK, PulseAudio) drives the engine from its
//! callback and plays the stereo mix.
class DeviceMixDriver final : public MixDriver {
 public:
  DeviceMixDriver(MixEngine& engine, const SessionClock& clock, std::uint32_t block_frames,
                  std::string device_name, std::string api);
  ~DeviceMixDriver() override;
  Status start() override;
  void stop() override;
  std::string describe() const override { return "device:" + opened_name_; }
  std::uint64_t overruns() const noexcept override { return xruns_.load(std::memory_order_relaxed); }

  //! Lists output-capable devices of every compiled API, one per line.
  static std::vector<std::string> list_devices();

 private:
  static int callback(void* out, void* in, unsigned int frames, double time, unsigned int status, void* self);
  MixEngine& engine_;
  const SessionClock& clock_;
  std::uint32_t block_frames_;
  std::string device_name_, api_, opened_name_;
  std::unique_ptr<RtAudio> audio_;
  std::atomic<std::uint64_t> xruns_{0};
};

}  // namespace tl::mixer
