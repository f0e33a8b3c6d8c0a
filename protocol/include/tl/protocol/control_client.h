#pragma once
//! Blocking client side of the control channel, for tlctl and tl-capture.
//!
//! One object, one TCP connection, used from one thread. Every call has a timeout;
//! none blocks forever. Events that arrive while waiting for a reply are queued and
//! handed out by next_event().

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"
#include "tl/protocol/framing.h"

namespace tl::protocol {

class ControlClient {
 public:
  using Envelope = tl::proto::Envelope;
  using Millis = std::chrono::milliseconds;

  ControlClient();
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  //! Connects and authenticates, each step within timeout (a connect nobody answers
  //! included). Errors: unreachable, refused, no answer in time, wrong token (the server's
  //! message is passed on), protocol mismatch.
  Status connect(const std::string& host, std::uint16_t port, const std::string& token,
                 tl::proto::ClientKind kind, const std::string& client_name, Millis timeout = Millis(5000));

  //! Sends request (request_id is assigned) and waits for its reply. An ErrorReply
  //! from the server becomes an Error with its message (and last_refusal() its code).
  Result<Envelope> call(Envelope request, Millis timeout = Millis(5000));

  //! The code of the ErrorReply that answered the last call(); nothing when that call got
  //! its reply, or no answer at all (timed out, connection lost).
  std::optional<tl::proto::ErrorReply::Code> last_refusal() const noexcept { return last_refusal_; }

  //! Sends without waiting for a reply.
  Status send(Envelope message);

  //! Next event (request_id 0), or an error on timeout/disconnect.
  Result<Envelope> next_event(Millis timeout);

  bool connected() const noexcept;
  void close();

  //! Native socket handle, for callers that poll several sources (-1 when closed).
  int native_handle() const noexcept;

 private:
  Result<Envelope> read_one(Millis timeout);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t next_request_id_ = 1;
  std::deque<Envelope> events_;
  std::optional<tl::proto::ErrorReply::Code> last_refusal_;
};

}  // namespace tl::protocol
