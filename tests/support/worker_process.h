// WorkerProcess: a real normbase-worker for tests — started with the given
// arguments, its output kept in a log file, stopped with SIGTERM (drain) or
// SIGKILL (crash). The binary is $NORMBASE_WORKER_BIN or the path compiled
// into the test (NORMBASE_WORKER_BIN). Dies with the test (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace normbase::testing {

class WorkerProcess {
 public:
  explicit WorkerProcess(std::vector<std::string> args);
  // Another program speaking the protocol (e.g. the Python example), with
  // extra environment entries "NAME=value".
  WorkerProcess(std::string program, std::vector<std::string> args, std::vector<std::string> env);
  ~WorkerProcess();  // SIGKILL if still running
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  bool Start();
  void Kill();                      // SIGKILL and reap
  int Terminate(int timeout_ms);    // SIGTERM; exit code, or -1 on timeout (then killed)
  // Waits for the process to exit by itself; its exit code, or -1 on timeout.
  int Wait(int timeout_ms);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string output() const;

  static std::string BinaryPath();

 private:
  std::string program_;
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace normbase::testing
