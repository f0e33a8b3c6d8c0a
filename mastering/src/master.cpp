#include "tl/mastering/master.h"

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <random>

#include "aligned_stream.h"
#include "text.h"
#include "tl/common/text.h"
#include "tl/dsp/limiter.h"
#include "tl/mastering/audio_file.h"
#include "tl/mastering/resample.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxPasses = 10;
// The limiter aims this far under the ceiling: rounding to the output's depth (and
// dither) must not carry the file's true peak over it, on this meter or on a BS.1770
// 4x one (libebur128 read up to 0.06 dB above ours on a sweep at 0.75 of Nyquist).
constexpr double kCeilingMargin = 0.1;

constexpr std::uint32_t kMinRate = 8000, kMaxRate = 384000;

constexpr std::array<Preset, 6> kPresets{{
    {"streaming", -14.0, -1.0, "Spotify, YouTube, Tidal, Amazon Music (their normalisation reference)"},
    {"apple", -16.0, -1.0, "Apple Music (Sound Check) and Apple's podcast guidelines"},
    {"ebu-r128", -23.0, -1.0, "EBU R128 broadcast (-23 LUFS +-0.5 LU, max true peak -1 dBTP)"},
    {"atsc-a85", -24.0, -2.0, "ATSC A/85 US broadcast (-24 LKFS +-2 dB, max true peak -2 dBTP)"},
    // No normalisation on a CD player: a mastering engineer's figure, loud enough to sit
    // among other CDs with room for the limiter, under -1 dBTP for the lossy rips.
    {"cd", -10.0, -1.0, "Red Book CD (no normalisation; -1 dBTP for lossy rips)", 44100, 16},
    // A pre-master for the cutting engineer, who sets the level on the lathe: dynamics
    // left alone (no limiter), headroom for the cutter, the low end a groove can hold.
    {.name = "vinyl",
     .target_lufs = -18.0,
     .ceiling_dbtp = -3.0,
     .what = "vinyl pre-master for the cutting engineer: no limiter, high-pass 25 Hz, mono under 150 Hz, "
             "de-essed, checked for phase, inter-sample peaks and side length",
     .rate = 0,
     .bits = 24,
     .limiter = false,
     .highpass_hz = 25.0,
     .mono_bass_hz = 150.0,
     .deess = dsp::DeEsserParams{.threshold_db = -20.0f, .ratio = 4.0f, .range_db = 6.0f},
     .vinyl_checks = true},
}};

double from_db(double db) {
  return std::pow(10.0, db / 20.0);
}

// A delivery depth and libsndfile's sample format for it (kDeliveryBits, in order).
constexpr std::array<std::pair<int, int>, 3> kDepths{
    {{16, SF_FORMAT_PCM_16}, {24, SF_FORMAT_PCM_24}, {32, SF_FORMAT_FLOAT}}};
static_assert(kDepths[0].first == kDeliveryBits[0] && kDepths[1].first == kDeliveryBits[1] &&
              kDepths[2].first == kDeliveryBits[2]);

Result<int> output_format(const std::string& path, const AudioInfo& in, int bits) {
  const std::string ext = ascii_lower(fs::path(path).extension().string());
  int container = 0;
  if (ext == ".wav") {
    container = SF_FORMAT_WAV;
  } else if (ext == ".flac") {
    container = SF_FORMAT_FLAC;
  } else if (ext == ".aif" || ext == ".aiff") {
    container = SF_FORMAT_AIFF;
  } else {
    return Error{"'" + path + "': the output must end in .wav, .flac, .aif or .aiff"};
  }
  if (bits == 0) {
    const int sub = in.format & SF_FORMAT_SUBMASK;
    bits = sub == SF_FORMAT_PCM_16 ? 16 : sub == SF_FORMAT_FLOAT && container != SF_FORMAT_FLAC ? 32 : 24;
  }
  if (bits == 32 && container == SF_FORMAT_FLAC)
    return Error{"'" + path + "': FLAC holds 16 or 24 bits, not float"};
  for (const auto& [b, sub] : kDepths) {
    if (b == bits) return container | sub;
  }
  return Error{"the output depth must be 16, 24 or 32 (float) bits, not " + std::to_string(bits)};
}

int bits_of(int format) {
  for (const auto& [b, sub] : kDepths) {
    if (sub == (format & SF_FORMAT_SUBMASK)) return b;
  }
  return 24;
}

