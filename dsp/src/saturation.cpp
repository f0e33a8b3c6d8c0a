#include "tl/dsp/saturation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "tl/common/units.h"
#include "tl/dsp/sinc_kernel.h"

namespace tl::dsp {
namespace {

//! A 2x stage's prototype as a SincKernel: half_taps each side at the stage's input rate,
//! cutoff as a fraction of its input Nyquist.
struct StageDesign {
  int half_taps;
  double beta;
  double cutoff;
};

// Stage 1 (fs <-> 2 fs) sets the wet path's band: flat within +-0.0004 dB (each way) to
// 0.907 of Nyquist and >= 102 dB down from Nyquist up, so nothing above fs/2 folds back
// louder than ~-130 dBFS (the loudest harmonic is ~-26 dBFS). Stages 2 and 3 only have to
// keep [0, fs/2] flat and reject what would fold into it (from 1.5 fs at 4 fs, from 3.5 fs at
// 8 fs): half-band filters (cutoff 1.0) of 31 and 19 taps, >= 109 dB down there. The
// parameters were found by scanning half_taps, beta and cutoff against those bounds.
constexpr std::array<StageDesign, 3> kDesigns{{
    {.half_taps = 72, .beta = 10.2, .cutoff = 0.951},
    {.half_taps = 8, .beta = 12.0, .cutoff = 1.0},
    {.half_taps = 5, .beta = 11.5, .cutoff = 1.0},
}};

constexpr double kDcBlockHz = 5.0;
constexpr double kGlideMs = 20.0;
// Beyond |t| = 9, tanh is within 3e-8 of +-1 (float resolution there) and its slope is 6e-8:
// the clamp adds no audible corner, and keeps 2^x in range.
constexpr float kTanhLimit = 9.0f;

//! tanh(t), smooth and accurate to float precision, in straight-line code the compiler can
//! vectorise. Built on e^(2t) - 1 = 2^n (q + 1) - 1 with q = e^u - 1 from a polynomial
//! without its constant term, so a small t keeps its relative precision (no 1 + tiny - 1):
//! the low-level gain is exact, and there is no switch between formulas whose seam would
//! alias.
inline float smooth_tanh(float t) noexcept {
  t = t < -kTanhLimit ? -kTanhLimit : (t > kTanhLimit ? kTanhLimit : t);
  const float x = t * 2.88539008f;  // 2t log2(e), |x| <= 26
  // Round to the nearest integer by adding and removing 1.5 * 2^23 (exact for |x| < 2^22).
  constexpr float kRound = 12582912.0f;
  const float n = (x + kRound) - kRound;
  const float u = (x - n) * 0.693147181f;  // |u| <= ln2 / 2
  const float q =
      u * (1.0f + u * (0.5f + u * (1.0f / 6 + u * (1.0f / 24 + u * (1.0f / 120 +
                                                                    u * (1.0f / 720 + u * (1.0f / 5040)))))));
  const float pow2n = std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
  const float em1 = q * pow2n + (pow2n - 1.0f);  // e^(2t) - 1
  return em1 / (em1 + 2.0f);
}

// GCC/Clang vector extension: eight floats, one AVX register or two SSE ones.
using V8 = float __attribute__((vector_size(32)));

// load8() returns an AVX-sized vector, which GCC notes changes the ABI where AVX is off: it
// is always inlined, inside this file, so no call ever passes one.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

[[gnu::always_inline]] inline V8 load8(const float* p) noexcept {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

//! out[j * stride] = sum_k a[k] x[j + k] + sum_k b[k] y[j + k] for j < n (b may be empty).
//! Vectorised across outputs, 32 at a time, so each output is one running sum in tap order:
//! no horizontal adds, and the same result whatever the block size.
[[gnu::always_inline]] inline void fir_body(std::span<const float> a, const float* x,
                                            std::span<const float> b, const float* y, float* out,
                                            std::size_t stride, std::size_t n) noexcept {
  std::size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    V8 s0{}, s1{}, s2{}, s3{};
    for (std::size_t k = 0; k < a.size(); ++k) {
      const V8 h = V8{} + a[k];
      const float* p = x + j + k;
      s0 += h * load8(p);
      s1 += h * load8(p + 8);
      s2 += h * load8(p + 16);
      s3 += h * load8(p + 24);
    }
    for (std::size_t k = 0; k < b.size(); ++k) {
      const V8 h = V8{} + b[k];
      const float* p = y + j + k;
      s0 += h * load8(p);
      s1 += h * load8(p + 8);
      s2 += h * load8(p + 16);
      s3 += h * load8(p + 24);
    }
    alignas(32) std::array<float, 32> t;
    std::memcpy(t.data(), &s0, sizeof s0);
    std::memcpy(t.data() + 8, &s1, sizeof s1);
    std::memcpy(t.data() + 16, &s2, sizeof s2);
    std::memcpy(t.data() + 24, &s3, sizeof s3);
    for (std::size_t i = 0; i < 32; ++i) out[(j + i) * stride] = t[i];
  }
  for (; j < n; ++j) {
    float acc = 0.0f;
    for (std::size_t k = 0; k < a.size(); ++k) acc += a[k] * x[j + k];
    for (std::size_t k = 0; k < b.size(); ++k) acc += b[k] * y[j + k];
    out[j * stride] = acc;
  }
}

#pragma GCC diagnostic pop

//! v[i] = c (tanh(g v[i] + b) - tanh(b)) for i < n.
[[gnu::always_inline]] inline void curve_body(float* v, std::size_t n, float g, float b, float tb,
                                              float c) noexcept {
  for (std::size_t i = 0; i < n; ++i) v[i] = c * (smooth_tanh(g * v[i] + b) - tb);
}

// The same loops compiled twice: for AVX2 + FMA where the CPU has them, else for the baseline.
void fir_baseline(std::span<const float> a, const float* x, std::span<const float> b, const float* y,
                  float* out, std::size_t stride, std::size_t n) noexcept {
  fir_body(a, x, b, y, out, stride, n);
}
__attribute__((target("avx2,fma"))) void fir_avx2(std::span<const float> a, const float* x,
                                                  std::span<const float> b, const float* y, float* out,
                                                  std::size_t stride, std::size_t n) noexcept {
  fir_body(a, x, b, y, out, stride, n);
}
void curve_baseline(float* v, std::size_t n, float g, float b, float tb, float c) noexcept {
  curve_body(v, n, g, b, tb, c);
}
__attribute__((target("avx2,fma"))) void curve_avx2(float* v, std::size_t n, float g, float b, float tb,
                                                    float c) noexcept {
  curve_body(v, n, g, b, tb, c);
}

// Read once while the program loads (a function-local static would take a lock on first use,
// on the audio thread).
const bool kAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}();

void fir(std::span<const float> a, const float* x, std::span<const float> b, const float* y, float* out,
         std::size_t stride, std::size_t n) noexcept {
  if (kAvx2)
    fir_avx2(a, x, b, y, out, stride, n);
  else
    fir_baseline(a, x, b, y, out, stride, n);
}

void curve(float* v, std::size_t n, float g, float b, float tb, float c) noexcept {
  if (kAvx2)
    curve_avx2(v, n, g, b, tb, c);
  else
    curve_baseline(v, n, g, b, tb, c);
}

}  // namespace

