#include "tl/mixer/audio_receiver.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <time.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "tl/protocol/nack.h"
#include "tl/protocol/pcm.h"
#include "tl/protocol/sync.h"

namespace tl::mixer {

using protocol::DecodeError;
using protocol::PacketType;

std::uint64_t ReceiverCounters::total_rejected() const noexcept {
  std::uint64_t n = unknown_node + bad_channel + unsupported + bad_opus;
  for (const auto v : rejected) n += v;
  return n;
}

AudioReceiver::AudioReceiver(asio::io_context& io, const asio::ip::udp::endpoint& endpoint,
                             NodeRegistry& registry, const SessionClock& clock, PacketRing& to_recorder,
                             Config config)
    : poll_timer_(io), config_(config), registry_(registry), clock_(clock), to_recorder_(to_recorder) {
  // A plain socket, not one of asio's: asio registers its sockets with its epoll set,
  // which would wake the io thread for every datagram. This one is read on a timer.
  fd_ = ::socket(endpoint.protocol().family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const int one = 1, buffer = 4 << 20;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  // When each datagram reached the host: a sync request is answered with that, however
  // long it waited in the socket for the next read.
  ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (::bind(fd_, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::system_error(err, std::generic_category(), "bind");
  }
  poll();
}

AudioReceiver::~AudioReceiver() {
  ::close(fd_);
}

std::uint16_t AudioReceiver::port() const {
  asio::ip::udp::endpoint local;
  socklen_t len = static_cast<socklen_t>(local.capacity());
  if (::getsockname(fd_, local.data(), &len) != 0) return 0;
  local.resize(len);
  return local.port();
}

void AudioReceiver::send(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& to,
                         std::uint64_t& sent) {
  if (::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT, to.data(),
               static_cast<socklen_t>(to.size())) == static_cast<ssize_t>(datagram.size())) {
    ++sent;
  }
}

void AudioReceiver::poll() {
  drain();
  send_cues();
  poll_timer_.expires_after(config_.poll_period);
  poll_timer_.async_wait([this](std::error_code ec) {
    if (ec != asio::error::operation_aborted) poll();
  });
}

void AudioReceiver::send_cue(NodeSlot& slot, const protocol::PacketHeader& h,
                             std::span<const std::uint8_t> payload) {
  const std::size_t n = protocol::encode(h, payload, slot.key, reply_);
  send(std::span(reply_).first(n), from_[slot.id], counters_.cue_packets);
}

void AudioReceiver::send_cues() {
  for (std::uint16_t id = 1; id <= registry_.highest_id(); ++id) {
    NodeSlot* slot = registry_.by_id(id);
    if (slot == nullptr || !slot->cue_out) continue;
    // An Opus cue: the node's encoder, made (again) when it first asks or changes its rate.
    protocol::CueEncoder* opus = nullptr;
    if (slot->cue_opus_bitrate != 0) {
      if (!cue_encoders_[id] || cue_encoder_bitrate_[id] != slot->cue_opus_bitrate) {
        auto made = protocol::CueEncoder::create(slot->cue_opus_bitrate);
        if (!made) {
          spdlog::error("node '{}': {}; its cue is sent as PCM", slot->name, made.error());
          slot->cue_opus_bitrate = 0;
        } else {
          cue_encoders_[id] = std::move(made.value());
          cue_encoder_bitrate_[id] = slot->cue_opus_bitrate;
        }
      }
      opus = cue_encoders_[id].get();
    }
    while (CueChunk* chunk = slot->cue_out->front()) {
      const std::size_t samples = 2 * static_cast<std::size_t>(chunk->frames);
      std::copy_n(chunk->samples.begin(), samples, cue_samples_.begin());
      const std::span<const float> stereo(cue_samples_.data(), samples);
      if (from_[id].port() != 0 && opus != nullptr) {
        opus->add(chunk->position, stereo, [&](MediaTime media_ts, std::span<const std::uint8_t> payload) {
          send_cue(*slot,
                   {.type = PacketType::Cue,
                    .node_id = id,
                    .seq = cue_seq_[id]++,
                    .media_ts = media_ts,
                    .frame_count = static_cast<std::uint16_t>(protocol::kCueOpusFrames),
                    .channel_count = 2,
                    .format = protocol::SampleFormat::Opus},
                   payload);
        });
      } else if (from_[id].port() != 0) {
        const auto payload = std::span(decoded_payload_).first(samples * 3);
        protocol::pack_pcm(stereo, protocol::SampleFormat::Pcm24, payload);
        send_cue(*slot,
                 {.type = PacketType::Cue,
                  .node_id = id,
                  .seq = cue_seq_[id]++,
                  .media_ts = chunk->position,
                  .frame_count = static_cast<std::uint16_t>(chunk->frames),
                  .channel_count = 2,
                  .format = protocol::SampleFormat::Pcm24},
                 payload);
      }
      slot->cue_out->pop();
    }
  }
}

void AudioReceiver::drain() {
  // The realtime clock stamps the datagrams; the session clock runs on the monotonic one.
  timespec real{}, mono{};
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  const std::int64_t real_to_mono =
      (mono.tv_sec - real.tv_sec) * 1'000'000'000LL + (mono.tv_nsec - real.tv_nsec);
  for (int rounds = 0; rounds < 64; ++rounds) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      Incoming& in = batch_[i];
      in.iov = {in.data.data(), in.data.size()};
      headers_[i] = mmsghdr{};
      headers_[i].msg_hdr.msg_name = &in.from;
      headers_[i].msg_hdr.msg_namelen = sizeof in.from;
      headers_[i].msg_hdr.msg_iov = &in.iov;
      headers_[i].msg_hdr.msg_iovlen = 1;
      headers_[i].msg_hdr.msg_control = in.control.data();
      headers_[i].msg_hdr.msg_controllen = in.control.size();
    }
    const int got = ::recvmmsg(fd_, headers_.data(), static_cast<unsigned>(kBatch), MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN: nothing more
    // Read now: the mix can have it from here (the play-out delay's need is measured from
    // this); it reached the host when the kernel stamped it.
    const std::int64_t now = clock_.now_ns();
    for (int i = 0; i < got; ++i) {
      mmsghdr& m = headers_[static_cast<std::size_t>(i)];
      Incoming& in = batch_[static_cast<std::size_t>(i)];
      asio::ip::udp::endpoint from;
      const auto len = std::min<std::size_t>(m.msg_hdr.msg_namelen, from.capacity());
      std::memcpy(from.data(), &in.from, len);
      from.resize(len);
      std::int64_t reached = now;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c != nullptr; c = CMSG_NXTHDR(&m.msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts{};
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          reached = std::min(
              now, clock_.from_monotonic_ns(ts.tv_sec * 1'000'000'000LL + ts.tv_nsec + real_to_mono));
        }
      }
      // A datagram larger than any packet was cut short: parse() refuses its length.
      handle(std::span<const std::uint8_t>(in.data.data(), m.msg_len), from, reached, now);
    }
    if (static_cast<std::size_t>(got) < kBatch) return;
  }
}

void AudioReceiver::reject(DecodeError reason, const asio::ip::udp::endpoint& sender, std::uint16_t node) {
  ++counters_.rejected[static_cast<std::size_t>(reason)];
  log_drop(protocol::to_string(reason), sender, node);
}

void AudioReceiver::log_drop(std::string_view reason, const asio::ip::udp::endpoint& sender,
                             std::uint16_t node) {
  const std::int64_t now = clock_.now_ns();
  if (now - last_log_ns_ < 5'000'000'000) {
    ++suppressed_logs_;
    return;
  }
  spdlog::warn(
      "dropped packet from {}:{} (node {}): {}; {} similar lines suppressed — check the sender's "
      "version and token",
      sender.address().to_string(), sender.port(), node, reason, suppressed_logs_);
  last_log_ns_ = now;
  suppressed_logs_ = 0;
}

void AudioReceiver::handle(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& sender,
                           std::int64_t reached_ns, std::int64_t read_ns) {
  ++counters_.datagrams;
  if (read_ns < 0) read_ns = clock_.now_ns();
  if (reached_ns < 0) reached_ns = read_ns;
  read_ns_ = read_ns;
  // When it reached the host: transit, drift and the varispeed measure the path with it.
  const std::int64_t arrival = reached_ns;
  protocol::PacketHeader h;
  std::span<const std::uint8_t> payload;
  const DecodeError err = protocol::parse(datagram, h, payload);
  if (err != DecodeError::Ok) {
    reject(err, sender, protocol::peek_node_id(datagram));
    return;
  }
  NodeSlot* slot = registry_.by_id(h.node_id);
  if (slot == nullptr || slot->fed_frames()) {  // a backing track's id takes no packets
    ++counters_.unknown_node;
    log_drop("unknown node (not registered, or the mixer restarted)", sender, h.node_id);
    return;
  }
  if (!protocol::verify_tag(datagram, slot->key)) {
    ++slot->bad;
    reject(DecodeError::BadTag, sender, h.node_id);
    return;
  }

  // Where its cue mix, sync replies and NACKs go: where it last sent from, authenticated
  // (a NAT that rebinds the node's mapping mid-take is followed at once).
  if (from_[h.node_id] != sender) {
    if (from_[h.node_id].port() != 0) {
      ++slot->address_changes;
      spdlog::info("node '{}' now sends from {}:{} (was {}:{}): a NAT rebinding or a new network; followed",
                   slot->name, sender.address().to_string(), sender.port(),
                   from_[h.node_id].address().to_string(), from_[h.node_id].port());
    }
    from_[h.node_id] = sender;
  }
  switch (h.type) {
    case PacketType::SyncRequest: {
      const auto t1 = protocol::parse_sync_request(payload);
      if (!t1) {
        ++slot->bad;
        reject(DecodeError::BadLength, sender, h.node_id);
        return;
      }
      // t2: when the request reached this host, t3: now (the exchange is exact however
      // long the request waited for the read).
      const std::size_t n =
          protocol::encode_sync_reply(h.node_id, h.seq, *t1, reached_ns, clock_.now_ns(), slot->key, reply_);
      send(std::span(reply_).first(n), sender, counters_.sync_replies);
      return;
    }
    case PacketType::Audio:
    case PacketType::Retransmit:
      break;
    default:
      ++counters_.unsupported;
      return;
  }

  if (static_cast<std::uint32_t>(h.first_channel) + h.channel_count > slot->channels) {
    ++counters_.bad_channel;
    ++slot->bad;
    reject(DecodeError::BadShape, sender, h.node_id);
    return;
  }
  // Opus only live, from a node registered for it; resends are always PCM.
  const bool opus = h.format == protocol::SampleFormat::Opus;
  if (opus ? (slot->opus == nullptr || h.type != PacketType::Audio)
           : protocol::bytes_per_sample(h.format) == 0) {
    ++counters_.unsupported;
    ++slot->bad;
    reject(DecodeError::BadFormat, sender, h.node_id);
    return;
  }
  if (h.type == PacketType::Retransmit) {
    ++slot->retransmits;  // answers a NACK: not part of the live sequence
  } else {
    // An Opus node's losses are concealed live, and its recording comes from its spool.
    if (!opus) request_missing(*slot, h, sender);
    account(*slot, h, arrival);
  }
  if (opus) {
    receive_opus(*slot, h, payload, arrival, sender);
    return;
  }
  forward(*slot, datagram, arrival, read_ns);
}

void AudioReceiver::forward(NodeSlot& slot, std::span<const std::uint8_t> datagram, std::int64_t arrival_ns,
                            std::int64_t ready_ns) {
  if (!slot.to_mix->try_push(datagram, arrival_ns, ready_ns)) ++slot.dropped_to_mix;
  if (record_gate_ && !record_gate_()) return;
  if (!to_recorder_.try_push(datagram, arrival_ns, ready_ns)) {
    if (counters_.record_dropped++ == 0) {
      spdlog::error(
          "recorder queue full: audio from node '{}' did not reach the recorder, which fell a second "
          "behind (a slow disk or a starved CPU); the take asks the node's spool for what it misses",
          slot.name);
    }
  }
}

//! Re-packs decoded Opus as F32 datagrams (as many as its size needs) for the mix and recorder.
class AudioReceiver::DecodedSink final : public OpusLive::Sink {
 public:
  DecodedSink(AudioReceiver& receiver, NodeSlot& slot) : receiver_(receiver), slot_(slot) {}
  void deliver(const OpusLive::Decoded& run) override {
    const std::size_t count = run.channel_count;
    const std::size_t bytes = protocol::bytes_per_sample(protocol::SampleFormat::F32);
    const std::size_t per = std::max<std::size_t>(1, protocol::kMaxPayloadBytes / (bytes * count));
    for (std::size_t at = 0; at < run.frames; at += per) {
      const std::size_t n = std::min<std::size_t>(per, run.frames - at);
      protocol::PacketHeader h;
      h.type = PacketType::Audio;
      h.flags = at == 0 ? run.flags : static_cast<std::uint16_t>(run.flags & ~protocol::kFlagDiscontinuity);
      h.node_id = slot_.id;
      h.seq = run.seq;
      h.media_ts = run.media_ts + static_cast<MediaTime>(at);
      h.frame_count = static_cast<std::uint16_t>(n);
      h.channel_count = run.channel_count;
      h.first_channel = run.first_channel;
      h.format = protocol::SampleFormat::F32;
      const std::span<std::uint8_t> payload(receiver_.decoded_payload_.data(), n * count * bytes);
      protocol::pack_pcm(run.interleaved.subspan(at * count, n * count), protocol::SampleFormat::F32,
                         payload);
      const std::size_t size = protocol::encode(h, payload, slot_.key, receiver_.decoded_);
      receiver_.forward(slot_, {receiver_.decoded_.data(), size}, run.arrival_ns, receiver_.read_ns_);
    }
  }

 private:
  AudioReceiver& receiver_;
  NodeSlot& slot_;
};

void AudioReceiver::receive_opus(NodeSlot& slot, const protocol::PacketHeader& h,
                                 std::span<const std::uint8_t> payload, std::int64_t arrival_ns,
                                 const asio::ip::udp::endpoint& sender) {
  DecodedSink sink(*this, slot);
  if (!slot.opus->accept(h, payload, arrival_ns, sink)) {
    ++slot.bad;
    ++counters_.bad_opus;
    log_drop("malformed Opus packet (frame size or lengths)", sender, h.node_id);
  }
  // Gaps whose audio the mix reads within a packet and 3 ms are given up now: the
  // next chance is the next packet.
  const MediaTime delay = play_out_delay_ ? play_out_delay_() : static_cast<MediaTime>(slot.sample_rate / 50);
  const MediaTime now = clock_.now_samples();
  const MediaTime guard = static_cast<MediaTime>(slot.frames_per_packet + 3 * slot.sample_rate / 1000);
  slot.opus->deliver_due(now - delay + guard, now - delay, clock_.now_ns(), sink);
}

void AudioReceiver::request_missing(NodeSlot& slot, const protocol::PacketHeader& h,
                                    const asio::ip::udp::endpoint& sender) {
  if (!slot.seq_started || (h.flags & protocol::kFlagDiscontinuity) != 0) return;
  const std::int32_t ahead = seq_diff(h.seq, slot.highest_seq);
  if (ahead <= 1) return;  // in order, a duplicate, or a late packet filling a gap
  // Packets between the highest seen and this one were lost: ask for their audio.
  // Split channel groups share a block's media time, so a gap inside one block asks
  // for that whole block; the node resends every channel of it.
  protocol::NackRange range;
  if (h.media_ts > slot.highest_ts_end) {
    range = {.from = slot.highest_ts_end,
             .frames = static_cast<std::uint32_t>(h.media_ts - slot.highest_ts_end)};
  } else {
    range = {.from = h.media_ts, .frames = h.frame_count};
  }
  if (range.frames == 0 || range.frames > 10u * slot.sample_rate) return;  // not a plausible gap
  const std::size_t n = protocol::encode_nack(slot.id, static_cast<Seq>(slot.nacks_sent),
                                              std::span(&range, 1), slot.key, reply_);
  send(std::span(reply_).first(n), sender, slot.nacks_sent);
}

void AudioReceiver::account(NodeSlot& slot, const protocol::PacketHeader& h, std::int64_t arrival_ns) {
  ++slot.packets;
  slot.last_heard_ns = arrival_ns;
  const bool restart = (h.flags & protocol::kFlagDiscontinuity) != 0;
  if (!slot.seq_started || restart) {
    if (slot.seq_started) {
      const std::uint64_t expected = static_cast<std::uint32_t>(slot.highest_seq - slot.first_seq) + 1ull;
      if (expected > slot.seq_received) slot.lost_before += expected - slot.seq_received;
    }
    slot.seq_started = true;
    slot.first_seq = h.seq;
    slot.highest_seq = h.seq;
    slot.highest_ts_end = h.media_ts + h.frame_count;
    slot.seq_received = 1;
  } else {
    if (seq_diff(h.seq, slot.highest_seq) > 0) {
      slot.highest_seq = h.seq;
      slot.highest_ts_end = h.media_ts + h.frame_count;
    }
    ++slot.seq_received;
  }
  const double transit_ms = static_cast<double>(arrival_ns - clock_.to_ns(h.media_ts)) / 1e6;
  slot.transit_sum_ms += transit_ms;
  ++slot.transit_count;
}

}  // namespace tl::mixer
