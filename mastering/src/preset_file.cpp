#include "tl/mastering/preset_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string_view>

#include "tl/mastering/master.h"
#include "tl/mastering/stems.h"

namespace tl::mastering {
namespace {

// Where a value sits, for an error: "[[eq]] 2: gain".
class PresetReader {
 public:
  explicit PresetReader(std::string path, std::string kind = "preset")
      : path_(std::move(path)), kind_(std::move(kind)) {}
  //! The same file, its errors placed within scope ("[[stem]] 2").
  PresetReader within(std::string scope) const {
    PresetReader r = *this;
    r.scope_ = std::move(scope);
    return r;
  }

  Status fail(std::string_view where, std::string_view why) const {
    std::string out = kind_;
    out += " '";
    out += path_;
    out += "': ";
    if (!scope_.empty()) {
      out += scope_;
      out += where.empty() ? ": " : " ";
    }
    if (!where.empty()) {
      out += where;
      out += ": ";
    }
    out += why;
    return Error{std::move(out)};
  }

  // Every key of t must be one of known: a typo is an error, never a default.
  Status only(const toml::table& t, std::string_view where,
              std::initializer_list<std::string_view> known) const {
    return only(t, where, std::span<const std::string_view>(known.begin(), known.size()));
  }
  Status only(const toml::table& t, std::string_view where, std::span<const std::string_view> known) const {
    for (const auto& [key, value] : t) {
      bool ok = false;
      for (std::string_view k : known) ok = ok || key.str() == k;
      if (!ok) {
        std::string why = "no key '";
        why += key.str();
        why += "' here (known:";
        for (std::string_view k : known) {
          why += ' ';
          why += k;
        }
        why += ')';
        return fail(where, why);
      }
    }
    return {};
  }

  // A number (an integer is taken as one) under key, if there.
  Status number(const toml::table& t, std::string_view where, std::string_view key,
                std::optional<double>& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (!n->is_number()) return fail(where, std::string(key) + " must be a number");
    out = n->value<double>();
    return {};
  }

  template <class T>
  Status get(const toml::table& t, std::string_view where, std::string_view key, std::optional<T>& out,
             std::string_view what) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (!n->is<T>()) return fail(where, std::string(key) + " must be " + std::string(what));
    out = n->value<T>();
    return {};
  }

