#pragma once
//! A stage that delays what it puts out (a chain's filters, a limiter's look-ahead) run
//! over a stream so that its output lines up with its input and is as long: the first
//! `latency` frames out are dropped, and `latency` frames of silence go in after the
//! input's end to bring the tail out (private to tl_mastering).

#include <algorithm>
#include <cstddef>
#include <span>

#include "tl/common/result.h"

namespace tl::mastering {

//! Streams blocks through a stage `latency` frames late, aligned. block: the working
//! buffer, interleaved, `channels` wide; its size sets the most frames a block holds.
//! read(std::span<float> block) -> std::size_t: fills block with input, the frames read
//! (0 at the end of the input).
//! process(std::span<float> frames, std::size_t n): runs the stage in place on n frames
//! (input, or the silence of the tail).
//! sink(std::span<float> aligned) -> Status: takes the frames that line up with the
//! input, never an empty span. Returns the first failure of sink, else success once the
//! tail is out. Allocates nothing.
template <class Read, class Process, class Sink>
Status stream_aligned(std::span<float> block, std::size_t channels, std::size_t latency, Read&& read,
                      Process&& process, Sink&& sink) {
  const std::size_t most = block.size() / channels;
  std::size_t to_skip = latency, tail = latency;
  for (;;) {
    std::size_t n = read(block);
    if (n == 0) {
      if (tail == 0) return {};
      n = std::min(tail, most);
      tail -= n;
      std::fill_n(block.begin(), n * channels, 0.0f);
    }
    process(block.first(n * channels), n);
    const std::size_t skip = std::min(to_skip, n);
    to_skip -= skip;
    if (skip == n) continue;
    if (Status s = sink(block.subspan(skip * channels, (n - skip) * channels)); !s) return s;
  }
}

}  // namespace tl::mastering
