#include "tl/capture/spool.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "tl/protocol/byte_order.h"

namespace fs = std::filesystem;

namespace tl::capture {
namespace {
constexpr char kMagic[8] = {'T', 'L', 'S', 'P', 'O', 'O', 'L', '1'};
constexpr std::size_t kHeaderBytes = 32;
constexpr std::size_t kRecordHeader = 12;

std::string segment_name(MediaTime first_ts) {
  return "seg-" + std::to_string(first_ts) + ".tlsp";
}
}  // namespace

Spool::Spool(SpoolConfig config)
    : config_(std::move(config)),
      frame_bytes_(protocol::bytes_per_sample(config_.format) * config_.channels) {}

Spool::~Spool() {
  if (writer_ != nullptr) std::fclose(writer_);
  if (reader_ != nullptr) std::fclose(reader_);
  writer_ = reader_ = nullptr;
}

std::size_t Spool::record_bytes(std::uint16_t frames) const noexcept {
  return kRecordHeader + static_cast<std::size_t>(frames) * frame_bytes_;
}

Result<std::unique_ptr<Spool>> Spool::open(const SpoolConfig& config) {
  if (config.dir.empty()) return Error{"no spool directory given"};
  if (config.channels == 0 || config.channels > 255) return Error{"spool: channel count out of range"};
  if (protocol::bytes_per_sample(config.format) == 0) {
    return Error{"spool: only PCM16, PCM24 and F32 audio can be spooled"};
  }
  std::error_code ec;
  fs::create_directories(config.dir, ec);
  if (ec) return Error{"cannot create spool directory '" + config.dir + "': " + ec.message()};
  std::unique_ptr<Spool> spool(new Spool(config));
  std::vector<std::pair<MediaTime, std::string>> found;
  for (const auto& entry : fs::directory_iterator(config.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("seg-", 0) != 0 || entry.path().extension() != ".tlsp") continue;
    found.emplace_back(std::strtoll(name.c_str() + 4, nullptr, 10), entry.path().string());
  }
  std::sort(found.begin(), found.end());
  for (const auto& [ts, path] : found) {
    if (auto s = spool->index_segment(path); !s) return Error{s.error()};
  }
  return spool;
}

Status Spool::index_segment(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error{"cannot read spool segment '" + path + "'"};
  std::uint8_t header[kHeaderBytes];
  Segment seg;
  seg.path = path;
  if (std::fread(header, 1, kHeaderBytes, f) != kHeaderBytes) {
    // Shorter than a header: created just before a crash, nothing in it.
    std::fclose(f);
    std::error_code ec;
    fs::remove(path, ec);
    return Status::success();
  }
  if (std::memcmp(header, kMagic, 8) != 0) {
    std::fclose(f);
    return Error{"'" + path + "' is not a tracklink spool segment: move it out of the spool directory"};
  }
  const std::uint32_t channels = protocol::get_u32(header + 8);
  const std::uint32_t rate = protocol::get_u32(header + 12);
  const std::uint32_t bps = protocol::get_u32(header + 16);
  if (channels != config_.channels || rate != config_.sample_rate ||
      bps != protocol::bytes_per_sample(config_.format)) {
    std::fclose(f);
    return Error{"spool segment '" + path + "' holds " + std::to_string(channels) + " ch at " +
                 std::to_string(rate) + " Hz, " + std::to_string(bps) +
                 " bytes/sample, unlike this node: use another --spool-dir or clear it"};
  }
  // Records are read while they fit the file: one torn by a crash ends the segment.
  std::error_code size_ec;
  const std::uint64_t size = fs::file_size(path, size_ec);
  std::uint64_t offset = kHeaderBytes;
  std::uint8_t rec[kRecordHeader];
  while (!size_ec && offset + kRecordHeader <= size &&
         std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0 &&
         std::fread(rec, 1, kRecordHeader, f) == kRecordHeader) {
    const auto ts = static_cast<MediaTime>(protocol::get_u64(rec));
    const std::uint16_t frames = protocol::get_u16(rec + 8);
    const std::uint64_t body = static_cast<std::uint64_t>(frames) * frame_bytes_;
    if (frames == 0 || offset + kRecordHeader + body > size) break;
    Run* run = seg.runs.empty() ? nullptr : &seg.runs.back();
    if (run != nullptr && run->frames == frames &&
        run->first_ts + static_cast<MediaTime>(run->records * frames) == ts) {
      ++run->records;
    } else {
      seg.runs.push_back(Run{.first_ts = ts, .frames = frames, .records = 1, .offset = offset});
    }
    offset += kRecordHeader + body;
  }
  std::fclose(f);
  if (seg.runs.empty()) {
    std::error_code ec;
    fs::remove(path, ec);  // nothing usable: a segment started just before a crash
    return Status::success();
  }
  seg.first_ts = seg.runs.front().first_ts;
  seg.bytes = offset;
  bytes_ += offset;
  segments_.push_back(std::move(seg));
  return Status::success();
}

Status Spool::start_segment(MediaTime first_ts) {
  if (writer_ != nullptr) std::fclose(writer_);
  writer_ = nullptr;
  Segment seg;
  seg.path = (fs::path(config_.dir) / segment_name(first_ts)).string();
  seg.first_ts = first_ts;
  writer_ = std::fopen(seg.path.c_str(), "wb");
  if (writer_ == nullptr) return Error{"cannot create spool segment '" + seg.path + "'"};
  std::uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, 8);
  protocol::put_u32(header + 8, config_.channels);
  protocol::put_u32(header + 12, config_.sample_rate);
  protocol::put_u32(header + 16, static_cast<std::uint32_t>(protocol::bytes_per_sample(config_.format)));
  // The header goes to the kernel at once: a crash right after leaves a readable segment.
  if (std::fwrite(header, 1, kHeaderBytes, writer_) != kHeaderBytes || std::fflush(writer_) != 0) {
    return Error{"cannot write spool segment '" + seg.path + "' (disk full?)"};
  }
  seg.bytes = kHeaderBytes;
  bytes_ += kHeaderBytes;
  segments_.push_back(std::move(seg));
  return Status::success();
}

