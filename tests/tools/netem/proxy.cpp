#include "netem/proxy.h"

#include <asio/post.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <future>

#include "netem/safety.h"
#include "tl/common/clock.h"

namespace tl::netem {

namespace {

using asio::ip::udp;

std::chrono::steady_clock::time_point to_time_point(std::int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

std::chrono::nanoseconds seconds_ns(double s) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9));
}

// The reply direction gets its own, different random streams.
std::uint64_t downstream_seed(std::uint64_t seed) {
  return seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
}

// An ICMP error from an earlier send surfaces on the next receive; UDP goes on.
bool transient(const asio::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::connection_reset ||
         ec == asio::error::network_unreachable || ec == asio::error::host_unreachable ||
         ec == asio::error::message_size;
}

}  // namespace

struct Proxy::Client {
  explicit Client(asio::io_context& io) : socket(io) {}
  udp::endpoint endpoint;  // the client, as seen on the listen socket
  udp::socket socket;      // our upstream socket towards the forward target
  udp::endpoint sender;
  std::array<std::uint8_t, 65536> buffer{};
  std::int64_t last_active_ns = 0;
  std::uint64_t pending = 0;  // departures still queued for this client
};

std::string format_line(const char* name, const DirectionReport& r) {
  char line[384];
  std::snprintf(line, sizeof line,
                "%-4s in=%" PRIu64 " fwd=%" PRIu64 " drop=%" PRIu64 " (random=%" PRIu64 " burst=%" PRIu64
                " rate=%" PRIu64 ") dup=%" PRIu64 " reord=%" PRIu64 " pending=%" PRIu64 " send_err=%" PRIu64
                " delay mean=%.2fms p99=%.2fms late<=%.2fms",
                name, r.in, r.forwarded, r.dropped_random + r.dropped_burst + r.dropped_rate,
                r.dropped_random, r.dropped_burst, r.dropped_rate, r.duplicated, r.reordered, r.pending,
                r.send_errors, r.mean_delay_ms, r.p99_delay_ms, r.max_late_ms);
  return line;
}

Proxy::Proxy(ProxyConfig config)
    : config_(std::move(config)),
      listen_socket_(io_),
      departure_timer_(io_),
      stats_timer_(io_),
      duration_timer_(io_),
      sweep_timer_(io_),
      up_{ImpairmentModel(config_.upstream, config_.seed)},
      down_{ImpairmentModel(config_.one_way ? ImpairmentConfig{} : config_.downstream,
                            downstream_seed(config_.seed))} {}

Proxy::~Proxy() = default;

Status Proxy::start() {
  if (started_) return Error{"proxy already started"};
  if (auto s = validate(config_.upstream); !s) return s;
  if (auto s = validate(config_.downstream); !s) return s;
  // Every change must leave a valid link, in the order the run will apply them.
  std::stable_sort(config_.changes.begin(), config_.changes.end(),
                   [](const LinkChange& a, const LinkChange& b) { return a.at_s < b.at_s; });
  ImpairmentConfig up = config_.upstream, down = config_.downstream;
  for (const LinkChange& c : config_.changes) {
    auto next_up = apply_link_change(up, c);
    if (!next_up) return Error{next_up.error()};
    auto next_down = apply_link_change(down, c);
    if (!next_down) return Error{next_down.error()};
    up = *next_up;
    down = *next_down;
  }
  if (auto s = check_forward_target(config_.forward_host, config_.allow_nonlocal); !s)
    return Error{"--forward: " + s.error()};
  // Replies go back to whoever sent to the listen address, so it must be loopback too.
  if (auto s = check_forward_target(config_.listen_host, config_.allow_nonlocal, "listen on"); !s) {
    return Error{"--listen: " + s.error()};
  }
  if (config_.forward_port == 0) return Error{"--forward: port 0 is not a destination"};
  asio::error_code ec;
  const auto fwd_addr =
      asio::ip::make_address(config_.forward_host == "localhost" ? "127.0.0.1" : config_.forward_host, ec);
  if (ec) return Error{"--forward: bad address '" + config_.forward_host + "'"};
  forward_ = udp::endpoint(fwd_addr, config_.forward_port);
  const auto listen_addr =
      asio::ip::make_address(config_.listen_host == "localhost" ? "127.0.0.1" : config_.listen_host, ec);
  if (ec) return Error{"--listen: bad address '" + config_.listen_host + "'"};
  const udp::endpoint listen_ep(listen_addr, config_.listen_port);
  listen_socket_.open(listen_ep.protocol(), ec);
  if (!ec) listen_socket_.bind(listen_ep, ec);
  if (ec) {
    return Error{"cannot listen on " + config_.listen_host + ":" + std::to_string(config_.listen_port) +
                 ": " + ec.message()};
  }
  listen_socket_.non_blocking(true, ec);
  // Room for bursts while the io thread is busy; the kernel may cap it.
  listen_socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
  bound_port_ = listen_socket_.local_endpoint(ec).port();
  started_ = true;
  return {};
}

