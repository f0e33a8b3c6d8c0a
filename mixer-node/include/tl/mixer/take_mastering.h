#pragma once
//! Mastering a closed take on the mixer's machine (tlctl take master): the take mixed
//! by tl-render's engine (its tracks, strips and automation) and the mix mastered by
//! tl-master's chain to a delivery preset, into <take>/master/<preset>.wav.
//!
//! One job at a time, on a thread of its own at normal priority (the live mix's threads
//! run real-time above it; the job reads and writes files only). The operator follows it
//! by asking for its state; a mixer that stops meanwhile stops the job at its next
//! progress step and removes what it had half-written.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "tl/common/result.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

class TakeMastering {
 public:
  struct Job {
    std::string take;                   //!< its name
    std::filesystem::path dir;          //!< its folder (closed: no track left to conform)
    std::string preset = "streaming";   //!< a delivery preset of tl-master
    std::optional<double> target_lufs;  //!< over the preset's
  };
  //! Why a job was not started, and what the operator can do.
  struct Refusal {
    proto::ErrorReply::Code code;
    std::string message;
  };

  TakeMastering() = default;
  ~TakeMastering();
  TakeMastering(const TakeMastering&) = delete;
  TakeMastering& operator=(const TakeMastering&) = delete;

  //! Starts a job (its first state), or says why not: an unknown preset or a target out
  //! of range (BAD_VALUE), another job still running (CONFLICT).
  std::variant<proto::MasterTakeState, Refusal> start(Job job);
  //! The state of the last job for this take (state "none" when there was none).
  proto::MasterTakeState state(const std::string& take) const;
  //! Stops a running job at its next step (its partial files removed) and joins it.
  void stop();

  //! Where a job writes: <dir>/master/<preset>.wav, or <preset>-2.wav ... when that exists
  //! (an earlier master is never overwritten).
  static std::filesystem::path output_for(const std::filesystem::path& dir, const std::string& preset);

 private:
  void run(Job job, std::filesystem::path out);
  void update(double progress, std::string_view stage);

  mutable std::mutex mutex_;  // guards last_ and running_ (never held by the live mix)
  proto::MasterTakeState last_;
  bool running_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tl::mixer
