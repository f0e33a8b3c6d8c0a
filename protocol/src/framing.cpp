#include "tl/protocol/framing.h"

#include "tl/protocol/byte_order.h"

namespace tl::protocol {

std::string encode_frame(const tl::proto::Envelope& envelope) {
  const std::string body = envelope.SerializeAsString();
  std::string out(4 + body.size(), '\0');
  put_u32(reinterpret_cast<std::uint8_t*>(out.data()), static_cast<std::uint32_t>(body.size()));
  out.replace(4, body.size(), body);
  return out;
}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void FrameDecoder::feed(const char* data, std::size_t size) {
  feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size));
}

FrameDecoder::Result FrameDecoder::next(tl::proto::Envelope& out) {
  if (failed_) return Result::Error;
  if (buffered() < 4) return Result::NeedMore;
  const std::uint32_t len = get_u32(buffer_.data() + offset_);
  if (len > kMaxFrameBytes) {
    failed_ = true;
    error_ = "frame of " + std::to_string(len) + " bytes exceeds the " + std::to_string(kMaxFrameBytes) +
             "-byte limit";
    return Result::Error;
  }
  if (buffered() < 4 + static_cast<std::size_t>(len)) return Result::NeedMore;
  const bool parsed = out.ParseFromArray(buffer_.data() + offset_ + 4, static_cast<int>(len));
  offset_ += 4 + len;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > (64u << 10)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
  if (!parsed) {
    failed_ = true;
    error_ = "frame is not a valid control message";
    return Result::Error;
  }
  return Result::Message;
}

}  // namespace tl::protocol