// Reads a file once, through the chain when there is one (shaping), into analyzers
// already prepared (a track's own and, for an album, the album's).
Status feed(AudioReader& reader, std::span<Analyzer* const> analyzers, const Progress& progress,
            std::string_view stage, const ChainSettings* shaping = nullptr) {
  if (Status s = reader.rewind(); !s) return s;
  const AudioInfo& info = reader.info();
  Chain chain;
  if (shaping != nullptr) chain.prepare(info.rate, info.channels, kFileBlock, *shaping);
  std::vector<float> block(kFileBlock * info.channels);
  std::int64_t done = 0;
  // What the chain delays (saturation, a linear-phase EQ) is measured where it belongs.
  const auto read = [&](std::span<float> b) {
    const std::size_t n = reader.read(b);
    done += static_cast<std::int64_t>(n);
    if (n > 0 && progress && info.frames > 0)
      progress(static_cast<double>(done) / static_cast<double>(info.frames), stage);
    return n;
  };
  const auto shape = [&](std::span<float> b, std::size_t n) {
    if (shaping != nullptr) chain.process(b, n);
  };
  const auto analyse = [&](std::span<const float> aligned) -> Status {
    for (Analyzer* a : analyzers) a->process(aligned);
    return {};
  };
  const std::size_t latency = shaping != nullptr ? chain.latency() : 0;
  if (Status s = stream_aligned(block, info.channels, latency, read, shape, analyse); !s) return s;
  // (libsndfile sizes a WAV whose data was cut short to what is there; a read that stops
  // early elsewhere is an error, not a shorter master.)
  if (done < info.frames) {
    return Error{"'" + info.path + "' is cut short: its header promises " + std::to_string(info.frames) +
                 " frames, " + std::to_string(done) + " could be read"};
  }
  return {};
}

// The file's figures, or (with a chain) those of the chain's output; its loudness over
// time into curve; and fed to also (an album's analyzer), when given.
Result<LoudnessFigures> measure(AudioReader& reader, const Progress& progress, std::string_view stage,
                                const ChainSettings* shaping = nullptr,
                                std::vector<LoudnessPoint>* curve = nullptr, Analyzer* also = nullptr) {
  Analyzer analyzer;
  analyzer.prepare(reader.info().rate, reader.info().channels);
  std::array<Analyzer*, 2> to{&analyzer, also};
  if (Status s = feed(reader, std::span(to).first(also != nullptr ? 2 : 1), progress, stage, shaping); !s) {
    return Error{s.error()};
  }
  LoudnessFigures figures = analyzer.finish();
  if (curve != nullptr) *curve = analyzer.curve();
  return figures;
}

struct Render {
  const ChainSettings* chain = nullptr;
  double gain_db = 0.0;
  double ceiling_dbtp = -1.0;
  bool limiter = true;
  int format = 0;
  std::uint32_t rate = 0;  // the output's
};

// The mastering limiter: 5 ms of look-ahead, a 200 ms release.
void prepare_limiter(dsp::TruePeakLimiter& limiter, const AudioInfo& info, const Render& r) {
  limiter.prepare(
      {.sample_rate = static_cast<double>(info.rate), .max_block = kFileBlock, .channels = info.channels},
      {.ceiling_dbtp = static_cast<float>(r.ceiling_dbtp), .lookahead_ms = 5.0f, .release_ms = 200.0f});
}

// n frames of b (interleaved) through the chain, the gain and the limiter (none: gain only);
// planar holds the limiter's channels, kFileBlock frames each.
void master_block(Chain& chain, float gain, dsp::TruePeakLimiter* limiter, std::span<float> b, std::size_t n,
                  std::size_t ch, std::array<std::vector<float>, 2>& planar) {
  chain.process(b, n);
  for (float& x : b) x *= gain;
  if (limiter == nullptr) return;
  for (std::size_t c = 0; c < ch; ++c) {
    for (std::size_t i = 0; i < n; ++i) planar[c][i] = b[i * ch + c];
  }
  if (ch == 2) {
    limiter->process(std::span(planar[0]).first(n), std::span(planar[1]).first(n));
  } else {
    limiter->process(std::span(planar[0]).first(n));
  }
  for (std::size_t c = 0; c < ch; ++c) {
    for (std::size_t i = 0; i < n; ++i) b[i * ch + c] = planar[c][i];
  }
}