Status Spool::append(MediaTime media_ts, std::uint16_t frames, std::uint16_t flags,
                     std::span<const std::uint8_t> samples) {
  if (frames == 0 || samples.size() != static_cast<std::size_t>(frames) * frame_bytes_) {
    return Error{"spool: block size does not match its frame count"};
  }
  const auto segment_frames = static_cast<MediaTime>(config_.segment_seconds * config_.sample_rate);
  if (writer_ == nullptr || segments_.empty() || media_ts - segments_.back().first_ts >= segment_frames ||
      media_ts < segments_.back().first_ts) {
    if (auto s = start_segment(media_ts); !s) return s;
  }
  std::uint8_t rec[kRecordHeader];
  protocol::put_u64(rec, static_cast<std::uint64_t>(media_ts));
  protocol::put_u16(rec + 8, frames);
  protocol::put_u16(rec + 10, flags);
  Segment& seg = segments_.back();
  const std::uint64_t offset = seg.bytes;
  if (std::fwrite(rec, 1, kRecordHeader, writer_) != kRecordHeader ||
      std::fwrite(samples.data(), 1, samples.size(), writer_) != samples.size()) {
    return Error{"cannot write to spool '" + seg.path + "' (disk full?)"};
  }
  Run* run = seg.runs.empty() ? nullptr : &seg.runs.back();
  if (run != nullptr && run->frames == frames &&
      run->first_ts + static_cast<MediaTime>(run->records * frames) == media_ts) {
    ++run->records;
  } else {
    seg.runs.push_back(Run{.first_ts = media_ts, .frames = frames, .records = 1, .offset = offset});
  }
  const std::size_t n = record_bytes(frames);
  seg.bytes += n;
  bytes_ += n;
  enforce_bounds();
  return Status::success();
}

