// Fault-test support: a durable-write load that remembers exactly what the
// server acknowledged, a checker that compares a (restarted) server against
// that ledger and against its own event log, and a loop-mounted ext4 image
// whose "power cut" keeps only what reached the block device.
//
// Used by crash_test.cc (SIGKILL and power-cut rounds), io_fault_test.cc
// (libfiu and a full disk) and worker_fault_test.cc. Everything talks to the
// real normbase-server over HTTP (tests/support/http_client.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"

namespace normbase::faults {

// What a load learned from the server's answers.
struct Ledger {
  // Acknowledged (201): proposal id -> the agreement id it adds.
  std::map<int64_t, std::string> proposals;
  // Acknowledged (201): proposal id -> comment id -> comment text.
  std::map<int64_t, std::map<int64_t, std::string>> comments;
  size_t unanswered = 0;                   // sent, no answer: may or may not be durable
  std::map<int, size_t> statuses;          // every answer by HTTP status (0: no answer)
  std::vector<std::string> error_details;  // a few problem details of refused writes

  size_t acknowledged() const;
  void Merge(const Ledger& other);
};

// Threads that each send proposals (an "add" with a fresh agreement id, so
// every one queues check jobs) and comments on their own last acknowledged
// proposal, one request in flight per thread, until Stop() or until the
// server stops answering (a connection that fails ends that thread: the
// server is presumed dead). Comment texts and agreement ids carry `tag`, so
// rounds never collide.
class WriteLoad {
 public:
  WriteLoad(std::string base_url, std::string token, int threads, std::string tag);
  ~WriteLoad();
  void Start();
  // Asks the threads to stop after their current request and joins them.
  Ledger Stop();
  size_t acknowledged() const { return acked_.load(); }
  size_t answered() const { return answered_.load(); }
  // When set, a thread keeps going after a failed connection (I/O-fault
  // tests: the server stays up and answers errors).
  void set_keep_going(bool v) { keep_going_ = v; }

 private:
  void Run(int index);
  std::string base_url_, token_, tag_;
  int threads_;
  bool keep_going_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0}, answered_{0};
  std::vector<std::thread> workers_;
  std::mutex mu_;
  Ledger ledger_;  // GUARDED_BY(mu_), merged in as each thread ends
};

// What the checker found; empty lists mean the server kept its promises.
struct Report {
  std::vector<std::string> lost;     // acknowledged, not there (or different)
  std::vector<std::string> partial;  // a change without its event or the reverse
  std::vector<std::string> gaps;     // the event log is not 1..N
  std::vector<std::string> jobs;     // jobs that did not end, or ended twice
  std::vector<std::string> other;    // the server could not be read at all
  uint64_t last_seq = 0;
  size_t proposals_seen = 0, jobs_seen = 0;
  bool ok() const {
    return lost.empty() && partial.empty() && gaps.empty() && jobs.empty() && other.empty();
  }
  std::string Summary(size_t per_kind = 5) const;
};

struct CheckOptions {
  // Proposals whose comments are compared one by one (GET each): the
  // acknowledged ones of the last round plus a sample of older ones.
  std::set<int64_t> deep;
  // Wait this long for every job to end (0: do not look at jobs' states).
  int jobs_timeout_ms = 60000;
  // Each job must end exactly once (one check.done or check.failed event).
  bool exactly_once = true;
};

// Compares the server at `admin` (a client with the admin token) against
// everything acknowledged so far, and the event log against the records.
Report Verify(testing::HttpClient& admin, const Ledger& acknowledged, const CheckOptions& options);

// Every item of a paginated list ({items, next_cursor}) at `path`.
bool ReadList(testing::HttpClient& c, const std::string& path, std::vector<nlohmann::json>& out,
              std::string* error);

// The whole event log (as the admin sees it), page by page.
std::vector<nlohmann::json> ReadAllEvents(testing::HttpClient& admin, std::string* error);

// Polls `probe` every 20 ms until true or `timeout_ms`; returns the last result.
bool WaitUntil(const std::function<bool()>& probe, int timeout_ms);

// An ext4 file system in a sparse image file, loop-mounted on a directory.
// PowerCut() simulates losing power: it copies the image file as the loop
// device holds it right now (what the file system wrote back or flushed:
// fsynced data, and whatever the kernel happened to write back), without
// syncing the mounted file system first, then throws the old mount away and
// mounts the copy in its place. The copy's journal is replayed on mount, as
// after a real power cut. Needs root and loop devices; Available() says why not.
class LoopImage {
 public:
  LoopImage(std::string image_path, int size_mb);
  ~LoopImage();  // unmounts and removes the image
  static bool Available(std::string* why);
  bool Create(std::string* error);
  bool Mount(const std::string& dir, std::string* error);
  bool PowerCut(std::string* error);
  bool Unmount(std::string* error);
  // Makes everything written so far durable (syncfs on the mount).
  bool Sync(std::string* error);
  const std::string& mount_dir() const { return dir_; }

 private:
  std::string image_;
  int size_mb_;
  std::string dir_;
  int generation_ = 0;
};

// Runs a shell command; its exit code, output appended to `output` if given.
int Shell(const std::string& command, std::string* output = nullptr);

}  // namespace normbase::faults