void Proxy::run() {
  if (!started_) return;
  started_ns_ = monotonic_ns();
  receive_listen();
  schedule_stats();
  schedule_sweep();
  schedule_changes();
  schedule_rebinds();
  if (config_.duration_s > 0.0) {
    duration_timer_.expires_after(seconds_ns(config_.duration_s));
    duration_timer_.async_wait([this](const asio::error_code& ec) {
      if (!ec) shutdown("duration ended");
    });
  }
  if (config_.handle_signals) {
    signals_ = std::make_unique<asio::signal_set>(io_, SIGINT, SIGTERM);
    signals_->async_wait([this](const asio::error_code& ec, int signo) {
      if (!ec) shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
    });
  }
  io_.run();
}

void Proxy::stop() {
  asio::post(io_, [this] { shutdown("stopped"); });
}

std::optional<ProxyReport> Proxy::snapshot(std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<ProxyReport>>();
  auto future = promise->get_future();
  asio::post(io_, [this, promise] { promise->set_value(report()); });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

DirectionReport Proxy::direction_report(const Direction& d) const {
  const auto& s = d.model.stats();
  DirectionReport r;
  r.in = s.in;
  r.forwarded = d.sent;
  r.dropped_random = s.dropped_random;
  r.dropped_burst = s.dropped_burst;
  r.dropped_rate = s.dropped_rate;
  r.duplicated = s.duplicated;
  r.reordered = s.reordered;
  r.send_errors = d.send_errors;
  r.pending = s.scheduled - d.sent - d.send_errors;
  r.mean_delay_ms = s.delay.mean_ms();
  r.p99_delay_ms = s.delay.quantile_ms(0.99);
  r.max_late_ms = static_cast<double>(d.max_late_ns) / 1e6;
  return r;
}

ProxyReport Proxy::report() const {
  ProxyReport r;
  r.upstream = direction_report(up_);
  r.downstream = direction_report(down_);
  r.clients = clients_.size();
  r.refused_clients = refused_clients_;
  r.expired_clients = expired_clients_;
  r.stray = stray_;
  r.rebinds = rebinds_;
  r.elapsed_s = started_ns_ == 0 ? 0.0 : static_cast<double>(monotonic_ns() - started_ns_) / 1e9;
  return r;
}

void Proxy::receive_listen() {
  listen_socket_.async_receive_from(
      asio::buffer(listen_buffer_), listen_sender_, [this](const asio::error_code& ec, std::size_t n) {
        if (stopped_ || ec == asio::error::operation_aborted) return;
        if (!ec) {
          auto it = clients_.find(listen_sender_);
          std::shared_ptr<Client> client;
          if (it != clients_.end()) {
            client = it->second;
          } else if (clients_.size() >= config_.max_clients) {
            ++refused_clients_;
          } else {
            client = std::make_shared<Client>(io_);
            client->endpoint = listen_sender_;
            if (!open_upstream(*client)) {
              client.reset();
              ++refused_clients_;
            } else {
              clients_.emplace(listen_sender_, client);
              receive_upstream(client);
            }
          }
          if (client) {
            client->last_active_ns = monotonic_ns();
            admit(true, client, listen_buffer_.data(), n);
          }
        }
        if (ec && !transient(ec)) {
          std::fprintf(stderr, "tl-netem: listen socket failed: %s\n", ec.message().c_str());
          shutdown("listen socket error");
          return;
        }
        receive_listen();
      });
}

bool Proxy::open_upstream(Client& client) {
  asio::error_code ec;
  client.socket.open(forward_.protocol(), ec);
  if (!ec) client.socket.bind(udp::endpoint(forward_.protocol(), 0), ec);
  if (!ec) client.socket.non_blocking(true, ec);
  if (ec) {
    std::fprintf(stderr, "tl-netem: cannot open upstream socket for a client: %s\n", ec.message().c_str());
    client.socket.close(ec);
    return false;
  }
  return true;
}

void Proxy::schedule_rebinds() {
  for (const double at : config_.rebind_at_s) {
    auto& timer = change_timers_.emplace_back(std::make_unique<asio::steady_timer>(io_));
    timer->expires_at(to_time_point(started_ns_) + seconds_ns(at));
    timer->async_wait([this, at](const asio::error_code& ec) {
      if (ec || stopped_) return;
      for (auto& [endpoint, client] : clients_) {
        asio::error_code cec;
        const std::uint16_t old_port = client->socket.local_endpoint(cec).port();
        client->socket.close(cec);  // its receive ends (aborted); replies to it are lost
        client->socket = udp::socket(io_);
        if (!open_upstream(*client)) continue;  // the client's datagrams fail to send from now on
        ++rebinds_;
        receive_upstream(client);
        char line[160];
        std::snprintf(line, sizeof line, "rebind t=%.1fs: client %s:%u now sends from port %u (was %u)", at,
                      endpoint.address().to_string().c_str(), endpoint.port(),
                      client->socket.local_endpoint(cec).port(), old_port);
        emit(line);
      }
    });
  }
}

void Proxy::receive_upstream(const std::shared_ptr<Client>& client) {
  client->socket.async_receive_from(asio::buffer(client->buffer), client->sender,
                                    [this, client](const asio::error_code& ec, std::size_t n) {
                                      if (stopped_ || ec == asio::error::operation_aborted) return;
                                      if (!ec) {
                                        if (client->sender == forward_) {
                                          client->last_active_ns = monotonic_ns();
                                          admit(false, client, client->buffer.data(), n);
                                        } else {
                                          ++stray_;
                                        }
                                      }
                                      if ((ec && !transient(ec)) || !client->socket.is_open())
                                        return;  // the client is gone
                                      receive_upstream(client);
                                    });
}

void Proxy::admit(bool upstream, const std::shared_ptr<Client>& client, const std::uint8_t* data,
                  std::size_t size) {
  Direction& dir = upstream ? up_ : down_;
  const std::int64_t now = monotonic_ns();
  const Verdict v = dir.model.offer(now, size);
  if (v.copies == 0) return;
  auto payload = std::make_shared<const std::vector<std::uint8_t>>(data, data + size);
  for (int i = 0; i < v.copies; ++i) {
    const auto at = v.departure_ns[static_cast<std::size_t>(i)];
    departures_.push(Departure{at, order_++, upstream, client, payload});
    ++client->pending;
  }
  // Due now: send at once instead of a timer round trip.
  if (departures_.top().at_ns <= now) {
    on_timer();
  } else {
    arm_timer();
  }
}

void Proxy::arm_timer() {
  if (departures_.empty() || stopped_) return;
  const std::int64_t next = departures_.top().at_ns;
  if (armed_ && next >= armed_at_ns_) return;
  armed_ = true;
  armed_at_ns_ = next;
  departure_timer_.expires_at(to_time_point(next));  // cancels a later wait, if any
  departure_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;
    armed_ = false;
    on_timer();
  });
}

