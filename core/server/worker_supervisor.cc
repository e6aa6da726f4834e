#include "server/worker_supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <spdlog/spdlog.h>

namespace normbase::server {
namespace fs = std::filesystem;
namespace {

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
  {
    std::lock_guard lk(s->mu_);
    for (int i = 0; i < s->o_.count; ++i) {
      s->ids_.emplace_back();
      s->pids_.push_back(s->Spawn(s->ids_.size() - 1));
      s->restart_at_.push_back(0);
      s->backoff_ms_.push_back(500);
    }
  }
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  spdlog::info("started {} local worker(s): {}", s->o_.count, s->o_.binary);
  return s;
}

pid_t WorkerSupervisor::Spawn(size_t index) {
  ids_[index] = "local-" + std::to_string(::getpid()) + "-" + std::to_string(index) + "-" +
                std::to_string(NowMs() % 100000);
  std::vector<std::string> args = {o_.binary,
                                   "--connect", o_.endpoint,
                                   "--capacity", std::to_string(o_.capacity),
                                   "--id", ids_[index],
                                   "--heartbeat-ms", std::to_string(o_.heartbeat_ms),
                                   "--heartbeat-expiry-ms", std::to_string(o_.heartbeat_expiry_ms)};
  if (!o_.plugins_dir.empty()) args.insert(args.end(), {"--plugins", o_.plugins_dir});
  if (!o_.key_file.empty()) args.insert(args.end(), {"--key", o_.key_file, "--server-key", o_.server_key});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
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
  if (pid < 0) spdlog::error("cannot start a local worker: fork failed");
  return pid;
}

void WorkerSupervisor::Loop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(100));
    if (stop_) break;
    const int64_t now = NowMs();
    std::vector<std::pair<std::string, std::string>> exited;  // id, how
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] > 0) {
        int status = 0;
        if (::waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
        const std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                                    : "exited with code " + std::to_string(WEXITSTATUS(status));
        spdlog::warn("local worker {} (pid {}) {}; restarting in {} ms", i, pids_[i], how, backoff_ms_[i]);
        exited.emplace_back(ids_[i], how);
        pids_[i] = -1;
        restart_at_[i] = now + backoff_ms_[i];
        backoff_ms_[i] = std::min(backoff_ms_[i] * 2, 30000);
      } else if (now >= restart_at_[i]) {
        pids_[i] = Spawn(i);
        ++restarts_;
        if (pids_[i] < 0) restart_at_[i] = now + backoff_ms_[i];
      }
    }
    if (!exited.empty() && o_.on_exit) {
      lk.unlock();
      for (const auto& [id, how] : exited) o_.on_exit(id, how);
      lk.lock();
      if (stop_) break;
    }
    // A worker that has stayed up a minute earns a fresh back-off.
    for (size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && restart_at_[i] != 0 && now - restart_at_[i] > 60000) {
        backoff_ms_[i] = 500;
        restart_at_[i] = 0;
      }
  }
}

std::vector<pid_t> WorkerSupervisor::pids() const {
  std::lock_guard lk(mu_);
  return pids_;
}

WorkerSupervisor::~WorkerSupervisor() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (pid_t p : pids_)
    if (p > 0) ::kill(p, SIGTERM);  // drain: finish or hand back
  const int64_t deadline = NowMs() + o_.stop_timeout_ms;
  for (pid_t p : pids_) {
    if (p <= 0) continue;
    int status = 0;
    while (::waitpid(p, &status, WNOHANG) == 0) {
      if (NowMs() > deadline) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace normbase::server
