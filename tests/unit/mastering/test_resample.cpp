#include "tl/mastering/resample.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace tl::mastering {
namespace {

// Resamples a stereo signal of frames with one click (left +1, right -1) at frame `click`,
// fed in blocks of `block`; the output, interleaved.
std::vector<float> resample(std::uint32_t in_rate, std::uint32_t out_rate, std::size_t frames,
                            std::size_t click, std::size_t block) {
  std::vector<float> in(frames * 2, 0.0f);
  in[click * 2] = 1.0f;
  in[click * 2 + 1] = -1.0f;
  Resampler r;
  EXPECT_TRUE(r.prepare(in_rate, out_rate, 2, block));
  std::vector<float> out;
  for (std::size_t at = 0; at < frames; at += block) {
    const std::size_t n = std::min(block, frames - at);
    auto got = r.process(std::span<const float>(in).subspan(at * 2, n * 2));
    EXPECT_TRUE(got) << got.error();
    if (got) out.insert(out.end(), got->begin(), got->end());
  }
  auto rest = r.finish();
  EXPECT_TRUE(rest) << rest.error();
  if (rest) out.insert(out.end(), rest->begin(), rest->end());
  return out;
}

TEST(Resampler, TheOutputIsAsLongAsTheRatioSaysAndAlignedWithTheInput) {
  struct Case {
    std::uint32_t in, out;
  };
  for (const Case rates : {Case{48000, 44100}, Case{44100, 48000}, Case{96000, 44100}, Case{44100, 192000},
                           Case{88200, 44100}}) {
    for (const std::size_t frames : {std::size_t{30001}, std::size_t{96000}}) {
      for (const std::size_t block : {std::size_t{1000}, std::size_t{4096}}) {
        SCOPED_TRACE(std::to_string(rates.in) + " -> " + std::to_string(rates.out) + " Hz, " +
                     std::to_string(frames) + " frames in blocks of " + std::to_string(block));
        const std::size_t click = frames / 3;
        const std::vector<float> out = resample(rates.in, rates.out, frames, click, block);
        const auto want = Resampler::output_frames(static_cast<std::int64_t>(frames), rates.in, rates.out);
        ASSERT_EQ(static_cast<std::int64_t>(out.size() / 2), want);
        EXPECT_EQ(want, std::llround(static_cast<double>(frames) * rates.out / rates.in));
        // The click lands on frame click * out / in, within one frame, on both channels.
        std::size_t at = 0;
        for (std::size_t i = 0; i < out.size() / 2; ++i) {
          if (out[i * 2] > out[at * 2]) at = i;
        }
        const double expected = static_cast<double>(click) * rates.out / rates.in;
        EXPECT_NEAR(static_cast<double>(at), expected, 1.0);
        EXPECT_FLOAT_EQ(out[at * 2 + 1], -out[at * 2]) << "the channels are resampled alike";
      }
    }
  }
}

TEST(Resampler, ItSaysWhyItCannotStart) {
  Resampler r;
  Status s = r.prepare(48000, 0, 2, 4096);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("cannot resample from 48000 to 0 Hz"), std::string::npos) << s.error();
  EXPECT_FALSE(r.process(std::vector<float>(8, 0.0f)));
}

}  // namespace
}  // namespace tl::mastering
