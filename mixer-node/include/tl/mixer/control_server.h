#pragma once
//! The control channel's server side: TCP, length-prefixed protobuf, on the io thread.
//!
//! Each connection must authenticate first (challenge, HMAC of the shared token);
//! nothing else is served before that, and a client that fails or stays silent
//! for 5 s is disconnected. A client that sends garbage or disconnects
//! mid-message only loses its own connection.

#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "tl/protocol/control.pb.h"
#include "tl/protocol/framing.h"

namespace tl::mixer {

class ControlSession;
struct NodeSlot;

//! What the server hands authenticated requests to.
class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  //! A request from an authenticated client. Reply with session->reply().
  virtual void on_request(const std::shared_ptr<ControlSession>& session, const proto::Envelope& request) = 0;
  //! The connection closed (after authentication).
  virtual void on_closed(ControlSession& session) = 0;
};

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(asio::ip::tcp::socket socket, const std::string& token, ControlHandler& handler,
                 std::function<void(ControlSession&)> on_gone);

  void start();
  //! Sends a reply to request_id (0 for events).
  void reply(std::uint64_t request_id, proto::Envelope message);
  void send_error(std::uint64_t request_id, proto::ErrorReply::Code code, const std::string& text);
  void close();

  bool open() const noexcept { return open_; }
  const std::string& peer() const noexcept { return peer_; }
  const std::string& client_name() const noexcept { return client_name_; }
  //! Who to name in the log for a change this session asked for: its client name, else its address.
  const std::string& who() const noexcept { return client_name_.empty() ? peer_ : client_name_; }
  proto::ClientKind kind() const noexcept { return kind_; }

  // Set by the handler.
  bool subscribed_levels = false;
  bool subscribed_nodes = false;
  NodeSlot* node = nullptr;  // the capture node registered over this connection

 private:
  void read();
  void on_message(const proto::Envelope& message);
  void write_next();

  asio::ip::tcp::socket socket_;
  asio::steady_timer auth_timer_;
  const std::string& token_;
  ControlHandler& handler_;
  std::function<void(ControlSession&)> on_gone_;
  protocol::FrameDecoder decoder_;
  std::string nonce_;
  std::string peer_;
  std::string client_name_;
  proto::ClientKind kind_ = proto::CLIENT_UNKNOWN;
  bool authenticated_ = false;
  bool open_ = true;
  bool writing_ = false;
  bool close_after_write_ = false;
  std::deque<std::string> outbox_;
  std::array<char, 8192> buffer_{};
};

class ControlServer {
 public:
  ControlServer(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint, std::string token,
                ControlHandler& handler);

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  //! Calls fn for every open session (io thread).
  void for_each(const std::function<void(ControlSession&)>& fn);
  void close_all();

 private:
  void accept();

  asio::ip::tcp::acceptor acceptor_;
  std::string token_;
  ControlHandler& handler_;
  std::set<std::shared_ptr<ControlSession>> sessions_;
};

}  // namespace tl::mixer
