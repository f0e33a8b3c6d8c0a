#include "tl/mastering/stems.h"

#include <sndfile.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <memory>

#include "aligned_stream.h"
#include "text.h"
#include "tl/mastering/analysis.h"
#include "tl/mastering/audio_file.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

constexpr int kFloatWav = SF_FORMAT_WAV | SF_FORMAT_FLOAT;

// A stem's audio (from its reader, at its start), its gain and chain applied, aligned (the
// chain's delay skipped at the start and flushed at the end), as `channels` channels, into
// a float file.
Status process_stem(const StemInput& stem, AudioReader& reader, std::uint32_t channels,
                    const std::string& out, Analyzer& measured, const Progress& progress, double from,
                    double share) {
  const AudioInfo& info = reader.info();
  auto writer = AudioWriter::create(out, info.rate, channels, kFloatWav);
  if (!writer) return Error{writer.error()};
  Chain chain;
  chain.prepare(info.rate, channels, kFileBlock, stem.chain);
  const auto gain = static_cast<float>(std::pow(10.0, stem.gain_db / 20.0));
  std::vector<float> in(kFileBlock * info.channels), block(kFileBlock * channels);
  std::int64_t done = 0;
  // The stem's channels (a mono stem on both of a stereo sum's), trimmed.
  const auto read = [&](std::span<float> b) {
    const std::size_t n = reader.read(in);
    done += static_cast<std::int64_t>(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < channels; ++c) {
        b[i * channels + c] = gain * in[i * info.channels + std::min<std::size_t>(c, info.channels - 1)];
      }
    }
    return n;
  };
  const auto shape = [&](std::span<float> b, std::size_t n) {
    chain.process(b, n);
    if (progress && info.frames > 0) {
      progress(from + share * static_cast<double>(done) / static_cast<double>(info.frames),
               "stem " + stem.name);
    }
  };
  const auto keep = [&](std::span<const float> aligned) -> Status {
    if (Status s = (*writer)->write(aligned); !s) return s;
    measured.process(aligned);
    return {};
  };
  if (Status s = stream_aligned(block, channels, chain.latency(), read, shape, keep); !s) return s;
  return (*writer)->close();
}

// Reads several files of one shape in step, a block at a time; a file that ends early
// reads as silence.
class InStep {
 public:
  static Result<InStep> open(const std::vector<std::string>& paths) {
    InStep s;
    for (const auto& p : paths) {
      auto r = AudioReader::open(p);
      if (!r) return Error{r.error()};
      s.readers_.push_back(std::move(*r));
    }
    return s;
  }
  std::uint32_t channels() const { return readers_.front()->info().channels; }
  std::int64_t frames() const {
    std::int64_t n = 0;
    for (const auto& r : readers_) n = std::max(n, r->info().frames);
    return n;
  }
  //! Reads the next block of every file into blocks[i]; returns the longest read (0: all done).
  std::size_t read(std::vector<std::vector<float>>& blocks) {
    std::size_t most = 0;
    blocks.resize(readers_.size());
    for (std::size_t i = 0; i < readers_.size(); ++i) {
      blocks[i].assign(kFileBlock * channels(), 0.0f);
      most = std::max(most, readers_[i]->read(blocks[i]));
    }
    return most;
  }

 private:
  std::vector<std::unique_ptr<AudioReader>> readers_;
};

}  // namespace

bool valid_track_pattern(std::string_view p) noexcept {
  const std::size_t slash = p.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == p.size()) return false;
  const std::string_view channel = p.substr(slash + 1);
  if (channel == "*") return true;
  unsigned c = 0;
  const auto [end, ec] = std::from_chars(channel.data(), channel.data() + channel.size(), c);
  return ec == std::errc() && end == channel.data() + channel.size() && c >= 1 && c <= 255;
}

bool track_matches(std::string_view pattern, std::string_view node, unsigned channel) noexcept {
  if (!valid_track_pattern(pattern)) return false;
  const std::size_t slash = pattern.rfind('/');
  if (pattern.substr(0, slash) != node) return false;
  const std::string_view c = pattern.substr(slash + 1);
  return c == "*" || c == std::to_string(channel);
}

