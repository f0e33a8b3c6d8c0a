#include "tl/mixer/track_writer.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numbers>
#include <vector>

#include <spdlog/spdlog.h>

#include "tl/protocol/pcm.h"

namespace tl::mixer {
namespace {
constexpr std::uint32_t kChunkFrames = 4096;

}  // namespace

std::int64_t track_file_frames(const std::string& path) {
  SF_INFO sf{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &sf);
  if (file == nullptr) return -1;
  sf_close(file);
  return sf.frames;
}

Status set_time_reference(const std::string& path, std::uint64_t samples) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return Error{"cannot open " + path + " to set its BWF time reference"};
  const auto le32 = [](const char* b) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[0])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[3])) << 24;
  };
  char head[12];
  if (!f.read(head, sizeof head) ||
      (std::memcmp(head, "RIFF", 4) != 0 && std::memcmp(head, "RF64", 4) != 0) ||
      std::memcmp(head + 8, "WAVE", 4) != 0) {
    return Error{path + " is not a WAV file"};
  }
  // The chunks in order (a few: ds64, fmt, bext ... before data); bext's time reference
  // follows its description (256), originator (32), its reference (32), date (10), time (8).
  constexpr std::streamoff kTimeReferenceAt = 256 + 32 + 32 + 10 + 8;
  std::streamoff at = 12;
  for (int chunks = 0; chunks < 64; ++chunks) {
    char chunk[8];
    f.seekg(at);
    if (!f.read(chunk, sizeof chunk)) break;
    const std::uint32_t size = le32(chunk + 4);
    if (std::memcmp(chunk, "bext", 4) == 0) {
      if (size < kTimeReferenceAt + 8) break;
      char ref[8];
      for (int i = 0; i < 8; ++i) ref[i] = static_cast<char>((samples >> (8 * i)) & 0xFFu);
      f.seekp(at + 8 + kTimeReferenceAt);
      if (!f.write(ref, sizeof ref) || !f.flush()) return Error{"cannot write " + path};
      return Status::success();
    }
    if (std::memcmp(chunk, "data", 4) == 0) break;  // bext comes before the audio
    at += 8 + static_cast<std::streamoff>(size) + (size & 1u);
  }
  return Error{path + " has no BWF bext chunk"};
}

Result<TrackAudio> read_track_file(const std::string& path) {
  SF_INFO sf{};
  SNDFILE* in = sf_open(path.c_str(), SFM_READ, &sf);
  if (in == nullptr) return Error{"cannot read " + path + ": " + sf_strerror(nullptr)};
  std::vector<std::int32_t> ints(static_cast<std::size_t>(sf.frames) * static_cast<std::size_t>(sf.channels));
  const sf_count_t got = sf_readf_int(in, ints.data(), sf.frames);
  sf_close(in);
  TrackAudio audio{.sample_rate = static_cast<std::uint32_t>(sf.samplerate),
                   .channels = static_cast<std::uint32_t>(sf.channels)};
  audio.samples.resize(static_cast<std::size_t>(got) * audio.channels);
  for (std::size_t i = 0; i < audio.samples.size(); ++i) {
    audio.samples[i] = static_cast<float>(ints[i]) * (1.0f / 2147483648.0f);
  }
  return audio;
}

Result<std::unique_ptr<TrackReader>> TrackReader::open(const std::string& path) {
  SF_INFO sf{};
  SNDFILE* in = sf_open(path.c_str(), SFM_READ, &sf);
  if (in == nullptr) return Error{"cannot read " + path + ": " + sf_strerror(nullptr)};
  if (sf.channels != 1) {
    sf_close(in);
    return Error{path + " has " + std::to_string(sf.channels) + " channels, not one"};
  }
  return std::unique_ptr<TrackReader>(new TrackReader(in, sf.frames, path));
}

TrackReader::~TrackReader() {
  sf_close(file_);
}

