#pragma once
//! tl-netem's UDP proxy: datagrams arriving at the listen address from any
//! client go to the forward address from a per-client upstream socket, so the
//! forward target's replies come back to that client through the proxy.
//! Both directions pass their own ImpairmentModel (the reply direction only
//! when one_way is off). One asio thread; departures wait on a steady_timer.

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "netem/impairment.h"
#include "tl/common/result.h"

namespace tl::netem {

struct ProxyConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  //!< 0: the system picks (see Proxy::listen_port())
  std::string forward_host = "127.0.0.1";
  std::uint16_t forward_port = 0;
  ImpairmentConfig upstream;    //!< client -> forward target
  ImpairmentConfig downstream;  //!< forward target -> client (ignored when one_way)
  bool one_way = false;
  bool allow_nonlocal = false;
  std::uint64_t seed = 1;
  double duration_s = 0.0;        //!< 0: until stop() or a signal
  double stats_interval_s = 5.0;  //!< 0: no periodic lines
  bool handle_signals = false;    //!< SIGINT/SIGTERM end run() with a summary
  std::size_t max_clients = 1024;
  double client_idle_s =
      60.0;  //!< forget a client (close its upstream socket) after this long quiet; 0: never
  //! Link changes at times into the run (both directions, or upstream only when one_way).
  std::vector<LinkChange> changes;
  //! Seconds into the run at which every client's upstream socket is replaced by one on a
  //! new port, as a NAT that rebinds its mapping: the forward target sees the client's
  //! datagrams come from elsewhere, and its replies to the old port are lost.
  std::vector<double> rebind_at_s;
};

//! One direction's figures: the model's decisions plus what was actually sent.
struct DirectionReport {
  std::uint64_t in = 0;
  std::uint64_t forwarded = 0;  //!< datagrams sent (duplicates included)
  std::uint64_t dropped_random = 0;
  std::uint64_t dropped_burst = 0;
  std::uint64_t dropped_rate = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t pending = 0;  //!< scheduled but not yet sent
  std::uint64_t send_errors = 0;
  double mean_delay_ms = 0.0;
  double p99_delay_ms = 0.0;
  double max_late_ms = 0.0;  //!< worst time a datagram left after its departure time (timer accuracy)
};

struct ProxyReport {
  DirectionReport upstream;
  DirectionReport downstream;
  std::uint64_t clients = 0;
  std::uint64_t expired_clients = 0;  //!< clients forgotten after client_idle_s without traffic
  std::uint64_t refused_clients = 0;  //!< datagrams from new clients beyond max_clients
  std::uint64_t stray = 0;            //!< datagrams on an upstream socket not from the forward target
  std::uint64_t rebinds = 0;          //!< upstream sockets replaced (rebind_at_s)
  double elapsed_s = 0.0;
};

//! "up   in=.. fwd=.. drop=..(random=.. burst=.. rate=..) dup=.. reord=.. pending=.. delay mean=..ms
//! p99=..ms"
std::string format_line(const char* name, const DirectionReport& r);

class Proxy {
 public:
  explicit Proxy(ProxyConfig config);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  //! Checks the config, opens and binds the listen socket. Call once, before run().
  Status start();
  //! Port actually bound (valid after a successful start()).
  std::uint16_t listen_port() const noexcept { return bound_port_; }
  //! Serves until stop(), --duration or a signal; prints a summary on the way out.
  void run();
  //! Thread-safe: asks run() to finish.
  void stop();
  //! Thread-safe figures while run() is serving; nullopt if it does not answer in time.
  std::optional<ProxyReport> snapshot(std::chrono::milliseconds timeout);
  //! Figures after run() returned (or from the io thread).
  ProxyReport report() const;

  //! Where stats lines and the summary go (default: stdout, flushed).
  std::function<void(const std::string&)> on_line;

 private:
  struct Client;
  struct Departure {
    std::int64_t at_ns;
    std::uint64_t order;
    bool upstream;
    std::shared_ptr<Client> client;
    std::shared_ptr<const std::vector<std::uint8_t>> payload;
  };
  struct Later {
    bool operator()(const Departure& a, const Departure& b) const {
      return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.order > b.order;
    }
  };
  struct Direction {
    ImpairmentModel model;
    std::uint64_t sent = 0;
    std::uint64_t send_errors = 0;
    std::int64_t max_late_ns = 0;
  };

  void receive_listen();
  void receive_upstream(const std::shared_ptr<Client>& client);
  void admit(bool upstream, const std::shared_ptr<Client>& client, const std::uint8_t* data,
             std::size_t size);
  void arm_timer();
  void on_timer();
  void send(const Departure& d);
  void schedule_stats();
  void schedule_sweep();
  void schedule_changes();
  void schedule_rebinds();
  //! A new upstream socket for the client on a port of its own; false when it cannot open.
  bool open_upstream(Client& client);
  void shutdown(const std::string& why);
  void emit(const std::string& line);
  DirectionReport direction_report(const Direction& d) const;

  ProxyConfig config_;
  asio::io_context io_;
  asio::ip::udp::socket listen_socket_;
  asio::ip::udp::endpoint forward_;
  asio::steady_timer departure_timer_;
  asio::steady_timer stats_timer_;
  asio::steady_timer duration_timer_;
  asio::steady_timer sweep_timer_;
  std::unique_ptr<asio::signal_set> signals_;
  std::vector<std::unique_ptr<asio::steady_timer>> change_timers_;
  std::uint64_t rebinds_ = 0;
  std::array<std::uint8_t, 65536> listen_buffer_{};
  asio::ip::udp::endpoint listen_sender_;
  std::map<asio::ip::udp::endpoint, std::shared_ptr<Client>> clients_;
  std::priority_queue<Departure, std::vector<Departure>, Later> departures_;
  std::uint64_t order_ = 0;
  bool armed_ = false;
  std::int64_t armed_at_ns_ = 0;
  Direction up_;
  Direction down_;
  std::uint64_t refused_clients_ = 0;
  std::uint64_t expired_clients_ = 0;
  std::uint64_t stray_ = 0;
  std::int64_t started_ns_ = 0;
  std::uint16_t bound_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace tl::netem
