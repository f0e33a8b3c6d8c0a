#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace tl::test {

std::string bin(const std::string& name) {
  return std::string(TL_BIN_DIR) + "/" + name;
}

std::string make_work_dir(const std::string& test_name) {
  const fs::path dir = fs::path(TL_BIN_DIR).parent_path() / "test-work" / test_name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir.string();
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(interval);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
            const std::map<std::string, std::string>& env) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: own process group so a stop reaches helpers too.
  ::setpgid(0, 0);
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int null_in = ::open("/dev/null", O_RDONLY);
  ::dup2(null_in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}
}  // namespace

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::map<std::string, std::string>& env) {
  const fs::path tmp = fs::temp_directory_path() / ("tl-run-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const std::string out_path = (tmp / "out").string();
  const std::string err_path = (tmp / "err").string();
  RunResult r;
  const pid_t pid = spawn(argv, out_path, err_path, env);
  int status = 0;
  const bool done = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    r.exit_code = -1;
  } else {
    r.exit_code = decode_status(status);
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

Process::Process(std::vector<std::string> argv, const std::string& log_prefix,
                 const std::map<std::string, std::string>& env)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  pid_ = spawn(argv, out_path_, err_path_, env);
}

Process::~Process() {
  stop(std::chrono::milliseconds(3000));
}

bool Process::running() {
  if (reaped_) return false;
  const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return decode_status(status_);
  ::kill(pid_, SIGTERM);
  if (!wait_until([&] { return !running(); }, grace)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  return decode_status(status_);
}

void Process::kill_hard() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status_, 0);
  reaped_ = true;
}

std::string Process::out() const {
  return read_file(out_path_);
}
std::string Process::err() const {
  return read_file(err_path_);
}

bool Process::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] { return out().find(needle) != std::string::npos || err().find(needle) != std::string::npos; },
      timeout);
}

}  // namespace tl::test
