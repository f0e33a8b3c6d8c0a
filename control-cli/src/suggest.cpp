#include "tl/ctl/suggest.h"

#include <algorithm>
#include <vector>

namespace tl::ctl {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // d[i][j]: the distance between a's first i letters and b's first j, row by row.
  const std::size_t w = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * w);
  for (std::size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t replace = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t best =
          std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + replace});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, d[(i - 2) * w + j - 2] + 1);
      }
      d[i * w + j] = best;
    }
  }
  return d[a.size() * w + b.size()];
}

std::string_view nearest_word(std::string_view word, std::span<const std::string_view> known) {
  std::string_view nearest;
  std::size_t nearest_distance = 0;
  for (const std::string_view k : known) {
    const std::size_t reach = k.size() <= 4 ? 1 : 2;
    const std::size_t d = edit_distance(word, k);
    if (d <= reach && (nearest.empty() || d < nearest_distance)) {
      nearest = k;
      nearest_distance = d;
    }
  }
  if (!nearest.empty() || word.size() < 2) return nearest;
  std::string_view begun;
  for (const std::string_view k : known) {
    if (!k.starts_with(word)) continue;
    if (!begun.empty()) return {};  // it begins several: no guess
    begun = k;
  }
  return begun;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> known) {
  const std::string_view nearest = nearest_word(word, known);
  if (nearest.empty()) return {};
  return "; did you mean '" + std::string(nearest) + "'?";
}

}  // namespace tl::ctl
