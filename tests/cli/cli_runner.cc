#include "cli/cli_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace normbase::testing {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// argv/envp storage built before fork: the child only calls async-signal-safe functions.
struct CStrings {
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
  explicit CStrings(std::vector<std::string> v) : storage(std::move(v)) {
    for (auto& s : storage) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
};

// Forks and execs with the given descriptors as stdin/stdout/stderr. The
// child dies with the test (PR_SET_PDEATHSIG).
pid_t Spawn(CStrings& argv, CStrings& envp, int in_fd, int out_fd, int err_fd) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);
  ::dup2(in_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv.ptrs[0], argv.ptrs.data(), envp.ptrs.data());
  ::_exit(127);
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string CliRunner::BinaryPath() {
  if (const char* env = std::getenv("NORMBASE_CLI_BIN"); env && *env) return env;
#ifdef NORMBASE_CLI_BIN
  return NORMBASE_CLI_BIN;
#else
  return "normbase";
#endif
}

CliRunner::CliRunner() {
  std::string tmpl = (fs::temp_directory_path() / "normbase-cli-home-XXXXXX").string();
  if (::mkdtemp(tmpl.data())) home_ = tmpl;
}

CliRunner::~CliRunner() {
  std::error_code ec;
  if (!home_.empty()) fs::remove_all(home_, ec);
}

std::vector<std::string> CliRunner::Environment() const {
  // A clean environment: no NORMBASE_* or XDG_CONFIG_HOME from the caller.
  std::map<std::string, std::string> env = {{"HOME", home_},
                                            {"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"LANG", "C.UTF-8"},
                                            {"TMPDIR", home_}};
  for (const auto& [k, v] : env_) {
    if (v.empty())
      env.erase(k);
    else
      env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

CliResult CliRunner::Run(const std::vector<std::string>& args, const std::string& stdin_text,
                         std::chrono::milliseconds timeout) const {
  CliResult r;
  std::vector<std::string> full = {BinaryPath()};
  full.insert(full.end(), args.begin(), args.end());
  CStrings argv(std::move(full)), envp(Environment());
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return r;
  const pid_t pid = Spawn(argv, envp, in[0], out[1], err[1]);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // Small inputs only: fits the pipe buffer, so writing first cannot deadlock.
  if (!stdin_text.empty()) [[maybe_unused]]
    auto n = ::write(in[1], stdin_text.data(), stdin_text.size());
  ::close(in[1]);
  const auto deadline = Clock::now() + timeout;
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[8192];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(got));
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = timed_out ? -1 : ExitCode(status);
  return r;
}

std::unique_ptr<CliRunner::Background> CliRunner::Start(
    const std::vector<std::string>& args) const {
  auto b = std::unique_ptr<Background>(new Background());
  static int n = 0;
  const std::string base = home_ + "/bg-" + std::to_string(++n);
  b->out_path_ = base + ".out";
  b->err_path_ = base + ".err";
  std::vector<std::string> full = {BinaryPath()};
  full.insert(full.end(), args.begin(), args.end());
  CStrings argv(std::move(full)), envp(Environment());
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out = ::open(b->out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err = ::open(b->err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  b->pid_ = Spawn(argv, envp, in, out, err);
  ::close(in);
  ::close(out);
  ::close(err);
  return b;
}

CliRunner::Background::~Background() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

std::string CliRunner::Background::out() const { return ReadAll(out_path_); }
std::string CliRunner::Background::err() const { return ReadAll(err_path_); }

void CliRunner::Background::Signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int CliRunner::Background::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return ExitCode(status);
    }
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    ::usleep(10000);
  }
}

}  // namespace normbase::testing
