#include "tl/mixer/control_server.h"

#include <spdlog/spdlog.h>

#include "tl/protocol/auth.h"

namespace tl::mixer {

using proto::Envelope;

ControlSession::ControlSession(asio::ip::tcp::socket socket, const std::string& token,
                               ControlHandler& handler, std::function<void(ControlSession&)> on_gone)
    : socket_(std::move(socket)),
      auth_timer_(socket_.get_executor()),
      token_(token),
      handler_(handler),
      on_gone_(std::move(on_gone)) {
  std::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

void ControlSession::start() {
  nonce_ = protocol::make_nonce();
  Envelope challenge;
  challenge.mutable_challenge()->set_nonce(nonce_);
  challenge.mutable_challenge()->set_server("tl-mixer 0.1.0");
  reply(0, std::move(challenge));
  auth_timer_.expires_after(std::chrono::seconds(5));
  auth_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec && !self->authenticated_ && self->open_) {
      spdlog::warn("control: {} did not authenticate within 5 s; disconnected", self->peer_);
      self->close();
    }
  });
  read();
}

void ControlSession::read() {
  socket_.async_read_some(
      asio::buffer(buffer_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        self->decoder_.feed(self->buffer_.data(), n);
        Envelope message;
        for (;;) {
          const auto r = self->decoder_.next(message);
          if (r == protocol::FrameDecoder::Result::NeedMore) break;
          if (r == protocol::FrameDecoder::Result::Error) {
            spdlog::warn("control: {} sent bad data ({}); disconnected", self->peer_, self->decoder_.error());
            self->close();
            return;
          }
          self->on_message(message);
          if (!self->open_) return;
        }
        self->read();
      });
}

void ControlSession::on_message(const Envelope& message) {
  if (!authenticated_) {
    Envelope result;
    auto* r = result.mutable_auth_result();
    if (!message.has_auth_response()) {
      r->set_ok(false);
      r->set_message("authenticate first: the mixer serves nothing before the token check");
    } else if (!protocol::verify_mac(token_, nonce_, message.auth_response().mac())) {
      r->set_ok(false);
      r->set_message("wrong token: check --token-file or TRACKLINK_TOKEN against the mixer's");
      spdlog::warn("control: {} ({}) presented a wrong token; disconnected", peer_,
                   message.auth_response().client_name());
    } else {
      authenticated_ = true;
      auth_timer_.cancel();
      kind_ = message.auth_response().kind();
      client_name_ = message.auth_response().client_name();
      r->set_ok(true);
      r->set_message("welcome");
      reply(0, std::move(result));
      return;
    }
    reply(0, std::move(result));
    close_after_write_ = true;
    if (!writing_) close();
    return;
  }
  // Notifications from a node carry request_id 0: its reports, and backfill answers.
  if (message.request_id() == 0 && !message.has_node_report() && !message.has_audio_data()) {
    send_error(0, proto::ErrorReply::BAD_REQUEST, "requests need a non-zero request_id");
    return;
  }
  handler_.on_request(shared_from_this(), message);
}

void ControlSession::reply(std::uint64_t request_id, Envelope message) {
  if (!open_) return;
  message.set_request_id(request_id);
  outbox_.push_back(protocol::encode_frame(message));
  if (outbox_.size() > 4096) {
    spdlog::warn("control: {} is not reading its events; disconnected", peer_);
    close();
    return;
  }
  if (!writing_) write_next();
}

void ControlSession::send_error(std::uint64_t request_id, proto::ErrorReply::Code code,
                                const std::string& text) {
  Envelope e;
  e.mutable_error()->set_code(code);
  e.mutable_error()->set_message(text);
  reply(request_id, std::move(e));
}

void ControlSession::write_next() {
  if (outbox_.empty()) {
    writing_ = false;
    if (close_after_write_) close();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(outbox_.front()),
                    [self = shared_from_this()](std::error_code ec, std::size_t) {
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->outbox_.pop_front();
                      self->write_next();
                    });
}

void ControlSession::close() {
  if (!open_) return;
  open_ = false;
  std::error_code ec;
  auth_timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (authenticated_) handler_.on_closed(*this);
  if (on_gone_) on_gone_(*this);
}

ControlServer::ControlServer(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint, std::string token,
                             ControlHandler& handler)
    : acceptor_(io), token_(std::move(token)), handler_(handler) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  accept();
}

void ControlServer::accept() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto session =
          std::make_shared<ControlSession>(std::move(socket), token_, handler_, [this](ControlSession& s) {
            // Deferred: the session may be mid-callback.
            asio::post(acceptor_.get_executor(), [this, p = s.shared_from_this()] { sessions_.erase(p); });
          });
      sessions_.insert(session);
      session->start();
    }
    accept();
  });
}

void ControlServer::for_each(const std::function<void(ControlSession&)>& fn) {
  for (const auto& s : sessions_) {
    if (s->open()) fn(*s);
  }
}

void ControlServer::close_all() {
  std::error_code ec;
  acceptor_.close(ec);
  auto copy = sessions_;
  for (const auto& s : copy) s->close();
}

}  // namespace tl::mixer