float Saturator::transfer(float x, const SaturationParams& p) noexcept {
  const Frame f = frame_of(std::clamp(p.drive_db, 0.0f, 24.0f), std::clamp(p.bias, 0.0f, 0.3f),
                           p.compensate ? 1.0f : 0.0f, 1.0f);
  return f.out_gain * (smooth_tanh(f.drive * x + f.bias) - f.bias_out);
}

Saturator::Frame Saturator::frame_of(float drive_db, float bias, float comp_weight, float mix) noexcept {
  Frame f;
  f.drive = db_to_gain(drive_db);
  f.bias = bias;
  f.bias_out = smooth_tanh(bias);
  // The curve's slope at x = 0 is g sech^2(b); compensation divides it out. Blending the
  // gain (not switching it) keeps the low-level level between the two during a glide.
  const float full = 1.0f / (f.drive * (1.0f - f.bias_out * f.bias_out));
  f.out_gain = comp_weight * full + (1.0f - comp_weight);
  f.mix = mix;
  return f;
}

void Saturator::prepare(const ProcessSpec& spec, const SaturationParams& p) {
  spec_ = spec;
  channels_ = std::clamp<std::size_t>(spec.channels, 1, kMaxChannels);
  max_block_ = std::max<std::size_t>(spec.max_block, 1);

  for (std::size_t s = 0; s < kStages; ++s) {
    const StageDesign& d = kDesigns[s];
    const SincKernel k({.half_taps = d.half_taps, .phases = 2, .beta = d.beta, .cutoff = d.cutoff});
    // The prototype at twice the stage's input rate: centre c0 = 2H - 1, even offsets from
    // row 0 (on the input samples), odd offsets from row 1 (halfway between). Row 0's last
    // weight (H samples away) is where the window is zero, so L = 4H - 1.
    const auto hh = static_cast<std::ptrdiff_t>(d.half_taps);
    const auto len = static_cast<std::size_t>(4 * hh - 1);
    const std::ptrdiff_t c0 = 2 * hh - 1;
    std::vector<float> h(len);
    for (std::ptrdiff_t off = -c0; off <= c0; ++off) {
      const auto at = static_cast<std::size_t>(c0 + off);
      if (off % 2 == 0)
        h[at] = k.row(0)[static_cast<std::size_t>(off / 2 + hh - 1)];
      else
        h[at] = k.row(1)[static_cast<std::size_t>((off - 1) / 2 + hh)];
    }
    Stage& st = stages_[s];
    st.length = len;
    st.factor = std::size_t{1} << s;
    st.half_band = d.cutoff >= 1.0;
    st.centre = h[static_cast<std::size_t>(c0)];
    // Branch r holds h[2m + r] (m = 0, 1, ...) and applies to x[j - m]; stored reversed so the
    // filter runs forward over the input history. A half-band's branch 1 is the centre alone
    // (a delay of H - 1 input samples).
    for (std::size_t r = 0; r < 2; ++r) {
      const std::size_t taps = st.half_band && r == 1 ? 0 : (len + 1 - 2 * r) / 2;
      st.up[r].resize(taps);
      for (std::size_t i = 0; i < taps; ++i) st.up[r][i] = h[2 * (taps - 1 - i) + r];
    }
    // Decimation: out[j] = sum_k g[k] v[2j + k] with g = h / 2 reversed, split into even k
    // (on the even high-rate samples) and odd k. A half-band's odd taps are 0 but the centre.
    for (std::size_t r = 0; r < 2; ++r) {
      const std::size_t taps = st.half_band && r == 1 ? 0 : (len + 1 - 2 * r) / 2;
      st.down[r].resize(taps);
      for (std::size_t m = 0; m < taps; ++m) st.down[r][m] = 0.5f * h[len - 1 - (2 * m + r)];
    }
  }
  // Latency, innermost stage out: a stage whose inside delays by d samples at its high rate
  // delays by (L - 1 + d - phase) / 2 at its input rate, where keeping the high-rate samples
  // of phase (L - 1 + d) mod 2 makes that a whole number.
  std::size_t inner = 0;
  for (std::size_t s = kStages; s-- > 0;) {
    Stage& st = stages_[s];
    st.down_phase = (st.length - 1 + inner) % 2;
    inner = (st.length - 1 + inner - st.down_phase) / 2;
  }
  latency_ = inner;

  for (std::size_t c = 0; c < kMaxChannels; ++c) {
    Channel& ch = ch_[c];
    const bool used = c < channels_;
    for (std::size_t s = 0; s < kStages; ++s) {
      const std::size_t n_in = used ? max_block_ * stages_[s].factor : 0;
      const std::size_t len = stages_[s].length;
      ch.stage[s].up_in.assign(used ? (len - 1) / 2 + n_in : 0, 0.0f);
      ch.stage[s].down_in.assign(used ? len - 1 + 2 * n_in : 0, 0.0f);
    }
    ch.wet.assign(used ? max_block_ : 0, 0.0f);
    ch.dry.assign(used ? latency_ : 0, 0.0f);
  }
  frames_.assign(max_block_, Frame{});
  std::size_t split = 0;
  for (const Stage& st : stages_) split = std::max(split, max_block_ * st.factor + (st.length + 1) / 2);
  even_.assign(split, 0.0f);
  odd_.assign(split, 0.0f);

  const double fs = spec.sample_rate;
  dc_r_ = std::exp(-2.0 * 3.141592653589793 * kDcBlockHz / fs);
  dc_gain_ = 0.5 * (1.0 + dc_r_);  // unity at Nyquist, so the passband is not lifted
  drive_db_.prepare(fs, kGlideMs);
  bias_.prepare(fs, kGlideMs);
  comp_.prepare(fs, kGlideMs);
  mix_.prepare(fs, kGlideMs);
  set_params(p);
  reset();
}