Status TrackReader::read(std::int64_t from, std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  const std::int64_t first = std::max<std::int64_t>(from, 0);
  const std::int64_t last = std::min<std::int64_t>(from + static_cast<std::int64_t>(out.size()), frames_);
  if (first >= last) return {};
  ints_.resize(static_cast<std::size_t>(last - first));
  if (sf_seek(file_, first, SEEK_SET) < 0 ||
      sf_readf_int(file_, ints_.data(), last - first) != static_cast<sf_count_t>(last - first)) {
    return Error{"cannot read " + path_ + ": " + sf_strerror(file_)};
  }
  for (std::size_t i = 0; i < ints_.size(); ++i) {
    out[static_cast<std::size_t>(first - from) + i] = static_cast<float>(ints_[i]) * (1.0f / 2147483648.0f);
  }
  return {};
}

Result<std::unique_ptr<TrackWriter>> TrackWriter::open(const std::string& path, const TrackFileInfo& info,
                                                       std::uint32_t window_frames) {
  SF_INFO sf{};
  sf.samplerate = static_cast<int>(info.sample_rate);
  sf.channels = static_cast<int>(info.channels);
  sf.format = SF_FORMAT_RF64 | SF_FORMAT_PCM_24;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &sf);
  if (file == nullptr) {
    return Error{"cannot create '" + path + "': " + sf_strerror(nullptr)};
  }
  sf_command(file, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
  SF_BROADCAST_INFO bext{};
  std::strncpy(bext.description, info.description.c_str(), sizeof bext.description - 1);
  std::strncpy(bext.originator, "tracklink", sizeof bext.originator - 1);
  const auto ref = static_cast<std::uint64_t>(std::max<MediaTime>(info.time_reference, 0));
  bext.time_reference_low = static_cast<std::uint32_t>(ref & 0xFFFFFFFFu);
  bext.time_reference_high = static_cast<std::uint32_t>(ref >> 32);
  bext.version = 1;
  bext.coding_history_size = 0;
  if (sf_command(file, SFC_SET_BROADCAST_INFO, &bext, sizeof bext) != SF_TRUE) {
    sf_close(file);
    return Error{"cannot set the BWF bext chunk of '" + path + "'"};
  }
  return std::unique_ptr<TrackWriter>(new TrackWriter(file, path, info.channels, window_frames));
}

Result<std::unique_ptr<TrackWriter>> TrackWriter::resume(const std::string& path, std::uint32_t window_frames,
                                                         bool find_gaps) {
  SF_INFO sf{};
  SNDFILE* file = sf_open(path.c_str(), SFM_RDWR, &sf);
  if (file == nullptr) return Error{"cannot reopen '" + path + "': " + sf_strerror(nullptr)};
  if (sf.channels < 1 || sf.channels > 2) {
    sf_close(file);
    return Error{"'" + path + "' is not a track or mix of a take"};
  }
  std::unique_ptr<TrackWriter> w(
      new TrackWriter(file, path, static_cast<std::uint32_t>(sf.channels), window_frames));
  // Read it back: levels, the first and last audio, and the silent runs between.
  constexpr std::int64_t kMinGap = 48;  // a packet
  const auto channels = static_cast<std::size_t>(sf.channels);
  std::vector<std::int32_t> chunk(static_cast<std::size_t>(kChunkFrames) * channels);
  std::int64_t at = 0, silent_from = -1;
  for (sf_count_t n; (n = sf_readf_int(file, chunk.data(), kChunkFrames)) > 0;) {
    for (sf_count_t i = 0; i < n; ++i, ++at) {
      bool silent = true;
      for (std::size_t c = 0; c < channels; ++c) {
        const std::int32_t v = chunk[static_cast<std::size_t>(i) * channels + c];
        const double x = static_cast<double>(v) / 2147483648.0;
        w->peak_ = std::max(w->peak_, std::fabs(x));
        w->sum_sq_ += x * x;
        silent = silent && v == 0;
      }
      if (silent) {
        if (silent_from < 0) silent_from = at;
        continue;
      }
      if (w->first_offset_ < 0) {
        w->first_offset_ = at;
      } else if (find_gaps && silent_from >= 0 && at - silent_from >= kMinGap) {
        w->gaps_.push_back({silent_from, at});
      }
      silent_from = -1;
      w->audio_end_ = at + 1;
    }
  }
  w->counted_ = static_cast<std::uint64_t>(at) * channels;
  w->head_ = at;
  // Silence after the last audio up to the end is a gap too (a node that went on).
  if (find_gaps && w->first_offset_ >= 0 && silent_from >= 0) w->gaps_.push_back({silent_from, at});
  sf_seek(file, at, SEEK_SET);
  return w;
}