// One pass: input -> chain -> x gain -> limiter -> (resampler) -> (dither) -> a new file at
// path, the same length and alignment as the input at the output's rate (the limiter's
// look-ahead is taken back out, and the resampler's delay); what is written is measured
// on the way (heard: the floats before the file's rounding).
Status render(AudioReader& reader, const std::string& path, const Render& r, std::span<Analyzer* const> heard,
              const Progress& progress, std::string_view stage) {
  if (Status s = reader.rewind(); !s) return s;
  const AudioInfo& info = reader.info();
  const std::size_t ch = info.channels;
  auto writer = AudioWriter::create(path, r.rate, static_cast<std::uint32_t>(ch), r.format);
  if (!writer) return Error{writer.error()};
  // The chain and the limiter run at the input's rate; the rate changes after them, so
  // the limiter's ceiling is checked again on the file (master_file).
  const bool resample = r.rate != info.rate;
  Resampler resampler;
  if (resample) {
    if (Status s = resampler.prepare(info.rate, r.rate, ch, kFileBlock); !s) return s;
  }
  Chain chain;
  chain.prepare(info.rate, ch, kFileBlock, *r.chain);
  dsp::TruePeakLimiter limiter;
  prepare_limiter(limiter, info, r);
  // What comes out late and is taken back out: the chain's (saturation) and the
  // limiter's look-ahead.
  const std::size_t latency = chain.latency() + (r.limiter ? limiter.latency() : 0);
  const bool dither = (r.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
  std::minstd_rand rng(0x7a1);  // reproducible renders
  std::uniform_real_distribution<float> lsb(-0.5f / 32768.0f, 0.5f / 32768.0f);
  const auto gain = static_cast<float>(from_db(r.gain_db));
  std::vector<float> block(kFileBlock * ch);
  std::array<std::vector<float>, 2> planar{std::vector<float>(kFileBlock), std::vector<float>(kFileBlock)};
  // TPDF dither (two uniform values of +-1/2 LSB), the very last step, once; then the file.
  const auto emit = [&](std::span<float> out) -> Status {
    if (dither) {
      for (float& x : out) x += lsb(rng) + lsb(rng);
    }
    if (Status s = (*writer)->write(out); !s) return s;
    for (Analyzer* a : heard) a->process(out);
    return {};
  };
  // Chain, gain and limiter on every block, the silence that flushes them included.
  std::int64_t done = 0;
  const auto master = [&](std::span<float> b, std::size_t n) {
    master_block(chain, gain, r.limiter ? &limiter : nullptr, b, n, ch, planar);
    done += static_cast<std::int64_t>(n);
    if (progress && info.frames > 0) {
      progress(std::min(1.0, static_cast<double>(done) / static_cast<double>(info.frames)), stage);
    }
  };
  const auto deliver = [&](std::span<float> aligned) -> Status {
    if (!resample) return emit(aligned);
    auto out = resampler.process(aligned);
    if (!out) return Error{out.error()};
    return emit(*out);
  };
  const auto read = [&](std::span<float> b) { return reader.read(b); };
  if (Status s = stream_aligned(block, ch, latency, read, master, deliver); !s) return s;
  if (resample) {
    auto out = resampler.finish();
    if (!out) return Error{out.error()};
    if (Status s = emit(*out); !s) return s;
  }
  return (*writer)->close();
}

// The secant steps that aim a gain at a loudness, for the whole renders and for the sample
// alike. The slope between two measured points, kept within what a limiter leaves of 1:1.
double secant_slope(double gain, double lufs, double last_gain, double last_lufs) {
  return std::clamp((lufs - last_lufs) / (gain - last_gain), 0.05, 1.0);
}
// The next step along it; never more than 12 dB: far from the last point the slope is a guess.
double gain_step(double target_lufs, double lufs, double slope) {
  return std::clamp((target_lufs - lufs) / slope, -12.0, 12.0);
}

// Aiming the gain on a sample of the input: one second in every four, spliced, through the
// chain, the gain and the limiter (no file, no resampling). Loudness under a limiter does
// not follow the gain 1:1, and a file limited hard took five whole renders to land; the
// sample costs a quarter of one, and the whole renders start from where it lands.
constexpr double kProbeSeconds = 1.0, kProbePeriod = 4.0;
// Shorter inputs are rendered whole from the start: the sample would not be much shorter.
constexpr double kProbeFrom = 60.0;

Result<double> probe_loudness(AudioReader& reader, const Render& r) {
  const AudioInfo& info = reader.info();
  const std::size_t ch = info.channels;
  Chain chain;
  chain.prepare(info.rate, ch, kFileBlock, *r.chain);
  dsp::TruePeakLimiter limiter;
  prepare_limiter(limiter, info, r);
  Analyzer heard;
  heard.prepare(info.rate, ch, /*true_peak=*/false);
  const auto take = static_cast<std::int64_t>(kProbeSeconds * info.rate);
  const auto period = static_cast<std::int64_t>(kProbePeriod * info.rate);
  const auto gain = static_cast<float>(from_db(r.gain_db));
  std::vector<float> block(kFileBlock * ch);
  std::array<std::vector<float>, 2> planar{std::vector<float>(kFileBlock), std::vector<float>(kFileBlock)};
  for (std::int64_t at = 0; at < info.frames; at += period) {
    if (Status s = reader.seek(at); !s) return Error{s.error()};
    for (std::int64_t left = std::min(take, info.frames - at); left > 0;) {
      const std::size_t n = reader.read(std::span(block).first(
          static_cast<std::size_t>(std::min<std::int64_t>(left, static_cast<std::int64_t>(kFileBlock))) *
          ch));
      if (n == 0) break;
      left -= static_cast<std::int64_t>(n);
      const auto b = std::span(block).first(n * ch);
      master_block(chain, gain, &limiter, b, n, ch, planar);
      heard.process(b);
    }
  }
  return heard.finish().integrated_lufs;
}

}  // namespace

