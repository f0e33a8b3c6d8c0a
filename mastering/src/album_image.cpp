#include "tl/mastering/album_image.h"

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>

#include "text.h"
#include "tl/mastering/audio_file.h"
#include "tl/mastering/true_peak.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

constexpr double kFull = 2147483648.0;  // sf_readf_int's full scale (left-justified 32-bit)

double to_db(double linear) {
  return linear > 0.0 ? 20.0 * std::log10(linear) : -150.0;
}

// A mastered song read back, or the image being written: libsndfile directly, in
// integers for PCM so that a copy is exact (its float path scales by 0x8000 in and
// 0x7FFF out).
class SoundFile {
 public:
  SoundFile() = default;
  SoundFile(const SoundFile&) = delete;
  SoundFile& operator=(const SoundFile&) = delete;
  ~SoundFile() {
    if (f_ != nullptr) sf_close(f_);
  }

  Status open_read(const std::string& path) {
    path_ = path;
    f_ = sf_open(path.c_str(), SFM_READ, &info_);
    if (f_ == nullptr) return Error{"cannot read '" + path + "' back: " + sf_strerror(nullptr)};
    return {};
  }
  Status open_write(const std::string& path, std::uint32_t rate, std::uint32_t channels, int format) {
    path_ = path;
    info_ = SF_INFO{};
    info_.samplerate = static_cast<int>(rate);
    info_.channels = static_cast<int>(channels);
    info_.format = format;
    f_ = sf_open(path.c_str(), SFM_WRITE, &info_);
    if (f_ == nullptr) return Error{"cannot create '" + path + "': " + sf_strerror(nullptr)};
    return {};
  }
  bool is_float() const { return (info_.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT; }
  const SF_INFO& info() const { return info_; }

  // Up to out.size() / channels frames, full scale 1.0; the frames read.
  std::size_t read(std::span<double> out) {
    const auto want = static_cast<sf_count_t>(out.size() / static_cast<std::size_t>(info_.channels));
    sf_count_t got = 0;
    if (is_float()) {
      floats_.resize(out.size());
      got = sf_readf_float(f_, floats_.data(), want);
      for (std::size_t i = 0; i < static_cast<std::size_t>(std::max<sf_count_t>(got, 0)) * channels(); ++i)
        out[i] = floats_[i];
    } else {
      ints_.resize(out.size());
      got = sf_readf_int(f_, ints_.data(), want);
      for (std::size_t i = 0; i < static_cast<std::size_t>(std::max<sf_count_t>(got, 0)) * channels(); ++i)
        out[i] = ints_[i] / kFull;
    }
    return got > 0 ? static_cast<std::size_t>(got) : 0;
  }
  // Frames already on this file's grid (whole LSBs of its depth), full scale 1.0.
  Status write(std::span<const double> in) {
    const auto frames = static_cast<sf_count_t>(in.size() / channels());
    sf_count_t put = 0;
    if (is_float()) {
      floats_.assign(in.begin(), in.end());
      put = sf_writef_float(f_, floats_.data(), frames);
    } else {
      ints_.resize(in.size());
      // Clipped at full scale, never wrapped (only a sum over the ceiling, refused, gets there).
      for (std::size_t i = 0; i < in.size(); ++i)
        ints_[i] = static_cast<int>(std::clamp(std::llround(in[i] * kFull), -2147483648LL, 2147483647LL));
      put = sf_writef_int(f_, ints_.data(), frames);
    }
    if (put != frames) return Error{"cannot write '" + path_ + "': " + sf_strerror(f_)};
    return {};
  }
  Status close() {
    const int err = sf_close(f_);
    f_ = nullptr;
    if (err != 0) return Error{"cannot finish '" + path_ + "': " + sf_error_number(err)};
    return {};
  }
  std::size_t channels() const { return static_cast<std::size_t>(info_.channels); }

 private:
  SNDFILE* f_ = nullptr;
  SF_INFO info_{};
  std::string path_;
  std::vector<int> ints_;
  std::vector<float> floats_;
};

int depth_rank(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_16:
      return 16;
    case SF_FORMAT_FLOAT:
      return 32;
    default:
      return 24;
  }
}

