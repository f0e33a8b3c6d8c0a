#include "tl/mastering/album_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <initializer_list>

#include "text.h"
#include "tl/mastering/master.h"

namespace tl::mastering {
namespace {

namespace fs = std::filesystem;

// Where a value sits, for an error: "album 'a.toml': song 2: isrc: ...".
class AlbumReader {
 public:
  explicit AlbumReader(std::string path) : path_(std::move(path)) {}

  Error fail(std::string_view where, std::string_view key, std::string_view why) const {
    std::string out = "album '" + path_ + "': ";
    if (!where.empty()) out += std::string(where) + ": ";
    if (!key.empty()) out += std::string(key) + ": ";
    out += why;
    return Error{std::move(out)};
  }

  // Every key of t must be one of known: a typo is an error, never a default.
  Status only(const toml::table& t, std::string_view where,
              std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : t) {
      if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
      std::string why = "no such key here (known:";
      for (std::string_view k : known) {
        why += ' ';
        why += k;
      }
      return fail(where, key.str(), why + ')');
    }
    return {};
  }

  Status number(const toml::table& t, std::string_view where, std::string_view key,
                std::optional<double>& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (!n->is_number()) return fail(where, key, "must be a number");
    out = n->value<double>();
    return {};
  }

  Status text(const toml::table& t, std::string_view where, std::string_view key,
              std::optional<std::string>& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (!n->is_string()) return fail(where, key, "must be a string");
    out = n->value<std::string>();
    return {};
  }

  // A title or performer as a CUE sheet can hold it: 1..80 characters, no double quote.
  Status cue_text(std::string_view where, std::string_view key, const std::string& v) const {
    if (v.empty()) return fail(where, key, "must not be empty");
    if (v.size() > 80)
      return fail(where, key, "a CUE sheet holds at most 80 characters, not " + std::to_string(v.size()));
    for (const char c : v) {
      if (c == '"') return fail(where, key, "a CUE sheet cannot hold a double quote (\"): use ' instead");
      if (static_cast<unsigned char>(c) < 0x20)
        return fail(where, key, "no control characters or line breaks");
    }
    return {};
  }

 private:
  std::string path_;
};

// A path in the album file: relative to the album file's folder.
std::string resolve(const std::string& album_path, const std::string& p) {
  const fs::path in(p);
  if (in.is_absolute()) return in.string();
  return (fs::path(album_path).parent_path() / in).lexically_normal().string();
}

}  // namespace

bool valid_isrc(std::string_view isrc) noexcept {
  if (isrc.size() != 12) return false;
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < 12; ++i) {
    const char c = isrc[i];
    const bool ok = i < 2 ? upper(c) : i < 5 ? upper(c) || digit(c) : digit(c);
    if (!ok) return false;
  }
  return true;
}

