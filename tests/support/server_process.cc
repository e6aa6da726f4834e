#include "support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace normbase::testing {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kStopTimeout = std::chrono::seconds(20);
// How often the ready file and the child's state are looked at while waiting.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

std::string& CompiledBinaryPath() {
  static std::string path;
  return path;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void AppendToFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

// Closes every descriptor above stderr in a forked child, so the server does
// not inherit the test's sockets. Async-signal-safe.
void CloseInheritedFds() {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  for (int fd = 3; fd < 4096; ++fd) ::close(fd);
}

// argv for execv, built before fork (no allocation in the child).
struct Argv {
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
  explicit Argv(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& s : storage) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
};

// Forks and execs `argv` with stdout and stderr on `out_fd`. In the child,
// the server dies with the parent thread (PR_SET_PDEATHSIG), so a crashed test
// run leaves no servers behind.
pid_t Spawn(Argv& argv, int out_fd) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;  // parent, or -1
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the parent died already
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(out_fd, STDERR_FILENO);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
  CloseInheritedFds();
  // The test may block signals; the server sets its own mask.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execv(argv.ptrs[0], argv.ptrs.data());
  const char msg[] = "ServerProcess: execv failed\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  ::_exit(127);
}

// Waits for `pid` up to `timeout`. Returns the wait status, or nullopt when it
// still runs.
std::optional<int> WaitFor(pid_t pid, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;  // not our child any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

void ServerProcess::SetCompiledBinaryPath(const char* path) { CompiledBinaryPath() = path; }

std::string ServerProcess::BinaryPath() {
  if (const char* env = std::getenv("NORMBASE_SERVER_BIN"); env && *env) return env;
  return CompiledBinaryPath();
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
  std::string tmpl = (fs::temp_directory_path() / "normbase-it-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "ServerProcess: mkdtemp failed: %s\n", std::strerror(errno));
    return;
  }
  data_dir_ = tmpl;
  // Beside the data directory, not in it: the server owns what is inside.
  log_path_ = data_dir_ + ".log";
  ready_path_ = data_dir_ + ".ready";
}

ServerProcess::~ServerProcess() {
  if (running()) Kill();
  if (data_dir_.empty()) return;
  const char* keep = std::getenv("NORMBASE_KEEP_TEST_DATA");
  if (keep && *keep && std::string(keep) != "0") {
    std::fprintf(stderr, "ServerProcess: kept %s and %s\n", data_dir_.c_str(), log_path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(data_dir_, ec);
  fs::remove(log_path_, ec);
  fs::remove(ready_path_, ec);
}

std::vector<std::string> ServerProcess::CommandLine() const {
  std::vector<std::string> args = {BinaryPath(), "--data",      data_dir_,
                                   "--listen",   "127.0.0.1:0", "--ready-file",
                                   ready_path_,  "--log-level", "warn"};
  // Tests run side by side: each server's bus takes a free port, and local
  // workers start only in the tests that ask for them.
  auto given = [&](const std::string& flag) {
    return std::find(extra_args_.begin(), extra_args_.end(), flag) != extra_args_.end();
  };
  if (!given("--bus.endpoint")) args.insert(args.end(), {"--bus.endpoint", "tcp://127.0.0.1:0"});
  if (!given("--workers")) args.insert(args.end(), {"--workers", "0"});
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  return args;
}

bool ServerProcess::Start() {
  if (running() || data_dir_.empty()) return false;
  if (BinaryPath().empty()) {
    AppendToFile(log_path_, "ServerProcess: no server binary (set NORMBASE_SERVER_BIN)\n");
    return false;
  }
  std::error_code ec;
  fs::remove(ready_path_, ec);
  base_url_.clear();
  port_ = 0;

  std::string header = "\n==== ServerProcess::Start:";
  for (const auto& a : CommandLine()) header += " " + a;
  AppendToFile(log_path_, header + "\n");

  const int out_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out_fd < 0) return false;
  Argv argv(CommandLine());
  const pid_t pid = Spawn(argv, out_fd);
  ::close(out_fd);
  if (pid < 0) return false;
  pid_ = pid;

  // Ready when the ready file holds the URL (the server writes it atomically
  // once it listens); failed when the child exits first.
  const auto deadline = Clock::now() + kStartTimeout;
  std::string url;
  for (;;) {
    url = Trim(ReadWholeFile(ready_path_));
    if (!url.empty()) break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      AppendToFile(log_path_, "==== ServerProcess: the server exited with status " +
                                  std::to_string(ExitCode(status)) + " before it was ready\n");
      pid_ = -1;
      return false;
    }
    if (Clock::now() >= deadline) {
      AppendToFile(log_path_, "==== ServerProcess: not ready after 20 s; killed\n");
      Kill();
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  base_url_ = url;
  const auto colon = url.rfind(':');
  port_ = colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
  admin_token_ = Trim(ReadWholeFile(data_dir_ + "/bootstrap-admin.token"));
  return port_ > 0;
}

int ServerProcess::Stop() {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  auto status = WaitFor(pid_, kStopTimeout);
  if (!status) {
    AppendToFile(log_path_, "==== ServerProcess: no exit 20 s after SIGTERM; killed\n");
    Kill();
    return -1;
  }
  pid_ = -1;
  return ExitCode(*status);
}

void ServerProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ServerProcess::output() const { return ReadWholeFile(log_path_); }

std::pair<int, std::string> ServerProcess::RunBinary(const std::vector<std::string>& args,
                                                     int timeout_ms) {
  std::vector<std::string> full = {BinaryPath()};
  full.insert(full.end(), args.begin(), args.end());
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {-1, "pipe failed"};
  Argv argv(std::move(full));
  const pid_t pid = Spawn(argv, fds[1]);
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return {-1, "fork failed"};
  }
  std::string out;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child closed its output
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {timed_out ? -1 : ExitCode(status), out};
}

}  // namespace normbase::testing