// Writes the songs' masters into one image at path, laid out as at; measures it whole
// (into whole) and from each join to the next (join_peak, linear).
Status write_image(const std::vector<std::string>& songs, const std::vector<SongPlacement>& at,
                   const std::string& path, int format, std::uint32_t rate, std::uint32_t channels,
                   Analyzer& whole, std::vector<double>& join_peak, const Progress& progress) {
  SoundFile out;
  if (Status s = out.open_write(path, rate, channels, format); !s) return s;
  const std::size_t ch = channels;
  const int bits = depth_rank(format);
  const bool pcm = bits != 32;
  const double lsb = pcm ? std::ldexp(1.0, -(bits - 1)) : 0.0;
  std::minstd_rand rng(0xa1b);  // reproducible
  std::uniform_real_distribution<double> half(-0.5, 0.5);
  // A crossfade's sum on the image's grid: TPDF dither at 16 bits (as a master's), rounding
  // at 24. Not clipped here: the meters read what the sum would be (write() clips the file,
  // which is then refused anyway).
  const auto quantize = [&](double x) {
    if (!pcm) return x;
    double y = x / lsb;
    if (bits == 16) y += half(rng) + half(rng);
    return std::round(y) * lsb;
  };
  std::array<PreciseTruePeak, Analyzer::kMaxChannels> joins{};
  std::vector<float> heard(kFileBlock * ch);
  std::vector<float> planar(kFileBlock);
  const auto emit = [&](std::span<const double> x) -> Status {
    if (Status s = out.write(x); !s) return s;
    const std::size_t n = x.size() / ch;
    for (std::size_t i = 0; i < x.size(); ++i) heard[i] = static_cast<float>(x[i]);
    whole.process(std::span<const float>(heard).first(x.size()));
    for (std::size_t c = 0; c < ch; ++c) {
      for (std::size_t i = 0; i < n; ++i) planar[i] = heard[i * ch + c];
      joins[c].process(std::span<const float>(planar).first(n));
    }
    return {};
  };
  // A transition starts here: the stretch since the last one is read off, a new one begun.
  bool measuring = false;
  const auto join = [&] {
    if (measuring) join_peak.push_back(std::max(joins[0].peak(), ch > 1 ? joins[1].peak() : 0.0f));
    for (auto& j : joins) j.reset_peak();
    measuring = true;
  };
  std::vector<double> block(kFileBlock * ch), tail;
  std::int64_t pos = 0;
  const std::int64_t total = at.back().start + at.back().frames;
  const auto silence = [&](std::int64_t frames) -> Status {
    std::fill(block.begin(), block.end(), 0.0);
    while (frames > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::int64_t>(frames, kFileBlock));
      if (Status s = emit(std::span<const double>(block).first(n * ch)); !s) return s;
      frames -= static_cast<std::int64_t>(n);
      pos += static_cast<std::int64_t>(n);
    }
    return {};
  };
  for (std::size_t k = 0; k < songs.size(); ++k) {
    SoundFile in;
    if (Status s = in.open_read(songs[k]); !s) return s;
    const SongPlacement& p = at[k];
    const std::int64_t fade_out = k + 1 < songs.size() ? at[k + 1].fade_in : 0;
    // Reads exactly n frames of this song into dst (interleaved).
    const auto take = [&](std::span<double> dst) -> Status {
      std::size_t got = 0;
      while (got < dst.size()) {
        const std::size_t n = in.read(dst.subspan(got));
        if (n == 0) return Error{"'" + songs[k] + "' is shorter than it was when written"};
        got += n * ch;
      }
      return {};
    };
    if (p.fade_in == 0) {
      if (Status s = silence(p.start - pos); !s) return s;
    }
    if (pos != p.start) return Error{"internal: the album image lost its place"};
    if (p.fade_in > 0) join();
    // The crossfade in: the song before's held tail fading out (cos), this one in (sin).
    for (std::int64_t done = 0; done < p.fade_in;) {
      const auto n = static_cast<std::size_t>(std::min<std::int64_t>(p.fade_in - done, kFileBlock));
      const auto dst = std::span<double>(block).first(n * ch);
      if (Status s = take(dst); !s) return s;
      for (std::size_t i = 0; i < n; ++i) {
        const double t =
            (static_cast<double>(done) + static_cast<double>(i) + 0.5) / static_cast<double>(p.fade_in);
        const double g_in = std::sin(t * std::numbers::pi / 2), g_out = std::cos(t * std::numbers::pi / 2);
        for (std::size_t c = 0; c < ch; ++c) {
          const double mixed =
              dst[i * ch + c] * g_in + tail[(static_cast<std::size_t>(done) + i) * ch + c] * g_out;
          dst[i * ch + c] = quantize(mixed);
        }
      }
      if (Status s = emit(dst); !s) return s;
      done += static_cast<std::int64_t>(n);
      pos += static_cast<std::int64_t>(n);
    }
    // The song itself, sample for sample.
    for (std::int64_t left = p.frames - p.fade_in - fade_out; left > 0;) {
      const auto n = static_cast<std::size_t>(std::min<std::int64_t>(left, kFileBlock));
      const auto dst = std::span<double>(block).first(n * ch);
      if (Status s = take(dst); !s) return s;
      if (Status s = emit(dst); !s) return s;
      left -= static_cast<std::int64_t>(n);
      pos += static_cast<std::int64_t>(n);
      if (progress)
        progress(static_cast<double>(pos) / static_cast<double>(total), "writing the album image");
    }
    // Its last frames, held for the crossfade into the next song; or, before a gap, the join.
    tail.assign(static_cast<std::size_t>(fade_out) * ch, 0.0);
    if (fade_out > 0) {
      if (Status s = take(tail); !s) return s;
    } else if (k + 1 < songs.size()) {
      join();
    }
  }
  for (auto& j : joins) j.flush();
  if (measuring) join_peak.push_back(std::max(joins[0].peak(), ch > 1 ? joins[1].peak() : 0.0f));
  return out.close();
}

}  // namespace

