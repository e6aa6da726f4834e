// The store after a failed write, on a RocksDB file system that fails log
// appends, syncs or table-file writes on demand (FaultFs below, through the
// OpenRocksStore seam): writes are refused with the cause while reads keep
// working; once the disk works again writes are taken again without a
// restart; the failed group is wholly there or wholly absent, the event log
// and the commit listener's stream have no gap, and counters continue after
// what is there. Also what RocksDB 7.8 does by itself (disk_recovery.h).
#include <gtest/gtest.h>
#include <rocksdb/file_system.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/codec.h"
#include "store/disk_recovery.h"
#include "store/rocks_store.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace normbase::store {
namespace {

using domain::Event;
using normbase::testing::TempDir;
using namespace std::chrono_literals;

// ---- a file system that fails on demand ----

enum class Fault { kNone, kAppendIoError, kSyncIoError, kAppendNoSpace };

struct FaultSwitch {
  std::atomic<Fault> fault{Fault::kNone};
  // Only files whose name contains one of these '|'-separated parts ("" = every file).
  std::string match;
  bool Matches(const std::string& file) const {
    size_t from = 0;
    for (;;) {
      const size_t bar = match.find('|', from);
      if (file.find(match.substr(from, bar - from)) != std::string::npos) return true;
      if (bar == std::string::npos) return false;
      from = bar + 1;
    }
  }
  std::atomic<int> hits{0};
};

class FaultFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<FaultSwitch> sw)
      : FSWritableFileOwnerWrapper(std::move(f)), sw_(std::move(sw)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* g) override {
    if (auto s = AppendFault(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(d, o, g);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* g) override {
    if (auto s = AppendFault(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(d, o, v, g);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* g) override {
    if (auto s = AppendFault(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, g);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
    if (auto s = SyncFault(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Sync(o, g);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
    if (auto s = SyncFault(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Fsync(o, g);
  }

 private:
  // What RocksDB's POSIX file system returns for EIO and ENOSPC.
  rocksdb::IOStatus AppendFault() {
    switch (sw_->fault.load()) {
      case Fault::kAppendIoError:
        ++sw_->hits;
        return rocksdb::IOStatus::IOError("While appending to file: f", "Input/output error");
      case Fault::kAppendNoSpace: {
        ++sw_->hits;
        auto s =
            rocksdb::IOStatus::NoSpace("While appending to file: f", "No space left on device");
        s.SetRetryable(true);
        return s;
      }
      default:
        return rocksdb::IOStatus::OK();
    }
  }
  rocksdb::IOStatus SyncFault() {
    if (sw_->fault.load() != Fault::kSyncIoError) return rocksdb::IOStatus::OK();
    ++sw_->hits;
    return rocksdb::IOStatus::IOError("While fdatasync: f", "Input/output error");
  }

  std::shared_ptr<FaultSwitch> sw_;
};

class FaultFs final : public rocksdb::FileSystemWrapper {
 public:
  FaultFs(std::shared_ptr<FaultSwitch> sw)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), sw_(std::move(sw)) {}
  const char* Name() const override { return "FaultFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* g) override {
    return Wrap(f, target()->NewWritableFile(f, o, r, g), r);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* g) override {
    return Wrap(f, target()->ReopenWritableFile(f, o, r, g), r);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& f, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* r) {
    if (s.ok() && sw_->Matches(f))
      *r = std::make_unique<FaultFile>(std::move(*r), sw_);
    return s;
  }
  std::shared_ptr<FaultSwitch> sw_;
};

// ---- fixture ----

// Reads one key over and over on its own thread until Stop(), counting the
// answers that had it and those that did not (errors or a missing key).
class BackgroundReader {
 public:
  BackgroundReader(const Store& store, std::string key)
      : thread_([this, &store, key = std::move(key)] {
          while (!stop_) {
            auto v = store.Get(Table::kJobs, key);
            (v.ok() && v->has_value() ? reads_ : failures_)++;
          }
        }) {}
  ~BackgroundReader() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int reads() const { return reads_.load(); }
  int failures() const { return failures_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> reads_{0}, failures_{0};
  std::thread thread_;  // last: starts once the counters exist
};

class StoreRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { fs_ = std::make_shared<FaultFs>(sw_); }
  void TearDown() override { store_.reset(); }  // closed before dir_ goes

  void Open() {
    StoreOptions o;
    o.path = dir_ + "/db";
    o.retry_min_ms = 20;
    o.retry_max_ms = 200;
    auto s = OpenRocksStore(std::move(o), fs_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    store_->AddCommitListener([this](const std::vector<Event>& es) {
      std::lock_guard lk(heard_mu_);
      for (const auto& e : es) heard_.push_back(e.seq);
    });
  }

  // Stores item `name` (key "item/<name>" = its proposal-like id) and its event, in one mutation.
  Status Write(const std::string& name) {
    return store_->Commit([name](WriteContext& w) -> Status {
      NB_ASSIGN_OR_RETURN(int64_t id, w.NextId("item"));
      w.Put(Table::kJobs, "item/" + name, std::to_string(id));
      Event e;
      e.type = "item.created";
      e.subjects["item"] = name;
      w.AppendEvent(std::move(e));
      return Status::Ok();
    });
  }

  // Writes `name` until it is taken (the store recovering), at most `limit`.
  bool WriteUntilTaken(const std::string& name, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (Write(name).ok()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::optional<std::string> Item(const std::string& name) {
    auto v = store_->Get(Table::kJobs, "item/" + name);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : std::nullopt;
  }

  std::vector<Event> Events() {
    auto ev = store_->ReadEvents(0, 1'000'000);
    EXPECT_TRUE(ev.ok()) << ev.status().ToString();
    return ev.ok() ? *ev : std::vector<Event>{};
  }
  bool HasEventFor(const std::string& name) {
    for (const auto& e : Events())
      if (e.subjects.count("item") && e.subjects.at("item") == name) return true;
    return false;
  }

  // The invariants after any failure: events 1..N without a gap, each with
  // its item and each item with its event; item ids distinct; the listener
  // heard exactly 1..N in order; LastEventSeq is N.
  void ExpectConsistent() {
    const auto events = Events();
    std::set<std::string> ids;
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].seq, i + 1) << "gap in the event log";
      const std::string name = events[i].subjects.at("item");
      auto id = Item(name);
      ASSERT_TRUE(id.has_value()) << "event " << events[i].seq << " without its item " << name;
      EXPECT_TRUE(ids.insert(*id).second) << "id " << *id << " given twice";
    }
    size_t items = 0;
    ASSERT_TRUE(
        store_->Scan(Table::kJobs, "item/", "", [&](auto, auto) { return ++items, true; }).ok());
    EXPECT_EQ(items, events.size()) << "an item without its event";
    EXPECT_EQ(store_->LastEventSeq(), events.size());
    std::lock_guard lk(heard_mu_);
    ASSERT_EQ(heard_.size(), events.size()) << "the commit listeners missed or repeated events";
    for (size_t i = 0; i < heard_.size(); ++i) EXPECT_EQ(heard_[i], i + 1);
  }

  // Reads during the fault: what was acknowledged is there.
  void ExpectReadsServed(int acknowledged) {
    for (int i = 0; i < acknowledged; ++i)
      EXPECT_TRUE(Item("before-" + std::to_string(i)).has_value());
    EXPECT_EQ(Events().size(), static_cast<size_t>(acknowledged));
  }

  void WriteBefore(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(Write("before-" + std::to_string(i)).ok());
  }

  TempDir tmp_{"nb-recovery"};
  const std::string dir_ = tmp_.path();
  std::shared_ptr<FaultSwitch> sw_ = std::make_shared<FaultSwitch>();
  std::shared_ptr<FaultFs> fs_;
  std::unique_ptr<Store> store_;
  std::mutex heard_mu_;
  std::vector<uint64_t> heard_;  // GUARDED_BY(heard_mu_)
};

TEST(BackoffTest, DoublesUpToTheBoundAndStartsOverAfterAReset) {
  Backoff b(100, 5000);
  std::vector<int64_t> got;
  for (int i = 0; i < 8; ++i) got.push_back(b.Next());
  EXPECT_EQ(got, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000}));
  b.Reset();
  EXPECT_EQ(b.Next(), 100);
}

// A failing disk (every write fails with EIO): the failed commit is told
// "not confirmed", later ones "not saved"; reads work throughout; RocksDB
// calls the error fatal (Resume cannot clear it), so the store reopens once
// the disk takes writes again. The failed append left nothing, so it is absent.
TEST_F(StoreRecoveryTest, FailingDiskRefusesWritesServesReadsAndResumesWithoutRestart) {
  Open();
  WriteBefore(5);
  sw_->fault = Fault::kAppendIoError;
  const Status failed = Write("failed");
  ASSERT_EQ(failed.code(), Status::Code::kUnavailable) << failed.ToString();
  EXPECT_NE(failed.message().find("could not write to its disk (Input/output error)"),
            std::string::npos)
      << failed.message();
  EXPECT_NE(failed.message().find("not confirmed"), std::string::npos) << failed.message();
  EXPECT_TRUE(store_->Stats().refusing_writes);

  // Several recovery attempts fail while the disk does (20, 40, 80, 160 ms).
  for (int i = 0; i < 4; ++i) {
    const Status refused = Write("refused-" + std::to_string(i));
    EXPECT_EQ(refused.code(), Status::Code::kUnavailable);
    EXPECT_NE(refused.message().find("was not saved"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("Input/output error"), std::string::npos) << refused.message();
    ExpectReadsServed(5);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(store_->Stats().refusing_writes);
  EXPECT_EQ(store_->Stats().write_recoveries, 0u);

  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("after")) << "writes did not resume once the disk worked";
  EXPECT_FALSE(store_->Stats().refusing_writes);
  EXPECT_EQ(store_->Stats().write_recoveries, 1u);
  EXPECT_FALSE(Item("failed").has_value());
  EXPECT_FALSE(HasEventFor("failed"));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Item("refused-" + std::to_string(i)).has_value());
  EXPECT_EQ(*Item("after"), "6") << "the id counter must continue after what is there";
  ExpectConsistent();

  // A restart finds exactly the same.
  const auto events = Events().size();
  store_.reset();
  {
    std::lock_guard lk(heard_mu_);
    heard_.clear();
  }
  Open();
  EXPECT_EQ(Events().size(), events);
  ASSERT_TRUE(Write("after-restart").ok());
  EXPECT_EQ(*Item("after-restart"), "7");
}

// The same with writes run inline (InlineCommitScope): the write that meets
// the failure runs on this thread, which then hands the recovery over to the
// committer (it retries on its timer, with no write queued); once the disk
// works, writes run inline again.
TEST_F(StoreRecoveryTest, InlineWriterThatMeetsTheFailureHandsRecoveryToTheCommitter) {
  Open();
  InlineCommitScope inline_commits;
  WriteBefore(3);
  sw_->fault = Fault::kAppendIoError;
  const Status failed = Write("failed");
  ASSERT_EQ(failed.code(), Status::Code::kUnavailable) << failed.ToString();
  EXPECT_TRUE(store_->Stats().refusing_writes);
  ExpectReadsServed(3);
  std::this_thread::sleep_for(100ms);  // the committer's attempts at 20, 40 ms fail
  EXPECT_TRUE(store_->Stats().refusing_writes);

  sw_->fault = Fault::kNone;
  // Recovered by the committer's own retry, with nothing submitted since.
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (store_->Stats().refusing_writes && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(store_->Stats().refusing_writes) << "the committer did not retry the disk";
  EXPECT_EQ(store_->Stats().write_recoveries, 1u);
  ASSERT_TRUE(Write("after").ok());

  // A write while the store refuses is not run here; the committer refuses it.
  sw_->fault = Fault::kAppendIoError;
  EXPECT_EQ(Write("failed-again").code(), Status::Code::kUnavailable);
  const Status refused = Write("refused");
  EXPECT_EQ(refused.code(), Status::Code::kUnavailable);
  EXPECT_NE(refused.message().find("was not saved"), std::string::npos) << refused.message();
  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("last"));
  for (const char* gone : {"failed", "failed-again", "refused"})
    EXPECT_FALSE(Item(gone).has_value()) << gone;
  EXPECT_EQ(*Item("after"), "4");
  EXPECT_EQ(*Item("last"), "5");
  ExpectConsistent();
}

// A failing fsync: the log record of the failed group was written, only not
// synced, so the reopen replays it: the write RocksDB refused is there,
// whole, with its event, which the commit listeners now hear, in order.
TEST_F(StoreRecoveryTest, FailedSyncKeepsTheWriteWholeAndTheStreamWithoutGap) {
  Open();
  WriteBefore(3);
  sw_->fault = Fault::kSyncIoError;
  EXPECT_EQ(Write("unsynced").code(), Status::Code::kUnavailable);
  EXPECT_EQ(Write("refused").code(), Status::Code::kUnavailable);
  ExpectReadsServed(3);
  EXPECT_FALSE(Item("unsynced").has_value()) << "visible before it was durable";
  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("after"));
  EXPECT_EQ(Item("unsynced").has_value(), HasEventFor("unsynced")) << "half there";
  EXPECT_TRUE(Item("unsynced").has_value()) << "its log record was written: the replay keeps it";
  EXPECT_FALSE(Item("refused").has_value());
  EXPECT_EQ(*Item("after"), "5");
  ExpectConsistent();
}

// A full disk while appending to the log, just after the memtables were
// flushed (a checkpoint flushes them). RocksDB 7.8 would resume by itself
// and then abort the process on the next write (disk_recovery.h); the store
// reopens instead, and keeps going.
TEST_F(StoreRecoveryTest, FullDiskOnTheLogWithEmptyMemtablesRecoversWithoutAbort) {
  Open();
  WriteBefore(3);
  auto cp = store_->Checkpoint(dir_ + "/checkpoint");
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  sw_->fault = Fault::kAppendNoSpace;
  const Status failed = Write("failed");
  EXPECT_NE(failed.message().find("the disk is full"), std::string::npos) << failed.message();
  const Status refused = Write("refused");
  EXPECT_NE(refused.message().find("the disk is full"), std::string::npos) << refused.message();
  std::this_thread::sleep_for(1500ms);  // RocksDB's own retry interval is 1 s
  ExpectReadsServed(3);
  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("after"));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Write("more-" + std::to_string(i)).ok());
  EXPECT_FALSE(Item("failed").has_value());
  ExpectConsistent();
}

// A full disk while writing a table file (a flush): the log is fine, and
// RocksDB's own recovery or DB::Resume() clears it without a reopen.
TEST_F(StoreRecoveryTest, FullDiskOnATableFileIsClearedByRocksDbResume) {
  sw_->match = ".sst";
  Open();
  WriteBefore(3);
  sw_->fault = Fault::kAppendNoSpace;
  // The checkpoint's flush writes a table file and fails; the database stops taking writes.
  EXPECT_FALSE(store_->Checkpoint(dir_ + "/checkpoint").ok());
  const Status refused = Write("refused");
  EXPECT_EQ(refused.code(), Status::Code::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("the disk is full"), std::string::npos) << refused.message();
  EXPECT_TRUE(store_->Stats().refusing_writes);
  ExpectReadsServed(3);
  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("after"));
  EXPECT_EQ(store_->Stats().write_recoveries, 1u);
  EXPECT_FALSE(Item("refused").has_value());
  ExpectConsistent();
}

// A fault on the log file only: the disk probe cannot see it, so the store
// reopens while it persists and the next write fails again. Reads never fail
// meanwhile, from another thread, and writes come back once it clears.
TEST_F(StoreRecoveryTest, FaultOnlyOnTheLogKeepsReadsWorkingThroughReopens) {
  sw_->match = ".log";
  Open();
  WriteBefore(5);
  BackgroundReader reader(*store_, "item/before-0");
  sw_->fault = Fault::kAppendIoError;
  const auto end = std::chrono::steady_clock::now() + 600ms;
  int refused = 0;
  for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
    if (!Write("during-" + std::to_string(i)).ok()) ++refused;
    std::this_thread::sleep_for(15ms);
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(store_->Stats().write_recoveries, 0u)
      << "the store never reopened while the log failed";
  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("after"));
  reader.Stop();
  EXPECT_GT(reader.reads(), 0);
  EXPECT_EQ(reader.failures(), 0);
  ExpectConsistent();
}