 private:
  std::string path_, kind_, scope_;
};

Status read_eq(const PresetReader& r, const toml::node& node, std::vector<dsp::EqBandParams>& out) {
  const toml::array* bands = node.as_array();
  if (bands == nullptr) return r.fail("eq", "must be an array of tables ([[eq]])");
  for (std::size_t i = 0; i < bands->size(); ++i) {
    const std::string where = "[[eq]] " + std::to_string(i + 1);
    const toml::table* t = (*bands)[i].as_table();
    if (t == nullptr) return r.fail(where, "must be a table");
    if (Status s = r.only(*t, where, {"type", "freq", "gain", "q"}); !s) return s;
    std::optional<std::string> type;
    std::optional<double> freq, gain, q;
    if (Status s = r.get(*t, where, "type", type, "a string"); !s) return s;
    if (Status s = r.number(*t, where, "freq", freq); !s) return s;
    if (Status s = r.number(*t, where, "gain", gain); !s) return s;
    if (Status s = r.number(*t, where, "q", q); !s) return s;
    if (!type || !freq || !gain) return r.fail(where, "type, freq and gain are needed");
    const auto kind = dsp::band_type_named(*type);
    if (!kind) return r.fail(where, "type is low-shelf, peak or high-shelf, not '" + *type + "'");
    out.push_back(dsp::EqBandParams{.type = *kind,
                                    .freq_hz = static_cast<float>(*freq),
                                    .gain_db = static_cast<float>(*gain),
                                    .q = static_cast<float>(q.value_or(0.707)),
                                    .on = true});
  }
  return {};
}

Status read_multiband(const PresetReader& r, const toml::node& node, dsp::MultibandParams& out) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return r.fail("multiband", "must be a table ([multiband])");
  if (Status s = r.only(*t, "[multiband]", {"splits", "threshold", "ratio", "band"}); !s) return s;
  std::vector<double> splits{120.0, 2000.0};
  if (const toml::node* n = t->get("splits")) {
    const toml::array* a = n->as_array();
    if (a == nullptr || a->empty() || a->size() > out.split_hz.size()) {
      return r.fail("[multiband]", "splits must be a list of 1 to 3 frequencies (Hz)");
    }
    splits.clear();
    for (const toml::node& f : *a) {
      if (!f.is_number()) return r.fail("[multiband]", "splits must be numbers (Hz)");
      splits.push_back(*f.value<double>());
    }
  }
  std::optional<double> threshold, ratio;
  if (Status s = r.number(*t, "[multiband]", "threshold", threshold); !s) return s;
  if (Status s = r.number(*t, "[multiband]", "ratio", ratio); !s) return s;
  out.bands = splits.size() + 1;
  for (std::size_t i = 0; i < splits.size(); ++i) out.split_hz[i] = static_cast<float>(splits[i]);
  for (std::size_t b = 0; b < out.bands; ++b) {
    out.band[b] =
        band_compressor(threshold.value_or(-24.0), ratio.value_or(2.0), b == 0 ? 20.0 : splits[b - 1]);
    out.band_on[b] = true;
  }
  const toml::node* bands_node = t->get("band");
  if (bands_node == nullptr) return {};
  const toml::array* bands = bands_node->as_array();
  if (bands == nullptr || bands->size() != out.bands) {
    return r.fail("[multiband]", "band must list one table per band ([[multiband.band]]), " +
                                     std::to_string(out.bands) + " for " + std::to_string(splits.size()) +
                                     " split(s)");
  }
  for (std::size_t b = 0; b < out.bands; ++b) {
    const std::string where = "[[multiband.band]] " + std::to_string(b + 1);
    const toml::table* bt = (*bands)[b].as_table();
    if (bt == nullptr) return r.fail(where, "must be a table");
    if (Status s = r.only(*bt, where,
                          {"threshold", "ratio", "attack_ms", "release_ms", "knee_db", "makeup_db", "on"});
        !s) {
      return s;
    }
    dsp::CompressorParams& c = out.band[b];
    std::optional<double> v;
    const auto set = [&](std::string_view key, float& field, double lo, double hi) -> Status {
      v.reset();
      if (Status s = r.number(*bt, where, key, v); !s) return s;
      if (!v) return {};
      if (!(*v >= lo && *v <= hi)) {
        return r.fail(where, std::string(key) + " must be between " + std::to_string(static_cast<int>(lo)) +
                                 " and " + std::to_string(static_cast<int>(hi)));
      }
      field = static_cast<float>(*v);
      return {};
    };
    if (Status s = set("threshold", c.threshold_db, -60.0, 0.0); !s) return s;
    if (Status s = set("ratio", c.ratio, 1.0, 20.0); !s) return s;
    if (Status s = set("attack_ms", c.attack_ms, 0.0, 500.0); !s) return s;
    if (Status s = set("release_ms", c.release_ms, 1.0, 5000.0); !s) return s;
    if (Status s = set("knee_db", c.knee_db, 0.0, 24.0); !s) return s;
    if (Status s = set("makeup_db", c.makeup_db, -24.0, 24.0); !s) return s;
    std::optional<bool> on;
    if (Status s = r.get(*bt, where, "on", on, "true or false"); !s) return s;
    out.band_on[b] = on.value_or(true);
  }
  return {};
}

Status read_saturation(const PresetReader& r, const toml::node& node, dsp::SaturationParams& out) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return r.fail("saturation", "must be a table ([saturation])");
  if (Status s = r.only(*t, "[saturation]", {"drive", "mix", "bias"}); !s) return s;
  std::optional<double> drive, mix, bias;
  if (Status s = r.number(*t, "[saturation]", "drive", drive); !s) return s;
  if (Status s = r.number(*t, "[saturation]", "mix", mix); !s) return s;
  if (Status s = r.number(*t, "[saturation]", "bias", bias); !s) return s;
  if (!drive) return r.fail("[saturation]", "drive (dB) is needed");
  out = dsp::SaturationParams{.drive_db = static_cast<float>(*drive),
                              .mix = static_cast<float>(mix.value_or(1.0)),
                              .bias = static_cast<float>(bias.value_or(0.0)),
                              .compensate = true};
  return {};
}

Status read_deess(const PresetReader& r, const toml::node& node, dsp::DeEsserParams& out) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return r.fail("deess", "must be a table ([deess]), or false (none)");
  if (Status s = r.only(*t, "[deess]", {"threshold", "ratio", "range", "low", "high"}); !s) return s;
  std::optional<double> threshold, ratio, range, low, high;
  if (Status s = r.number(*t, "[deess]", "threshold", threshold); !s) return s;
  if (Status s = r.number(*t, "[deess]", "ratio", ratio); !s) return s;
  if (Status s = r.number(*t, "[deess]", "range", range); !s) return s;
  if (Status s = r.number(*t, "[deess]", "low", low); !s) return s;
  if (Status s = r.number(*t, "[deess]", "high", high); !s) return s;
  if (!threshold) return r.fail("[deess]", "threshold (dBFS) is needed");
  out = dsp::DeEsserParams{};
  out.threshold_db = static_cast<float>(*threshold);
  out.ratio = static_cast<float>(ratio.value_or(4.0));
  out.range_db = static_cast<float>(range.value_or(6.0));
  out.low_hz = static_cast<float>(low.value_or(5000.0));
  out.high_hz = static_cast<float>(high.value_or(10000.0));
  return {};
}

