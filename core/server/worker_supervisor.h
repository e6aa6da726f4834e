// WorkerSupervisor: the local workers normbase-server starts itself
// (--workers N), so that one command runs everything. It restarts a worker
// that exits or crashes (with back-off, so a worker that dies at once does not
// spin), and on shutdown asks each to drain (SIGTERM), then kills what is left.
// Workers die with the server (PR_SET_PDEATHSIG). Remote workers are not its
// business: they connect to the bus on their own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
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
  explicit WorkerSupervisor(SupervisorOptions o) : o_(std::move(o)) {}
  pid_t Spawn(size_t index);
  void Loop();

  SupervisorOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // GUARDED_BY(mu_)
  std::vector<pid_t> pids_;           // GUARDED_BY(mu_); -1: waiting to restart
  std::vector<std::string> ids_;      // GUARDED_BY(mu_): the --id each was started with
  std::vector<int64_t> restart_at_;   // GUARDED_BY(mu_)
  std::vector<int> backoff_ms_;       // GUARDED_BY(mu_)
  std::atomic<int> restarts_{0};
  std::thread thread_;
};

// Where normbase-worker is: `configured`, else beside /proc/self/exe, else
// the build tree's (when compiled in).
std::string FindWorkerBinary(const std::string& configured);

}  // namespace normbase::server