void Saturator::set_params(const SaturationParams& p) noexcept {
  p_ = p;
  p_.drive_db = std::clamp(p.drive_db, 0.0f, 24.0f);
  p_.mix = std::clamp(p.mix, 0.0f, 1.0f);
  p_.bias = std::clamp(p.bias, 0.0f, 0.3f);
  drive_db_.set_target(p_.drive_db);
  bias_.set_target(p_.bias);
  comp_.set_target(p_.compensate ? 1.0f : 0.0f);
  mix_.set_target(p_.mix);
}

void Saturator::reset() noexcept {
  for (Channel& ch : ch_) {
    for (StageBuffers& b : ch.stage) {
      std::fill(b.up_in.begin(), b.up_in.end(), 0.0f);
      std::fill(b.down_in.begin(), b.down_in.end(), 0.0f);
    }
    std::fill(ch.dry.begin(), ch.dry.end(), 0.0f);
    ch.dry_pos = 0;
    ch.dc_x1 = ch.dc_y1 = 0.0;
  }
  drive_db_.reset(drive_db_.target());
  bias_.reset(bias_.target());
  comp_.reset(comp_.target());
  mix_.reset(mix_.target());
}

void Saturator::process(std::span<float> mono) noexcept {
  for (std::size_t at = 0; at < mono.size(); at += max_block_) {
    float* io[1] = {mono.data() + at};
    run(std::min(max_block_, mono.size() - at), io);
  }
}