// The chain's keys of a table (a preset file's top, or a stem): width, eq_linear, highpass,
// mono_bass, [deess], [[eq]], [multiband], [saturation].
Status read_chain(const PresetReader& r, const toml::table& t, ChainSettings& chain) {
  std::optional<double> width, highpass, mono_bass;
  std::optional<bool> eq_linear;
  Status s = r.number(t, "", "width", width);
  if (s) s = r.get(t, "", "eq_linear", eq_linear, "true or false");
  if (s) s = r.number(t, "", "highpass", highpass);
  if (s) s = r.number(t, "", "mono_bass", mono_bass);
  if (s && t.contains("deess")) {
    // deess = false: the delivery preset's de-esser off.
    if (const auto* off = t.get("deess")->as_boolean(); off != nullptr && !off->get()) {
      chain.deess.reset();
    } else {
      chain.deess.emplace();
      s = read_deess(r, *t.get("deess"), *chain.deess);
    }
  }
  if (s && t.contains("eq")) s = read_eq(r, *t.get("eq"), chain.eq);
  if (s && t.contains("multiband")) {
    chain.multiband.emplace();
    s = read_multiband(r, *t.get("multiband"), *chain.multiband);
  }
  if (s && t.contains("saturation")) {
    chain.saturation.emplace();
    s = read_saturation(r, *t.get("saturation"), *chain.saturation);
  }
  if (!s) return s;
  // What the table leaves out stays as it was (a delivery preset's stages, or none).
  if (width) chain.width = *width;
  if (eq_linear) chain.eq_linear = *eq_linear;
  if (highpass) chain.highpass_hz = *highpass;
  if (mono_bass) chain.mono_bass_hz = *mono_bass;
  // At the highest common rate: the input's own rate bounds the frequencies when it is mastered.
  if (Status ok = check(chain, 192000.0); !ok) return r.fail("", ok.error());
  return {};
}

constexpr std::array<std::string_view, 8> kChainKeys{"width",     "highpass", "mono_bass", "eq",
                                                     "eq_linear", "deess",    "multiband", "saturation"};

Result<toml::table> parse(const std::string& path, std::string_view kind) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return Error{std::string(kind) + " '" + path + "': line " + std::to_string(at.line) + ", column " +
                 std::to_string(at.column) + ": " + std::string(e.description())};
  }
}

// Every key of t in one of the lists.
Status only(const PresetReader& r, const toml::table& t, std::string_view where,
            std::initializer_list<std::string_view> own) {
  std::vector<std::string_view> known(own);
  known.insert(known.end(), kChainKeys.begin(), kChainKeys.end());
  return r.only(t, where, known);
}

}  // namespace

