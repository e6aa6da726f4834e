// The parts of the store's recovery from write failures that are not the
// committer itself (rocks_store.cc drives them): which failures RocksDB can
// clear by itself, a probe that says whether the disk takes synced writes
// again, and the bounded back-off between attempts. Private to core/store
// (it names RocksDB types). Why the store reopens rather than resumes after
// a failed log write is in BackgroundErrorListener's comment.
#pragma once

#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

namespace normbase::store {

// Watches RocksDB's background errors for failures of the write-ahead log
// (reason kWriteCallback: a failed append or sync of the log, which is how a
// failed commit shows). On RocksDB 7.8 DB::Resume() cannot clear those
// safely, found by store_recovery_test.cc:
//   - an I/O error is "fatal": Resume() refuses until the DB is reopened;
//   - a full disk is "hard" and RocksDB resumes (by itself or on Resume()),
//     but when every memtable was empty it keeps the failed log writer, and
//     the next write aborts the process (assertion in WritableFileWriter).
// So after such a failure the store closes and reopens the database (the
// log replay keeps or drops the failed batch whole), and this listener turns
// RocksDB's own automatic recovery off for it. Failures of flushes and
// compactions (a full disk while writing a table file) are left to RocksDB's
// recovery and DB::Resume(), which work for them. Thread-safe.
class BackgroundErrorListener final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override;
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason, rocksdb::Status error,
                            bool* auto_recovery) override;

  // Whether a log write failed since the last Reset().
  bool log_failed() const { return log_failed_.load(std::memory_order_acquire); }
  // Before reopening the database: a fresh instance has a fresh log.
  void Reset() { log_failed_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> log_failed_{false};
};

// Creates, writes, syncs, closes and deletes a small file in `dir` through
// `fs`: ok when the disk takes synced writes again. The store reopens its
// database only after this succeeds, so that while the disk is still failing
// the open (read-only) database keeps serving reads.
rocksdb::IOStatus ProbeDisk(rocksdb::FileSystem& fs, const std::string& dir);
inline constexpr char kProbeFileName[] = "normbase-write-probe";

// Exponential back-off between recovery attempts: min_ms, doubling, at most
// max_ms. Not thread-safe (the committer thread owns it).
class Backoff {
 public:
  Backoff(int64_t min_ms, int64_t max_ms)
      : min_ms_(std::max<int64_t>(1, min_ms)),
        max_ms_(std::max(min_ms_, max_ms)),
        next_ms_(min_ms_) {}
  // The delay before the next attempt; each call doubles the following one.
  int64_t Next() {
    const int64_t d = next_ms_;
    next_ms_ = std::min(max_ms_, next_ms_ * 2);
    return d;
  }
  // After a successful write: the next failure starts again at min_ms. (Not
  // after a successful recovery: a disk that fails again at once would
  // otherwise be retried every min_ms forever.)
  void Reset() { next_ms_ = min_ms_; }

 private:
  int64_t min_ms_, max_ms_, next_ms_;
};

}  // namespace normbase::store
