#include "tl/protocol/opus_cue.h"

#include <opus.h>

#include <string>

namespace tl::protocol {

Result<std::unique_ptr<CueEncoder>> CueEncoder::create(std::uint32_t bitrate) {
  std::unique_ptr<CueEncoder> e(new CueEncoder());
  int err = OPUS_OK;
  e->enc_ = opus_encoder_create(kCueOpusRate, 2, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
  if (e->enc_ == nullptr || err != OPUS_OK) {
    return Error{std::string("cannot create the cue's Opus encoder: ") + opus_strerror(err)};
  }
  opus_encoder_ctl(e->enc_, OPUS_SET_BITRATE(static_cast<opus_int32>(bitrate)));
  opus_encoder_ctl(e->enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_MUSIC));
  opus_int32 lookahead = 0;
  opus_encoder_ctl(e->enc_, OPUS_GET_LOOKAHEAD(&lookahead));
  e->lookahead_ = lookahead;
  return e;
}

CueEncoder::~CueEncoder() {
  if (enc_ != nullptr) opus_encoder_destroy(enc_);
}

std::size_t CueEncoder::encode_pending() noexcept {
  const opus_int32 n = opus_encode_float(enc_, pending_.data(), static_cast<int>(kCueOpusFrames),
                                         frame_.data(), static_cast<opus_int32>(kOpusMaxFrameBytes));
  if (n <= 0) return 0;
  return append_opus_frame(payload_, 0,
                           std::span<const std::uint8_t>(frame_.data(), static_cast<std::size_t>(n)));
}

Result<std::unique_ptr<CueDecoder>> CueDecoder::create() {
  std::unique_ptr<CueDecoder> d(new CueDecoder());
  int err = OPUS_OK;
  d->dec_ = opus_decoder_create(kCueOpusRate, 2, &err);
  if (d->dec_ == nullptr || err != OPUS_OK) {
    return Error{std::string("cannot create the cue's Opus decoder: ") + opus_strerror(err)};
  }
  return d;
}

CueDecoder::~CueDecoder() {
  if (dec_ != nullptr) opus_decoder_destroy(dec_);
}

bool CueDecoder::hold(MediaTime media_ts, std::span<const std::uint8_t> frame) noexcept {
  Held* free = nullptr;
  for (Held& h : hold_) {
    if (h.media_ts == media_ts) return true;  // a duplicate
    if (h.media_ts == kNone && free == nullptr) free = &h;
  }
  if (free == nullptr) return false;
  free->media_ts = media_ts;
  free->bytes = frame.size();
  std::copy(frame.begin(), frame.end(), free->frame.begin());
  ++held_;
  ++counters_.held_packets;
  return true;
}

CueDecoder::Held* CueDecoder::first_held() noexcept {
  Held* first = nullptr;
  for (Held& h : hold_) {
    if (h.media_ts != kNone && (first == nullptr || h.media_ts < first->media_ts)) first = &h;
  }
  return first;
}

int CueDecoder::decode_into(std::span<const std::uint8_t> frame) noexcept {
  return opus_decode_float(dec_, frame.empty() ? nullptr : frame.data(),
                           static_cast<opus_int32>(frame.size()), out_.data(),
                           static_cast<int>(kCueOpusFrames), 0);
}

void CueDecoder::restart() noexcept {
  ++counters_.restarts;
  opus_decoder_ctl(dec_, OPUS_RESET_STATE);
}

}  // namespace tl::protocol
