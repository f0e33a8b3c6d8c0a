#include "tl/capture/capture_node.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "tl/capture/calibration.h"
#include "tl/capture/cue_loop.h"
#include "tl/capture/cue_output.h"
#include "tl/capture/device_input.h"
#include "tl/capture/producer.h"
#include "tl/capture/sources.h"
#include "tl/capture/timeline_memo.h"
#include "tl/common/clock.h"
#include "tl/common/realtime.h"
#include "tl/protocol/opus_payload.h"

namespace tl::capture {
namespace {

constexpr std::int64_t kMs = 1'000'000;
// The spool's `timeline` is kept this often while streaming, and a node started while
// its mixer is away goes on with it when it is at most this old. The map coasts on the
// skew it had measured (1 ppm off is 3.6 ms in an hour); the anchors the node sends once
// its clock locks again place the timeline where it really is when the take is conformed.
constexpr std::int64_t kTimelineMemoPeriodNs = 5'000 * kMs;
constexpr std::int64_t kTimelineMemoMaxAgeNs = 3'600'000 * kMs;

std::string local_host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

//! Blocks for about half a second of audio, at least 16.
std::size_t queue_blocks(std::uint32_t rate, std::uint16_t frames) {
  return std::max<std::size_t>(16, rate / 2 / frames);
}

tl::proto::SyncState proto_sync_state(Sender::SyncState s) {
  switch (s) {
    case Sender::SyncState::Acquiring:
      return tl::proto::SYNC_ACQUIRING;
    case Sender::SyncState::Locked:
      return tl::proto::SYNC_LOCKED;
    case Sender::SyncState::Idle:
    case Sender::SyncState::Lost:
    default:
      return tl::proto::SYNC_LOST;
  }
}

//! Answers the mixer's FetchAudio from the spool: one AudioData per run the spool
//! holds (at most kFetchChunk frames), then a last one saying what it did not hold.
constexpr std::uint32_t kFetchChunk = 4800;
constexpr std::uint32_t kFetchMax = 48000u * 600u;  // one request covers at most 10 minutes at 48 kHz

void answer_fetch(protocol::ControlClient& client, Sender& sender, const tl::proto::FetchAudio& fetch,
                  int channels, const CaptureOptions& options) {
  const std::size_t frame_bytes =
      static_cast<std::size_t>(channels) * protocol::bytes_per_sample(protocol::spool_format(options.format));
  const std::uint32_t frames = std::min(fetch.frames(), kFetchMax);
  std::vector<std::uint8_t> wire(kFetchChunk * frame_bytes), have(kFetchChunk);
  std::uint32_t missing = fetch.frames() - frames;
  const auto format =
      static_cast<tl::proto::SampleFormat>(proto_format(protocol::spool_format(options.format)));
  const auto send_run = [&](MediaTime from, std::uint32_t offset, std::uint32_t count) {
    tl::proto::Envelope e;
    auto* d = e.mutable_audio_data();
    d->set_from(from);
    d->set_frames(count);
    d->set_channels(static_cast<std::uint32_t>(channels));
    d->set_format(format);
    d->set_samples(wire.data() + offset * frame_bytes, count * frame_bytes);
    d->set_request_from(fetch.from());
    d->set_request_frames(fetch.frames());
    return client.send(std::move(e));
  };
  for (std::uint32_t done = 0; done < frames;) {
    const std::uint32_t n = std::min(kFetchChunk, frames - done);
    const MediaTime at = fetch.from() + done;
    const std::size_t found = sender.read_spool(at, n, wire, have);
    missing += n - static_cast<std::uint32_t>(found);
    const bool sent =
        for_each_run(std::span<const std::uint8_t>(have.data(), n), [&](std::size_t i, std::size_t count) {
          return static_cast<bool>(send_run(at + static_cast<MediaTime>(i), static_cast<std::uint32_t>(i),
                                            static_cast<std::uint32_t>(count)));
        });
    if (!sent) return;  // the connection is gone; the mixer will see it
    done += n;
  }
  tl::proto::Envelope last;
  auto* d = last.mutable_audio_data();
  d->set_from(fetch.from());
  d->set_last(true);
  d->set_request_from(fetch.from());
  d->set_request_frames(fetch.frames());
  d->set_not_in_spool(missing);
  // What the spool dropped to stay within --spool-max is older than its oldest frame;
  // any other frame it lacks was never captured (the node was not running or streaming).
  if (const auto first = sender.spool_first()) {
    const std::int64_t older = std::clamp<std::int64_t>(*first - fetch.from(), 0, fetch.frames());
    d->set_evicted(static_cast<std::uint32_t>(std::min<std::int64_t>(older, missing)));
  } else {
    d->set_no_spool(true);
  }
  (void)client.send(std::move(last));
  spdlog::debug("resent {} frames from {} to the mixer out of the spool ({} not held)",
                fetch.frames() - missing, fetch.from(), missing);
}

//! Sleeps up to ms in short steps; false when stop was requested meanwhile.
bool wait_or_stop(const std::atomic<bool>& stop, std::int64_t ms) {
  const std::int64_t end = monotonic_ns() + ms * kMs;
  while (monotonic_ns() < end) {
    if (stop.load()) return false;
    sleep_until_ns(std::min(end, monotonic_ns() + 50 * kMs));
  }
  return !stop.load();
}

//! The interface's round trip to place overdubs by, and where it comes from.
struct RoundTrip {
  std::int64_t frames = -1;  //!< -1: unknown
  std::string from;          //!< "--round-trip-ms", "calibration" or "driver"
};

//! --round-trip-ms, else the node's stored calibration at this rate, else what a duplex
//! device's driver says its input and output latency are (driver_frames, -1: none); said
//! once, with a warning when there is none.
RoundTrip round_trip_of(const CaptureOptions& options, std::int64_t driver_frames) {
  if (options.round_trip_frames >= 0) {
    spdlog::info("round trip: {} frames (--round-trip-ms)", options.round_trip_frames);
    return {options.round_trip_frames, "--round-trip-ms"};
  }
  auto c = read_calibration(options.calibration_file);
  if (c && c->sample_rate == options.rate) {
    spdlog::info("round trip: {} frames ({:.3f} ms), calibrated with {} at {} ({})", c->round_trip_frames,
                 static_cast<double>(c->round_trip_frames) * 1000.0 / options.rate, c->measured, c->at,
                 options.calibration_file);
    return {c->round_trip_frames, "calibration"};
  }
  if (driver_frames >= 0) {
    spdlog::warn(
        "round trip: {} frames ({:.3f} ms), the driver's input plus output latency: a converter's own delay "
        "is not in it (tl-capture --calibrate measures the interface to the sample)",
        driver_frames, static_cast<double>(driver_frames) * 1000.0 / options.rate);
    return {driver_frames, "driver"};
  }
  const bool overdubs =
      options.cue != CaptureOptions::CueKind::None || options.source.kind == SourceKind::CueLoop;
  if (!overdubs) return {};
  spdlog::warn(
      "{}: overdubs are placed without the interface's round trip (run tl-capture --calibrate, "
      "or give --round-trip-ms)",
      c ? options.calibration_file + " is for " + std::to_string(c->sample_rate) + " Hz" : c.error());
  return {};
}

}  // namespace

Result<Registration> register_node(protocol::ControlClient& client, const CaptureOptions& options,
                                   int channels, const std::string& token, bool* not_up) {
  if (not_up != nullptr) *not_up = false;
  if (auto s = client.connect(options.mixer.host, options.mixer.port, token, tl::proto::CLIENT_CAPTURE,
                              options.name);
      !s) {
    // Refused access is an answer; anything before it means no mixer answered yet.
    if (not_up != nullptr) *not_up = s.error().rfind("mixer refused", 0) != 0;
    return Error{s.error()};
  }
  tl::proto::Envelope request;
  auto* r = request.mutable_register_node();
  r->set_name(options.name);
  r->set_channels(static_cast<std::uint32_t>(channels));
  r->set_sample_rate(options.rate);
  r->set_frames_per_packet(options.frames_per_packet);
  r->set_format(static_cast<tl::proto::SampleFormat>(proto_format(options.format)));
  r->set_source(options.source.text);
  r->set_host(local_host_name());
  r->set_pid(static_cast<std::uint64_t>(::getpid()));
  r->set_wants_cue(options.cue != CaptureOptions::CueKind::None ||
                   options.source.kind == SourceKind::CueLoop);
  r->set_cue_opus_bitrate(options.cue_opus_bitrate);
  auto reply = client.call(std::move(request));
  if (!reply) return Error{"mixer refused registration: " + reply.error()};
  if (!reply->has_register_reply()) return Error{"mixer answered registration with an unexpected message"};
  const auto& rr = reply->register_reply();
  if (rr.session_key().size() != protocol::kKeyBytes) {
    return Error{"mixer sent a session key of " + std::to_string(rr.session_key().size()) +
                 " bytes, expected 32"};
  }
  if (rr.node_id() == 0 || rr.node_id() > 0xFFFF || rr.audio_port() == 0 || rr.audio_port() > 0xFFFF) {
    return Error{"mixer sent an invalid node id or audio port"};
  }
  if (rr.sample_rate() != 0 && rr.sample_rate() != options.rate) {
    return Error{"the session runs at " + std::to_string(rr.sample_rate()) + " Hz but this node at " +
                 std::to_string(options.rate) + " Hz: restart with --rate " +
                 std::to_string(rr.sample_rate())};
  }
  Registration reg;
  reg.node_id = static_cast<std::uint16_t>(rr.node_id());
  std::copy(rr.session_key().begin(), rr.session_key().end(), reg.key.begin());
  reg.host = options.mixer.host;
  reg.audio_port = static_cast<std::uint16_t>(rr.audio_port());
  reg.session_epoch = rr.session_epoch_ns();
  reg.max_payload = rr.max_payload_bytes();
  return reg;
}

//! Registers, waiting for a mixer that is not up yet; not_up runs once, when the first
//! attempt finds none (an error from it ends the wait).
Result<Registration> wait_for_mixer(protocol::ControlClient& client, const CaptureOptions& options,
                                    int channels, const std::string& token, const std::atomic<bool>& stop,
                                    const std::function<Status()>& not_up_hook) {
  constexpr std::int64_t kFirstWaitMs = 250, kLongestWaitMs = 5000, kStatusEveryMs = 30'000;
  const std::int64_t started = monotonic_ns();
  const std::int64_t give_up = options.wait_for_mixer_s > 0
                                   ? started + std::llround(options.wait_for_mixer_s * 1e9)
                                   : std::numeric_limits<std::int64_t>::max();
  std::int64_t wait_ms = kFirstWaitMs, next_status = started + kStatusEveryMs * kMs;
  for (int attempt = 1;; ++attempt) {
    bool not_up = false;
    auto reg = register_node(client, options, channels, token, &not_up);
    if (reg || !not_up) return reg;
    client.close();
    const std::int64_t now = monotonic_ns();
    if (now >= give_up) {
      return Error{reg.error() +
                   fmt::format(" (waited {:.0f} s, --wait-for-mixer)", options.wait_for_mixer_s)};
    }
    if (attempt == 1) {
      if (const Status hooked = not_up_hook(); !hooked) return Error{hooked.error()};
      spdlog::warn("the mixer at {}:{} is not up yet ({}); waiting for it, retrying every {} s at most{}",
                   options.mixer.host, options.mixer.port, reg.error(), kLongestWaitMs / 1000,
                   options.wait_for_mixer_s > 0 ? fmt::format(" for {:g} s", options.wait_for_mixer_s)
                                                : std::string(" until stopped"));
    } else if (now >= next_status) {
      next_status = now + kStatusEveryMs * kMs;
      spdlog::info("still waiting for the mixer at {}:{}: {:.0f} s, {} attempts ({})", options.mixer.host,
                   options.mixer.port, static_cast<double>(now - started) / 1e9, attempt, reg.error());
    }
    const std::int64_t left_ms = (give_up - now) / kMs + 1;
    if (!wait_or_stop(stop, std::min(wait_ms, left_ms))) return Error{""};
    wait_ms = std::min(wait_ms * 2, kLongestWaitMs);
  }
}

int run_capture_node(const CaptureOptions& options, const std::string& token, const std::atomic<bool>& stop) {
  const SimClock clock(std::llround(options.sim_clock_offset_ms * 1e6), options.sim_clock_skew_ppm,
                       monotonic_ns());
  if (!clock.identity()) {
    spdlog::warn(
        "SIMULATED clock: offset {:+.3f} ms, skew {:+.3f} ppm (testing only: this node behaves like a "
        "machine with a wrong clock; never use it for a real recording)",
        options.sim_clock_offset_ms, options.sim_clock_skew_ppm);
  }
  int channels = options.channels;
  std::unique_ptr<GeneratedSource> generated;
  std::unique_ptr<CueLoop> cue_loop;  // both the source and the cue output
  switch (options.source.kind) {
    case SourceKind::File: {
      auto file = FileSource::open(options.source.path, options.rate,
                                   options.channels_given ? options.channels : 0, options.loop);
      if (!file) {
        spdlog::error("{}", file.error());
        return 2;  // the --source / --channels / --rate options do not fit the file
      }
      channels = (*file)->channels();
      spdlog::info("file '{}': {} channel(s), {:.2f} s{}", options.source.path, channels,
                   static_cast<double>((*file)->frames()) / options.rate, options.loop ? ", looped" : "");
      generated = std::move(file.value());
      break;
    }
    case SourceKind::Tone:
      generated = std::make_unique<ToneSource>(options.source.tone_hz, options.level_db, options.rate);
      break;
    case SourceKind::Click:
      generated = std::make_unique<ClickSource>(
          options.source.click_period, options.rate, clock,
          options.source.pulse ? ClickSource::Shape::Pulse : ClickSource::Shape::OneSample);
      break;
    case SourceKind::Noise:
      generated =
          std::make_unique<NoiseSource>(options.level_db, static_cast<std::uint64_t>(::getpid()) * 7919u + 1);
      break;
    case SourceKind::CueLoop:
      cue_loop = std::make_unique<CueLoop>(options.source.loop_ms, options.rate, options.frames_per_packet);
      spdlog::warn(
          "SIMULATED interface: the cue mix is captured {:g} ms after it plays (testing and demos "
          "only: --source cue-loop)",
          options.source.loop_ms);
      break;
    case SourceKind::Device:
      break;
  }
  GeneratedSource* source = cue_loop ? cue_loop.get() : generated.get();

  BlockQueue queue(queue_blocks(options.rate, options.frames_per_packet), static_cast<std::size_t>(channels),
                   options.frames_per_packet);
  MediaStamper stamper(options.rate);

  // The cue on the capture device's own output: one duplex stream, placed to the sample.
  std::unique_ptr<DuplexCue> duplex;
  if (options.source.kind == SourceKind::Device && options.cue == CaptureOptions::CueKind::Device &&
      options.cue_target == options.source.device) {
    duplex = std::make_unique<DuplexCue>(options.source.device.empty() ? "default" : options.source.device,
                                         options.rate, options.frames_per_packet);
  }
  std::unique_ptr<DeviceInput> device;
  if (options.source.kind == SourceKind::Device) {
    auto d = DeviceInput::open(options.audio_api, options.source.device, channels, options.rate, queue,
                               stamper, clock, duplex.get());
    if (!d) {
      spdlog::error("{}", d.error());
      return 1;
    }
    device = std::move(d.value());
    spdlog::info("audio input '{}', {} channel(s) at {} Hz", device->device_name(), channels, options.rate);
  }
  // A duplex device's driver knows its latencies: the round trip until one is measured.
  const RoundTrip round_trip = round_trip_of(options, duplex && device ? device->stream_latency() : -1);

  Sender::Config config;
  config.rate = options.rate;
  config.frames = options.frames_per_packet;
  config.channels = static_cast<std::size_t>(channels);
  config.format = options.format;
  config.bitrate = options.bitrate;
  config.stop_after_frames = std::llround(options.duration_s * options.rate);
  if (options.audio_to_given) {
    config.audio_to_host = options.audio_to.host;
    config.audio_to_port = options.audio_to.port;
    spdlog::info("audio and clock sync go to {}:{} (--audio-to), not to the mixer's audio port",
                 options.audio_to.host, options.audio_to.port);
  }
  Sender sender(queue, stamper, config, clock);
  std::unique_ptr<CueOutput> cue;
  CueDevice* cue_device = nullptr;
  if (options.cue == CaptureOptions::CueKind::File) {
    auto f = CueFile::open(options.cue_target, options.rate);
    if (!f) {
      spdlog::error("{}", f.error());
      return 1;
    }
    cue = std::move(f.value());
  } else if (options.cue == CaptureOptions::CueKind::Device && !duplex) {
    auto d = CueDevice::open(options.audio_api, options.cue_target, options.rate,
                             std::max<std::uint32_t>(options.frames_per_packet, 64));
    if (!d) {
      spdlog::error("{}", d.error());
      return 1;
    }
    cue_device = d->get();
    cue = std::move(d.value());
  }
  // (duplex outlives device, whose callback plays it: declared first, destroyed last.)
  CueOutput* cue_out = cue ? cue.get() : duplex ? static_cast<CueOutput*>(duplex.get()) : cue_loop.get();
  if (cue_out != nullptr) {
    sender.set_cue_output(cue_out);
    spdlog::info("cue mix: played on {}", cue_out->describe());
  }
  if (!options.spool_dir.empty()) {
    auto spool = Spool::open(SpoolConfig{.dir = options.spool_dir,
                                         .channels = static_cast<std::uint32_t>(channels),
                                         .sample_rate = options.rate,
                                         .format = protocol::spool_format(options.format),
                                         .max_bytes = options.spool_max_bytes,
                                         .max_seconds = options.spool_max_seconds});
    if (!spool) {
      spdlog::error("cannot open the spool in '{}': {} (choose another --spool-dir, or --spool-dir none)",
                    options.spool_dir, spool.error());
      return 1;
    }
    spdlog::info("spool: {} ({}; {} already held)", options.spool_dir,
                 options.spool_max_bytes != 0
                     ? std::to_string(options.spool_max_bytes >> 20) + " MiB at most"
                     : std::to_string(std::lround(options.spool_max_seconds)) + " s at most",
                 (*spool)->end() > (*spool)->first() ? "audio" : "nothing");
    sender.attach_spool(std::move(spool.value()));
  } else {
    spdlog::warn("no spool (--spool-dir none): audio the mixer misses cannot be resent{}",
                 options.format == protocol::SampleFormat::Opus
                     ? ", and the recording keeps the decoded Opus instead of your exact samples"
                     : "");
  }
  if (cue_device != nullptr) {
    if (auto started = cue_device->start(); !started) {
      spdlog::error("{}", started.error());
      return 1;
    }
  }
  // A generated source (tone, click, noise, file) has no device callback: the sending
  // thread renders each block when it is due and sends it at once.
  std::unique_ptr<TimerDriver> timer;
  if (!device) {
    timer = std::make_unique<TimerDriver>(queue, stamper, *source, options.rate, clock);
    sender.set_source(timer.get());
  }
  // Capturing starts once a mixer answers, or at once when none is up and the spool kept
  // the session's timeline (a node started again while its mixer is away).
  bool capturing = false;
  const auto start_capturing = [&]() -> Status {
    capturing = true;
    rt::RealtimeReport realtime{.priority_error = sender.start(options.realtime)};
    if (device) {
      if (auto started = device->start(); !started) return Error{started.error()};
      realtime.threads = "sender thread " + std::to_string(Sender::kPriority) +
                         " (the audio device's own callback: "
                         "RtAudio asks for real-time)";
    } else {
      realtime.threads = "sender thread " + std::to_string(Sender::kPriority) + " (it also paces the " +
                         options.source.text + " source)";
    }
    if (options.realtime) {
      realtime.memory_error = rt::lock_memory();
      if (realtime.priority_error == 0 && realtime.memory_error == 0) {
        spdlog::info("{}", rt::describe(realtime));
      } else {
        spdlog::warn("{}", rt::describe(realtime));
      }
    }
    return Status::success();
  };
  std::string capture_failed;  // the device would not start while no mixer was up
  const auto capture_before_the_mixer = [&]() -> Status {
    if (options.spool_dir.empty()) return Status::success();
    auto memo = read_timeline_memo(options.spool_dir, clock.now(), kTimelineMemoMaxAgeNs);
    if (!memo) {
      spdlog::info("nothing is captured until the mixer answers ({})", memo.error());
      return Status::success();
    }
    sender.resume_timeline(*memo);
    spdlog::info(
        "capturing into the spool until the mixer answers, on the session's timeline this node last "
        "streamed on ({}/timeline); a take the mixer resumes fetches it",
        options.spool_dir);
    Status started = start_capturing();
    if (!started) capture_failed = started.error();
    return started;
  };

  protocol::ControlClient client;
  auto reg = wait_for_mixer(client, options, channels, token, stop, capture_before_the_mixer);
  if (!reg) {
    // Capturing may have started while it waited: the sender thread paces the source
    // (timer, below it on the stack) and must stop before either goes.
    if (capturing) {
      if (device) device->stop();
      sender.stop();
    }
    if (reg.error().empty()) return 0;  // stopped while waiting
    if (!capture_failed.empty()) {
      spdlog::error("{}", capture_failed);
    } else {
      spdlog::error("cannot join the mixer at {}:{}: {}", options.mixer.host, options.mixer.port,
                    reg.error());
    }
    return 1;
  }
  spdlog::info("registered as '{}' (node {}), audio to {}:{}, {} channel(s), {} frames per packet, {}{}",
               options.name, reg->node_id, reg->host, reg->audio_port, channels, options.frames_per_packet,
               options.source.text,
               options.format == protocol::SampleFormat::Opus
                   ? fmt::format(", Opus at {} kb/s per channel (spool and resends: 24-bit PCM)",
                                 options.bitrate / 1000)
                   : std::string());

  if (!capturing) {
    if (const Status started = start_capturing(); !started) {
      spdlog::error("{}", started.error());
      return 1;
    }
  }
  sender.connect(*reg);

  std::int64_t next_memo = clock.now() + kTimelineMemoPeriodNs;
  std::string memo_error;
  std::int64_t next_report = monotonic_ns() + 1000 * kMs;
  while (!stop.load() && !sender.finished()) {
    if (client.connected()) {
      // The mixer's requests for audio it is missing; waiting here also notices a close.
      auto event = client.next_event(std::chrono::milliseconds(100));
      if (event && event->has_fetch_audio())
        answer_fetch(client, sender, event->fetch_audio(), channels, options);
      if (!options.spool_dir.empty() && clock.now() >= next_memo) {
        next_memo = clock.now() + kTimelineMemoPeriodNs;
        if (const auto memo = sender.timeline_memo()) {
          const Status kept = write_timeline_memo(options.spool_dir, *memo, clock.now());
          if (!kept && kept.error() != memo_error) spdlog::warn("{}", kept.error());
          memo_error = kept ? std::string() : kept.error();
        }
      }
      if (client.connected() && monotonic_ns() >= next_report) {
        next_report = monotonic_ns() + 1000 * kMs;
        const Sender::Stats s = sender.stats();
        tl::proto::Envelope report;
        auto* r = report.mutable_node_report();
        r->set_sync_state(proto_sync_state(s.state));
        r->set_offset_ms(static_cast<double>(s.offset_ns) / 1e6);
        r->set_rtt_ms(static_cast<double>(s.rtt_ns) / 1e6);
        r->set_drift_ppm(s.drift_ppm);
        if (s.has_timeline) {
          r->set_has_timeline(true);
          r->set_timeline_start(s.timeline_start);
        }
        if (s.state == Sender::SyncState::Locked) {
          r->set_has_media_drift(true);
          r->set_media_drift_exchanges(s.estimate_exchanges);
          r->set_media_drift_ppm(s.drift_ppm + (device ? device->rate_error_ppm() : 0.0));
        }
        r->set_residual_us(static_cast<double>(s.error_ns) / 1e3);
        if (cue_out != nullptr) {
          r->set_cue_output(cue_out->describe());
          r->set_cue_latency_ms(cue_out->latency_ms());
          r->set_cue_packets(cue_out->packets());
          r->set_cue_underruns(cue_out->underruns());
          if (cue_out->play_delay() >= 0) r->set_cue_play_delay_frames(cue_out->play_delay());
          r->set_cue_delay_changes(cue_out->delay_changes());
          if (cue_out->packets() != 0) r->set_cue_codec(s.cue_opus ? "opus" : "pcm24");
          r->set_cue_concealed_frames(s.cue_concealed_frames);
          r->set_cue_late_packets(s.cue_late_packets);
        }
        if (round_trip.frames >= 0) {
          r->set_round_trip_frames(round_trip.frames);
          r->set_round_trip_from(round_trip.from);
        }
        r->set_packets_sent(s.packets_sent);
        r->set_frames_dropped(s.frames_dropped);
        r->set_held_max_ms(static_cast<double>(s.held_max_ns) / 1e6);
        r->set_held_max_at(s.held_max_at);
        for (std::size_t i = 0; i < s.long_hold_count; ++i) {
          auto* h = r->add_long_holds();
          h->set_at(s.long_holds[i].at);
          h->set_ms(static_cast<double>(s.long_holds[i].held_ns) / 1e6);
        }
        if (s.has_anchor) {
          r->set_has_anchor(true);
          r->set_anchor_media_ts(s.anchor_media_ts);
          r->set_anchor_session_pos(s.anchor_session_pos);
        }
        (void)client.send(std::move(report));
      }
      continue;
    }
    // The control connection dropped: stop sending, rejoin every second.
    sender.disconnect();
    spdlog::warn(
        "lost the control connection to the mixer at {}:{}; {} until it is back, retrying every second",
        options.mixer.host, options.mixer.port,
        options.spool_dir.empty() ? "audio is dropped (no spool)"
                                  : "audio is kept in the spool (the mixer fetches it for the take)");
    std::string last_error;
    while (wait_or_stop(stop, 1000)) {
      auto again = register_node(client, options, channels, token);
      if (again) {
        const Sender::Stats st = sender.stats();
        spdlog::info("rejoined the mixer as node {} ({} frames spooled while it was away, {} dropped so far)",
                     again->node_id, st.frames_spooled_away, st.frames_dropped);
        sender.connect(*again);
        break;
      }
      if (again.error() != last_error) {
        spdlog::debug("rejoin failed: {}", again.error());
        last_error = again.error();
      }
      client.close();
    }
  }

  if (device) device->stop();
  sender.stop();
  const Sender::Stats s = sender.stats();
  spdlog::info("stopped: {} packets, {} frames sent, {} frames dropped", s.packets_sent, s.frames_sent,
               s.frames_dropped);
  client.close();
  return 0;
}

}  // namespace tl::capture
