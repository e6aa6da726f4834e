// ServerProcess: runs the real normbase-server binary for integration tests —
// a temporary data directory, a port picked by the OS (--listen 127.0.0.1:0
// and --ready-file), and the bootstrap admin token read from the data dir.
// Stop() sends SIGTERM and waits; Kill() sends SIGKILL (crash simulation);
// Start() again reuses the same data directory. The destructor kills the
// process if it still runs and removes the data directory (set
// NORMBASE_KEEP_TEST_DATA=1 to keep it, and the server log, for a post-mortem).
//
// The binary is $NORMBASE_SERVER_BIN when set, else the path compiled into
// the test executable (the NORMBASE_SERVER_BIN definition, registered below).
// The server is started with PR_SET_PDEATHSIG, so it dies with the thread
// that started it: start servers from the test's main thread.
// Thread-compatible: one ServerProcess is driven by one thread at a time.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace normbase::testing {

class ServerProcess {
 public:
  // `extra_args` are appended to the command line (e.g. {"--body-limit", "1000"}).
  explicit ServerProcess(std::vector<std::string> extra_args = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the binary and waits (up to 20 s) until it listens. False on failure;
  // the server's output is then in output().
  bool Start();
  // SIGTERM, then wait for exit (up to 20 s). Returns the exit status (or -1).
  int Stop();
  // SIGKILL, then reap.
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::string& base_url() const { return base_url_; }  // "http://127.0.0.1:PORT"
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& admin_token() const { return admin_token_; }
  std::string output() const;  // stdout+stderr of all runs so far
  // The arguments the extra args are appended to, for messages.
  std::vector<std::string> CommandLine() const;

  // Runs the server binary once with `args` (e.g. {"admin", "list-users",
  // "--data", dir}) and returns {exit code, combined output}. The run is
  // killed after `timeout_ms`; the exit code is then -1.
  static std::pair<int, std::string> RunBinary(const std::vector<std::string>& args,
                                               int timeout_ms = 30000);
  static std::string BinaryPath();
  // Sets the path BinaryPath() falls back to (done by the header below).
  static void SetCompiledBinaryPath(const char* path);

 private:
  std::vector<std::string> extra_args_;
  std::string data_dir_;
  std::string log_path_;
  std::string ready_path_;
  std::string base_url_;
  std::string admin_token_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The support library is compiled without NORMBASE_SERVER_BIN; the test
// executable has it, so each of its translation units registers it here.
#ifdef NORMBASE_SERVER_BIN
namespace internal {
inline const bool kServerBinaryRegistered =
    (ServerProcess::SetCompiledBinaryPath(NORMBASE_SERVER_BIN), true);
}  // namespace internal
#endif

}  // namespace normbase::testing
