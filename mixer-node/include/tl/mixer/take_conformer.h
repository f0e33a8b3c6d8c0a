#pragma once
//! Writes closed takes' session-aligned tracks after `record stop` has answered.
//!
//! A take closes with its tracks, levels and losses final; a track whose conform moves
//! or resamples its samples still has its file to write (take.json: state "conforming",
//! the track's conform pending with its map). The Conformer writes them on a thread of
//! its own, a stretch at a time (memory bounded whatever the take's length), saving
//! take.json after each track (`tlctl takes` shows how many are left) and giving the
//! take its closed state at the end. take.json holds all it needs: a mixer stopped or
//! killed meanwhile leaves the rest pending, and the next one goes on (resume()).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tl/common/result.h"

namespace tl::mixer {

class Conformer {
 public:
  Conformer() = default;
  ~Conformer();
  Conformer(const Conformer&) = delete;
  Conformer& operator=(const Conformer&) = delete;

  //! Starts the thread (normal priority: it must not take the CPU from the live mix).
  void start();
  //! Stops after the stretch in hand; what is left stays pending in take.json.
  void stop();
  //! Writes what is queued (a mixer stopping with a take just closed leaves it whole) for
  //! up to max_wait, then stops (the rest pending for the next mixer): under a service
  //! manager's stop timeout (systemd's TimeoutStopSec=30 here), a stop stays a stop.
  void finish(std::chrono::seconds max_wait = std::chrono::seconds(20));

  //! Queues a take whose take.json says "conforming" (any thread).
  void add(std::filesystem::path take_dir);
  //! Queues every take under record_dir a stopped mixer left "conforming"; how many.
  std::size_t resume(const std::filesystem::path& record_dir);

  //! Writes every pending track of one take on the calling thread, take.json saved
  //! after each, and closes it. false: stop was set first (the rest stays pending).
  static Result<bool> conform_take_files(const std::filesystem::path& take_dir,
                                         const std::atomic<bool>* stop = nullptr);

 private:
  void run();

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;  // guards queue_ and busy_
  std::condition_variable wake_;
  std::deque<std::filesystem::path> queue_;
  std::size_t busy_ = 0;
};

}  // namespace tl::mixer
