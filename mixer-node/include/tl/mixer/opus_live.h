#pragma once
//! The live path of a node that sends Opus: decoding in media-time order, with
//! Opus's own loss handling, on the io thread.
//!
//! Each channel group (the channels one packet carries, keyed by its first
//! channel) has a decode cursor: the media time of the next frame its decoders
//! expect. A packet at the cursor is decoded at once. A packet past it waits in a
//! small hold, since the packets between may only be reordered; once the gap's
//! audio is nearly due at the mix (deliver_due), or the hold is full, the gap is
//! given up: every lost frame but the last is Opus's packet-loss concealment, the
//! last is rebuilt from the waiting packet's in-band FEC (its SILK layer's copy of
//! the frame before; a CELT-only packet has none, and Opus conceals instead), and
//! decoding goes on from the waiting packet. A packet behind the cursor came too
//! late for the live path (counted). Decoded audio is flagged kFlagLossy, and
//! concealment and FEC kFlagConcealed / kFlagFec, so the mix counts it as a guess
//! and the recorder keeps it only until the node's exact samples replace it.
//!
//! Everything is allocated by create(); accept() and deliver_due() never allocate.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"
#include "tl/protocol/audio_packet.h"

struct OpusDecoder;

namespace tl::mixer {

class OpusLive {
 public:
  struct Config {
    std::uint32_t channels = 1;
    std::uint32_t rate = 48000;
    std::uint32_t frames = 240;  //!< the node's Opus frame, samples
  };

  //! One run of decoded audio, interleaved [frame][channel of the group].
  struct Decoded {
    MediaTime media_ts = 0;
    std::uint16_t frames = 0;
    std::uint8_t first_channel = 0, channel_count = 0;
    std::uint16_t flags = 0;      //!< the packet's, plus kFlagLossy and kFlagConcealed / kFlagFec
    std::int64_t arrival_ns = 0;  //!< when its packet arrived; for a guess, when it was made
    Seq seq = 0;
    std::span<const float> interleaved;
  };
  class Sink {
   public:
    virtual void deliver(const Decoded& run) = 0;

   protected:
    ~Sink() = default;
  };

  struct Counters {
    std::uint64_t decoded_samples = 0;    //!< decoded from packets (every channel's)
    std::uint64_t concealed_samples = 0;  //!< made by Opus's concealment
    std::uint64_t fec_samples = 0;        //!< rebuilt from FEC
    std::uint64_t late_packets = 0;       //!< arrived after their gap was concealed
    std::uint64_t held_packets = 0;       //!< waited for a packet before them
    std::uint64_t bad_packets = 0;        //!< wrong duration, malformed payload, decoder error
  };

  static Result<std::unique_ptr<OpusLive>> create(const Config& config);
  ~OpusLive();
  OpusLive(const OpusLive&) = delete;
  OpusLive& operator=(const OpusLive&) = delete;

  //! An authenticated Opus audio packet (the caller checked its channel range).
  //! Decodes what is now in order and delivers it; false when the packet is bad.
  bool accept(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload, std::int64_t arrival_ns,
              Sink& sink) noexcept;

  //! Gives up every gap whose audio begins before due (a session position a little
  //! before the mix reads it): conceals it and decodes on from the packet after.
  //! Guesses wholly before played (what the mix has read already) are decoded, to
  //! keep the decoder's state, but not delivered. now_ns stamps the guesses.
  void deliver_due(MediaTime due, MediaTime played, std::int64_t now_ns, Sink& sink) noexcept;

  const Counters& counters() const noexcept { return counters_; }

 private:
  static constexpr std::size_t kHold = 32;
  static constexpr MediaTime kUnset = INT64_MIN;
  //! Gaps longer than this are not concealed frame by frame: the decoder restarts.
  static constexpr std::uint32_t kMaxConcealFrames = 48;

  struct Held {
    bool used = false;
    protocol::PacketHeader header;
    std::int64_t arrival_ns = 0;
    std::uint16_t size = 0;
    std::array<std::uint8_t, protocol::kMaxPayloadBytes> payload{};
  };

  explicit OpusLive(const Config& config);
  //! Decodes one packet of group g at its cursor (fec: the frame before it, from its FEC).
  bool decode(const protocol::PacketHeader& h, std::span<const std::uint8_t> payload, std::int64_t arrival_ns,
              bool fec, Sink& sink) noexcept;
  //! Opus's concealment for the frame of group g at `at`; delivered unless already played.
  void conceal(std::uint32_t g, std::uint32_t count, MediaTime at, std::int64_t now_ns, Sink& sink) noexcept;
  //! planar_'s first count channels, interleaved into interleaved_.
  std::span<const float> interleave(std::uint32_t count) noexcept;
  //! Audio ending at end is still ahead of what the mix has read (all is, before the first deliver_due()).
  bool unplayed(MediaTime end) const noexcept { return end > played_; }
  //! Decodes held packets of group g that are now at its cursor.
  void release(std::uint32_t g, Sink& sink) noexcept;
  Held* earliest_held(std::uint32_t g) noexcept;
  //! A new timeline for group g at at: fresh decoders, its held packets dropped.
  void restart_group(std::uint32_t g, std::uint32_t count, MediaTime at) noexcept;
  void reset_decoders(std::uint32_t g, std::uint32_t count) noexcept;

  Config config_;
  std::vector<OpusDecoder*> decoders_;
  std::vector<MediaTime> cursor_;         // [first channel of a group]
  std::vector<std::uint8_t> group_size_;  // [first channel of a group], 0: not a group start
  std::vector<float> planar_, interleaved_;
  std::unique_ptr<std::array<Held, kHold>> hold_;
  MediaTime played_ = kUnset;  // the mix's read position at the last deliver_due()
  Counters counters_;
};

}  // namespace tl::mixer