// A failed log write, then a disk that takes the probe but not what opening
// the database writes (a new manifest): the reopen fails, and reads are
// served from a read-only instance meanwhile, never refused; once the fault
// clears, writes resume.
TEST_F(StoreRecoveryTest, FailedReopenKeepsServingReadsFromAReadOnlyInstance) {
  sw_->match = ".log|MANIFEST";
  Open();
  WriteBefore(3);
  BackgroundReader reader(*store_, "item/before-0");
  sw_->fault = Fault::kAppendIoError;
  EXPECT_EQ(Write("failed").code(), Status::Code::kUnavailable);
  EXPECT_EQ(Write("refused").code(), Status::Code::kUnavailable);
  std::this_thread::sleep_for(600ms);  // reopen attempts at 20, 40, 80, 160, 200 ms
  EXPECT_TRUE(store_->Stats().refusing_writes);
  ExpectReadsServed(3);
  sw_->fault = Fault::kNone;
  ASSERT_TRUE(WriteUntilTaken("after"));
  reader.Stop();
  EXPECT_GT(reader.reads(), 0);
  EXPECT_EQ(reader.failures(), 0);
  EXPECT_FALSE(Item("failed").has_value());
  EXPECT_FALSE(Item("refused").has_value());
  ExpectConsistent();
}

}  // namespace
}  // namespace normbase::store