TrackWriter::TrackWriter(SNDFILE* file, std::string path, std::uint32_t channels, std::uint32_t window_frames)
    : file_(file),
      path_(std::move(path)),
      channels_(channels),
      window_(std::bit_ceil(std::max<std::uint32_t>(window_frames, kChunkFrames))),
      mask_(window_ - 1),
      samples_(std::make_unique<float[]>(static_cast<std::size_t>(window_) * channels)),
      present_(std::make_unique<std::uint8_t[]>(window_)),
      out_(std::make_unique<std::int32_t[]>(static_cast<std::size_t>(kChunkFrames) * channels)) {
  std::memset(present_.get(), 0, window_);
}

TrackWriter::~TrackWriter() {
  if (!closed_) sf_close(file_);
}

void TrackWriter::put(std::int64_t offset, std::span<const float> interleaved, bool provisional) {
  const auto frames = static_cast<std::int64_t>(interleaved.size() / channels_);
  if (frames == 0) return;
  if (offset < head_) {
    // The part already on disk: into its gaps, if it falls in any (a stand-in is dropped).
    const std::int64_t behind = std::min(frames, head_ - offset);
    if (!provisional) patch(offset, interleaved.first(static_cast<std::size_t>(behind) * channels_));
    if (behind == frames) return;
    offset += behind;
    interleaved = interleaved.subspan(static_cast<std::size_t>(behind) * channels_);
  }
  const auto rest = static_cast<std::int64_t>(interleaved.size() / channels_);
  if (offset + rest > head_ + window_) flush_until(offset + rest - window_);
  if (provisional) {
    for (std::int64_t f = 0; f < rest; ++f) {
      const std::int64_t at = offset + f;
      const std::size_t idx = static_cast<std::size_t>(at) & mask_;
      if (present_[idx] == 1) continue;  // the exact samples are here already
      std::memcpy(&samples_[idx * channels_], &interleaved[static_cast<std::size_t>(f) * channels_],
                  channels_ * sizeof(float));
      present_[idx] = 2;
      if (first_offset_ < 0 || at < first_offset_) first_offset_ = at;
    }
    return;
  }
  // Exact audio: whole runs of the ring at once (it wraps at most once).
  for (std::int64_t f = 0; f < rest;) {
    const std::size_t idx = static_cast<std::size_t>(offset + f) & mask_;
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(rest - f, window_ - idx));
    std::memcpy(&samples_[idx * channels_], &interleaved[static_cast<std::size_t>(f) * channels_],
                n * channels_ * sizeof(float));
    std::memset(&present_[idx], 1, n);
    f += static_cast<std::int64_t>(n);
  }
  if (first_offset_ < 0 || offset < first_offset_) first_offset_ = offset;
}

void TrackWriter::mark_provisional() {
  if (first_offset_ < 0 || first_offset_ >= head_) return;
  gaps_.assign(1, Gap{first_offset_, head_, true});
  audio_end_ = std::max(audio_end_, head_);
}

void TrackWriter::convert(const float* interleaved, std::uint32_t frames, std::int32_t* out) {
  const std::size_t n = static_cast<std::size_t>(frames) * channels_;
  std::size_t i = 0;
#if defined(__SSE2__)
  // Four at a time: scale, clamp to the 24-bit codes (NaN: 0), round to nearest even as
  // lrint does, left-justify; the level from the clamped values, the energy in floats
  // (a chunk's worth; the track's sum is double).
  const __m128 scale = _mm_set1_ps(8388608.0f), lo = _mm_set1_ps(-8388608.0f), hi = _mm_set1_ps(8388607.0f);
  const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  __m128 peak = _mm_setzero_ps(), energy = _mm_setzero_ps();
  constexpr std::array<int, 16> kBits{0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};  // set bits of 0..15
  int clips = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 s = _mm_mul_ps(_mm_loadu_ps(interleaved + i), scale);
    const __m128 ordered = _mm_cmpord_ps(s, s);
    const __m128 c = _mm_and_ps(_mm_min_ps(_mm_max_ps(s, lo), hi), ordered);
    clips += kBits[static_cast<std::size_t>(_mm_movemask_ps(_mm_cmpneq_ps(c, s)))];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_slli_epi32(_mm_cvtps_epi32(c), 8));
    peak = _mm_max_ps(peak, _mm_and_ps(c, abs_mask));
    const __m128 e = _mm_and_ps(s, ordered);
    energy = _mm_add_ps(energy, _mm_mul_ps(e, e));
  }
  alignas(16) std::array<float, 4> p{}, e{};
  _mm_store_ps(p.data(), peak);
  _mm_store_ps(e.data(), energy);
  clipped_ += static_cast<std::uint64_t>(clips);
  peak_ = std::max(peak_, static_cast<double>(std::max({p[0], p[1], p[2], p[3]})) / 8388608.0);
  sum_sq_ += (static_cast<double>(e[0]) + e[1] + e[2] + e[3]) / (8388608.0 * 8388608.0);