void Proxy::on_timer() {
  const std::int64_t now = monotonic_ns();
  while (!departures_.empty() && departures_.top().at_ns <= now) {
    send(departures_.top());
    departures_.pop();
  }
  arm_timer();
}

void Proxy::send(const Departure& d) {
  asio::error_code ec;
  Direction& dir = d.upstream ? up_ : down_;
  --d.client->pending;
  dir.max_late_ns = std::max(dir.max_late_ns, monotonic_ns() - d.at_ns);
  if (d.upstream) {
    d.client->socket.send_to(asio::buffer(*d.payload), forward_, 0, ec);
  } else {
    listen_socket_.send_to(asio::buffer(*d.payload), d.client->endpoint, 0, ec);
  }
  if (ec) {
    ++dir.send_errors;
  } else {
    ++dir.sent;
  }
}

void Proxy::schedule_stats() {
  if (config_.stats_interval_s <= 0.0) return;
  stats_timer_.expires_after(seconds_ns(config_.stats_interval_s));
  stats_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    const auto r = report();
    char head[96];
    std::snprintf(head, sizeof head, "stats t=%.1fs clients=%" PRIu64, r.elapsed_s, r.clients);
    emit(head);
    emit("  " + format_line("up", r.upstream));
    if (!config_.one_way) emit("  " + format_line("down", r.downstream));
    schedule_stats();
  });
}

