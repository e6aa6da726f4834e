// Store: Normbase's durable state in RocksDB, one column family per kind of
// record, and the only way to change it.
//
// Writes are mutations: functions that read through a WriteContext and stage
// puts and events. A single committer thread runs queued mutations one after
// another (so each sees every earlier one: serializable, no lost update), folds
// up to `max_group_requests` of them into ONE WriteBatch with their events and
// writes it with sync — group commit: one fsync acknowledges many requests.
// A mutation that fails is rolled back to its savepoint and contributes
// nothing; a failed write fails the whole group and nothing of it is visible.
// A mutation's callback runs only after its batch is durable.
//
// After a failed write the store refuses writes (Unavailable, naming the
// cause) and its committer thread retries the disk with bounded back-off
// (StoreOptions::retry_*): RocksDB's DB::Resume() where that is safe, else a
// close and reopen of the database, whose log replay leaves the failed group
// wholly present or wholly absent (its events then go to the commit listeners
// as if just committed, so the stream has no gap). Reads keep working.
//
// A thread inside an InlineCommitScope (the HTTP request handlers) that
// submits while no group is running and nothing is queued runs that group
// itself, before Submit returns, instead of waking the committer and being
// woken again by it: a lone writer's latency loses two thread hand-offs.
// Groups still never overlap, so everything above holds whichever thread
// runs one.
//
// Reads (Get/Scan/SeekForPrev) see committed state and are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/event.h"
#include "domain/status.h"

namespace normbase::store {

// Column families. The key layout of each is documented in records.h.
enum class Table : int {
  kMeta = 0,
  kCodebook,
  kAgreements,
  kAgreementHistory,
  kAgreementAt,
  kDatasetRevisions,
  kProposals,
  kProposalsByAgreement,
  kUsers,
  kTokens,
  kEvents,
  kJobs,
  // Since format version 2 a proposal's comments, reviews and revisions (with
  // their proposed agreements) are records of their own, not part of it.
  kComments,
  kReviews,
  kProposalRevisions,
  kCount
};
const char* TableName(Table t);

// Visitor for scans: return false to stop.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

// Read access shared by the committed store and a mutation's context.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual Result<std::optional<std::string>> Get(Table t, std::string_view key) const = 0;
  // Visits keys starting with `prefix`, in key order, beginning at `start`
  // (or at `prefix` when `start` is empty).
  virtual Status Scan(Table t, std::string_view prefix, std::string_view start,
                      const ScanFn& fn) const = 0;
  // The last entry with key <= `key` that still starts with `prefix`.
  virtual Result<std::optional<std::pair<std::string, std::string>>> SeekForPrev(
      Table t, std::string_view prefix, std::string_view key) const = 0;
};

// What a mutation may do. Valid only during the mutation, on the committer thread.
class WriteContext : public Reader {
 public:
  virtual void Put(Table t, std::string_view key, std::string_view value) = 0;
  virtual void Delete(Table t, std::string_view key) = 0;
  // Stages an event; assigns and returns its global sequence number and time.
  virtual uint64_t AppendEvent(domain::Event e) = 0;
  // Next value of a persistent counter ("proposal", "user", ...), from 1.
  virtual Result<int64_t> NextId(std::string_view counter) = 0;
  virtual int64_t Now() const = 0;  // ms since the epoch, from the store's clock
};

using Mutation = std::function<Status(WriteContext&)>;
// Runs once the mutation's batch is durable (or failed): on the committer
// thread, or, for a submission run inline (InlineCommitScope), on the
// submitting thread before Submit returns. Either way it must only hand the
// result on.
using CommitCallback = std::function<void(const Status&)>;
// Runs after each durable group, events in seq order, on the thread that ran
// the group; calls never overlap.
using CommitListener = std::function<void(const std::vector<domain::Event>&)>;

// While one lives on a thread, that thread's Submit may run the group itself
// (see the top of this file) when the store allows it
// (StoreOptions::inline_commits). Only for threads that can afford to wait for
// an fsync and whose callbacks accept running before Submit returns; never
// for a thread holding a lock the mutation or its callback takes.
class InlineCommitScope {
 public:
  InlineCommitScope();
  ~InlineCommitScope();
  InlineCommitScope(const InlineCommitScope&) = delete;
  InlineCommitScope& operator=(const InlineCommitScope&) = delete;
  static bool Active();  // on the calling thread

 private:
  bool outer_;
};

struct StoreOptions {
  std::string path;
  bool sync = true;                 // fsync every group: what is acknowledged survives a power cut
  size_t max_group_requests = 256;  // mutations folded into one batch and one fsync
  size_t max_queue = 10000;         // queued mutations beyond this are refused (Unavailable)
  bool inline_commits = true;       // an InlineCommitScope thread may run an idle store's group
  std::function<int64_t()> clock;   // ms since the epoch; the system clock when empty
  // Back-off between attempts to take writes again after a write failure:
  // the first after retry_min_ms, doubling up to retry_max_ms.
  int64_t retry_min_ms = 100;
  int64_t retry_max_ms = 5000;
};

struct StoreStats {
  uint64_t last_event_seq = 0;
  uint64_t commit_groups = 0;
  uint64_t commits_ok = 0;
  uint64_t commits_failed = 0;
  uint64_t queue_depth = 0;
  bool refusing_writes = false;     // after a write failure, until the store has recovered
  uint64_t write_recoveries = 0;    // times writes were taken again without a restart
  std::map<std::string, uint64_t> rocksdb;  // selected RocksDB properties
};

class Store : public Reader {
 public:
  // Opens (creating if missing) the database at options.path. Fails with a
  // clear message when the directory holds another format version or is
  // locked by another process.
  static Result<std::unique_ptr<Store>> Open(StoreOptions options);
  ~Store() override;  // drains queued mutations, then stops the committer

  // Queues a mutation; `done` runs after it is durable or has failed.
  virtual void Submit(Mutation m, CommitCallback done) = 0;
  // Submit and wait: for start-up, admin commands and tests.
  virtual Status Commit(Mutation m) = 0;

  virtual void AddCommitListener(CommitListener l) = 0;
  virtual uint64_t LastEventSeq() const = 0;
  virtual StoreStats Stats() const = 0;
  // Reads events with seq > after, at most `limit`, in order.
  virtual Result<std::vector<domain::Event>> ReadEvents(uint64_t after, size_t limit) const = 0;
  // Writes a consistent copy of the whole database into `dir`, which must not
  // exist yet (RocksDB checkpoint: table files hard-linked when on the same
  // file system, copied otherwise). It runs on the committer between two
  // commit groups, so the copy holds exactly the groups acknowledged before
  // it and nothing half-written; writes wait meanwhile (one memtable flush).
  // Returns the seq of the newest event in the copy.
  virtual Result<uint64_t> Checkpoint(const std::string& dir) = 0;

 protected:
  Store() = default;
};

// Big-endian fixed-width encoding so numeric keys sort in numeric order.
std::string EncodeU64(uint64_t v);
uint64_t DecodeU64(std::string_view s);  // 0 unless exactly 8 bytes

// The on-disk format this build writes. Version 1 (proposals holding their
// comments and reviews) is upgraded in place when opened (format_upgrade.h).
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestUpgradableFormat = 1;

}  // namespace normbase::store
