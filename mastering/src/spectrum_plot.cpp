#include "tl/mastering/spectrum_plot.h"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "picture.h"

namespace tl::mastering {
namespace {

enum Colour : PLINT { kInput = 2, kReference = 3, kMaster = 4, kSide = 5, kGrid = 6 };

void draw(const std::vector<PLFLT>& x, const std::array<double, kSpectrumBands>& y, Colour c, PLFLT width,
          PLINT style = 1) {
  std::vector<PLFLT> v(y.begin(), y.begin() + static_cast<long>(x.size()));
  plcol0(c);
  plwidth(width);
  pllsty(style);
  plline(static_cast<PLINT>(x.size()), x.data(), v.data());
  pllsty(1);
}

// The y range holding every value drawn, in steps of 5 dB, at least +-6 dB.
std::pair<double, double> range_of(std::initializer_list<const std::array<double, kSpectrumBands>*> lines,
                                   std::size_t n) {
  double lo = -6.0, hi = 6.0;
  for (const auto* l : lines) {
    for (std::size_t b = 0; b < n; ++b) {
      lo = std::min(lo, (*l)[b]);
      hi = std::max(hi, (*l)[b]);
    }
  }
  return {std::floor((lo - 1.0) / 5.0) * 5.0, std::ceil((hi + 1.0) / 5.0) * 5.0};
}

//! The page: two parts, one above the other, and the pens (the reference's grey or red).
void start_page(const std::string& path, int width, int height, PLINT reference_r, PLINT reference_g,
                PLINT reference_b) {
  start_picture(path, width, height);
  plscol0(kInput, 150, 150, 150);
  plscol0(kReference, reference_r, reference_g, reference_b);
  plscol0(kMaster, 25, 80, 190);
  plscol0(kSide, 230, 140, 20);
  plscol0(kGrid, 225, 225, 225);
  plssub(1, 2);
  plinit();
}

//! The next part of the page (plenv moves on to it): frequency across, log-spaced, and
//! its frame, labels and grid.
void start_part(double y0, double y1, const char* y_label, const char* title) {
  plcol0(kInk);
  plenv(std::log10(20.0), std::log10(20000.0), y0, y1, 0, 10);
  pllab("frequency (Hz)", y_label, title);
  plcol0(kGrid);
  plbox("g", 0.0, 0, "g", 0.0, 0);
}

//! The y range of a picture's levels: the loudest band's and 70 dB below it, in steps of 10.
std::pair<double, double> level_range(std::initializer_list<const std::array<double, kSpectrumBands>*> lines,
                                      std::size_t n) {
  double hi = -200.0;
  for (const auto* l : lines) {
    for (std::size_t b = 0; b < n; ++b) hi = std::max(hi, (*l)[b]);
  }
  const double top = std::ceil((hi + 1.0) / 10.0) * 10.0;
  return {top - 70.0, top};
}

//! Band levels no lower than the picture's floor (a silent band is -inf dB).
std::array<double, kSpectrumBands> floored(const std::array<double, kSpectrumBands>& db, double floor) {
  std::array<double, kSpectrumBands> out{};
  for (std::size_t b = 0; b < kSpectrumBands; ++b)
    out[b] = std::isfinite(db[b]) ? std::max(db[b], floor) : floor;
  return out;
}

}  // namespace

Status plot_tone_change(const std::string& path, const ToneChangePlot& plot) {
  if (plot.input == nullptr || plot.master == nullptr) return Error{"nothing to draw for '" + path + "'"};
  if (Status ok = can_write_picture(path); !ok) return ok;
  const Spectrum& in = *plot.input;
  const Spectrum& out = *plot.master;
  // The bands both rates carry whole (a band's upper edge is a sixth of an octave up).
  std::size_t n = 0;
  while (n < kSpectrumBands &&
         band_centre_hz(n) * std::pow(2.0, 1.0 / 6.0) < 0.5 * std::min(in.rate, out.rate)) {
    ++n;
  }
  std::vector<PLFLT> x;
  for (std::size_t b = 0; b < n; ++b) x.push_back(std::log10(band_centre_hz(b)));
  const bool stereo =
      std::any_of(out.side_bins.begin(), out.side_bins.end(), [](double v) { return v > 0.0; }) ||
      std::any_of(in.side_bins.begin(), in.side_bins.end(), [](double v) { return v > 0.0; });
  const auto [l0, l1] = stereo ? level_range({&in.mid_db, &out.mid_db, &in.side_db, &out.side_db}, n)
                               : level_range({&in.mid_db, &out.mid_db}, n);
  const auto in_mid = floored(in.mid_db, l0), out_mid = floored(out.mid_db, l0);
  const auto in_side = floored(in.side_db, l0), out_side = floored(out.side_db, l0);
  std::array<double, kSpectrumBands> change_mid{}, change_side{};
  for (std::size_t b = 0; b < n; ++b) {
    change_mid[b] = out_mid[b] - in_mid[b];
    change_side[b] = out_side[b] - in_side[b];
  }

  start_page(path, plot.width, plot.height, 120, 120, 120);  // the input's side in a darker grey
  start_part(l0, l1, "level (dB, third octaves)", plot.title.c_str());
  draw(x, in_mid, kInput, 2.0);
  draw(x, out_mid, kMaster, 2.5);
  if (stereo) {
    draw(x, in_side, kReference, 1.5, 2);
    draw(x, out_side, kSide, 2.0);
    draw_keys({{kInput, "input (mid)"},
               {kMaster, "master (mid)"},
               {kReference, "input (side)"},
               {kSide, "master (side)"}});
  } else {
    draw_keys({{kInput, "input"}, {kMaster, "master"}});
  }

  const auto [c0, c1] = stereo ? range_of({&change_mid, &change_side}, n) : range_of({&change_mid}, n);
  start_part(c0, c1, "change (dB, gain included)", "what mastering changed, band by band");
  draw(x, change_mid, kMaster, 2.5);
  if (stereo) {
    draw(x, change_side, kSide, 2.0);
    draw_keys({{kMaster, "mid"}, {kSide, "side"}});
  } else {
    draw_keys({{kMaster, "mono"}});
  }
  plend();
  return picture_written(path);
}

Status plot_spectra(const std::string& path, const SpectrumPlot& plot) {
  if (plot.plan == nullptr) return Error{"nothing to draw for '" + path + "'"};
  if (Status ok = can_write_picture(path); !ok) return ok;
  const MatchPlan& p = *plot.plan;
  // The bands the input's rate carries (the curve's length; all when the tone was left).
  const std::size_t n = p.curve.freq_hz.empty() ? kSpectrumBands : p.curve.freq_hz.size();
  std::vector<PLFLT> x;
  for (std::size_t b = 0; b < n; ++b) x.push_back(std::log10(band_centre_hz(b)));

  start_page(path, plot.width, plot.height, 200, 40, 40);
  // Above: the tone shapes.
  const auto [s0, s1] = plot.result != nullptr
                            ? range_of({&p.input_mid, &p.reference_mid, &plot.result->output_mid}, n)
                            : range_of({&p.input_mid, &p.reference_mid}, n);
  start_part(s0, s1, "level (dB, third octaves)", plot.title.c_str());
  draw(x, p.input_mid, kInput, 2.0);
  draw(x, p.reference_mid, kReference, 2.0, 2);
  if (plot.result != nullptr) draw(x, plot.result->output_mid, kMaster, 2.5);
  if (plot.result != nullptr) {
    draw_keys({{kInput, "input (mid)"}, {kReference, "reference"}, {kMaster, "master"}});
  } else {
    draw_keys({{kInput, "input (mid)"}, {kReference, "reference"}});
  }

  // Below: the curve fitted (its effect on the input's bands).
  const auto [c0, c1] = range_of({&p.fitted_mid, &p.fitted_side}, n);
  start_part(c0, c1, "change (dB)", "the fitted curve");
  draw(x, p.fitted_mid, kMaster, 2.5);
  if (p.stereo) {
    draw(x, p.fitted_side, kSide, 2.0);
    draw_keys({{kMaster, "mid"}, {kSide, "side"}});
  } else {
    draw_keys({{kMaster, "mono"}});
  }
  plend();
  return picture_written(path);
}

}  // namespace tl::mastering