void Proxy::schedule_changes() {
  for (const LinkChange& change : config_.changes) {
    auto& timer = change_timers_.emplace_back(std::make_unique<asio::steady_timer>(io_));
    timer->expires_at(to_time_point(started_ns_) + seconds_ns(change.at_s));
    timer->async_wait([this, change](const asio::error_code& ec) {
      if (ec || stopped_) return;
      // Checked in start(): a change that fails here would be a bug, and is reported as one.
      auto up = apply_link_change(config_.upstream, change);
      auto down = apply_link_change(config_.downstream, change);
      if (!up || !down) {
        emit("change refused: " + (up ? down.error() : up.error()));
        return;
      }
      config_.upstream = *up;
      up_.model.change_link(*up);
      if (!config_.one_way) {
        config_.downstream = *down;
        down_.model.change_link(*down);
      }
      char line[192];
      std::snprintf(line, sizeof line, "change t=%.1fs: %s (%s)", change.at_s, describe(change).c_str(),
                    config_.one_way ? "upstream" : "both directions");
      emit(line);
    });
  }
}

void Proxy::schedule_sweep() {
  if (config_.client_idle_s <= 0.0) return;
  sweep_timer_.expires_after(seconds_ns(std::clamp(config_.client_idle_s / 4.0, 0.05, 5.0)));
  sweep_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    const std::int64_t now = monotonic_ns();
    const auto idle_ns = seconds_ns(config_.client_idle_s).count();
    for (auto it = clients_.begin(); it != clients_.end();) {
      auto& client = *it->second;
      if (client.pending == 0 && now - client.last_active_ns > idle_ns) {
        asio::error_code cec;
        client.socket.close(cec);  // ends its receive; the handler's reference goes with it
        it = clients_.erase(it);
        ++expired_clients_;
      } else {
        ++it;
      }
    }
    schedule_sweep();
  });
}

void Proxy::shutdown(const std::string& why) {
  if (stopped_) return;
  const auto r = report();
  stopped_ = true;
  char head[160];
  std::snprintf(head, sizeof head,
                "summary (%s) after %.1fs: clients=%" PRIu64 " expired=%" PRIu64 " refused=%" PRIu64
                " stray=%" PRIu64,
                why.c_str(), r.elapsed_s, r.clients, r.expired_clients, r.refused_clients, r.stray);
  emit(head);
  emit("  " + format_line("up", r.upstream));
  emit("  " + format_line("down", r.downstream));
  asio::error_code ec;
  listen_socket_.close(ec);
  for (auto& [endpoint, client] : clients_) client->socket.close(ec);
  departure_timer_.cancel();
  stats_timer_.cancel();
  duration_timer_.cancel();
  sweep_timer_.cancel();
  for (auto& timer : change_timers_) timer->cancel();
  if (signals_) signals_->cancel(ec);
  io_.stop();
}

void Proxy::emit(const std::string& line) {
  if (on_line) {
    on_line(line);
  } else {
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
  }
}

}  // namespace tl::netem
