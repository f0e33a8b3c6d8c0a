// The live path of nodes whose clocks drift (simulated): the mixer's varispeed
// keeps each node's play-out where the node played it, so its queue neither
// drains nor grows, and the mix carries the tone with no jump or click.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>

#include "harness.h"
#include "wav.h"

namespace tl::test {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

//! The rate at which the live mix played one node's audio, against the session
//! clock, in ppm: the tone's phase is fitted in one-second windows at the expected
//! frequency, unwrapped, and its slope read off. The node made its tone at 440 Hz of
//! its own samples; a mix that consumes those samples as fast as the node makes them
//! (so its queue neither drains nor grows) plays it at 440 Hz x (1 + skew).
double played_rate_ppm(const std::vector<double>& x, std::size_t from, std::size_t to, double expected_hz) {
  const double w = 2.0 * std::numbers::pi * expected_hz / 48000.0;
  std::vector<double> t, phase;
  for (std::size_t a = from; a + 48000 <= to; a += 48000) {
    double c = 0.0, s = 0.0;
    for (std::size_t n = a; n < a + 48000; ++n) {
      c += x[n] * std::cos(w * static_cast<double>(n));
      s += x[n] * std::sin(w * static_cast<double>(n));
    }
    double p = std::atan2(-s, c);
    // One second at 400 ppm off moves the phase 1.1 rad: unwrapping stays unambiguous.
    while (!phase.empty() && p - phase.back() > std::numbers::pi) p -= 2.0 * std::numbers::pi;
    while (!phase.empty() && p - phase.back() < -std::numbers::pi) p += 2.0 * std::numbers::pi;
    t.push_back(static_cast<double>(a) / 48000.0);
    phase.push_back(p);
  }
  const auto n = static_cast<double>(t.size());
  double mt = 0.0, mp = 0.0;
  for (std::size_t i = 0; i < t.size(); ++i) mt += t[i] / n, mp += phase[i] / n;
  double stt = 0.0, stp = 0.0;
  for (std::size_t i = 0; i < t.size(); ++i)
    stt += (t[i] - mt) * (t[i] - mt), stp += (t[i] - mt) * (phase[i] - mp);
  const double hz = expected_hz + (stp / stt) / (2.0 * std::numbers::pi);
  return (hz / 440.0 - 1.0) * 1e6;
}

TEST(LiveVarispeed, DriftingNodesStayInStepInTheMixWithoutClicks) {
  Session s("varispeed");
  // Drift, not jitter, is under test: a fixed 100 ms play-out keeps the scheduling
  // stalls of a busy 2-core machine (20 ms and more) from making audio late, so the
  // mix holds the nodes' own samples. Uncorrected, 400 ppm moves a node's queue by
  // 0.4 ms every second, whatever the play-out delay.
  s.start_mixer({"--latency-ms", "100"});
  struct NodeClock {
    std::string name;
    double skew_ppm, pan;
  };
  // Panned hard apart, so each side of mix.wav carries one node alone.
  const std::vector<NodeClock> nodes = {{"fast", 400.0, -1.0}, {"slow", -400.0, 1.0}};
  const double level_db = -12.0;
  s.record_start("drifting");
  for (const auto& n : nodes) {
    s.start_capture(
        n.name, "tone:440",
        {"--sim-clock-skew-ppm", std::to_string(n.skew_ppm), "--level-db", std::to_string(level_db)});
  }
  for (const auto& n : nodes) {
    ASSERT_TRUE(s.wait_node_state(n.name, "streaming")) << s.logs();
    ASSERT_EQ(s.tlctl({"pan", n.name + "/1", std::to_string(n.pan)}).exit_code, 0);
  }

  // Watch the live path for 30 s of session time: the correction applied, and how
  // far ahead of its play-out each node's audio arrives (margin, for the record).
  // One reading of the varispeed is the drift plus whatever queue error it is
  // closing at that moment (a 20 ms stall of a busy machine moves it by tens of
  // ppm for a second or two): its median over the settled part is the drift.
  const double begin = s.session_seconds();
  std::map<std::string, std::vector<double>> margins;
  std::map<std::string, std::vector<double>> varispeed;
  for (double t = 0.0; t < 30.0; t = s.session_seconds() - begin) {
    const json list = s.tlctl_json({"nodes"});
    for (const auto& j : list["nodes"]) {
      const std::string name = j.value("name", "");
      if (t < 12.0) continue;
      margins[name].push_back(json_num(j, "margin_ms"));
      varispeed[name].push_back(json_num(j, "varispeed_ppm"));
    }
    std::this_thread::sleep_for(250ms);
  }
  const json stopped = s.record_stop();

  const std::string dir = s.take_dir() + "/drifting";
  std::ifstream in(dir + "/take.json");
  const json take = json::parse(in);
  const std::int64_t start = json_int(take, "start_sample");
  const Audio mix = read_audio(dir + "/mix.wav");
  ASSERT_EQ(mix.channels, 2);
  const double amplitude = std::pow(10.0, level_db / 20.0);
  for (const auto& n : nodes) {
    const json* track = nullptr;
    for (const auto& t : take["tracks"]) {
      if (t["node"] == n.name) track = &t;
    }
    ASSERT_NE(track, nullptr) << n.name;
    const std::size_t side = n.pan < 0.0 ? 0 : 1;
    std::vector<double> x(static_cast<std::size_t>(mix.frames()));
    for (std::size_t f = 0; f < x.size(); ++f)
      x[f] = static_cast<double>(mix.samples[2 * f + side]) / 2147483648.0;
    const auto first = static_cast<std::size_t>(json_int(*track, "first_sample") - start);
    ASSERT_LT(first + 25 * 48000, x.size()) << n.name;

    // The rate the mix played the node at, from 12 s after it joined (the varispeed
    // engages once 0.5 ms of drift has built up, then closes it in about 2 s).
    const double expected_hz = 440.0 * (1.0 + n.skew_ppm * 1e-6);
    const double rate = played_rate_ppm(x, first + 12 * 48000, x.size(), expected_hz);
    const double queue_ms_per_min = (rate - n.skew_ppm) * 1e-6 * 60.0 * 1e3;
    std::printf(
        "[ figure ] %-4s %+.0f ppm: varispeed %+.1f ppm (median); the mix played it at %+.1f ppm (its queue "
        "moves %+.2f "
        "ms a minute; uncorrected %+.1f); margin %.1f ms\n",
        n.name.c_str(), n.skew_ppm, median(varispeed[n.name]), rate, queue_ms_per_min, -n.skew_ppm * 60e-3,
        median(margins[n.name]));
    ASSERT_FALSE(varispeed[n.name].empty()) << n.name << " never listed";
    EXPECT_NEAR(median(varispeed[n.name]), n.skew_ppm, 20.0) << n.name;
    EXPECT_NEAR(rate, n.skew_ppm, 25.0) << n.name << ": the node's queue drains or grows";

    // A 440 Hz tone changes slope smoothly: its second difference never exceeds A * w^2.
    // A dropped or repeated sample, or a cursor jump, shows as a spike of ~A * w.
    const double w = 2.0 * std::numbers::pi * expected_hz / 48000.0;
    const double smooth = amplitude * w * w;
    double worst = 0.0, energy = 0.0;
    for (std::size_t f = first + 2 * 48000; f + 1 < x.size(); ++f) {  // its tone fades in from silence
      worst = std::max(worst, std::fabs(x[f + 1] - 2.0 * x[f] + x[f - 1]));
      energy += x[f] * x[f];
    }
    const std::int64_t concealed = json_int(*track, "concealed_samples");
    std::printf(
        "[ figure ] %-4s mix side: worst second difference %.2f x the tone's own (a skipped sample: ~%.0f "
        "x); "
        "%lld samples concealed\n",
        n.name.c_str(), worst / smooth, 1.0 / w, static_cast<long long>(concealed));
    EXPECT_GT(energy, 1.0) << n.name << ": its side of the mix is silent";
    if (concealed == 0) {
      EXPECT_LT(worst, 3.0 * smooth) << n.name << ": a jump or click in the live mix";
    } else {
      // Audio over 100 ms late: the machine stalled, and concealment (a guess, by
      // design) is not the tone. The rate above still holds.
      std::printf("[ note   ] %s: audio arrived over 100 ms late; the click check needs an unconcealed mix\n",
                  n.name.c_str());
    }
  }
  EXPECT_EQ(json_int(stopped, "clipped_samples", 0), 0);
}

}  // namespace
}  // namespace tl::test
