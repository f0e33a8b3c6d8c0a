#pragma once
//! The session timeline's epoch, kept in RECORD_DIR/.tracklink-session as "BOOT_ID EPOCH_NS".
//!
//! A mixer restarted on the same record directory in the same boot goes on with the
//! timeline it left, so a take it did not finish and the nodes' spools (keyed by session
//! position) still line up. A new boot, or a new directory, starts a new timeline now.
//! Epochs are monotonic-clock nanoseconds, which only mean something within one boot.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl::mixer {

//! What a session file says: an empty boot and epoch 0 for what is missing or unreadable.
struct SavedSession {
  std::string boot;
  std::int64_t epoch_ns = 0;
};

//! Reads a session file's text: the boot id, then the epoch, separated by white space.
SavedSession parse_session_file(std::string_view text);
//! A session file's text: the boot id ("unknown" when it is not known), the epoch, a newline.
std::string format_session_file(const std::string& boot, std::int64_t epoch_ns);

//! The saved epoch when the timeline may go on: it was saved in this boot (a known boot id)
//! and lies in (0, now_ns]. Nothing otherwise.
std::optional<std::int64_t> resumed_epoch(const SavedSession& saved, const std::string& boot,
                                          std::int64_t now_ns);

//! The epoch of a mixer recording to record_dir: the saved one when it may go on; otherwise
//! now_ns, saved for the next mixer (the directory is made when missing; a file that cannot
//! be written only means the next mixer starts a new timeline).
std::int64_t session_epoch(const std::string& record_dir, const std::string& boot, std::int64_t now_ns);
//! The same with this machine's boot id (empty when /proc does not say) and monotonic_ns().
std::int64_t session_epoch(const std::string& record_dir);

}  // namespace tl::mixer
