#include "tl/mixer/take_concealment.h"

#include <algorithm>

namespace tl::mixer {

void MixConcealment::note(std::int64_t from, std::int64_t to, std::uint32_t frames) {
  frames_ += frames;
  if (!ranges_.empty() && ranges_.back().second >= from) {
    ranges_.back().second = std::max(ranges_.back().second, to);
  } else if (ranges_.size() < kMaxRanges) {
    ranges_.emplace_back(from, to);
  } else {
    ranges_.back().second = to;
  }
}

void InputConcealment::note(std::int64_t from, std::int64_t to, bool exact) {
  exact_ = exact_ && exact;
  if (!runs_.empty() && runs_.back().second >= from) {
    runs_.back().second = std::max(runs_.back().second, to);
  } else if (runs_.size() < kMaxRanges) {
    runs_.emplace_back(from, to);
  } else {
    complete_ = false;
  }
}

}  // namespace tl::mixer
