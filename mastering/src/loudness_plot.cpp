#include "tl/mastering/loudness_plot.h"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "picture.h"

namespace tl::mastering {
namespace {

// Colour map 0 entries (PLplot draws with indices into it).
enum Colour : PLINT {
  kInput = 2,
  kMomentary = 3,
  kShortTerm = 4,
  kTarget = 5,
  kGrid = 6,
  kWaveIn = 7,
  kWaveOut = 8
};

// One series as PLplot's arrays, the points a window has not filled yet left out.
struct Line {
  std::vector<PLFLT> x, y;
};

Line line_of(const std::vector<LoudnessPoint>& curve, float LoudnessPoint::*value, double floor) {
  Line l;
  for (const LoudnessPoint& p : curve) {
    const double v = p.*value;
    if (v <= -199.0 || !std::isfinite(v)) continue;  // the window is not full yet
    l.x.push_back(p.seconds);
    l.y.push_back(std::max(v, floor));  // silence sits on the floor, not off the picture
  }
  return l;
}

//! The waveform as its envelope: each hop's peak above the axis and below it, filled.
void draw_envelope(const std::vector<LoudnessPoint>& curve, Colour c) {
  if (curve.size() < 2) return;
  std::vector<PLFLT> x, y;
  for (const LoudnessPoint& p : curve) {
    x.push_back(p.seconds);
    y.push_back(p.peak);
  }
  for (auto p = curve.rbegin(); p != curve.rend(); ++p) {
    x.push_back(p->seconds);
    y.push_back(-p->peak);
  }
  plcol0(c);
  plfill(static_cast<PLINT>(x.size()), x.data(), y.data());
}

void draw(const Line& l, Colour c, PLFLT width) {
  if (l.x.size() < 2) return;
  plcol0(c);
  plwidth(width);
  plline(static_cast<PLINT>(l.x.size()), l.x.data(), l.y.data());
}

}  // namespace

Status plot_loudness(const std::string& path, const LoudnessPlot& plot) {
  if (plot.input.empty() && plot.output.empty()) return Error{"nothing to draw for '" + path + "'"};
  if (Status ok = can_write_picture(path); !ok) return ok;
  // The floor: 40 LU under the loudest short-term value drawn (quieter is silence here).
  double top = -70.0, seconds = 0.0;
  for (const auto* curve : {&plot.input, &plot.output}) {
    for (const LoudnessPoint& p : *curve) {
      top = std::max({top, static_cast<double>(p.short_term_lufs), static_cast<double>(p.momentary_lufs)});
      seconds = std::max(seconds, static_cast<double>(p.seconds));
    }
  }
  if (plot.has_target) top = std::max(top, plot.target_lufs);
  const double y1 = std::ceil((top + 3.0) / 5.0) * 5.0, y0 = y1 - 45.0;
  const Line input = line_of(plot.input, &LoudnessPoint::short_term_lufs, y0);
  const Line momentary = line_of(plot.output, &LoudnessPoint::momentary_lufs, y0);
  const Line short_term = line_of(plot.output, &LoudnessPoint::short_term_lufs, y0);

  double peak = 0.0;
  for (const auto* curve : {&plot.input, &plot.output}) {
    for (const LoudnessPoint& p : *curve) peak = std::max(peak, static_cast<double>(p.peak));
  }
  const double amplitude = peak > 0.5 ? 1.0 : std::max(0.1, std::ceil(peak * 20.0) / 10.0);
  const double x1 = std::max(seconds, 1.0);

  start_picture(path, plot.width, plot.height);
  plscol0(kInput, 150, 150, 150);
  plscol0(kMomentary, 160, 195, 235);
  plscol0(kShortTerm, 25, 80, 190);
  plscol0(kTarget, 200, 40, 40);
  plscol0(kGrid, 225, 225, 225);
  plscol0a(kWaveIn, 120, 120, 120, 0.55);  // see-through: the master shows under it
  plscol0(kWaveOut, 110, 150, 215);
  plinit();
  pladv(0);
  // Above, a third of the page: the waveform (each 100 ms hop's peak), the master's over
  // the input's, full scale at the edges.
  plvpor(0.1, 0.96, 0.68, 0.92);
  plwind(0.0, x1, -amplitude, amplitude);
  plcol0(kInk);
  plbox("bcst", 0.0, 0, "bcnstv", 0.0, 0);
  pllab("", "peak (full scale 1)", plot.title.c_str());
  draw_envelope(plot.output, kWaveOut);
  draw_envelope(plot.input, kWaveIn);
  std::vector<Key> waves;
  if (!plot.input.empty()) waves.push_back({kWaveIn, plot.input_label + " waveform"});
  if (!plot.output.empty()) waves.push_back({kWaveOut, plot.output_label + " waveform"});
  draw_keys(waves);
  // Below: loudness over time.
  plvpor(0.1, 0.96, 0.1, 0.58);
  plwind(0.0, x1, y0, y1);
  plcol0(kGrid);
  plbox("g", 0.0, 0, "g", 0.0, 0);  // a light grid at the major ticks, under the lines
  plcol0(kInk);
  plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
  pllab("time (s)", "loudness (LUFS)", "");
  // The target first: a master on it is drawn over it, not hidden under it.
  if (plot.has_target) {
    const PLFLT x[2] = {0.0, x1}, y[2] = {plot.target_lufs, plot.target_lufs};
    plcol0(kTarget);
    plwidth(1.5);
    pllsty(2);  // dashed
    plline(2, x, y);
    pllsty(1);
  }
  draw(input, kInput, 1.5);
  draw(momentary, kMomentary, 1.0);
  draw(short_term, kShortTerm, 2.5);
  // A key along the top edge, each name in its line's colour.
  std::vector<Key> keys;
  if (!input.x.empty()) keys.push_back({kInput, plot.input_label + ", 3 s"});
  if (!short_term.x.empty()) keys.push_back({kShortTerm, plot.output_label + ", 3 s"});
  if (!momentary.x.empty()) keys.push_back({kMomentary, plot.output_label + ", 400 ms"});
  if (plot.has_target) {
    char target[48];
    std::snprintf(target, sizeof target, "target %.1f LUFS", plot.target_lufs);
    keys.push_back({kTarget, target});
  }
  draw_keys(keys);
  plend();
  return picture_written(path);
}

}  // namespace tl::mastering
