#pragma once
//! Mid and side from left and right, and back (private to tl_mastering): mid = (L + R) / 2,
//! side = (L - R) / 2, so L = mid + side and R = mid - side.

namespace tl::mastering {

struct MidSide {
  float mid = 0.0f;
  float side = 0.0f;

  static MidSide of(float left, float right) noexcept {
    return {0.5f * (left + right), 0.5f * (left - right)};
  }
  float left() const noexcept { return mid + side; }
  float right() const noexcept { return mid - side; }
};

}  // namespace tl::mastering
