#pragma once
//! A cue mix as Opus (tl-capture --cue-codec opus): for a performer at the end of a narrow
//! link, whose 24-bit stereo cue (2.3 Mbit/s) would not fit it.
//!
//! The mixer encodes each listener's cue as one stereo Opus stream of 5 ms frames, CELT
//! only (OPUS_APPLICATION_RESTRICTED_LOWDELAY: its look-ahead is 2.5 ms, the least Opus
//! has). Each Cue packet (SampleFormat::Opus, 2 channels, frame_count 240) carries one
//! frame as [u16 bytes][frame], and is stamped with the mix position of the first sample
//! the decoder gives for it: the encoder's input position minus its look-ahead. So the
//! node plays decoded audio where it belongs, and the codec's delay is transit to it like
//! the network's, which its cue play-out delay covers and overdub placement counts.
//!
//! The node decodes in stamp order. A packet past the next one expected waits (the link
//! may reorder); the gap is given up when its audio is nearly due to play, or when the
//! hold is full: Opus conceals the lost frames (counted), and decoding goes on. A packet
//! behind what was played is late (counted, dropped). Nothing here allocates after
//! create(): the node's sender thread runs at real-time priority.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/protocol/opus_payload.h"

struct OpusEncoder;
struct OpusDecoder;

namespace tl::protocol {

inline constexpr std::uint32_t kCueOpusFrames = 240;  //!< 5 ms at 48 kHz
inline constexpr std::uint32_t kCueOpusRate = 48000;
//! Bits/s of the stereo cue stream by default (about 0.3 Mbit/s on the wire with its
//! headers). A click through it keeps its place to 0.02 of a sample (0.54 at 128 kb/s,
//! whose coarser coding smears it): what overdub placement to the sample needs.
inline constexpr std::uint32_t kCueOpusDefaultBitrate = 192000;

class CueEncoder {
 public:
  static Result<std::unique_ptr<CueEncoder>> create(std::uint32_t bitrate);
  ~CueEncoder();
  CueEncoder(const CueEncoder&) = delete;
  CueEncoder& operator=(const CueEncoder&) = delete;

  //! Stereo frames (interleaved) from mix position `position` on. Each whole Opus frame is
  //! handed to emit(media_ts, payload); a jump in positions ends the frame in hand with
  //! silence. Returns false when the encoder failed (the frame is dropped).
  template <typename Emit>
  bool add(MediaTime position, std::span<const float> stereo, Emit&& emit) {
    bool ok = true;
    if (have_ != 0 && position != at_ + static_cast<MediaTime>(have_)) {
      std::fill(pending_.begin() + static_cast<std::ptrdiff_t>(2 * have_), pending_.end(), 0.0f);
      ok = encode(emit);
    }
    for (std::size_t i = 0; i < stereo.size() / 2; ++i) {
      if (have_ == 0) at_ = position + static_cast<MediaTime>(i);
      pending_[2 * have_] = stereo[2 * i];
      pending_[2 * have_ + 1] = stereo[2 * i + 1];
      if (++have_ == kCueOpusFrames) ok = encode(emit) && ok;
    }
    return ok;
  }
  //! Samples the decoded stream lags the input by (the stamps already take them off).
  std::int32_t lookahead() const noexcept { return lookahead_; }

 private:
  CueEncoder() = default;
  template <typename Emit>
  bool encode(Emit& emit) {
    const std::size_t n = encode_pending();
    have_ = 0;
    if (n == 0) return false;
    emit(at_ - lookahead_, std::span<const std::uint8_t>(payload_.data(), n));
    return true;
  }
  //! The payload of the frame in hand; 0 when the encoder failed.
  std::size_t encode_pending() noexcept;

  OpusEncoder* enc_ = nullptr;
  std::int32_t lookahead_ = 0;
  std::array<float, 2 * kCueOpusFrames> pending_{};
  std::size_t have_ = 0;
  MediaTime at_ = 0;  // mix position of pending_'s first frame
  std::array<std::uint8_t, kOpusMaxFrameBytes + 2> frame_{}, payload_{};
};

class CueDecoder {
 public:
  struct Counters {
    std::uint64_t decoded_frames = 0;
    std::uint64_t concealed_frames = 0;  //!< made by Opus's concealment for lost packets
    std::uint64_t late_packets = 0;      //!< behind what was already played or concealed
    std::uint64_t held_packets = 0;      //!< waited for one before them (reordering)
    std::uint64_t bad_packets = 0;       //!< not one stereo 5 ms frame, or the decoder refused it
    std::uint64_t restarts = 0;          //!< gaps too long to conceal: decoding began again after them
  };
  //! Lost frames in a row Opus conceals; a longer gap is silence and a fresh start.
  static constexpr std::uint32_t kMaxConcealedFrames = 10;
  //! Packets that can wait for one before them.
  static constexpr std::size_t kHold = 16;

