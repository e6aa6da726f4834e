// JobBroker: the core's side of the worker bus. A ZeroMQ ROUTER socket that
// workers (DEALER) connect to over tcp or ipc; it hands queued jobs to workers
// that announced the plugin, never more in flight to a worker than the
// capacity it announced (credit-based flow control), keeps heartbeats both
// ways, enforces each dispatch's deadline, and turns results into durable
// records through service::Jobs.
//
// Reliability (unlike the guide's Majordomo broker, which forgets in-flight
// requests when a worker dies): every dispatch is recorded in RocksDB; a worker
// that falls silent or dies has its jobs re-queued (and isolated, in case one
// of them killed it); a job that keeps killing workers or timing out fails
// after max_attempts with the reason; a late or duplicate result is ignored.
// Garbage on the socket (bad frames, other protocol versions, unknown jobs)
// is dropped and counted, never a crash. Beyond loopback the socket requires
// CurveZMQ, with worker keys checked against an allow-list by a ZAP handler.
//
// Threading: one thread owns every ZeroMQ socket; other threads only enqueue
// (through the store's commit listener) and read snapshots. Start() returns
// once the socket is bound.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "domain/codec.h"
#include "domain/status.h"
#include "service/jobs.h"
#include "store/store.h"

namespace normbase::bus {

struct BrokerOptions {
  std::string endpoint = "tcp://127.0.0.1:7700";
  std::string curve_key_file;             // the server's key pair; required beyond loopback
  std::string allowed_keys_file;          // worker public keys allowed in
  std::set<std::string> extra_allowed_keys;  // e.g. the supervised local workers' key
  bool require_curve = false;             // also on loopback (tests, paranoid setups)
  int heartbeat_ms = 1000;
  int heartbeat_expiry_ms = 3000;  // three missed heartbeats
  int64_t job_timeout_ms = 60000;
  size_t max_message_bytes = 64u << 20;
  size_t max_workers = 1024;
};

struct BrokerStats {
  uint64_t workers = 0, queued = 0, in_flight = 0;
  uint64_t dispatched = 0, results = 0, stale_results = 0, malformed = 0, refused_hellos = 0;
  uint64_t workers_lost = 0, timeouts = 0, messages_in = 0, messages_out = 0;
  uint64_t job_bytes_out = 0, result_bytes_in = 0;  // payload sizes, for capacity planning
};

class JobBroker {
 public:
  // Binds, recovers the open jobs from the store and starts the broker thread.
  static Result<std::unique_ptr<JobBroker>> Start(BrokerOptions options, service::Jobs& jobs,
                                                  store::Store& store);
  ~JobBroker();  // stops the thread, closes the sockets (jobs stay durable)
  JobBroker(const JobBroker&) = delete;
  JobBroker& operator=(const JobBroker&) = delete;

  // The endpoint as bound (a tcp port of 0 resolved to the real one).
  const std::string& endpoint() const;
  // The server's public key when CurveZMQ is on, else empty.
  const std::string& public_key() const;
  // Connected workers with their plugins and in-flight jobs, for GET /workers.
  domain::Json WorkersView() const;
  BrokerStats Stats() const;
  // The process of the worker that said hello as `worker_id` is gone (the
  // local supervisor saw it exit; `how`: e.g. "was killed by signal 11").
  // Its leases are released at once (after a short grace for the messages it
  // sent last) instead of after the heartbeat expiry, charged as a lost
  // worker. Thread-safe; an unknown id is ignored.
  void WorkerExited(const std::string& worker_id, const std::string& how);

  class Impl;

 private:
  explicit JobBroker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace normbase::bus
