#pragma once
//! Where a capture node plays the personal cue mix the mixer streams back to it.
//!
//! The mixer sends the node its cue mix as PCM24 stereo datagrams (PacketType::Cue),
//! each stamped with the mix position of its first frame: the session time its
//! audio was captured at. The sender thread hands each one to a CueOutput:
//! - CueDevice plays it on an RtAudio output (ALSA, JACK, PulseAudio). The callback
//!   reads a lock-free frame queue that the sender fills; it starts once a few
//!   milliseconds are queued and plays silence (counted) when the queue runs dry.
//! - DuplexCue plays it on the output of the device the node captures from, in the same
//!   RtAudio stream (DeviceInput drives it): each output frame is written with its input
//!   twin of the same callback, so cue frame P plays at the node's media time
//!   P + play_delay() (CueSchedule), to the sample, and the interface's round trip
//!   (--calibrate) is the rest of what the performer's ear meets: overdubs are placed
//!   exactly. Chosen when --cue device names the input's own device.
//! - CueFile writes it to a stereo WAV in mix-position order (gaps as silence), for
//!   a performer who records what they heard, and for tests.
//! Latency: the session time a cue frame is played at (arrival, plus what is queued
//! ahead of it, plus the device's own latency) minus its mix position: what the
//! performer hears of their own sound, after the round trip and every buffer.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tl/capture/cue_schedule.h"
#include "tl/common/result.h"
#include "tl/common/spsc_ring.h"
#include "tl/common/units.h"

class RtAudio;
struct sf_private_tag;

namespace tl::capture {

class CueOutput {
 public:
  virtual ~CueOutput() = default;

  //! Sender thread: a cue chunk (interleaved stereo) for mix position `position`,
  //! arriving when the session clock reads session_now (samples).
  virtual void deliver(MediaTime position, std::span<const float> stereo, double session_now) = 0;

  //! "file:PATH" or "device:NAME", for the node's report.
  const std::string& describe() const noexcept { return describe_; }
  //! Any thread.
  double latency_ms() const noexcept { return latency_ms_.load(std::memory_order_relaxed); }
  std::uint64_t packets() const noexcept { return packets_.load(std::memory_order_relaxed); }
  std::uint64_t underruns() const noexcept { return underruns_.load(std::memory_order_relaxed); }
  //! Any thread: cue frame P plays at the node's media time P + this, to the sample; -1
  //! when the output cannot say so exactly (a device's queue follows arrivals).
  virtual MediaTime play_delay() const noexcept { return -1; }
  //! Any thread: how often play_delay() changed after it was first chosen.
  virtual std::uint64_t delay_changes() const noexcept { return 0; }

 protected:
  explicit CueOutput(std::string describe, std::uint32_t rate)
      : describe_(std::move(describe)), rate_(rate) {}
  //! Notes a chunk's latency: played `ahead` frames after its arrival.
  void note(MediaTime position, std::size_t frames, double session_now, double ahead) noexcept;
  //! An output that plays by a CueSchedule (the simulated cable, a duplex device): hands it
  //! the chunk at the node's media time media_now, counts its late frames as underruns and
  //! notes its latency.
  void deliver_scheduled(CueSchedule& schedule, MediaTime position, std::span<const float> stereo,
                         double session_now, MediaTime media_now);

  std::string describe_;
  std::uint32_t rate_;
  std::atomic<double> latency_ms_{0.0};
  std::atomic<std::uint64_t> packets_{0};
  std::atomic<std::uint64_t> underruns_{0};
};

class CueFile final : public CueOutput {
 public:
  static Result<std::unique_ptr<CueFile>> open(const std::string& path, std::uint32_t rate);
  ~CueFile() override;
  void deliver(MediaTime position, std::span<const float> stereo, double session_now) override;

 private:
  CueFile(const std::string& path, std::uint32_t rate, sf_private_tag* file);
  sf_private_tag* file_;
  MediaTime next_ = INT64_MIN;  // mix position of the next frame the file holds
};

class CueDevice final : public CueOutput {
 public:
  //! api: "", "alsa", "jack" or "pulse". name: substring of an output device's name ("" = default).
  static Result<std::unique_ptr<CueDevice>> open(const std::string& api, const std::string& name,
                                                 std::uint32_t rate, std::uint32_t period);
  ~CueDevice() override;
  Status start();
  void deliver(MediaTime position, std::span<const float> stereo, double session_now) override;

 private:
  struct Frame {
    float left = 0.0f, right = 0.0f;
  };
  CueDevice(const std::string& name, std::uint32_t rate);
  static int callback(void* out, void* in, unsigned n, double stream_time, unsigned status, void* user);

  std::unique_ptr<RtAudio> audio_;
  SpscRing<Frame> queue_;
  std::uint32_t prefill_ = 0;         // frames queued before playing starts (again)
  std::atomic<bool> playing_{false};  // callback: the queue has been filled
  std::uint32_t device_latency_ = 0;  // frames, from the driver
  MediaTime next_ = INT64_MIN;
};

//! The cue on the capture device's own output, in its duplex stream (see above).
class DuplexCue final : public CueOutput {
 public:
  //! name: the device's; block: the node's packet size (a margin of the play delay).
  DuplexCue(const std::string& name, std::uint32_t rate, std::uint32_t block);
  void deliver(MediaTime position, std::span<const float> stereo, double session_now) override;
  MediaTime play_delay() const noexcept override { return schedule_.delay(); }
  std::uint64_t delay_changes() const noexcept override { return schedule_.changes(); }

  //! The device's callback (real-time safe): n frames of output (planar: left at out, right
  //! at out + n) whose input twins have media times from `media` on (INT64_MIN: no timeline
  //! yet, silence).
  void play(float* out, std::size_t n, MediaTime media) noexcept;

 private:
  CueSchedule schedule_;
  std::atomic<MediaTime> media_now_{INT64_MIN};  // the callback's: the end of its last block
};

}  // namespace tl::capture
