#pragma once
//! The impairment model of tl-netem: a pure, seeded decision maker fed
//! packet arrival times. It never touches a socket or a clock, so tests drive
//! it with virtual time and get the same answers for the same seed.
//!
//! Pipeline per packet, in this order:
//!   1. Gilbert–Elliott burst loss (time-based two-state Markov chain)
//!   2. independent random loss
//!   3. token-bucket rate limit (FIFO; drop when the queue would exceed its bound)
//!   4. delay + jitter (order kept: departure >= previous departure)
//!   5. reordering (a held packet leaves reorder_gap later, after its successors)
//!   6. duplication (a second copy leaves with the first)

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tl/common/result.h"

namespace tl::netem {

enum class JitterShape { uniform, normal };

struct ImpairmentConfig {
  double loss_pct = 0.0;              //!< independent loss, 0..100
  double burst_loss_pct = 0.0;        //!< average share of time in the bad state, 0..<100
  double burst_len_ms = 0.0;          //!< mean time spent in one bad period
  double burst_bad_loss_pct = 100.0;  //!< loss while in the bad state
  double delay_ms = 0.0;              //!< fixed added delay
  double jitter_ms = 0.0;             //!< uniform: +-jitter; normal: standard deviation
  JitterShape jitter_shape = JitterShape::uniform;
  double reorder_pct = 0.0;              //!< share of packets held back
  double reorder_gap_ms = 10.0;          //!< how long a held packet is held
  double duplicate_pct = 0.0;            //!< share of packets sent twice
  double rate_kbps = 0.0;                //!< 0: unlimited
  std::size_t rate_burst_bytes = 3000;   //!< token bucket depth
  std::size_t rate_queue_bytes = 65536;  //!< bytes waiting for tokens before drops

  bool any() const noexcept;
};

//! Checks ranges and combinations; the error names the option.
Status validate(const ImpairmentConfig& config);

//! A change of the link at a time into the run (`--change AT:KEY=VALUE[,KEY=VALUE...]`):
//! loss, delay-ms, jitter-ms, reorder or duplicate take new values, so a test can
//! step the jitter of a running link. Changes apply on top of the link in effect.
struct LinkChange {
  double at_s = 0.0;
  std::vector<std::pair<std::string, double>> settings;  //!< key (as on the command line), value
};

//! Parses "10:jitter-ms=25,loss=2"; the error says what is wrong with it.
Result<LinkChange> parse_link_change(const std::string& text);
//! The config with the change's settings applied, validated.
Result<ImpairmentConfig> apply_link_change(const ImpairmentConfig& config, const LinkChange& change);
//! "jitter-ms=25,loss=2".
std::string describe(const LinkChange& change);

//! Added-delay distribution: 50 us bins up to 10 s (longer ones land in the last bin).
class DelayHistogram {
 public:
  static constexpr std::int64_t kBinNs = 50'000;
  static constexpr std::size_t kBins = 200'000;
  DelayHistogram() : bins_(kBins, 0) {}
  void add(std::int64_t delay_ns);
  std::uint64_t count() const noexcept { return count_; }
  double mean_ms() const noexcept;
  //! Upper edge of the bin holding quantile q (0..1), in ms; 0 when empty.
  double quantile_ms(double q) const;
  double max_ms() const noexcept { return static_cast<double>(max_ns_) / 1e6; }

 private:
  std::vector<std::uint32_t> bins_;
  std::uint64_t count_ = 0;
  long double sum_ns_ = 0;
  std::int64_t max_ns_ = 0;
};

//! What the model did, per direction. Counts are decisions (copies scheduled),
//! not sends: the proxy counts sends itself.
struct ImpairmentStats {
  std::uint64_t in = 0;
  std::uint64_t dropped_random = 0;
  std::uint64_t dropped_burst = 0;
  std::uint64_t dropped_rate = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t scheduled = 0;      //!< copies given a departure time (includes duplicates)
  std::uint64_t burst_periods = 0;  //!< good->bad transitions seen at packet arrivals
  DelayHistogram delay;             //!< departure - arrival of every scheduled copy

  std::uint64_t dropped() const noexcept { return dropped_random + dropped_burst + dropped_rate; }
};

enum class Drop { none, random, burst, rate };

struct Verdict {
  Drop drop = Drop::none;
  int copies = 0;                              //!< 0 (dropped), 1, or 2 (duplicated)
  std::array<std::int64_t, 2> departure_ns{};  //!< valid for [0, copies)
  bool held = false;                           //!< chosen for reordering
};

class ImpairmentModel {
 public:
  ImpairmentModel(const ImpairmentConfig& config, std::uint64_t seed);

  //! Decides the fate of one packet. arrival_ns must not go backwards
  //! (earlier values are treated as equal to the last one).
  Verdict offer(std::int64_t arrival_ns, std::size_t bytes);

  //! Takes the link settings a LinkChange may set (loss, delay, jitter, reordering,
  //! duplication) from config; its random streams and queues go on.
  void change_link(const ImpairmentConfig& config) noexcept;

  const ImpairmentStats& stats() const noexcept { return stats_; }
  const ImpairmentConfig& config() const noexcept { return config_; }
  bool in_bad_state() const noexcept { return bad_; }

 private:
  bool burst_step(std::int64_t arrival_ns);
  //! Release time from the token bucket, or -1 when the queue is full.
  std::int64_t rate_step(std::int64_t arrival_ns, std::size_t bytes);
  std::int64_t jitter_ns();

  struct Queued {
    std::int64_t release_ns;
    std::size_t bytes;
  };

  ImpairmentConfig config_;
  ImpairmentStats stats_;
  std::mt19937_64 rng_loss_, rng_burst_, rng_delay_, rng_reorder_, rng_dup_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};

  // Gilbert–Elliott state.
  bool burst_on_ = false;
  double burst_p_ = 0.0;       // stationary share of time in bad
  double burst_lambda_ = 0.0;  // 1/ns: 1/Lbad + 1/Lgood
  bool bad_ = false;
  bool burst_started_ = false;
  std::int64_t burst_last_ns_ = 0;

  // Token bucket.
  double bytes_per_ns_ = 0.0;
  double tokens_ = 0.0;
  std::int64_t tokens_at_ns_ = 0;
  std::int64_t last_release_ns_ = 0;
  std::deque<Queued> queue_;
  std::size_t queued_bytes_ = 0;

  std::int64_t last_arrival_ns_ = 0;
  bool seen_any_ = false;
  std::int64_t last_departure_ns_ = 0;  // of the last packet not held back
};

}  // namespace tl::netem