Result<std::int64_t> samples_per_cd_frame(std::uint32_t rate) {
  if (rate == 0 || rate % 75 != 0) {
    return Error{
        "a CUE sheet counts 75 frames a second, and " + std::to_string(rate) +
        " Hz has no whole number of samples in one: deliver the album at 44100 or 48000 Hz (--rate)"};
  }
  return static_cast<std::int64_t>(rate / 75);
}

Result<std::vector<SongPlacement>> place_songs(const std::vector<std::int64_t>& lengths,
                                               const std::vector<AlbumSong>& songs, std::uint32_t rate) {
  auto cd = samples_per_cd_frame(rate);
  if (!cd) return Error{cd.error()};
  const std::int64_t f = *cd;
  if (lengths.size() != songs.size() || songs.empty()) return Error{"one length per song, please"};
  const auto nearest = [f](std::int64_t x) { return (x + f / 2) / f * f; };  // x >= 0
  const auto up = [f](std::int64_t x) { return (x + f - 1) / f * f; };
  std::vector<SongPlacement> out(songs.size());
  std::int64_t start = 0;
  for (std::size_t i = 0; i < songs.size(); ++i) {
    SongPlacement& p = out[i];
    p.start = start;
    p.frames = lengths[i];
    const std::string name = "song " + std::to_string(i + 1) + " ('" + songs[i].title + "')";
    if (p.frames <= 0) return Error{name + " has no audio"};
    if (i + 1 == songs.size()) break;
    const std::int64_t end = start + p.frames;
    if (songs[i].crossfade_s > 0.0) {
      const std::int64_t next =
          nearest(std::max<std::int64_t>(0, end - std::llround(songs[i].crossfade_s * rate)));
      const std::int64_t overlap = end - next;
      const auto seconds = [rate](std::int64_t frames) {
        return fixed(static_cast<double>(frames) / rate, 2) + " s";
      };
      if (overlap <= 0 || overlap + p.fade_in > p.frames) {
        return Error{name + ": its crossfade of " + fixed(songs[i].crossfade_s, 2) + " s" +
                     (p.fade_in > 0 ? " and the one into it (" + seconds(p.fade_in) + ")" : std::string()) +
                     " do not fit in its " + seconds(p.frames)};
      }
      if (overlap > lengths[i + 1]) {
        return Error{name + ": its crossfade of " + fixed(songs[i].crossfade_s, 2) +
                     " s is longer than song " + std::to_string(i + 2) + " (" + seconds(lengths[i + 1]) +
                     ")"};
      }
      out[i + 1].fade_in = overlap;
      start = next;
    } else {
      const std::int64_t next = std::max(nearest(end + std::llround(songs[i].gap_s * rate)), up(end));
      if (up(end) < next) out[i + 1].pregap = up(end);
      start = next;
    }
  }
  return out;
}