void Saturator::process(std::span<float> left, std::span<float> right) noexcept {
  const std::size_t n = std::min(left.size(), right.size());
  for (std::size_t at = 0; at < n; at += max_block_) {
    float* io[2] = {left.data() + at, right.data() + at};
    run(std::min(max_block_, n - at), std::span<float* const>(io, channels_));
  }
}

void Saturator::run(std::size_t n, std::span<float* const> io) noexcept {
  steady_ = drive_db_.settled() && bias_.settled() && comp_.settled() && mix_.settled();
  if (steady_) {
    steady_frame_ = frame_of(drive_db_.current(), bias_.current(), comp_.current(), mix_.current());
  } else {
    // One set of constants per base frame, shared by both channels.
    for (std::size_t i = 0; i < n; ++i)
      frames_[i] = frame_of(drive_db_.next(), bias_.next(), comp_.next(), mix_.next());
  }
  for (std::size_t c = 0; c < io.size(); ++c) run_wet(ch_[c], io[c], n);
}

void Saturator::run_wet(Channel& ch, float* io, std::size_t n) noexcept {
  // Up: each stage writes into the next stage's input block; the last into its own
  // decimator's input, where the curve then runs in place.
  float* const x = ch.stage[0].up_in.data() + (stages_[0].length - 1) / 2;
  std::memcpy(x, io, n * sizeof(float));
  for (std::size_t s = 0; s < kStages; ++s) {
    const Stage& st = stages_[s];
    StageBuffers& b = ch.stage[s];
    const std::size_t n_in = n * st.factor, hist = (st.length - 1) / 2;
    float* out = s + 1 < kStages ? ch.stage[s + 1].up_in.data() + (stages_[s + 1].length - 1) / 2
                                 : b.down_in.data() + (st.length - 1);
    const float* in = b.up_in.data();
    fir(st.up[0], in, {}, nullptr, out, 2, n_in);
    if (st.half_band) {
      const std::size_t delay = (st.length + 1) / 4;  // H: branch 1 is x[j - H + 1]
      for (std::size_t j = 0; j < n_in; ++j) out[2 * j + 1] = st.centre * in[j + delay];
    } else {
      fir(st.up[1], in + 1, {}, nullptr, out + 1, 2, n_in);
    }
    std::memmove(b.up_in.data(), b.up_in.data() + n_in, hist * sizeof(float));
  }

  // The curve at kOversampling x the rate.
  float* const v = ch.stage[kStages - 1].down_in.data() + (stages_[kStages - 1].length - 1);
  constexpr auto kOs = static_cast<std::size_t>(kOversampling);
  if (steady_) {
    const Frame& f = steady_frame_;
    curve(v, n * kOs, f.drive, f.bias, f.bias_out, f.out_gain);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const Frame& f = frames_[i];
      curve(v + i * kOs, kOs, f.drive, f.bias, f.bias_out, f.out_gain);
    }
  }

  // Down: each stage reads its input block (after its history) and writes the previous
  // stage's, keeping one high-rate sample of two at its down_phase.
  for (std::size_t s = kStages; s-- > 0;) {
    const Stage& st = stages_[s];
    StageBuffers& b = ch.stage[s];
    const std::size_t n_out = n * st.factor, hist = st.length - 1;
    float* out = s > 0 ? ch.stage[s - 1].down_in.data() + (stages_[s - 1].length - 1) : ch.wet.data();
    const float* in = b.down_in.data() + st.down_phase;
    // The half-band's centre is odd tap (L - 3) / 4 = H - 1.
    const std::size_t centre_at = (st.length - 3) / 4;
    const std::size_t n_even = n_out + st.down[0].size() - 1;
    const std::size_t n_odd = n_out + (st.half_band ? centre_at + 1 : st.down[1].size()) - 1;
    for (std::size_t i = 0; i < n_even; ++i) even_[i] = in[2 * i];
    for (std::size_t i = 0; i < n_odd; ++i) odd_[i] = in[2 * i + 1];
    fir(st.down[0], even_.data(), st.down[1], odd_.data(), out, 1, n_out);
    if (st.half_band) {
      const float centre = 0.5f * st.centre;
      for (std::size_t j = 0; j < n_out; ++j) out[j] += centre * odd_[j + centre_at];
    }
    std::memmove(b.down_in.data(), b.down_in.data() + 2 * n_out, hist * sizeof(float));
  }

  // DC blocker on the wet path (the bias makes DC), the dry path delayed to match, the mix.
  double x1 = ch.dc_x1, y1 = ch.dc_y1;
  const std::size_t lat = ch.dry.size();
  std::size_t pos = ch.dry_pos;
  for (std::size_t i = 0; i < n; ++i) {
    const double wx = ch.wet[i];
    const double wy = dc_gain_ * (wx - x1) + dc_r_ * y1;
    x1 = wx;
    y1 = wy;
    const float dry = ch.dry[pos];
    ch.dry[pos] = io[i];
    pos = pos + 1 == lat ? 0 : pos + 1;
    const float m = steady_ ? steady_frame_.mix : frames_[i].mix;
    io[i] = dry * (1.0f - m) + static_cast<float>(wy) * m;
  }
  ch.dc_x1 = x1;
  ch.dc_y1 = y1;
  ch.dry_pos = pos;
}

}  // namespace tl::dsp