#endif
  for (; i < n; ++i) {
    const float v = interleaved[i];
    bool clipped = false;
    out[i] = protocol::float_to_int24(v, clipped) * 256;
    if (clipped) ++clipped_;
    if (v == v) {
      peak_ = std::max(peak_, std::min(static_cast<double>(std::fabs(v)), 1.0));
      sum_sq_ += static_cast<double>(v) * v;
    }
  }
}

void TrackWriter::patch(std::int64_t offset, std::span<const float> interleaved) {
  if (closed_) return;
  const auto frames = static_cast<std::int64_t>(interleaved.size() / channels_);
  // Past the point the disk refused, the file holds nothing to patch.
  const std::int64_t end = failed_at_ >= 0 ? std::min(offset + frames, failed_at_) : offset + frames;
  bool wrote = false, refused = false;
  std::int64_t filled = 0, in_gaps = 0;
  // Gaps are sorted and apart: start at the first that ends after offset.
  const auto first =
      std::partition_point(gaps_.begin(), gaps_.end(), [&](const Gap& g) { return g.to <= offset; });
  for (auto g = static_cast<std::size_t>(first - gaps_.begin()); g < gaps_.size() && gaps_[g].from < end;
       ++g) {
    const std::int64_t lo = std::max(offset, gaps_[g].from);
    const std::int64_t hi = std::min(end, gaps_[g].to);
    in_gaps += hi - lo;
    // Into the file where the silence is, in chunks.
    std::int64_t at = lo;
    while (at < hi) {
      const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(hi - at, kChunkFrames));
      convert(&interleaved[static_cast<std::size_t>(at - offset) * channels_], n, out_.get());
      sf_seek(file_, at, SEEK_SET);
      if (!write_frames(at, out_.get(), n)) break;
      at += n;
    }
    wrote = true;
    refused = at < hi;  // the disk refused it: this gap stays as it was, and so do the rest
    if (refused) break;
    filled += hi - lo;
    if (first_offset_ < 0 || lo < first_offset_) first_offset_ = lo;
    // The gap shrinks, or splits around the patch.
    const Gap before{gaps_[g].from, lo, gaps_[g].provisional}, after{hi, gaps_[g].to, gaps_[g].provisional};
    if (before.from < before.to && after.from < after.to) {
      gaps_[g] = before;
      gaps_.insert(gaps_.begin() + static_cast<std::ptrdiff_t>(g) + 1, after);
      ++g;
    } else if (before.from < before.to) {
      gaps_[g] = before;
    } else if (after.from < after.to) {
      gaps_[g] = after;
    } else {
      gaps_.erase(gaps_.begin() + static_cast<std::ptrdiff_t>(g));
      --g;
    }
  }
  if (wrote) sf_seek(file_, head_, SEEK_SET);  // back to the end, where flushing goes on
  recovered_ += static_cast<std::uint64_t>(filled);
  // What fell on audio already written: duplicates (not what the disk refused).
  if (!refused) late_ += static_cast<std::uint64_t>(std::max<std::int64_t>(end - offset, 0) - in_gaps);
}