void Spool::enforce_bounds() {
  const auto keep_frames = static_cast<MediaTime>(config_.max_seconds * config_.sample_rate);
  while (segments_.size() > 1) {
    const bool over_bytes = config_.max_bytes != 0 && bytes_ > config_.max_bytes;
    const bool over_time = config_.max_seconds > 0.0 && end() - segments_[1].first_ts >= keep_frames;
    if (!over_bytes && !over_time) break;
    if (reader_ != nullptr && reader_path_ == segments_.front().path) {
      std::fclose(reader_);
      reader_ = nullptr;
    }
    std::error_code ec;
    fs::remove(segments_.front().path, ec);
    bytes_ -= segments_.front().bytes;
    segments_.erase(segments_.begin());
    ++dropped_segments_;
  }
}

void Spool::flush() {
  if (writer_ != nullptr) std::fflush(writer_);
}

MediaTime Spool::first() const noexcept {
  return segments_.empty() ? 0 : segments_.front().first_ts;
}

MediaTime Spool::end() const noexcept {
  MediaTime e = first();
  for (const auto& seg : segments_) {
    for (const auto& r : seg.runs) e = std::max(e, r.first_ts + static_cast<MediaTime>(r.records * r.frames));
  }
  return e;
}

std::size_t Spool::read(MediaTime from, std::uint32_t frames, std::span<std::uint8_t> out,
                        std::span<std::uint8_t> have) {
  const std::size_t want =
      std::min<std::size_t>({frames, have.size(), out.size() / std::max<std::size_t>(1, frame_bytes_)});
  std::fill_n(out.begin(), want * frame_bytes_, 0);
  std::fill_n(have.begin(), want, 0);
  if (writer_ != nullptr) std::fflush(writer_);
  const MediaTime to = from + static_cast<MediaTime>(want);
  std::size_t found = 0;
  std::vector<std::uint8_t> body;
  for (const auto& seg : segments_) {
    for (const auto& run : seg.runs) {
      const MediaTime run_end = run.first_ts + static_cast<MediaTime>(run.records * run.frames);
      if (run_end <= from || run.first_ts >= to) continue;
      if (reader_path_ != seg.path || reader_ == nullptr) {
        if (reader_ != nullptr) std::fclose(reader_);
        reader_ = std::fopen(seg.path.c_str(), "rb");
        reader_path_ = seg.path;
        if (reader_ == nullptr) break;
      }
      const MediaTime lo = std::max(from, run.first_ts);
      const MediaTime hi = std::min(to, run_end);
      const auto first_rec = static_cast<std::uint64_t>((lo - run.first_ts) / run.frames);
      const auto last_rec = static_cast<std::uint64_t>((hi - 1 - run.first_ts) / run.frames);
      const std::size_t rb = record_bytes(run.frames);
      body.resize(rb);
      for (std::uint64_t r = first_rec; r <= last_rec; ++r) {
        const std::uint64_t at = run.offset + r * rb;
        if (std::fseek(reader_, static_cast<long>(at), SEEK_SET) != 0 ||
            std::fread(body.data(), 1, rb, reader_) != rb) {
          break;
        }
        const MediaTime rec_ts = run.first_ts + static_cast<MediaTime>(r * run.frames);
        for (std::uint16_t f = 0; f < run.frames; ++f) {
          const MediaTime ts = rec_ts + f;
          if (ts < from || ts >= to) continue;
          const auto i = static_cast<std::size_t>(ts - from);
          std::memcpy(out.data() + i * frame_bytes_, body.data() + kRecordHeader + f * frame_bytes_,
                      frame_bytes_);
          if (have[i] == 0) ++found;
          have[i] = 1;
        }
      }
    }
  }
  return found;
}

}  // namespace tl::capture
