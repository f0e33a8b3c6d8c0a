// The buses beside the master: a bus nothing feeds costs nothing once its output has
// died away, and wakes with the next input as if it had run all along.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tl/mixer/bus_rack.h"

namespace tl::mixer {
namespace {

constexpr std::size_t kBlock = 48;

//! One block: a send into the reverb (value each frame, or nothing), returns the peak of
//! what the rack added to the master.
float block(BusRack& rack, float send) {
  std::vector<float> l(kBlock, 0.0f), r(kBlock, 0.0f);
  rack.begin(kBlock);
  if (send != 0.0f) {
    float* in = rack.send_input(0);
    for (std::size_t i = 0; i < kBlock; ++i) in[i] = send;
  }
  rack.finish(l, r);
  float peak = 0.0f;
  for (std::size_t i = 0; i < kBlock; ++i) peak = std::max({peak, std::fabs(l[i]), std::fabs(r[i])});
  return peak;
}

TEST(BusRack, AReverbSleepsOnceItsTailHasDiedAndWakesWithTheNextSend) {
  BusRack rack;
  rack.prepare({.sample_rate = 48000.0, .max_block = 1024});
  rack.set_reverb(dsp::ReverbParams{});
  EXPECT_EQ(block(rack, 0.0f), 0.0f) << "nothing fed: silence";
  for (int i = 0; i < 20; ++i) block(rack, 0.5f);
  // The pre-delay holds the input in before any comes out: the reverb must not sleep then.
  // The tail outlives the input for seconds, then dies away and the rack stops running it.
  int last_heard = -1;
  for (int i = 0; i < 20 * 1000; ++i) {
    if (block(rack, 0.0f) != 0.0f) last_heard = i;
  }
  EXPECT_GT(last_heard, 1000) << "a reverb tail of a second or more";
  EXPECT_LT(last_heard, 19000) << "the tail never ended";
  // Awake again at once: out of its pre-delay and first reflections (some 50 ms) as if it
  // had run all along.
  float woke = 0.0f;
  for (int i = 0; i < 100; ++i) woke = std::max(woke, block(rack, 0.5f));
  EXPECT_GT(woke, 1e-4f);
}

TEST(BusRack, AGroupFedInOneBlockIsClearedBeforeItsFirstInputOfTheNext) {
  BusRack rack;
  rack.prepare({.sample_rate = 48000.0, .max_block = 1024});
  std::vector<float> l(kBlock), r(kBlock);
  for (int b = 0; b < 3; ++b) {
    std::fill(l.begin(), l.end(), 0.0f);
    std::fill(r.begin(), r.end(), 0.0f);
    rack.begin(kBlock);
    float* gl = rack.group_left(2);
    float* gr = rack.group_right(2);
    for (std::size_t i = 0; i < kBlock; ++i) gl[i] += 0.25f, gr[i] += 0.25f;
    rack.finish(l, r);
    EXPECT_FLOAT_EQ(l[10], 0.25f) << "block " << b << ": a flat bus passes its input once";
  }
}

}  // namespace
}  // namespace tl::mixer
