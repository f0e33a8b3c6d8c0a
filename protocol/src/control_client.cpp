#include "tl/protocol/control_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio.hpp>
#include <cerrno>

#include "tl/common/clock.h"
#include "tl/protocol/auth.h"

namespace tl::protocol {

using tl::proto::Envelope;

struct ControlClient::Impl {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  FrameDecoder decoder;
  bool open = false;
};

namespace {

//! Milliseconds left until deadline_ns (monotonic), at least 0.
int ms_left(std::int64_t deadline_ns) {
  const std::int64_t left = (deadline_ns - monotonic_ns()) / 1'000'000;
  return left <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left, 1'000'000'000));
}

//! Connects socket to the first endpoint that answers before deadline_ns; the socket is
//! left blocking. A SYN that gets no answer (a host down, a full listen queue) ends at the
//! deadline with asio::error::timed_out, not after the kernel's minutes of retries.
asio::error_code connect_by(asio::ip::tcp::socket& socket,
                            const asio::ip::tcp::resolver::results_type& endpoints,
                            std::int64_t deadline_ns) {
  asio::error_code ec = asio::error::host_not_found;
  asio::error_code ignored;
  for (const auto& entry : endpoints) {
    socket.close(ignored);
    socket.open(entry.endpoint().protocol(), ec);
    if (!ec) socket.non_blocking(true, ec);
    if (ec) continue;
    // Not socket.connect(): asio's blocking connect waits without a bound even on a
    // non-blocking socket.
    if (::connect(socket.native_handle(), entry.endpoint().data(),
                  static_cast<socklen_t>(entry.endpoint().size())) != 0) {
      ec = asio::error_code(errno, asio::error::get_system_category());
    }
    if (ec == asio::error::in_progress || ec == asio::error::would_block) {
      pollfd pfd{socket.native_handle(), POLLOUT, 0};
      int r = 0;
      do {
        r = ::poll(&pfd, 1, ms_left(deadline_ns));
      } while (r < 0 && errno == EINTR);
      if (r == 0) {
        ec = asio::error::timed_out;
      } else {
        int so_error = r < 0 ? errno : 0;
        socklen_t len = sizeof so_error;
        if (r > 0) getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &so_error, &len);
        ec = asio::error_code(so_error, asio::error::get_system_category());
      }
    }
    if (!ec) socket.non_blocking(false, ec);
    if (!ec) return ec;
    if (ec == asio::error::timed_out) break;  // the time is up for every other endpoint too
  }
  socket.close(ignored);
  return ec;
}

}  // namespace

ControlClient::ControlClient() : impl_(std::make_unique<Impl>()) {}
ControlClient::~ControlClient() {
  close();
}

bool ControlClient::connected() const noexcept {
  return impl_->open;
}

int ControlClient::native_handle() const noexcept {
  return impl_->open ? impl_->socket.native_handle() : -1;
}

void ControlClient::close() {
  if (!impl_->open) return;
  asio::error_code ec;
  impl_->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
  impl_->open = false;
}

Status ControlClient::connect(const std::string& host, std::uint16_t port, const std::string& token,
                              tl::proto::ClientKind kind, const std::string& client_name, Millis timeout) {
  close();
  impl_->decoder = FrameDecoder{};
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(impl_->io);
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return Error{"cannot resolve mixer host '" + host + "': " + ec.message()};
  ec = connect_by(impl_->socket, endpoints, monotonic_ns() + timeout.count() * 1'000'000);
  if (ec) {
    const std::string why = ec == asio::error::timed_out
                                ? "no answer within " + std::to_string(timeout.count()) + " ms"
                                : ec.message();
    return Error{"cannot reach mixer at " + host + ":" + std::to_string(port) + ": " + why +
                 " (is tl-mixer running with --listen on that address?)"};
  }
  impl_->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  impl_->open = true;

  // Every failure from here on closes the half-open connection: a failed connect()
  // leaves the client disconnected.
  const auto fail = [this](std::string message) {
    close();
    return Status{Error{std::move(message)}};
  };
  auto challenge = read_one(timeout);
  if (!challenge) return fail("no challenge from mixer: " + challenge.error());
  if (!challenge->has_challenge()) return fail("mixer spoke out of turn: expected a challenge");

  Envelope answer;
  auto* auth = answer.mutable_auth_response();
  auth->set_mac(compute_mac(token, challenge->challenge().nonce()));
  auth->set_kind(kind);
  auth->set_client_name(client_name);
  if (auto s = send(std::move(answer)); !s) return s;

  auto result = read_one(timeout);
  if (!result) return fail("no authentication result: " + result.error());
  if (!result->has_auth_result()) return fail("mixer spoke out of turn: expected an auth result");
  if (!result->auth_result().ok()) {
    return fail("mixer refused access: " + result->auth_result().message());
  }
  return Status::success();
}

Status ControlClient::send(Envelope message) {
  if (!impl_->open) return Error{"not connected to the mixer"};
  const std::string frame = encode_frame(message);
  asio::error_code ec;
  asio::write(impl_->socket, asio::buffer(frame), ec);
  if (ec) {
    close();
    return Error{"lost connection to mixer: " + ec.message()};
  }
  return Status::success();
}

Result<Envelope> ControlClient::read_one(Millis timeout) {
  const std::int64_t deadline = monotonic_ns() + timeout.count() * 1'000'000;
  Envelope env;
  for (;;) {
    switch (impl_->decoder.next(env)) {
      case FrameDecoder::Result::Message:
        return env;
      case FrameDecoder::Result::Error:
        close();
        return Error{"bad data from mixer: " + impl_->decoder.error()};
      case FrameDecoder::Result::NeedMore:
        break;
    }
    if (!impl_->open) return Error{"not connected to the mixer"};
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) return Error{"timed out waiting for the mixer"};
    pollfd pfd{impl_->socket.native_handle(), POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left_ms));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error{"poll failed"};
    }
    if (r == 0) continue;
    char buf[8192];
    asio::error_code ec;
    const std::size_t n = impl_->socket.read_some(asio::buffer(buf), ec);
    if (ec) {
      close();
      return Error{ec == asio::error::eof ? "mixer closed the connection"
                                          : "lost connection to mixer: " + ec.message()};
    }
    impl_->decoder.feed(buf, n);
  }
}

Result<Envelope> ControlClient::call(Envelope request, Millis timeout) {
  last_refusal_.reset();
  const std::uint64_t id = next_request_id_++;
  request.set_request_id(id);
  if (auto s = send(std::move(request)); !s) return Error{s.error()};
  const std::int64_t deadline = monotonic_ns() + timeout.count() * 1'000'000;
  for (;;) {
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) return Error{"timed out waiting for the mixer's reply"};
    auto reply = read_one(Millis(left_ms));
    if (!reply) return reply;
    if (reply->request_id() == 0) {
      events_.push_back(std::move(reply.value()));
      continue;
    }
    if (reply->request_id() != id) continue;  // a stale reply to an abandoned call
    if (reply->has_error()) {
      last_refusal_ = reply->error().code();
      return Error{reply->error().message()};
    }
    return reply;
  }
}

Result<Envelope> ControlClient::next_event(Millis timeout) {
  if (!events_.empty()) {
    Envelope e = std::move(events_.front());
    events_.pop_front();
    return e;
  }
  const std::int64_t deadline = monotonic_ns() + timeout.count() * 1'000'000;
  for (;;) {
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) return Error{"timed out waiting for an event"};
    auto msg = read_one(Millis(left_ms));
    if (!msg) return msg;
    if (msg->request_id() == 0) return msg;
  }
}

}  // namespace tl::protocol