void TrackWriter::expect_from(std::int64_t offset) {
  if (offset < 0 || (expected_from_ >= 0 && offset >= expected_from_)) return;
  expected_from_ = offset;
  // Already on disk as silence before the first audio: that is a gap now.
  const std::int64_t written_to = std::min(head_, first_offset_ < 0 ? head_ : first_offset_);
  if (offset < written_to) {
    const std::int64_t to =
        (!gaps_.empty() && gaps_.front().from == written_to) ? gaps_.front().to : written_to;
    if (!gaps_.empty() && gaps_.front().from == written_to) gaps_.erase(gaps_.begin());
    gaps_.insert(gaps_.begin(), Gap{offset, to});
  }
}

std::vector<TrackWriter::Gap> TrackWriter::lost_gaps() const {
  std::vector<Gap> out;
  const std::int64_t end = failed_at_ >= 0 ? failed_at_ : INT64_MAX;
  for (const Gap& g : gaps_) {
    if (g.to <= audio_end_ && g.from < end) out.push_back({g.from, std::min(g.to, end), g.provisional});
  }
  if (failed_at_ >= 0 && head_ > failed_at_) out.push_back({failed_at_, head_});
  return out;
}

std::vector<TrackWriter::Gap> TrackWriter::gaps_to_fetch() const {
  std::vector<Gap> out = lost_gaps();
  if (failed_at_ >= 0 && !out.empty() && out.back().from == failed_at_) out.pop_back();
  return out;
}

std::uint64_t TrackWriter::provisional_frames() const noexcept {
  // Past a failure the file holds nothing, stand-in or not: that is lost (lost_gaps()).
  const std::int64_t end = failed_at_ >= 0 ? failed_at_ : INT64_MAX;
  std::uint64_t n = 0;
  for (const Gap& g : gaps_) {
    if (g.provisional && g.to <= audio_end_ && g.from < end) {
      n += static_cast<std::uint64_t>(std::min(g.to, end) - g.from);
    }
  }
  return n;
}

std::uint64_t TrackWriter::lost_frames() const {
  std::uint64_t n = 0;
  for (const Gap& g : lost_gaps()) n += static_cast<std::uint64_t>(g.to - g.from);
  return n;
}

void TrackWriter::set_edge_fade(std::uint32_t frames) {
  fade_ = frames;
  tail_.assign(static_cast<std::size_t>(frames) * channels_, 0.0f);
  if (head_ == 0 || frames == 0) return;
  // A resumed file: the frames it ends with, so a fade out at finish() that reaches back
  // before the resume fades what is there.
  const std::int64_t n = std::min<std::int64_t>(frames, head_);
  std::vector<std::int32_t> ints(static_cast<std::size_t>(n) * channels_);
  sf_seek(file_, head_ - n, SEEK_SET);
  const sf_count_t got = sf_readf_int(file_, ints.data(), n);
  sf_seek(file_, head_, SEEK_SET);
  for (sf_count_t k = 0; k < got; ++k) {
    const std::int64_t at = head_ - n + k;
    for (std::uint32_t c = 0; c < channels_; ++c) {
      tail_[static_cast<std::size_t>(at % fade_) * channels_ + c] =
          static_cast<float>(ints[static_cast<std::size_t>(k) * channels_ + c]) / 2147483648.0f;
    }
  }
}

float TrackWriter::fade_gain(std::int64_t i) const noexcept {
  const double x =
      std::sin(0.5 * std::numbers::pi * static_cast<double>(i + 1) / static_cast<double>(fade_ + 1));
  return static_cast<float>(x * x);
}

void TrackWriter::store(std::size_t first, std::uint32_t n) {
  // Past the point the disk refused, nothing goes into the file: nor into its levels.
  if (failed_at_ >= 0 && head_ >= failed_at_) return;
  convert(&samples_[first * channels_], n, out_.get());
  counted_ += static_cast<std::uint64_t>(n) * channels_;
  write_frames(head_, out_.get(), n);
}

