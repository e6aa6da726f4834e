#include "support/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace normbase::testing {

std::string WorkerProcess::BinaryPath() {
  if (const char* env = std::getenv("NORMBASE_WORKER_BIN")) return env;
#ifdef NORMBASE_WORKER_BIN
  return NORMBASE_WORKER_BIN;
#else
  return "";
#endif
}

WorkerProcess::WorkerProcess(std::vector<std::string> args)
    : WorkerProcess(BinaryPath(), std::move(args), {}) {}

WorkerProcess::WorkerProcess(std::string program, std::vector<std::string> args, std::vector<std::string> env)
    : program_(std::move(program)), args_(std::move(args)), env_(std::move(env)) {
  char tmpl[] = "/tmp/nb-worker-log-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd >= 0) ::close(fd);
  log_path_ = tmpl;
}

WorkerProcess::~WorkerProcess() {
  Kill();
  std::error_code ec;
  if (!std::getenv("NORMBASE_KEEP_TEST_DATA")) std::filesystem::remove(log_path_, ec);
}

bool WorkerProcess::Start() {
  if (running()) return false;
  std::vector<std::string> argv_s = {program_};
  argv_s.insert(argv_s.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    for (auto& e : env_) ::putenv(e.data());
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (out >= 0) ::close(out);
  pid_ = pid;
  return pid > 0;
}

int WorkerProcess::Wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

void WorkerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int WorkerProcess::Terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = Wait(timeout_ms);
  if (code < 0) Kill();
  return code;
}

std::string WorkerProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace normbase::testing