ChainSettings chain_of(const Preset& preset) {
  ChainSettings chain;
  chain.highpass_hz = preset.highpass_hz;
  chain.mono_bass_hz = preset.mono_bass_hz;
  chain.deess = preset.deess;
  return chain;
}

MasterSettings settings_of(const Preset& preset) {
  MasterSettings settings{.target_lufs = preset.target_lufs,
                          .ceiling_dbtp = preset.ceiling_dbtp,
                          .limiter = preset.limiter,
                          .bits = preset.bits,
                          .rate = preset.rate,
                          .chain = chain_of(preset)};
  if (preset.vinyl_checks) settings.vinyl = VinylChecks{};
  return settings;
}

std::span<const Preset> presets() noexcept {
  return kPresets;
}

std::string delivery_rates_text() {
  std::string out;
  for (std::size_t i = 0; i < kDeliveryRates.size(); ++i) {
    if (i > 0) out += i + 1 == kDeliveryRates.size() ? " or " : ", ";
    out += std::to_string(kDeliveryRates[i]);
  }
  return out;
}

std::optional<Preset> find_preset(std::string_view name) noexcept {
  for (const Preset& p : kPresets) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

Result<LoudnessFigures> measure_file(const std::string& path, const Progress& progress,
                                     std::vector<LoudnessPoint>* curve) {
  auto reader = AudioReader::open(path);
  if (!reader) return Error{reader.error()};
  if ((*reader)->info().channels > Analyzer::kMaxChannels) {
    return Error{"'" + path + "' has " + std::to_string((*reader)->info().channels) +
                 " channels: tl-master measures and masters mono or stereo files"};
  }
  return measure(**reader, progress, "measuring", nullptr, curve);
}

Result<MasterReport> master_file(const std::string& input, const std::string& output,
                                 const MasterSettings& settings, const Progress& progress) {
  auto album = master_album({input}, {output}, settings, progress);
  if (!album) return Error{album.error()};
  return std::move(album->tracks.front());
}

Result<AlbumReport> master_album(const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs, const MasterSettings& settings,
                                 const Progress& progress) {
  if (inputs.empty() || inputs.size() != outputs.size()) {
    return Error{"name one output for each input (" + std::to_string(inputs.size()) + " inputs, " +
                 std::to_string(outputs.size()) + " outputs)"};
  }
  std::error_code ec;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string& output = outputs[i];
    if (fs::exists(output, ec) || fs::is_symlink(output, ec)) {
      for (const std::string& input : inputs) {
        if (fs::exists(input, ec) && fs::equivalent(input, output, ec)) {
          return Error{"'" + output +
                       "' is the input: tl-master never overwrites its input; name a new file"};
        }
      }
      return Error{"'" + output + "' exists: tl-master writes a new file (remove it, or name another)"};
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (outputs[j] == output) return Error{"two tracks would be written to '" + output + "'"};
    }
    const fs::path parent = fs::path(output).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      return Error{"cannot write '" + output + "': no folder '" + parent.string() + "'"};
    }
  }
  if (!(settings.target_lufs >= -70.0 && settings.target_lufs <= 0.0)) {
    return Error{"the target must be between -70 and 0 LUFS, not " + fixed(settings.target_lufs, 1)};
  }
  if (!(settings.ceiling_dbtp >= -20.0 && settings.ceiling_dbtp <= 0.0)) {
    return Error{"the ceiling must be between -20 and 0 dBTP, not " + fixed(settings.ceiling_dbtp, 1)};
  }
  if (settings.rate != 0 && (settings.rate < kMinRate || settings.rate > kMaxRate)) {
    return Error{"the output rate must be between " + std::to_string(kMinRate) + " and " +
                 std::to_string(kMaxRate) + " Hz, not " + std::to_string(settings.rate)};
  }
  // An album is measured as one programme (BS.1770 over every track in turn), so its
  // tracks share one rate and channel count.
  const bool album = inputs.size() > 1;
  struct Track {
    std::unique_ptr<AudioReader> reader;
    int format = 0;
    MasterReport report;
  };
  std::vector<Track> tracks(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& input = inputs[i];
    auto opened = AudioReader::open(input);
    if (!opened) return Error{opened.error()};
    tracks[i].reader = std::move(*opened);
    const AudioInfo& info = tracks[i].reader->info();
    if (info.channels > Analyzer::kMaxChannels) {
      return Error{"'" + input + "' has " + std::to_string(info.channels) +
                   " channels: tl-master masters mono or stereo files"};
    }
    const AudioInfo& first = tracks[0].reader->info();
    if (info.rate != first.rate || info.channels != first.channels) {
      return Error{"the tracks of an album share one rate and channel count: '" + input + "' is " +
                   std::to_string(info.rate) + " Hz with " + std::to_string(info.channels) +
                   " channel(s), '" + inputs[0] + "' " + std::to_string(first.rate) + " Hz with " +
                   std::to_string(first.channels)};
    }
    auto format = output_format(outputs[i], info, settings.bits);
    if (!format) return Error{format.error()};
    tracks[i].format = *format;
    if (Status s = check(settings.chain, info.rate); !s) return Error{s.error()};
    if (settings.chain.width != 1.0 && info.channels != 2) {
      return Error{"'" + input + "' is mono: a width needs a stereo input"};
    }
    MasterReport& report = tracks[i].report;
    report.input = input;
    report.output = outputs[i];
    report.bits = bits_of(*format);
    report.dithered = report.bits == 16;
    report.rate = settings.rate != 0 ? settings.rate : info.rate;
    report.resampled = report.rate != info.rate;
    report.chain = settings.chain.describe();
    if (info.channels == 1 && settings.chain.mono_bass_hz != 0.0)
      report.chain += " (a mono input: no side to remove)";
  }
  const AudioInfo& info = tracks[0].reader->info();
  const std::uint32_t rate = tracks[0].report.rate;

  // Each track's figures, and what the gain works on: the chain's output (the input when
  // there is none), the album's as a whole.
  Analyzer whole;
  whole.prepare(info.rate, info.channels);
  for (Track& t : tracks) {
    MasterReport& report = t.report;
    const bool basis_pass = settings.chain.empty();
    auto before = measure(*t.reader, progress, "measuring " + fs::path(report.input).filename().string(),
                          nullptr, &report.before_curve, album && basis_pass ? &whole : nullptr);
    if (!before) return Error{before.error()};
    report.before = *before;
    if (!settings.chain.empty()) {
      auto shaped = measure(*t.reader, progress, "measuring the chain's output", &settings.chain,
                            &report.before_curve, album ? &whole : nullptr);
      if (!shaped) return Error{shaped.error()};
      report.shaped = *shaped;
    }
  }
  AlbumReport out;
  const MasterReport& one = tracks[0].report;
  out.before = album ? whole.finish() : (one.shaped ? *one.shaped : one.before);
  const LoudnessFigures& basis = out.before;
  if (basis.integrated_lufs <= -70.0) {
    return Error{(album ? std::string("the album is") : "'" + inputs[0] + "' is") +
                 " silent, or quieter than -70 LUFS throughout: there is no loudness to bring to " +
                 fixed(settings.target_lufs, 1) + " LUFS"};
  }
  Render r{.chain = &settings.chain,
           .gain_db = settings.target_lufs - basis.integrated_lufs,
           .ceiling_dbtp = settings.ceiling_dbtp - kCeilingMargin,
           .limiter = settings.limiter,
           .format = 0,
           .rate = rate};
  if (!settings.limiter && basis.true_peak_dbtp + r.gain_db > settings.ceiling_dbtp) {
    return Error{
        "a gain of " + fixed(r.gain_db, 2) + " dB puts the true peak at " +
        fixed(basis.true_peak_dbtp + r.gain_db, 2) + " dBTP, over the " + fixed(settings.ceiling_dbtp, 1) +
        " dBTP ceiling, and the limiter is off (--no-limiter, or a preset without one, as "
        "vinyl): choose a target at most " +
        fixed(std::floor((settings.target_lufs - (basis.true_peak_dbtp + r.gain_db - settings.ceiling_dbtp)) *
                         10.0) /
                  10.0,
              1) +
        " LUFS (--target), or turn the limiter on where the delivery allows it"};
  }
  const auto remove_parts = [&] {
    for (const Track& t : tracks) fs::remove(t.report.output + ".part", ec);
  };
  // Loudness follows gain 1:1 until the limiter works, then less: the next gain is aimed
  // along the slope the last two renders measured (a secant step). Its first point is the
  // largest gain the limiter leaves alone. A new limiter ceiling starts a new curve: the
  // slope measured on the old one is kept until the new one has two points. Each render
  // is measured as it is written; only one that lands is read back and measured from the
  // files (the files' figures are the report's). An album gets one gain for every track:
  // their levels keep their relations, and the album as a whole lands on the target.
  double last_gain = settings.ceiling_dbtp - basis.true_peak_dbtp;
  double last_lufs = basis.integrated_lufs + last_gain;
  double slope = 1.0;
  bool have_last = r.gain_db - last_gain > 0.5;
  // Limited (the target lies past the gain the limiter leaves alone) and long: the gain is
  // aimed on a sample of the input first (probe_loudness), with the same secant steps, and
  // the whole renders start there, with the sample's slope.
  const AudioInfo& input_info = tracks[0].reader->info();
  if (!album && settings.limiter && have_last &&
      static_cast<double>(input_info.frames) >= kProbeFrom * input_info.rate) {
    if (progress) progress(0.0, "aiming the gain on a sample");
    auto at = probe_loudness(*tracks[0].reader, r);
    if (!at) return Error{at.error()};
    double probe_slope = 1.0;
    constexpr int kProbes = 8;
    constexpr double kProbeTolerance = 0.05;  // LU: the whole render lands within 0.2 of it
    for (int i = 1; i < kProbes && std::fabs(*at - settings.target_lufs) > kProbeTolerance; ++i) {
      Render next = r;
      next.gain_db += gain_step(settings.target_lufs, *at, probe_slope);
      auto there = probe_loudness(*tracks[0].reader, next);
      if (!there) return Error{there.error()};
      probe_slope = secant_slope(next.gain_db, *there, r.gain_db, *at);
      r.gain_db = next.gain_db;
      at = there;
    }
    slope = probe_slope;
    have_last = false;  // the first whole render's step uses the sample's slope
  }
  for (int pass = 1; pass <= kMaxPasses; ++pass) {
    const std::string stage = "render " + std::to_string(pass);
    Analyzer heard;
    heard.prepare(rate, info.channels, /*true_peak=*/false);
    for (Track& t : tracks) {
      Analyzer track;
      track.prepare(rate, info.channels, /*true_peak=*/false);
      std::array<Analyzer*, 2> to{&track, &heard};
      r.format = t.format;
      if (Status s = render(*t.reader, t.report.output + ".part", r, std::span(to).first(album ? 2 : 1),
                            progress, stage);
          !s) {
        remove_parts();
        return Error{s.error()};
      }
      t.report.after = track.finish();
    }
    out.after = album ? heard.finish() : tracks[0].report.after;
    out.gain_db = r.gain_db;
    out.ceiling_used_dbtp = r.ceiling_dbtp;
    out.passes = pass;
    const auto lands = [&] {
      double peak = -150.0;
      for (const Track& t : tracks) peak = std::max(peak, t.report.after.true_peak_dbtp);
      out.after.true_peak_dbtp = std::max(out.after.true_peak_dbtp, peak);
      return peak <= settings.ceiling_dbtp &&
             std::fabs(out.after.integrated_lufs - settings.target_lufs) <= settings.tolerance_lu;
    };
    if (lands()) {
      Analyzer back;
      back.prepare(rate, info.channels);
      Status read = {};
      for (Track& t : tracks) {
        auto rendered = AudioReader::open(t.report.output + ".part");
        auto after = rendered ? measure(**rendered, progress, "measuring " + stage, nullptr,
                                        &t.report.after_curve, album ? &back : nullptr)
                              : Result<LoudnessFigures>(Error{rendered.error()});
        if (!after) {
          read = Error{after.error()};
          break;
        }
        t.report.after = *after;
      }
      if (!read) {
        remove_parts();
        return Error{read.error()};
      }
      out.after = album ? back.finish() : tracks[0].report.after;
      if (lands() && settings.vinyl) {
        // A cutting engineer's checks on the files as written (warnings: they change nothing).
        std::vector<std::string> parts;
        for (const Track& t : tracks) parts.push_back(t.report.output + ".part");
        auto found = check_for_vinyl(parts, *settings.vinyl, settings.ceiling_dbtp);
        if (!found) {
          remove_parts();
          return Error{found.error()};
        }
        for (VinylWarning& w : *found) {
          if (w.file.ends_with(".part")) w.file.resize(w.file.size() - 5);
          for (Track& t : tracks) {
            if (t.report.output == w.file) t.report.warnings.push_back(w);
          }
          out.warnings.push_back(std::move(w));
        }
      }
      if (lands()) {
        // Never over a file that appeared while this one was made.
        for (const Track& t : tracks) {
          if (fs::exists(t.report.output, ec)) {
            remove_parts();
            return Error{"'" + t.report.output + "' appeared while the master was made; it was left alone"};
          }
        }
        for (Track& t : tracks) {
          fs::rename(t.report.output + ".part", t.report.output, ec);
          if (ec) {
            const std::string why = ec.message();
            remove_parts();
            return Error{"cannot name the master '" + t.report.output + "': " + why};
          }
          t.report.gain_db = out.gain_db;
          t.report.ceiling_used_dbtp = out.ceiling_used_dbtp;
          t.report.passes = out.passes;
          out.tracks.push_back(std::move(t.report));
        }
        return out;
      }
    }
    const bool over = out.after.true_peak_dbtp > settings.ceiling_dbtp;
    const bool off = std::fabs(out.after.integrated_lufs - settings.target_lufs) > settings.tolerance_lu;
    if (have_last && std::fabs(r.gain_db - last_gain) > 1e-6) {
      slope = secant_slope(r.gain_db, out.after.integrated_lufs, last_gain, last_lufs);
    }
    last_gain = r.gain_db;
    last_lufs = out.after.integrated_lufs;
    have_last = true;
    if (over) {
      if (!settings.limiter) break;
      r.ceiling_dbtp -= out.after.true_peak_dbtp - settings.ceiling_dbtp + 0.02;
      have_last = false;
    }
    if (off) {
      r.gain_db += gain_step(settings.target_lufs, out.after.integrated_lufs, slope);
    }
    remove_parts();
  }
  remove_parts();
  return Error{"could not land " + (album ? std::string("the album") : "'" + inputs[0] + "'") + " within " +
               fixed(settings.tolerance_lu, 1) + " LU of " + fixed(settings.target_lufs, 1) + " LUFS under " +
               fixed(settings.ceiling_dbtp, 1) + " dBTP in " + std::to_string(kMaxPasses) +
               " renders (the last: " + fixed(out.after.integrated_lufs, 2) + " LUFS with the limiter at " +
               fixed(out.ceiling_used_dbtp, 2) + " dBTP); nothing was written"};
}

}  // namespace tl::mastering