Result<StemsReport> master_stems(const std::vector<StemInput>& stems, const std::string& output,
                                 const std::string& stems_dir, const MasterSettings& settings,
                                 const Progress& progress) {
  if (stems.empty()) return Error{"no stems to master"};
  std::error_code ec;
  // The shape: one rate; stereo when any stem is. Each stem is opened once, here.
  std::uint32_t rate = 0, channels = 1;
  std::vector<std::unique_ptr<AudioReader>> readers;
  for (const StemInput& s : stems) {
    auto r = AudioReader::open(s.path);
    if (!r) return Error{"stem '" + s.name + "': " + r.error()};
    readers.push_back(std::move(*r));
    const AudioInfo& info = readers.back()->info();
    if (info.channels > 2)
      return Error{"stem '" + s.name + "': mono or stereo only, not " + std::to_string(info.channels) +
                   " channels"};
    if (rate != 0 && info.rate != rate) {
      return Error{"stem '" + s.name + "' is at " + std::to_string(info.rate) + " Hz, the others at " +
                   std::to_string(rate)};
    }
    rate = info.rate;
    channels = std::max(channels, info.channels);
    if (Status ok = check(s.chain, rate); !ok) return Error{"stem '" + s.name + "': " + ok.error()};
  }
  std::vector<std::string> finals;
  for (const StemInput& s : stems) {
    finals.push_back((fs::path(stems_dir) / (s.name + ".wav")).string());
    if (fs::exists(finals.back(), ec))
      return Error{in_quotes(finals.back()) + " exists; the stems are new files"};
  }
  if (fs::exists(output, ec)) return Error{in_quotes(output) + " exists; the master is a new file"};
  // Work files beside the output, removed whatever happens.
  const fs::path work = fs::path(output + ".stems-work");
  if (fs::exists(work, ec)) return Error{in_quotes(work.string()) + " is in the way; remove it"};
  fs::create_directories(work, ec);
  if (ec) return Error{"cannot make '" + work.string() + "': " + ec.message()};
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{work};

  // 1. Each stem through its chain (the first half of the progress line).
  StemsReport report;
  std::vector<std::string> processed;
  for (std::size_t i = 0; i < stems.size(); ++i) {
    processed.push_back((work / (std::to_string(i) + ".wav")).string());
    Analyzer a;
    a.prepare(rate, channels);
    const double share = 0.3 / static_cast<double>(stems.size());
    if (Status s = process_stem(stems[i], *readers[i], channels, processed.back(), a, progress,
                                share * static_cast<double>(i), share);
        !s) {
      return Error{s.error()};
    }
    readers[i].reset();  // read through: closed
    report.processed.push_back(a.finish());
  }
  // 2. Their sum, the master's input.
  const std::string sum = (work / "sum.wav").string();
  {
    auto in = InStep::open(processed);
    if (!in) return Error{in.error()};
    auto out = AudioWriter::create(sum, rate, channels, kFloatWav);
    if (!out) return Error{out.error()};
    std::vector<std::vector<float>> blocks;
    std::vector<float> mixed;
    for (std::size_t n; (n = in->read(blocks)) > 0;) {
      mixed.assign(n * channels, 0.0f);
      for (const auto& b : blocks) {
        for (std::size_t k = 0; k < n * channels; ++k) mixed[k] += b[k];
      }
      if (Status s = (*out)->write(mixed); !s) return Error{s.error()};
    }
    if (Status s = (*out)->close(); !s) return Error{s.error()};
  }
  // 3. The master.
  // The sum is a float work file: the master is 24-bit unless the settings say otherwise.
  MasterSettings delivery = settings;
  if (delivery.bits == 0) delivery.bits = 24;
  auto master = master_file(sum, output, delivery, [&](double done, std::string_view stage) {
    if (progress) progress(0.3 + 0.6 * done, stage);
  });
  if (!master) return Error{master.error()};
  report.master = *master;
  report.master.input = "the sum of " + std::to_string(stems.size()) + " stems";
  // 4. The processed stems at the master's gain.
  bool made_dir = false;
  if (!fs::exists(stems_dir, ec)) {
    fs::create_directories(stems_dir, ec);
    made_dir = !ec;
  }
  const auto undo = [&](const std::string& why) -> Result<StemsReport> {
    for (const auto& f : finals) {
      fs::remove(f + ".part", ec);
      fs::remove(f, ec);
    }
    if (made_dir) fs::remove(stems_dir, ec);
    fs::remove(output, ec);
    return Error{why + "; nothing was kept"};
  };
  if (!fs::is_directory(stems_dir, ec)) return undo("cannot make the stems' folder '" + stems_dir + "'");
  const auto gain = static_cast<float>(std::pow(10.0, report.master.gain_db / 20.0));
  for (std::size_t i = 0; i < stems.size(); ++i) {
    auto in = AudioReader::open(processed[i]);
    if (!in) return undo(in.error());
    auto out = AudioWriter::create(finals[i] + ".part", rate, channels, kFloatWav);
    if (!out) return undo(out.error());
    std::vector<float> block(kFileBlock * channels);
    for (std::size_t n; (n = (*in)->read(block)) > 0;) {
      for (std::size_t k = 0; k < n * channels; ++k) block[k] *= gain;
      if (Status s = (*out)->write(std::span<const float>(block).first(n * channels)); !s)
        return undo(s.error());
    }
    if (Status s = (*out)->close(); !s) return undo(s.error());
    if (progress)
      progress(0.9 + 0.1 * static_cast<double>(i + 1) / static_cast<double>(stems.size()), "stems");
  }
  for (const auto& f : finals) {
    fs::rename(f + ".part", f, ec);
    if (ec) return undo("cannot name '" + f + "': " + ec.message());
  }
  report.stem_files = finals;
  return report;
}

}  // namespace tl::mastering
