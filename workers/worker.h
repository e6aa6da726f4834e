// Worker: the normbase-worker process. It connects a DEALER socket to the
// core's bus, announces its plugins and capacity (Hello), runs up to
// `capacity` jobs at once on its own threads, and sends results, progress and
// heartbeats. Heartbeats come from this loop, not from ZeroMQ's I/O thread,
// and carry the ids of the running jobs, so the core sees what really runs.
//
// A job that outlives its timeout is reported as TIMEOUT at once; since a
// thread cannot be stopped safely, a worker with a stuck plugin hands back
// its other jobs and exits (code 75) so its supervisor starts a fresh one.
// When the core falls silent the worker reconnects with back-off and says
// Hello again. SIGTERM drains: no new jobs, queued ones handed back, running
// ones finished (up to drain_timeout_ms, then handed back), then exit 0.
#pragma once

#include <string>
#include <vector>

#include "domain/status.h"
#include "plugin_host.h"

namespace normbase::worker {

struct WorkerOptions {
  std::string connect = "tcp://127.0.0.1:7700";
  std::string plugins_dir;
  std::vector<std::string> only_plugins;
  unsigned capacity = 2;
  std::string id;                // default: <hostname>-<pid>-<random>
  std::string key_file;          // this worker's CurveZMQ key pair
  std::string server_key;        // the core's public key (file or Z85)
  int heartbeat_ms = 1000;       // until the core's Welcome says otherwise
  int heartbeat_expiry_ms = 5000;
  int drain_timeout_ms = 30000;
  int max_backoff_ms = 30000;
  size_t max_message_bytes = 64u << 20;
  size_t memory_limit_mb = 4096; // RLIMIT_AS for the whole process; 0: none
};

// Exit codes of Run().
inline constexpr int kExitOk = 0;
inline constexpr int kExitConfig = 2;   // bad options, no plugins, refused by the core
inline constexpr int kExitStuck = 75;   // a plugin hung: restart me

// Runs until SIGTERM/SIGINT (drains) or a fatal condition; returns the exit code.
int RunWorker(const WorkerOptions& options, const PluginHost& plugins);

}  // namespace normbase::worker