Result<PresetFile> load_preset_file(const std::string& path) {
  const PresetReader r(path);
  auto parsed = parse(path, "preset");
  if (!parsed) return Error{parsed.error()};
  const toml::table& top = *parsed;
  PresetFile p;
  p.path = path;
  if (Status s = only(
          r, top, "",
          {"name", "delivery", "target_lufs", "ceiling_dbtp", "bits", "rate", "limiter", "side_minutes"});
      !s) {
    return Error{s.error()};
  }
  std::optional<std::string> name, delivery;
  std::optional<std::int64_t> bits, rate;
  Status s = r.get(top, "", "name", name, "a string");
  if (s) s = r.get(top, "", "delivery", delivery, "a string");
  // The delivery preset's own stages first; the file's keys go over them.
  if (s && delivery) {
    if (const auto base = find_preset(*delivery)) p.chain = chain_of(*base);
  }
  if (s) s = r.number(top, "", "side_minutes", p.side_minutes);
  if (s) s = r.number(top, "", "target_lufs", p.target_lufs);
  if (s) s = r.number(top, "", "ceiling_dbtp", p.ceiling_dbtp);
  if (s) s = r.get(top, "", "bits", bits, "16, 24 or 32");
  if (s) s = r.get(top, "", "rate", rate, "a sample rate in Hz");
  if (s) s = r.get(top, "", "limiter", p.limiter, "true or false");
  if (s) s = read_chain(r, top, p.chain);
  if (!s) return Error{s.error()};
  p.name = name.value_or("");
  p.delivery = delivery.value_or("");
  if (!p.delivery.empty() && !find_preset(p.delivery)) {
    return Error{r.fail("", "no delivery preset '" + p.delivery + "' (tl-master --list-presets)").error()};
  }
  if (bits) {
    if (std::find(kDeliveryBits.begin(), kDeliveryBits.end(), *bits) == kDeliveryBits.end())
      return Error{r.fail("", "bits must be 16, 24 or 32").error()};
    p.bits = static_cast<int>(*bits);
  }
  if (rate) {
    if (std::find(kDeliveryRates.begin(), kDeliveryRates.end(), *rate) == kDeliveryRates.end())
      return Error{r.fail("", "rate must be " + delivery_rates_text()).error()};
    p.rate = static_cast<std::uint32_t>(*rate);
  }
  if (p.target_lufs && !(*p.target_lufs >= -70.0 && *p.target_lufs <= 0.0)) {
    return Error{r.fail("", "target_lufs must be between -70 and 0").error()};
  }
  if (p.ceiling_dbtp && !(*p.ceiling_dbtp >= -20.0 && *p.ceiling_dbtp <= 0.0)) {
    return Error{r.fail("", "ceiling_dbtp must be between -20 and 0").error()};
  }
  if (p.side_minutes && !(*p.side_minutes >= 1.0 && *p.side_minutes <= 60.0)) {
    return Error{r.fail("", "side_minutes must be between 1 and 60").error()};
  }
  return p;
}

Result<StemsFile> load_stems_file(const std::string& path) {
  const PresetReader file(path, "stems file");
  auto parsed = parse(path, "stems file");
  if (!parsed) return Error{parsed.error()};
  const toml::table& top = *parsed;
  for (const auto& [key, value] : top) {
    if (key.str() != "stem")
      return Error{file.fail("", "no key '" + std::string(key.str()) + "' here (known: stem)").error()};
  }
  const toml::array* list = top.get("stem") != nullptr ? top.get("stem")->as_array() : nullptr;
  if (list == nullptr || list->empty()) {
    return Error{file.fail("", "no stems: list them as [[stem]] tables").error()};
  }
  StemsFile out;
  out.path = path;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const PresetReader r = file.within("[[stem]] " + std::to_string(i + 1));
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) return Error{r.fail("", "must be a table").error()};
    if (Status s = only(r, *t, "", {"name", "tracks", "file", "gain_db"}); !s) return Error{s.error()};
    StemSpec stem;
    std::optional<std::string> name, stem_file;
    std::optional<double> gain;
    Status s = r.get(*t, "", "name", name, "a string");
    if (s) s = r.get(*t, "", "file", stem_file, "a string");
    if (s) s = r.number(*t, "", "gain_db", gain);
    if (s && t->contains("tracks")) {
      const toml::array* tracks = t->get("tracks")->as_array();
      if (tracks == nullptr) s = r.fail("", "tracks must be a list of \"NODE/CHANNEL\" or \"NODE/*\"");
      for (std::size_t k = 0; s && tracks != nullptr && k < tracks->size(); ++k) {
        const auto track = (*tracks)[k].value<std::string>();
        if (!track || !valid_track_pattern(*track)) {
          s = r.fail("", "tracks: entry " + std::to_string(k + 1) + " is not \"NODE/CHANNEL\" or \"NODE/*\"");
        } else {
          stem.tracks.push_back(*track);
        }
      }
    }
    if (s) s = read_chain(r, *t, stem.chain);
    if (!s) return Error{s.error()};
    if (!name || name->empty() || name->find_first_of("/\\") != std::string::npos || name->front() == '.') {
      return Error{r.fail("", "name (the stem's file name, no slashes) is needed").error()};
    }
    for (const StemSpec& other : out.stems) {
      if (other.name == *name) return Error{r.fail("", "a second stem named '" + *name + "'").error()};
    }
    if (stem_file.has_value() == !stem.tracks.empty()) {
      return Error{r.fail("", "give it tracks (of the take) or a file, one of the two").error()};
    }
    if (gain && !(*gain >= -48.0 && *gain <= 24.0)) {
      return Error{r.fail("", "gain_db must be between -48 and 24").error()};
    }
    stem.name = *name;
    stem.gain_db = gain.value_or(0.0);
    if (stem_file) {
      const std::filesystem::path f(*stem_file);
      stem.file = f.is_absolute() ? f.string() : (std::filesystem::path(path).parent_path() / f).string();
    }
    out.stems.push_back(std::move(stem));
  }
  return out;
}

}  // namespace tl::mastering
