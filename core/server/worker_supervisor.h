// WorkerSupervisor: the local workers normbase-server starts itself
// (--workers N), so that one command runs everything. It sees a worker exit
// the moment it happens (a pidfd per worker, no polling), tells the broker, and
// starts it again: at once for the first few exits in a window (a plugin that
// crashed on one input should cost one restart, not seconds of capacity), then
// with a back-off, so a worker that cannot start does not spin. On shutdown it
// asks each to drain (SIGTERM), then kills what is left. Workers die with the
// server (PR_SET_PDEATHSIG). Remote workers are not its business: they connect
// to the bus on their own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/status.h"

namespace normbase::server {

struct SupervisorOptions {
  int count = 2;
  unsigned capacity = 2;
  std::string binary;       // empty: normbase-worker beside the server binary
  std::string plugins_dir;  // empty: the worker's default
  // Filled by the server: where and how to connect.
  std::string endpoint;
  std::string key_file;     // CurveZMQ key pair of the local workers
  std::string server_key;   // the server's public key (Z85)
  int heartbeat_ms = 1000;
  int heartbeat_expiry_ms = 3000;
  int stop_timeout_ms = 10000;
  // Restart policy: up to `restart_burst` exits of one worker within
  // `restart_window_ms` are answered by an immediate restart; beyond that
  // each restart waits, from 500 ms doubling up to 30 s. A worker that stayed
  // up for `stable_ms` starts over with a clean record.
  int restart_burst = 3;
  int restart_window_ms = 10000;
  int stable_ms = 60000;
  // Called (from the supervisor's thread) when a worker exits on its own or
  // is killed, with the id it was started with: the broker then releases its
  // jobs at once rather than after the heartbeat expiry.
  std::function<void(const std::string& worker_id, const std::string& how)> on_exit;
};

class WorkerSupervisor {
 public:
  // Resolves the binary and starts the workers. Fails when the binary is missing.
  static Result<std::unique_ptr<WorkerSupervisor>> Start(SupervisorOptions options);
  ~WorkerSupervisor();  // SIGTERM, wait up to stop_timeout_ms, SIGKILL
  WorkerSupervisor(const WorkerSupervisor&) = delete;
  WorkerSupervisor& operator=(const WorkerSupervisor&) = delete;

  std::vector<pid_t> pids() const;
  int restarts() const { return restarts_; }

 private:
  // One local worker: its process while it runs, its record of exits.
  struct Slot {
    pid_t pid = -1;      // -1: waiting to restart
    int pidfd = -1;      // readable when the process exits; -1 without pidfd support
    std::string id;      // the --id it was started with
    int generation = 0;  // starts so far (part of the id)
    int64_t started_at = 0;
    int64_t restart_at = 0;
    int backoff_ms = 0;         // the next delayed restart's wait
    std::deque<int64_t> exits;  // within the restart window
  };

  explicit WorkerSupervisor(SupervisorOptions o) : o_(std::move(o)) {}
  void Spawn(Slot& slot, size_t index);
  // The process of `slot` is gone: reap it, plan its restart, say how it ended.
  std::string Reaped(Slot& slot, int status, int64_t now);
  int PollTimeoutMs(int64_t now) const;
  void Loop();

  SupervisorOptions o_;
  int wake_fd_ = -1;  // eventfd: stop
  mutable std::mutex mu_;
  bool stop_ = false;                 // GUARDED_BY(mu_)
  std::vector<Slot> slots_;           // GUARDED_BY(mu_); changed only by the loop thread
  std::atomic<int> restarts_{0};
  std::thread thread_;
};

// Where normbase-worker is: `configured`, else beside /proc/self/exe, else
// the build tree's (when compiled in).
std::string FindWorkerBinary(const std::string& configured);

}  // namespace normbase::server
