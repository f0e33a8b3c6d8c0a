#pragma once
//! Starts real binaries for integration tests and stops them by PID.
//!
//! Output goes to files under the test's work directory so a failing test can
//! print them. Every wait is bounded; the destructor always kills and reaps.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tl::test {

//! Path of a built program (build/bin/NAME).
std::string bin(const std::string& name);

//! A fresh empty directory under the build tree for one test.
std::string make_work_dir(const std::string& test_name);

//! Polls cond every interval until it holds or timeout passes; returns cond's last value.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20));

std::string read_file(const std::string& path);

struct RunResult {
  int exit_code = -1;  // -1: did not exit in time (killed)
  std::string out;
  std::string err;
};

//! Runs a program to completion (bounded by timeout) and captures its output.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::map<std::string, std::string>& env = {});

class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log_prefix,
          const std::map<std::string, std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool running();
  //! SIGTERM, then SIGKILL after grace; returns the exit status (or -signal).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  //! SIGKILL at once (a crash).
  void kill_hard();
  std::string out() const;
  std::string err() const;
  //! Waits until stdout+stderr contain needle.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string out_path_, err_path_;
};

}  // namespace tl::test