void TrackWriter::write_run(std::int64_t until) {
  while (head_ < until) {
    // Up to a chunk, not across the ring's end.
    const std::size_t first = static_cast<std::size_t>(head_) & mask_;
    const auto n = static_cast<std::uint32_t>(
        std::min<std::int64_t>({until - head_, kChunkFrames, static_cast<std::int64_t>(window_ - first)}));
    // The usual run: every frame there and exact, no edge fade to apply.
    if (fade_ == 0 &&
        std::all_of(&present_[first], &present_[first] + n, [](std::uint8_t p) { return p == 1; })) {
      audio_end_ = head_ + n;
      std::memset(&present_[first], 0, n);
      store(first, n);
      head_ += n;
      continue;
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::int64_t at = head_ + i;
      const std::size_t idx = static_cast<std::size_t>(at) & mask_;
      const bool have = present_[idx] != 0;
      const bool provisional = present_[idx] == 2;
      if (have) audio_end_ = at + 1;
      if (provisional || (!have && ((first_offset_ >= 0 && at >= first_offset_) ||
                                    (expected_from_ >= 0 && at >= expected_from_)))) {
        if (!gaps_.empty() && gaps_.back().to == at && gaps_.back().provisional == provisional) {
          gaps_.back().to = at + 1;
        } else {
          gaps_.push_back({at, at + 1, provisional});
        }
      }
      if (!have) std::fill_n(&samples_[idx * channels_], channels_, 0.0f);
      if (fade_ != 0) {
        float* frame = &samples_[idx * channels_];
        if (at < fade_) {
          const float g = fade_gain(at);
          for (std::uint32_t c = 0; c < channels_; ++c) frame[c] *= g;
        }
        std::copy_n(frame, channels_, &tail_[static_cast<std::size_t>(at % fade_) * channels_]);
      }
      present_[idx] = 0;
    }
    store(first, n);
    head_ += n;
  }
}

bool TrackWriter::write_frames(std::int64_t at, const std::int32_t* ints, std::int64_t n) {
  if (failed_at_ >= 0 && at >= failed_at_) return false;  // the file ends where it failed
  errno = 0;
  const sf_count_t got = sf_writef_int(file_, ints, n);
  if (got == n) return true;
  const int errno_then = errno;
  const bool first = error_.empty();
  if (first) {
    error_ = errno_then != 0 ? std::strerror(errno_then) : sf_strerror(file_);
  }
  if (at == head_) {  // the track's end: nothing more goes in after it
    failed_at_ = at + std::max<sf_count_t>(got, 0);
    spdlog::error("cannot write {}: {}; it ends at frame {}, what follows is counted lost", path_, error_,
                  failed_at_);
  } else if (first) {
    spdlog::error("cannot write {} (a gap being filled at frame {}): {}; that gap stays", path_, at, error_);
  }
  return false;
}

void TrackWriter::flush_until(std::int64_t offset) {
  if (offset > head_) write_run(offset);
}

void TrackWriter::update_header() {
  if (!closed_) sf_command(file_, SFC_UPDATE_HEADER_NOW, nullptr, 0);
}

void TrackWriter::finish(std::int64_t total_frames) {
  if (closed_) return;
  flush_until(total_frames);
  if (fade_ != 0 && head_ > 0 && failed_at_ < 0) {
    // Fade out: the last frames again, from the copy kept of them (levels stay those of
    // the mix as it was, so they are not counted twice).
    const std::int64_t n = std::min<std::int64_t>(fade_, head_);
    std::vector<std::int32_t> ints(static_cast<std::size_t>(n) * channels_);
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t at = head_ - n + k;
      const float g = fade_gain(head_ - 1 - at);
      for (std::uint32_t c = 0; c < channels_; ++c) {
        bool clipped = false;
        const float v = tail_[static_cast<std::size_t>(at % fade_) * channels_ + c] * g;
        ints[static_cast<std::size_t>(k) * channels_ + c] = protocol::float_to_int24(v, clipped) * 256;
      }
    }
    sf_seek(file_, head_ - n, SEEK_SET);
    // In place over frames already written: a failure leaves them unfaded, nothing lost.
    if (sf_writef_int(file_, ints.data(), n) != n) spdlog::warn("cannot fade out the end of {}", path_);
  }
  sf_close(file_);
  closed_ = true;
}

double TrackWriter::rms() const noexcept {
  return counted_ == 0 ? 0.0 : std::sqrt(sum_sq_ / static_cast<double>(counted_));
}

}  // namespace tl::mixer
