#pragma once
//! automation.json: the mix as a take began and every change made during it, the one
//! reader and writer of it.
//!
//! The recorder writes it as the take starts and again (aside, then renamed) within
//! 0.1 s of each change, so a killed mixer's take keeps its changes; tl-render
//! reads it to mix the take again. `initial` is a proto::Scene and each change's
//! `state` a proto::StripState, both in protobuf's JSON form; each change is written
//! with `offset` (the mix.wav frame it applies from) and `target` beside them.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tl/common/result.h"
#include "tl/common/units.h"

namespace tl::mixer {

struct TakeAutomation {
  std::string take;
  std::uint32_t sample_rate = 0;
  MediaTime start_sample = 0;

  //! How the live mix ran: what a render needs to repeat it block for block.
  struct Mix {
    std::uint32_t block_frames = 0;    //!< the mix engine's block
    MediaTime block_origin = 0;        //!< where one of its blocks began (its grid)
    std::size_t lookahead_frames = 0;  //!< the master chain's delay (mix.wav is placed back by it)
    bool operator==(const Mix&) const = default;
  };
  Mix mix;

  //! The whole mixer state as the take began (JSON text; read back compact).
  std::string initial;

  struct Change {
    MediaTime position = 0;  //!< session samples, as mix.wav places them
    std::string state;       //!< the target's whole state after the change (JSON text)
    bool operator==(const Change&) const = default;
  };
  //! In the order the mix applied them. A change whose state is not JSON is not written.
  std::vector<Change> changes;

  bool operator==(const TakeAutomation&) const = default;

  //! <take_dir>/automation.json. An error says whether it is missing or not valid, or
  //! which field is of the wrong type.
  static Result<TakeAutomation> read(const std::filesystem::path& take_dir);
  Status write(const std::filesystem::path& take_dir) const;
};

}  // namespace tl::mixer
