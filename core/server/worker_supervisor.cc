#include "server/worker_supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace normbase::server {
namespace fs = std::filesystem;
namespace {

constexpr int kFirstBackoffMs = 500;
constexpr int kMaxBackoffMs = 30000;
constexpr int kPollWithoutPidfdMs = 100;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string FindWorkerBinary(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = exe.parent_path() / "normbase-worker";
    if (fs::exists(beside, ec)) return beside.string();
  }
#ifdef NORMBASE_WORKER_BUILD_PATH
  return NORMBASE_WORKER_BUILD_PATH;
#else
  return "normbase-worker";
#endif
}

Result<std::unique_ptr<WorkerSupervisor>> WorkerSupervisor::Start(SupervisorOptions o) {
  o.binary = FindWorkerBinary(o.binary);
  if (::access(o.binary.c_str(), X_OK) != 0)
    return Status::NotFound("cannot run the local workers: no executable " + o.binary +
                            " (build normbase-worker, give --workers.bin, or --workers 0)");
  std::unique_ptr<WorkerSupervisor> s(new WorkerSupervisor(std::move(o)));
  s->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->wake_fd_ < 0)
    return Status::Internal("cannot supervise the local workers: eventfd failed");
  {
    std::lock_guard lk(s->mu_);
    s->slots_.resize(static_cast<size_t>(std::max(0, s->o_.count)));
    for (size_t i = 0; i < s->slots_.size(); ++i) {
      s->slots_[i].backoff_ms = kFirstBackoffMs;
      s->Spawn(s->slots_[i], i);
    }
  }
  spdlog::info("started {} local worker(s): {}", s->o_.count, s->o_.binary);
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

void WorkerSupervisor::Spawn(Slot& slot, size_t index) {
  const int64_t now = NowMs();
  // Unique for this server: the broker must never take a new worker for the
  // one whose exit it is about to hear of.
  slot.id = "local-" + std::to_string(::getpid()) + "-" + std::to_string(index) + "-" +
            std::to_string(++slot.generation);
  // clang-format off
  std::vector<std::string> args = {o_.binary,
                                   "--connect", o_.endpoint,
                                   "--capacity", std::to_string(o_.capacity),
                                   "--id", slot.id,
                                   "--heartbeat-ms", std::to_string(o_.heartbeat_ms),
                                   "--heartbeat-expiry-ms", std::to_string(o_.heartbeat_expiry_ms)};
  // clang-format on
  if (!o_.plugins_dir.empty()) args.insert(args.end(), {"--plugins", o_.plugins_dir});
  if (!o_.key_file.empty()) args.insert(args.end(), {"--key", o_.key_file, "--server-key", o_.server_key});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the server blocks SIGTERM for sigwait
    ::signal(SIGPIPE, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  slot.started_at = now;
  slot.pid = pid;
  slot.pidfd = -1;
  if (pid < 0) {
    spdlog::error("cannot start a local worker: fork failed");
    slot.restart_at = now + slot.backoff_ms;
    return;
  }
  // The child is ours and not reaped yet, so its pid cannot have been reused.
  // Without pidfds (Linux < 5.3) the loop polls instead.
  // (Debian 12's <sys/pidfd.h> declares pidfd_open without C linkage, hence
  // the raw system call.)
  slot.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

std::string WorkerSupervisor::Reaped(Slot& slot, int status, int64_t now) {
  const std::string how = WIFSIGNALED(status)
                              ? "was killed by signal " + std::to_string(WTERMSIG(status))
                              : "exited with code " + std::to_string(WEXITSTATUS(status));
  if (slot.pidfd >= 0) ::close(slot.pidfd);
  slot.pidfd = -1;
  if (now - slot.started_at >= o_.stable_ms) {  // it earned a clean record
    slot.exits.clear();
    slot.backoff_ms = kFirstBackoffMs;
  }
  while (!slot.exits.empty() && now - slot.exits.front() > o_.restart_window_ms)
    slot.exits.pop_front();
  slot.exits.push_back(now);
  int wait_ms = 0;
  if (static_cast<int>(slot.exits.size()) > o_.restart_burst) {
    wait_ms = slot.backoff_ms;
    slot.backoff_ms = std::min(slot.backoff_ms * 2, kMaxBackoffMs);
  }
  slot.restart_at = now + wait_ms;
  spdlog::warn("local worker {} (pid {}) {}; restarting {}", slot.id, slot.pid, how,
               wait_ms == 0 ? std::string("now") : "in " + std::to_string(wait_ms) + " ms");
  slot.pid = -1;
  return how;
}

int WorkerSupervisor::PollTimeoutMs(int64_t now) const {
  int64_t ms = -1;  // nothing to wait for but exits and stop
  for (const Slot& slot : slots_) {
    int64_t until = -1;
    if (slot.pid < 0)
      until = std::max<int64_t>(0, slot.restart_at - now);
    else if (slot.pidfd < 0)
      until = kPollWithoutPidfdMs;
    if (until >= 0 && (ms < 0 || until < ms)) ms = until;
  }
  return static_cast<int>(ms);
}

void WorkerSupervisor::Loop() {
  for (;;) {
    std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}};
    int timeout_ms;
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      for (const Slot& slot : slots_)
        fds.push_back({slot.pidfd, POLLIN, 0});  // -1 is skipped by poll
      timeout_ms = PollTimeoutMs(NowMs());
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      spdlog::error("local workers: poll failed: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollWithoutPidfdMs));
    }
    std::vector<std::pair<std::string, std::string>> exited;  // id, how
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      const int64_t now = NowMs();
      for (size_t i = 0; i < slots_.size(); ++i) {
        Slot& slot = slots_[i];
        if (slot.pid > 0) {
          int status = 0;
          if (::waitpid(slot.pid, &status, WNOHANG) != slot.pid) continue;
          const std::string id = slot.id;
          exited.emplace_back(id, Reaped(slot, status, now));
        }
        if (slot.pid < 0 && now >= slot.restart_at) {
          Spawn(slot, i);
          ++restarts_;
        }
      }
    }
    // Outside the lock: the broker may take its time, and may ask for pids().
    if (o_.on_exit)
      for (const auto& [id, how] : exited) o_.on_exit(id, how);
  }
}

std::vector<pid_t> WorkerSupervisor::pids() const {
  std::lock_guard lk(mu_);
  std::vector<pid_t> out;
  for (const Slot& slot : slots_) out.push_back(slot.pid);
  return out;
}

WorkerSupervisor::~WorkerSupervisor() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  for (const Slot& slot : slots_)
    if (slot.pid > 0) ::kill(slot.pid, SIGTERM);  // drain: finish or hand back
  const int64_t deadline = NowMs() + o_.stop_timeout_ms;
  for (Slot& slot : slots_) {
    if (slot.pid > 0) {
      int status = 0;
      while (::waitpid(slot.pid, &status, WNOHANG) == 0) {
        if (NowMs() > deadline) {
          ::kill(slot.pid, SIGKILL);
          ::waitpid(slot.pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (slot.pidfd >= 0) ::close(slot.pidfd);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

}  // namespace normbase::server
