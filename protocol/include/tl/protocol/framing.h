#pragma once
//! Length-prefixed protobuf messages over a byte stream.
//!
//! Each frame is a u32 big-endian length followed by a serialized Envelope.
//! FrameDecoder accepts bytes in arbitrary pieces (a client may stop mid-message)
//! and refuses frames over kMaxFrameBytes or that fail to parse.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tl/protocol/control.pb.h"

namespace tl::protocol {

inline constexpr std::size_t kMaxFrameBytes = 4u << 20;

//! Serializes an envelope with its length prefix.
std::string encode_frame(const tl::proto::Envelope& envelope);

class FrameDecoder {
 public:
  enum class Result { NeedMore, Message, Error };

  //! Appends received bytes.
  void feed(std::span<const std::uint8_t> bytes);
  void feed(const char* data, std::size_t size);

  //! Extracts the next complete message into out. Error is final: the stream is
  //! out of step (oversized or unparsable frame) and the connection should close.
  Result next(tl::proto::Envelope& out);

  //! Why the last next() returned Error.
  const std::string& error() const noexcept { return error_; }

  //! Bytes buffered but not yet consumed.
  std::size_t buffered() const noexcept { return buffer_.size() - offset_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t offset_ = 0;
  std::string error_;
  bool failed_ = false;
};

}  // namespace tl::protocol