  static Result<std::unique_ptr<CueDecoder>> create();
  ~CueDecoder();
  CueDecoder(const CueDecoder&) = delete;
  CueDecoder& operator=(const CueDecoder&) = delete;

  //! A packet's payload, stamped media_ts (an authenticated Opus Cue packet of
  //! frame_count frames). Decodes what is now in order: emit(position, stereo) for each
  //! run, in position order. false: a bad packet (counted).
  template <typename Emit>
  bool accept(MediaTime media_ts, std::uint32_t frame_count, std::span<const std::uint8_t> payload,
              Emit&& emit) {
    std::span<const std::uint8_t> frame;
    if (frame_count != kCueOpusFrames || !split_opus_payload(payload, 1, std::span(&frame, 1)) ||
        frame.size() > kOpusMaxFrameBytes) {
      ++counters_.bad_packets;
      return false;
    }
    if (next_ == kNone) next_ = media_ts;
    if (media_ts < next_) {
      ++counters_.late_packets;
      return true;
    }
    if (media_ts > next_) {
      if (!hold(media_ts, frame)) {
        give_up(emit);  // the hold is full: the oldest gap is lost
        return accept(media_ts, frame_count, payload, emit);
      }
      return true;
    }
    decode(frame, emit);
    drain(emit);
    return true;
  }

  //! Gives up the gap before the held packets when the next expected frame's audio is
  //! at or before `due` (a mix position a little before it is played): conceals it, then
  //! decodes on from the held.
  template <typename Emit>
  void give_up_before(MediaTime due, Emit&& emit) {
    if (held_ != 0 && next_ <= due) give_up(emit);
  }
  //! Whether packets wait for a gap before them.
  bool holding() const noexcept { return held_ != 0; }
  //! The stamp of the next frame expected (INT64_MIN before the first packet).
  MediaTime next() const noexcept { return next_; }
  const Counters& counters() const noexcept { return counters_; }

 private:
  static constexpr MediaTime kNone = INT64_MIN;
  struct Held {
    MediaTime media_ts = kNone;
    std::size_t bytes = 0;
    std::array<std::uint8_t, kOpusMaxFrameBytes> frame{};
  };
  CueDecoder() = default;
  bool hold(MediaTime media_ts, std::span<const std::uint8_t> frame) noexcept;
  //! The held packet with the smallest stamp (nullptr: none).
  Held* first_held() noexcept;
  //! Decodes one frame (or conceals one: empty) into out_; its frames, 0 on failure.
  int decode_into(std::span<const std::uint8_t> frame) noexcept;
  void restart() noexcept;

  template <typename Emit>
  void decode(std::span<const std::uint8_t> frame, Emit& emit) {
    const int n = decode_into(frame);
    if (n <= 0) {
      ++counters_.bad_packets;  // its place is concealed when the next frame comes
      return;
    }
    counters_.decoded_frames += static_cast<std::uint64_t>(n);
    emit(next_, std::span<const float>(out_.data(), 2 * static_cast<std::size_t>(n)));
    next_ += n;
  }
  template <typename Emit>
  void drain(Emit& emit) {
    while (Held* h = first_held()) {
      if (h->media_ts < next_) {  // overtaken by a concealment: too late
        ++counters_.late_packets;
      } else if (h->media_ts == next_) {
        decode(std::span<const std::uint8_t>(h->frame.data(), h->bytes), emit);
      } else {
        return;
      }
      h->media_ts = kNone;
      --held_;
    }
  }
  template <typename Emit>
  void give_up(Emit& emit) {
    Held* h = first_held();
    if (h == nullptr) return;
    const MediaTime gap = h->media_ts - next_;
    if (gap > static_cast<MediaTime>(kMaxConcealedFrames * kCueOpusFrames)) {
      restart();
      next_ = h->media_ts;
    } else {
      for (MediaTime at = next_; at < h->media_ts;) {
        const int n = decode_into({});
        if (n <= 0) {
          restart();
          next_ = h->media_ts;
          break;
        }
        const auto take = static_cast<std::size_t>(std::min<MediaTime>(n, h->media_ts - at));
        counters_.concealed_frames += take;
        emit(at, std::span<const float>(out_.data(), 2 * take));
        at += static_cast<MediaTime>(take);
        next_ = at;
      }
    }
    drain(emit);
  }

  OpusDecoder* dec_ = nullptr;
  MediaTime next_ = kNone;  // stamp of the next frame expected
  std::array<Held, kHold> hold_{};
  std::size_t held_ = 0;
  std::array<float, 2 * kCueOpusFrames> out_{};
  Counters counters_;
};

}  // namespace tl::protocol