std::string cue_time(std::int64_t frame, std::uint32_t rate) {
  const std::int64_t cd = frame / static_cast<std::int64_t>(rate / 75);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(cd / 75 / 60),
                static_cast<long long>(cd / 75 % 60), static_cast<long long>(cd % 75));
  return buf;
}

std::string song_file_name(std::size_t number, const std::string& title, const std::string& format) {
  std::string name = title;
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 ||
        std::string_view("/\\:*?\"<>|").find(c) != std::string_view::npos)
      c = '_';
  }
  while (!name.empty() && (name.front() == '.' || name.front() == ' ')) name.erase(name.begin());
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.pop_back();
  if (name.empty()) name = "Track";
  char num[16];
  std::snprintf(num, sizeof num, "%02zu ", number);
  return num + name + "." + format;
}

Result<AlbumImageReport> master_album_file(const AlbumFile& album, const std::string& folder,
                                           const MasterSettings& settings, const Progress& progress) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return Error{"no folder '" + folder + "' to write the album into"};
  if (album.songs.empty()) return Error{"album '" + album.path + "' lists no songs"};
  const fs::path dir(folder);
  std::vector<std::string> inputs, outputs;
  for (std::size_t i = 0; i < album.songs.size(); ++i) {
    inputs.push_back(album.songs[i].file);
    outputs.push_back((dir / song_file_name(i + 1, album.songs[i].title, album.format)).string());
  }
  AlbumImageReport report;
  report.image = (dir / ("album." + album.format)).string();
  report.cue = (dir / "album.cue").string();
  for (const std::string* p : {&report.image, &report.cue}) {
    if (fs::exists(*p, ec))
      return Error{"'" + *p + "' exists: tl-master writes new files (remove it, or name another folder)"};
  }
  // The layout checked before anything is mastered, on the lengths the masters will have.
  std::uint32_t rate = settings.rate;
  std::vector<std::int64_t> lengths;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto reader = AudioReader::open(inputs[i]);
    if (!reader)
      return Error{"album '" + album.path + "': song " + std::to_string(i + 1) + ": " + reader.error()};
    const AudioInfo& info = (*reader)->info();
    if (rate == 0) rate = info.rate;
    lengths.push_back(static_cast<std::int64_t>(
        std::llround(static_cast<double>(info.frames) * rate / static_cast<double>(info.rate))));
  }
  if (auto planned = place_songs(lengths, album.songs, rate); !planned) {
    return Error{"album '" + album.path + "': " + planned.error()};
  }

  auto mastered = master_album(inputs, outputs, settings, progress);
  if (!mastered) return Error{mastered.error()};
  report.album = std::move(*mastered);
  const auto remove_all = [&] {
    for (const std::string& o : outputs) fs::remove(o, ec);
    fs::remove(report.image + ".part", ec);
    fs::remove(report.cue + ".part", ec);
  };
  // The masters' own lengths and depth: the image holds them sample for sample.
  lengths.clear();
  int format = 0;
  std::uint32_t channels = 0;
  for (const std::string& o : outputs) {
    SoundFile f;
    if (Status s = f.open_read(o); !s) {
      remove_all();
      return Error{s.error()};
    }
    lengths.push_back(f.info().frames);
    channels = static_cast<std::uint32_t>(f.info().channels);
    if (format == 0 || depth_rank(f.info().format) > depth_rank(format)) format = f.info().format;
  }
  auto placed = place_songs(lengths, album.songs, rate);
  if (!placed) {
    remove_all();
    return Error{"album '" + album.path + "': " + placed.error()};
  }
  report.placement = std::move(*placed);

  Analyzer whole;
  whole.prepare(rate, channels);
  std::vector<double> joins;
  if (Status s = write_image(outputs, report.placement, report.image + ".part", format, rate, channels, whole,
                             joins, progress);
      !s) {
    remove_all();
    return Error{s.error()};
  }
  report.image_figures = whole.finish();
  for (const double j : joins) report.join_dbtp.push_back(to_db(j));
  // Never over the ceiling: a crossfade sums two songs, each under it on its own.
  if (report.image_figures.true_peak_dbtp > settings.ceiling_dbtp) {
    std::string why;
    for (std::size_t j = 0; j < report.join_dbtp.size(); ++j) {
      const double over = report.join_dbtp[j] - settings.ceiling_dbtp;
      if (over <= 0.0) continue;
      if (!why.empty()) why += "; ";
      why += std::string(album.songs[j].crossfade_s > 0.0 ? "the crossfade" : "the join") + " from song " +
             std::to_string(j + 1) + " ('" + album.songs[j].title + "') into song " + std::to_string(j + 2) +
             " ('" + album.songs[j + 1].title + "') peaks at " + fixed(report.join_dbtp[j], 2) + " dBTP, " +
             fixed(over, 2) + " dB over the ceiling";
    }
    if (why.empty()) why = "its true peak is " + fixed(report.image_figures.true_peak_dbtp, 2) + " dBTP";
    remove_all();
    return Error{"album '" + album.path + "': the album image would cross the " +
                 fixed(settings.ceiling_dbtp, 1) + " dBTP ceiling: " + why +
                 ". Shorten that crossfade, or master to a lower target; nothing was written"};
  }

  // The CUE sheet of the image: every INDEX on the CD frame where its song (or its gap) starts.
  const std::string image_name = fs::path(report.image).filename().string();
  std::string sheet = "REM COMMENT \"tl-master\"\n";
  if (!album.catalog.empty()) sheet += "CATALOG " + album.catalog + "\n";
  if (!album.performer.empty()) sheet += "PERFORMER \"" + album.performer + "\"\n";
  if (!album.title.empty()) sheet += "TITLE \"" + album.title + "\"\n";
  sheet += "FILE \"" + image_name + "\" " + (album.format == "aiff" ? "AIFF" : "WAVE") + "\n";
  for (std::size_t i = 0; i < album.songs.size(); ++i) {
    const AlbumSong& song = album.songs[i];
    const SongPlacement& p = report.placement[i];
    char track[48];
    std::snprintf(track, sizeof track, "  TRACK %02zu AUDIO\n", i + 1);
    sheet += track;
    sheet += "    TITLE \"" + song.title + "\"\n";
    const std::string& performer = song.performer.empty() ? album.performer : song.performer;
    if (!performer.empty()) sheet += "    PERFORMER \"" + performer + "\"\n";
    if (!song.isrc.empty()) sheet += "    ISRC " + song.isrc + "\n";
    if (p.pregap >= 0) sheet += "    INDEX 00 " + cue_time(p.pregap, rate) + "\n";
    sheet += "    INDEX 01 " + cue_time(p.start, rate) + "\n";
  }
  bool written = false;
  if (std::FILE* f = std::fopen((report.cue + ".part").c_str(), "wx")) {
    written = std::fputs(sheet.c_str(), f) >= 0;
    written = std::fclose(f) == 0 && written;
  }
  if (!written) {
    remove_all();
    return Error{"cannot write '" + report.cue + "'; nothing was written"};
  }
  if (fs::exists(report.image, ec) || fs::exists(report.cue, ec)) {
    remove_all();
    return Error{"'" + report.image + "' or '" + report.cue +
                 "' appeared while the album was made; left alone"};
  }
  fs::rename(report.image + ".part", report.image, ec);
  if (!ec) fs::rename(report.cue + ".part", report.cue, ec);
  if (ec) {
    const std::string why = ec.message();
    remove_all();
    fs::remove(report.image, ec);
    return Error{"cannot name the album image '" + report.image + "': " + why};
  }
  return report;
}

}  // namespace tl::mastering