Result<AlbumFile> load_album_file(const std::string& path) {
  const AlbumReader r(path);
  toml::table top;
  try {
    top = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    if (at.line == 0) return Error{"album '" + path + "': " + std::string(e.description())};
    return Error{"album '" + path + "': line " + std::to_string(at.line) + ", column " +
                 std::to_string(at.column) + ": " + std::string(e.description())};
  }
  if (Status s = r.only(top, "",
                        {"title", "performer", "catalog", "preset", "target_lufs", "ceiling_dbtp", "bits",
                         "rate", "format", "song"});
      !s) {
    return Error{s.error()};
  }
  AlbumFile a;
  a.path = path;
  std::optional<std::string> title, performer, catalog, preset, format;
  std::optional<double> bits, rate;
  Status s = r.text(top, "", "title", title);
  if (s) s = r.text(top, "", "performer", performer);
  if (s) s = r.text(top, "", "catalog", catalog);
  if (s) s = r.text(top, "", "preset", preset);
  if (s) s = r.text(top, "", "format", format);
  if (s) s = r.number(top, "", "target_lufs", a.target_lufs);
  if (s) s = r.number(top, "", "ceiling_dbtp", a.ceiling_dbtp);
  if (s) s = r.number(top, "", "bits", bits);
  if (s) s = r.number(top, "", "rate", rate);
  if (s && title) s = r.cue_text("", "title", *title);
  if (s && performer) s = r.cue_text("", "performer", *performer);
  if (!s) return Error{s.error()};
  a.title = title.value_or("");
  a.performer = performer.value_or("");
  if (catalog) {
    if (catalog->size() != 13 ||
        !std::all_of(catalog->begin(), catalog->end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return r.fail("", "catalog", "a UPC/EAN of 13 digits, not '" + *catalog + "'");
    }
    a.catalog = *catalog;
  }
  if (preset) {
    if (preset->ends_with(".toml")) {
      a.preset = resolve(path, *preset);
    } else if (find_preset(*preset)) {
      a.preset = *preset;
    } else {
      return r.fail("", "preset",
                    "no delivery preset '" + *preset +
                        "' (tl-master --list-presets), and not a preset file (FILE.toml)");
    }
  }
  if (format) {
    if (*format != "wav" && *format != "flac" && *format != "aiff") {
      return r.fail("", "format", "wav, flac or aiff, not '" + *format + "'");
    }
    a.format = *format;
  }
  if (bits) {
    if (std::find(kDeliveryBits.begin(), kDeliveryBits.end(), *bits) == kDeliveryBits.end())
      return r.fail("", "bits", "16, 24 or 32, not " + fixed(*bits, 1));
    a.bits = static_cast<int>(*bits);
  }
  if (rate) {
    if (std::find(kDeliveryRates.begin(), kDeliveryRates.end(), *rate) == kDeliveryRates.end())
      return r.fail("", "rate", delivery_rates_text() + ", not " + fixed(*rate, 0));
    a.rate = static_cast<std::uint32_t>(*rate);
  }
  if (a.target_lufs && !(*a.target_lufs >= -70.0 && *a.target_lufs <= 0.0)) {
    return r.fail("", "target_lufs", "between -70 and 0, not " + fixed(*a.target_lufs, 1));
  }
  if (a.ceiling_dbtp && !(*a.ceiling_dbtp >= -20.0 && *a.ceiling_dbtp <= 0.0)) {
    return r.fail("", "ceiling_dbtp", "between -20 and 0, not " + fixed(*a.ceiling_dbtp, 1));
  }

  const toml::node* songs_node = top.get("song");
  const toml::array* songs = songs_node != nullptr ? songs_node->as_array() : nullptr;
  if (songs == nullptr || songs->empty()) {
    return r.fail("", "song",
                  "the album lists its songs in order, each as a [[song]] table with file and title");
  }
  for (std::size_t i = 0; i < songs->size(); ++i) {
    const std::string where = "song " + std::to_string(i + 1);
    const toml::table* t = (*songs)[i].as_table();
    if (t == nullptr) return r.fail(where, "", "must be a table ([[song]])");
    if (Status ok = r.only(*t, where, {"file", "title", "performer", "isrc", "gap", "crossfade"}); !ok) {
      return Error{ok.error()};
    }
    std::optional<std::string> file, song_title, song_performer, isrc;
    std::optional<double> gap, crossfade;
    Status ok = r.text(*t, where, "file", file);
    if (ok) ok = r.text(*t, where, "title", song_title);
    if (ok) ok = r.text(*t, where, "performer", song_performer);
    if (ok) ok = r.text(*t, where, "isrc", isrc);
    if (ok) ok = r.number(*t, where, "gap", gap);
    if (ok) ok = r.number(*t, where, "crossfade", crossfade);
    if (ok && !file)
      ok = r.fail(where, "file", "is needed: the song's WAV, FLAC or AIFF file, or a take folder");
    if (ok && file->empty()) ok = r.fail(where, "file", "must not be empty");
    if (ok && !song_title) ok = r.fail(where, "title", "is needed (the CUE sheet's and the file's name)");
    if (ok) ok = r.cue_text(where, "title", *song_title);
    if (ok && song_performer) ok = r.cue_text(where, "performer", *song_performer);
    if (!ok) return Error{ok.error()};
    AlbumSong song{
        .file = resolve(path, *file), .title = *song_title, .performer = song_performer.value_or("")};
    if (isrc) {
      if (!valid_isrc(*isrc)) {
        return r.fail(
            where, "isrc",
            "12 characters, CCXXXYYNNNNN without dashes (country, registrant, year, number), not '" + *isrc +
                "'");
      }
      song.isrc = *isrc;
    }
    const bool last = i + 1 == songs->size();
    if (gap && crossfade) return r.fail(where, "crossfade", "a song ends in a gap or a crossfade, not both");
    if (last && (gap || crossfade)) {
      return r.fail(where, gap ? "gap" : "crossfade", "the last song has no next song to lead into");
    }
    if (gap) {
      if (!(*gap >= 0.0 && *gap <= kMaxGapSeconds)) {
        return r.fail(where, "gap",
                      "seconds between 0 and " + fixed(kMaxGapSeconds, 0) + ", not " + fixed(*gap, 2));
      }
      song.gap_s = *gap;
    }
    if (crossfade) {
      if (!(*crossfade >= 0.05 && *crossfade <= kMaxCrossfadeSeconds)) {
        return r.fail(
            where, "crossfade",
            "seconds between 0.05 and " + fixed(kMaxCrossfadeSeconds, 0) + ", not " + fixed(*crossfade, 2));
      }
      song.crossfade_s = *crossfade;
      song.gap_s = 0.0;
    }
    if (last) song.gap_s = 0.0;
    a.songs.push_back(std::move(song));
  }
  return a;
}

}  // namespace tl::mastering
