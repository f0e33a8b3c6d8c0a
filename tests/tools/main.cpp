// tl-netem: a UDP impairment proxy for network tests. Parses options and wires the proxy.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>

#include "netem/proxy.h"
#include "netem/safety.h"
#include "tl/common/address.h"
#include "tl/common/cli_range.h"

namespace {

int bad_option(const std::string& message) {
  std::fprintf(stderr, "tl-netem: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tl-netem: UDP impairment proxy (loss, bursts, delay, jitter, reordering, duplication, rate)"};
  std::string listen = "127.0.0.1:7500";
  std::string forward;
  std::string jitter_dist = "uniform";
  std::uint64_t seed = 0;
  tl::netem::ImpairmentConfig imp;
  tl::netem::ProxyConfig config;

  app.add_option("--listen", listen,
                 "Where clients send (host:port, loopback unless --allow-nonlocal; port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--forward", forward,
                 "Where datagrams go (host:port, loopback only unless --allow-nonlocal)")
      ->required();
  app.add_option("--loss", imp.loss_pct, "Independent random loss, percent")
      ->check(tl::in_range(0.0, 100.0, "%"));
  app.add_option("--burst-loss", imp.burst_loss_pct,
                 "Gilbert-Elliott: average share of time in the bad state, percent (needs --burst-len-ms)")
      ->check(tl::in_range(0.0, 99.999, "%"));
  app.add_option("--burst-len-ms", imp.burst_len_ms, "Gilbert-Elliott: mean length of a bad period, ms")
      ->check(tl::in_range(0.0, 3'600'000.0, "ms"));
  app.add_option("--burst-bad-loss", imp.burst_bad_loss_pct, "Loss in the bad state, percent")
      ->check(tl::in_range(0.0, 100.0, "%"))
      ->capture_default_str();
  app.add_option("--delay-ms", imp.delay_ms, "Added delay, ms")->check(tl::in_range(0.0, 60'000.0, "ms"));
  app.add_option("--jitter-ms", imp.jitter_ms, "Delay variation, ms (uniform: +-J; normal: sigma J)")
      ->check(tl::in_range(0.0, 60'000.0, "ms"));
  app.add_option("--jitter-dist", jitter_dist, "Jitter shape: uniform or normal")
      ->check(CLI::IsMember({"uniform", "normal"}))
      ->capture_default_str();
  app.add_option("--reorder", imp.reorder_pct,
                 "Share of packets held back so later ones overtake them, percent")
      ->check(tl::in_range(0.0, 100.0, "%"));
  app.add_option("--reorder-gap-ms", imp.reorder_gap_ms, "How long a reordered packet is held back, ms")
      ->check(tl::in_range(0.001, 60'000.0, "ms"))
      ->capture_default_str();
  app.add_option("--duplicate", imp.duplicate_pct, "Share of packets sent twice, percent")
      ->check(tl::in_range(0.0, 100.0, "%"));
  app.add_option("--rate-kbps", imp.rate_kbps, "Token-bucket rate limit, kbit/s (0: none)")
      ->check(tl::in_range(0.0, 100'000'000.0, "kbit/s"));
  app.add_option("--rate-burst-bytes", imp.rate_burst_bytes, "Token bucket depth, bytes")
      ->check(tl::in_range(1, 100'000'000, "bytes"))
      ->capture_default_str();
  app.add_option("--rate-queue-bytes", imp.rate_queue_bytes,
                 "Bytes queued behind the rate limit before drops")
      ->check(tl::in_range(1500, 1'000'000'000, "bytes"))
      ->capture_default_str();
  auto* seed_opt =
      app.add_option("--seed", seed, "Random seed (default: random, printed so a run can be repeated)");
  app.add_option("--duration", config.duration_s, "Stop after S seconds (0: until SIGINT/SIGTERM)")
      ->check(tl::in_range(0.0, 1e7, "s"));
  app.add_option("--stats-interval", config.stats_interval_s, "Seconds between stats lines (0: none)")
      ->check(tl::in_range(0.0, 86400.0, "s"))
      ->capture_default_str();
  app.add_option("--client-idle-s", config.client_idle_s,
                 "Forget a client after this many quiet seconds (0: never)")
      ->check(tl::in_range(0.0, 86400.0, "s"))
      ->capture_default_str();
  std::vector<std::string> changes;
  app.add_option(
      "--change", changes,
      "Change the link during the run: AT:KEY=VALUE[,KEY=VALUE...] with AT in seconds and KEY one of "
      "loss, delay-ms, jitter-ms, reorder, duplicate (repeatable), e.g. 10:jitter-ms=25");
  app.add_option("--rebind-at", config.rebind_at_s,
                 "Seconds into the run at which each client's datagrams start coming from a new port, as "
                 "after a NAT rebinding (replies to the old port are lost; repeatable)")
      ->check(tl::in_range(0.0, 10000000.0, "s"));
  app.add_flag("--one-way", config.one_way, "Impair only client->forward; replies pass untouched");
  app.add_flag("--allow-nonlocal", config.allow_nonlocal,
               "Allow --forward and --listen on non-loopback addresses");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto listen_hp = tl::parse_host_port(listen, /*allow_any_port=*/true);
  if (!listen_hp) return bad_option("--listen: " + listen_hp.error());
  auto forward_hp = tl::parse_host_port(forward);
  if (!forward_hp) return bad_option("--forward: " + forward_hp.error());
  if (auto s = tl::netem::check_forward_target(forward_hp->host, config.allow_nonlocal); !s) {
    return bad_option("--forward: " + s.error());
  }
  if (auto s = tl::netem::check_forward_target(listen_hp->host, config.allow_nonlocal, "listen on"); !s) {
    return bad_option("--listen: " + s.error() + " (replies are sent to whoever sends here)");
  }
  imp.jitter_shape =
      jitter_dist == "normal" ? tl::netem::JitterShape::normal : tl::netem::JitterShape::uniform;
  if (auto s = tl::netem::validate(imp); !s) return bad_option(s.error());

  for (const std::string& text : changes) {
    auto change = tl::netem::parse_link_change(text);
    if (!change) return bad_option(change.error());
    config.changes.push_back(*change);
  }
  std::stable_sort(config.changes.begin(), config.changes.end(),
                   [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
  tl::netem::ImpairmentConfig changed = imp;
  for (const auto& change : config.changes) {
    auto next = tl::netem::apply_link_change(changed, change);
    if (!next) return bad_option(next.error());
    changed = *next;
  }

  if (seed_opt->count() == 0) seed = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  config.listen_host = listen_hp->host;
  config.listen_port = listen_hp->port;
  config.forward_host = forward_hp->host;
  config.forward_port = forward_hp->port;
  config.upstream = imp;
  config.downstream = imp;
  config.seed = seed;
  config.handle_signals = true;

  tl::netem::Proxy proxy(config);
  if (auto s = proxy.start(); !s) {
    std::fprintf(stderr, "tl-netem: %s\n", s.error().c_str());
    return 1;
  }
  std::printf("tl-netem listening on %s:%u, forwarding to %s:%u, seed %" PRIu64 "%s\n",
              config.listen_host.c_str(), static_cast<unsigned>(proxy.listen_port()),
              config.forward_host.c_str(), static_cast<unsigned>(config.forward_port), seed,
              config.one_way ? " (one-way)" : "");
  std::fflush(stdout);
  proxy.run();
  return 0;
}
