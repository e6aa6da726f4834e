// RocksDB implementation of Store: the committer thread, group commit, and
// recovery from write failures without a restart (store.h, disk_recovery.h).
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <thread>

#include "domain/codec.h"
#include "store/disk_recovery.h"
#include "store/format_upgrade.h"
#include "store/info_log.h"
#include "store/rocks_store.h"
#include "store/store.h"
#include "store/write_failure.h"

namespace normbase::store {

const char* TableName(Table t) {
  switch (t) {
    case Table::kMeta: return "default";
    case Table::kCodebook: return "codebook";
    case Table::kAgreements: return "agreements";
    case Table::kAgreementHistory: return "agreement_history";
    case Table::kAgreementAt: return "agreement_at";
    case Table::kDatasetRevisions: return "dataset_revisions";
    case Table::kProposals: return "proposals";
    case Table::kProposalsByAgreement: return "proposals_by_agreement";
    case Table::kUsers: return "users";
    case Table::kTokens: return "tokens";
    case Table::kEvents: return "events";
    case Table::kJobs: return "jobs";
    case Table::kComments: return "comments";
    case Table::kReviews: return "reviews";
    case Table::kProposalRevisions: return "proposal_revisions";
    case Table::kCount: break;
  }
  return "?";
}

namespace {
thread_local bool t_inline_commits = false;
}  // namespace

InlineCommitScope::InlineCommitScope() : outer_(t_inline_commits) { t_inline_commits = true; }
InlineCommitScope::~InlineCommitScope() { t_inline_commits = outer_; }
bool InlineCommitScope::Active() { return t_inline_commits; }

std::string EncodeU64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}

uint64_t DecodeU64(std::string_view s) {
  if (s.size() != 8) return 0;
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

namespace {

constexpr int kTables = static_cast<int>(Table::kCount);
constexpr char kEventCounter[] = "event";
constexpr char kFormatKey[] = "format_version";
// What a read is told in the moment between closing and reopening the
// database after a write failure, or while reopening keeps failing.
constexpr char kReopening[] =
    "the server is reopening its database after a disk error; retry in a moment";

Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + s.ToString());
}

std::string CounterKey(std::string_view name) { return "counter/" + std::string(name); }

// Prefix scan over any RocksDB iterator; shared by committed and in-group reads.
Status ScanIterator(rocksdb::Iterator* it, std::string_view prefix, std::string_view start,
                    const ScanFn& fn) {
  rocksdb::Slice seek = start.empty() ? rocksdb::Slice(prefix.data(), prefix.size())
                                      : rocksdb::Slice(start.data(), start.size());
  for (it->Seek(seek); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
    rocksdb::Slice v = it->value();
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

Result<std::optional<std::pair<std::string, std::string>>> SeekForPrevIterator(
    rocksdb::Iterator* it, std::string_view prefix, std::string_view key) {
  it->SeekForPrev(rocksdb::Slice(key.data(), key.size()));
  NB_RETURN_IF_ERROR(FromRocks(it->status(), "seek"));
  if (!it->Valid() || !it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())))
    return std::optional<std::pair<std::string, std::string>>();
  return std::optional<std::pair<std::string, std::string>>(
      std::make_pair(it->key().ToString(), it->value().ToString()));
}

struct Pending {
  Mutation mutation;
  CommitCallback done;
};

class RocksStore;

// The context one commit group's mutations share: reads see the DB plus every
// write staged so far in this group.
class GroupContext final : public WriteContext {
 public:
  GroupContext(RocksStore& store, rocksdb::WriteBatchWithIndex& batch, int64_t now)
      : store_(store), batch_(batch), now_(now) {}

  Result<std::optional<std::string>> Get(Table t, std::string_view key) const override;
  Status Scan(Table t, std::string_view prefix, std::string_view start,
              const ScanFn& fn) const override;
  Result<std::optional<std::pair<std::string, std::string>>> SeekForPrev(
      Table t, std::string_view prefix, std::string_view key) const override;
  void Put(Table t, std::string_view key, std::string_view value) override;
  void Delete(Table t, std::string_view key) override;
  uint64_t AppendEvent(domain::Event e) override;
  Result<int64_t> NextId(std::string_view counter) override;
  int64_t Now() const override { return now_; }

  void BeginRequest() {
    batch_.SetSavePoint();
    events_mark_ = events_.size();
    failed_ = Status::Ok();
  }
  void RollbackRequest() {
    (void)batch_.RollbackToSavePoint();
    events_.resize(events_mark_);
  }
  void CommitRequest() { (void)batch_.PopSavePoint(); }
  // An internal failure (e.g. a counter that could not be read) seen while staging.
  const Status& failure() const { return failed_; }
  std::vector<domain::Event>& events() { return events_; }

 private:
  RocksStore& store_;
  rocksdb::WriteBatchWithIndex& batch_;
  int64_t now_;
  std::vector<domain::Event> events_;
  size_t events_mark_ = 0;
  Status failed_;
};

class RocksStore final : public Store {
 public:
  RocksStore(StoreOptions o, std::shared_ptr<rocksdb::FileSystem> fs)
      : options_(std::move(o)),
        fs_(fs ? std::move(fs) : rocksdb::FileSystem::Default()),
        env_(fs_ == rocksdb::FileSystem::Default() ? nullptr : rocksdb::NewCompositeEnv(fs_)),
        backoff_(options_.retry_min_ms, options_.retry_max_ms) {}

  // At start, and from Reopen with db_mu_ held exclusively. `read_only`:
  // the fallback that keeps reads working when a reopen fails (it writes nothing).
  Status OpenDb(bool read_only = false) {
    rocksdb::DBOptions db_opts;
    db_opts.create_if_missing = true;
    db_opts.create_missing_column_families = true;
    db_opts.max_background_jobs = 2;
    if (env_) db_opts.env = env_.get();
    db_opts.listeners.push_back(error_listener_);
    // RocksDB's LOG through a logger that survives a failing disk (info_log.h).
    std::error_code ec;
    std::filesystem::create_directories(options_.path, ec);
    db_opts.info_log = OpenTolerantInfoLog(options_.path + "/LOG");
    // Group commit happens in our committer; RocksDB's own pipelining is not needed.
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (int i = 0; i < kTables; ++i)
      descs.emplace_back(TableName(static_cast<Table>(i)), rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s =
        read_only ? rocksdb::DB::OpenForReadOnly(db_opts, options_.path, descs, &handles, &raw)
                  : rocksdb::DB::Open(db_opts, options_.path, descs, &handles, &raw);
    if (!s.ok()) {
      if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
        return Status::Unavailable("data directory " + options_.path +
                                   " is in use by another process (RocksDB lock): " + s.ToString());
      // A newer release may add column families; say so rather than RocksDB's terse refusal.
      if (s.IsInvalidArgument() && s.ToString().find("Column famil") != std::string::npos)
        return Status::Internal("data directory " + options_.path +
                                " was written by a newer normbase-server (it holds tables this "
                                "version does not know: " + s.ToString() +
                                "); use the matching release or restore a backup");
      return Status::Internal("cannot open data directory " + options_.path + ": " + s.ToString());
    }
    db_.reset(raw);
    for (auto* h : handles) handles_.emplace_back(h);
    return CheckFormat();
  }

  void Start() {
    notified_seq_ = last_seq_.load();
    committer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "nb-committer");  // seen in top -H, perf, gdb
      CommitLoop();
    });
  }

  ~RocksStore() override {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (committer_.joinable()) committer_.join();
    handles_.clear();  // column family handles before the DB
    if (db_) (void)db_->Close();
  }

  // ---- Reader ----
  // Reads hold db_mu_ shared: the committer may close and reopen the
  // database after a write failure (TryRecover), and takes it exclusively.
  Result<std::optional<std::string>> Get(Table t, std::string_view key) const override {
    std::shared_lock lk(db_mu_);
    if (!db_) return Status::Unavailable(kReopening);
    return GetUnlocked(t, key);
  }

  Status Scan(Table t, std::string_view prefix, std::string_view start,
              const ScanFn& fn) const override {
    std::shared_lock lk(db_mu_);
    if (!db_) return Status::Unavailable(kReopening);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(t)));
    return ScanIterator(it.get(), prefix, start, fn);
  }

  Result<std::optional<std::pair<std::string, std::string>>> SeekForPrev(
      Table t, std::string_view prefix, std::string_view key) const override {
    std::shared_lock lk(db_mu_);
    if (!db_) return Status::Unavailable(kReopening);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(t)));
    return SeekForPrevIterator(it.get(), prefix, key);
  }

  // ---- writes ----
  void Submit(Mutation m, CommitCallback done) override {
    Status refused;
    bool run_here = false;
    {
      std::lock_guard lk(mu_);
      if (stopping_) {
        refused = Status::Unavailable("the server is shutting down");
      } else if (queue_.size() >= options_.max_queue) {
        refused = Status::Unavailable("write queue is full (" + std::to_string(options_.max_queue) +
                                      " pending); retry shortly");
      } else if (options_.inline_commits && t_inline_commits && !running_ && queue_.empty() &&
                 !failing_) {
        // Nothing runs or waits, so nothing this write should follow; and
        // failing_ is stable while no group runs (only a runner writes it).
        running_ = true;
        run_here = true;
      } else {
        queue_.push_back(Pending{std::move(m), std::move(done)});
      }
    }
    if (!refused.ok()) {
      // Outside mu_: the callback may use the store (Stats, a retry) without deadlocking.
      if (done) done(refused);
      return;
    }
    if (run_here) {
      RunningGroup running(*this);
      std::vector<Pending> group;
      group.push_back(Pending{std::move(m), std::move(done)});
      RunGroup(group);
      return;
    }
    cv_.notify_one();
  }

  Status Commit(Mutation m) override {
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    Status result;
    Submit(std::move(m), [&](const Status& s) {
      std::lock_guard lk(mu);
      result = s;
      finished = true;
      cv.notify_one();
    });
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return finished; });
    return result;
  }

  void AddCommitListener(CommitListener l) override {
    std::lock_guard lk(listeners_mu_);
    listeners_.push_back(std::move(l));
  }

  uint64_t LastEventSeq() const override { return last_seq_.load(std::memory_order_acquire); }

  StoreStats Stats() const override {
    StoreStats s;
    s.last_event_seq = LastEventSeq();
    s.commit_groups = groups_.load();
    s.commits_ok = commits_ok_.load();
    s.commits_failed = commits_failed_.load();
    s.refusing_writes = refusing_.load(std::memory_order_acquire);
    s.write_recoveries = recoveries_.load();
    {
      std::lock_guard lk(mu_);
      s.queue_depth = queue_.size();
    }
    std::shared_lock lk(db_mu_);
    if (!db_) return s;
    for (const char* p : {"rocksdb.estimate-num-keys", "rocksdb.total-sst-files-size",
                          "rocksdb.cur-size-all-mem-tables", "rocksdb.num-running-compactions"}) {
      uint64_t total = 0, v = 0;
      for (const auto& h : handles_)
        if (db_->GetIntProperty(h.get(), p, &v)) total += v;
      s.rocksdb[p] = total;
    }
    return s;
  }

  Result<std::vector<domain::Event>> ReadEvents(uint64_t after, size_t limit) const override {
    std::vector<domain::Event> out;
    // Nothing follows the largest seq (after + 1 would wrap to the first event).
    if (limit == 0 || after == UINT64_MAX) return out;
    Status err;
    NB_RETURN_IF_ERROR(Scan(Table::kEvents, "", EncodeU64(after + 1), [&](auto, std::string_view v) {
      auto j = domain::ParseJson(v);
      if (!j.ok()) {
        err = Status::Internal("corrupt event record");
        return false;
      }
      auto e = domain::EventFromJson(*j);
      if (!e.ok()) {
        err = e.status();
        return false;
      }
      out.push_back(std::move(e).value());
      return out.size() < limit;
    }));
    NB_RETURN_IF_ERROR(err);
    return out;
  }

  Result<uint64_t> Checkpoint(const std::string& dir) override {
    Result<uint64_t> made = Status::Internal("checkpoint did not run");
    // As a mutation it runs on the committer, after every earlier group's
    // write and before the next: no write can be half in the copy.
    Status s = Commit([&](WriteContext&) -> Status {
      rocksdb::Checkpoint* raw = nullptr;
      NB_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
      std::unique_ptr<rocksdb::Checkpoint> cp(raw);
      NB_RETURN_IF_ERROR(FromRocks(cp->CreateCheckpoint(dir), "checkpoint"));
      made = last_seq_.load(std::memory_order_acquire);
      return Status::Ok();  // stages nothing
    });
    NB_RETURN_IF_ERROR(s);
    return made;
  }

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Table t) const { return handles_[static_cast<int>(t)].get(); }
  // The older format version found at open, or 0 when it is current.
  int upgrade_from() const { return upgrade_from_; }

 private:
  // For the thread running a group and OpenDb, which need no lock (see db_mu_).
  Result<std::optional<std::string>> GetUnlocked(Table t, std::string_view key) const {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(t), rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    NB_RETURN_IF_ERROR(FromRocks(s, "get"));
    return std::optional<std::string>(std::move(v));
  }

  Status CheckFormat() {
    NB_ASSIGN_OR_RETURN(auto v, GetUnlocked(Table::kMeta, kFormatKey));
    if (!v) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      NB_RETURN_IF_ERROR(FromRocks(
          db_->Put(wo, cf(Table::kMeta), kFormatKey, std::to_string(kFormatVersion)), "format"));
    } else if (*v != std::to_string(kFormatVersion)) {
      for (int older = kOldestUpgradableFormat; older < kFormatVersion; ++older)
        if (*v == std::to_string(older)) {
          upgrade_from_ = older;  // OpenRocksStore upgrades once the committer runs
          return ReadEventCounter();
        }
      // Anything else: refuse rather than misread.
      int found = 0;
      bool numeric = false;
      try {
        size_t used = 0;
        found = std::stoi(*v, &used);
        numeric = used == v->size();
      } catch (const std::exception&) {
      }
      const char* whose = !numeric                ? "an unknown"
                          : found > kFormatVersion ? "a newer"
                                                   : "an older";
      return Status::Internal("data directory " + options_.path + " has on-disk format version " +
                              *v + " (written by " + whose +
                              " normbase-server) but this normbase-server reads version " +
                              std::to_string(kFormatVersion) +
                              " only; nothing was changed. Use the matching release, or restore a "
                              "backup made by this one");
    }
    return ReadEventCounter();
  }

  Status ReadEventCounter() {
    NB_ASSIGN_OR_RETURN(auto seq, GetUnlocked(Table::kMeta, CounterKey(kEventCounter)));
    last_seq_ = seq ? std::stoull(*seq) : 0;
    return Status::Ok();
  }

  int64_t Now() const {
    if (options_.clock) return options_.clock();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Marks the calling thread as the one running groups until it goes out of
  // scope (also when a callback throws), then wakes the committer if writes
  // queued up meanwhile.
  class RunningGroup {
   public:
    explicit RunningGroup(RocksStore& s) : s_(s) {}
    ~RunningGroup() {
      bool wake;
      {
        std::lock_guard lk(s_.mu_);
        s_.running_ = false;
        wake = !s_.queue_.empty() || s_.stopping_ || s_.failing_;
      }
      if (wake) s_.cv_.notify_one();
    }
    RunningGroup(const RunningGroup&) = delete;
    RunningGroup& operator=(const RunningGroup&) = delete;

   private:
    RocksStore& s_;
  };

  void CommitLoop() {
    for (;;) {
      std::vector<Pending> group;
      {
        std::unique_lock lk(mu_);
        // The recovery state (failing_, next_attempt_) is read only while no
        // group runs: a thread running one inline may be changing it.
        for (;;) {
          if (!running_) {
            if (stopping_ && queue_.empty()) return;  // stopping and drained
            if (!queue_.empty()) break;
            if (failing_ && std::chrono::steady_clock::now() >= next_attempt_) break;
          }
          // While refusing writes, wake for the next recovery attempt too.
          if (!running_ && failing_)
            cv_.wait_until(lk, next_attempt_);
          else
            cv_.wait(lk);
        }
        running_ = true;
        while (!queue_.empty() && group.size() < options_.max_group_requests) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      RunningGroup running(*this);
      if (failing_ && std::chrono::steady_clock::now() >= next_attempt_) TryRecover();
      if (!group.empty()) RunGroup(group);
    }
  }

  // ---- recovery from write failures (the thread running a group only) ----

  void EnterFailure(const rocksdb::Status& ws) {
    failing_ = true;
    refusing_.store(true, std::memory_order_release);
    cause_ = ws;
    // A failure this write itself hit (no severity yet: RocksDB stamps one on
    // the stored background error) is a failure of the log, as is one the
    // listener saw there; either needs a reopen (disk_recovery.h).
    reopen_needed_ = error_listener_->log_failed() ||
                     ws.severity() == rocksdb::Status::Severity::kNoError;
    const int64_t delay = backoff_.Next();
    next_attempt_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    spdlog::error(
        "store: a write to the disk failed ({}): writes are refused, reads still served; retrying "
        "the disk in {} ms, then with back-off up to {} ms",
        ws.ToString(), delay, options_.retry_max_ms);
  }

  void TryRecover() {
    const char* how = nullptr;
    const rocksdb::Status s = AttemptRecovery(&how);
    if (s.ok()) {
      failing_ = false;
      refusing_.store(false, std::memory_order_release);
      recoveries_.fetch_add(1);
      spdlog::warn("store: writes are accepted again ({}); the failure was: {}", how,
                   cause_.ToString());
      return;
    }
    // Busy: RocksDB's own recovery is under way; the cause is still the old one.
    if (!s.IsBusy()) cause_ = s;
    const int64_t delay = backoff_.Next();
    next_attempt_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    spdlog::debug("store: the disk is not writable yet ({}); next attempt in {} ms", s.ToString(),
                  delay);
  }

  rocksdb::Status AttemptRecovery(const char** how) {
    if (db_ && !reopen_needed_ && !read_only_) {
      const rocksdb::Status r = db_->Resume();  // also OK once RocksDB recovered by itself
      if (r.ok()) {
        *how = "the database resumed";
        return r;
      }
      if (r.IsBusy() || r.severity() < rocksdb::Status::Severity::kFatalError) return r;
      reopen_needed_ = true;  // a fatal error: Resume() refuses until the DB is reopened
    }
    if (db_) {
      // Keep the open database (and reads) while the disk still fails.
      rocksdb::IOStatus probe = ProbeDisk(*fs_, options_.path);
      if (!probe.ok()) return probe;
    }
    *how = "the database was reopened";
    return Reopen();
  }

  // Closes and reopens the database. RocksDB's log replay keeps the failed
  // group whole (its log record was written, only its sync failed) or drops
  // it whole (a torn or missing record), exactly as a restart would; the
  // event counter and last_seq_ are re-read from what is there.
  rocksdb::Status Reopen() {
    const uint64_t before = notified_seq_;
    Status opened;
    {
      std::unique_lock lk(db_mu_);
      handles_.clear();
      // Close reports the failed log writer's error again; nothing to do about it.
      if (db_) db_->Close().PermitUncheckedError();
      db_.reset();
      error_listener_->Reset();
      try {
        opened = OpenDb();
      } catch (const std::exception& e) {
        opened = Status::Internal(std::string("opening the store failed: ") + e.what());
      }
      read_only_ = false;
      if (!opened.ok()) {
        // The probe passed but the disk still cannot take what an open
        // writes (a new log, a manifest, the replayed memtables): keep
        // serving reads from a read-only instance until the next attempt.
        handles_.clear();
        db_.reset();
        read_only_ = OpenDb(/*read_only=*/true).ok();
        if (!read_only_) {
          handles_.clear();
          db_.reset();
        }
        // Its replay may show the failed group; it counts once the
        // read-write reopen has it and the listeners have heard of it.
        last_seq_.store(before, std::memory_order_release);
      }
    }
    if (!opened.ok()) {
      spdlog::error("store: reopening the database failed ({}); {}", opened.message(),
                    read_only_ ? "reads are served from a read-only instance meanwhile"
                               : "reads are refused until it opens");
      return rocksdb::Status::IOError("reopening the database", opened.message());
    }
    reopen_needed_ = false;
    // The failed group came back: its callers were told "not confirmed";
    // the listeners (live stream, job broker) now get its events, in order
    // after everything they had, as if it had just been committed.
    const uint64_t after = last_seq_.load(std::memory_order_acquire);
    if (after > before) {
      auto events = ReadEvents(before, after - before);
      if (!events.ok()) {
        spdlog::error("store: events {}..{} came back with the reopened database but cannot be "
                      "read ({}); live clients will see a gap",
                      before + 1, after, events.status().message());
      } else if (!events->empty()) {
        spdlog::warn("store: the write that failed is there after all (events {}..{})", before + 1,
                     after);
        NotifyListeners(*events);
      }
    }
    notified_seq_ = after;
    return rocksdb::Status::OK();
  }

  void NotifyListeners(const std::vector<domain::Event>& events) {
    std::vector<CommitListener> ls;
    {
      std::lock_guard lk(listeners_mu_);
      ls = listeners_;
    }
    for (auto& l : ls) l(events);
  }

  void RunGroup(std::vector<Pending>& group) {
    if (failing_) {
      // Not even tried: the disk has not taken a write since it failed.
      const Status refused = WritesSuspended(cause_);
      for (auto& p : group) {
        commits_failed_.fetch_add(1);
        if (p.done) p.done(refused);
      }
      return;
    }
    rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
    GroupContext ctx(*this, batch, Now());
    std::vector<Status> results(group.size());
    bool any_ok = false;
    for (size_t i = 0; i < group.size(); ++i) {
      ctx.BeginRequest();
      Status s;
      try {
        s = group[i].mutation(ctx);
      } catch (const std::exception& e) {
        s = Status::Internal(std::string("mutation threw: ") + e.what());
      }
      if (s.ok() && !ctx.failure().ok()) s = ctx.failure();
      if (s.ok()) {
        ctx.CommitRequest();
        any_ok = true;
      } else {
        ctx.RollbackRequest();
      }
      results[i] = s;
    }
    groups_.fetch_add(1);
    if (any_ok) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      rocksdb::Status ws = db_->Write(wo, batch.GetWriteBatch());
      if (!ws.ok()) {
        const Status fail = WriteFailure(ws);
        for (auto& r : results)
          if (r.ok()) r = fail;
        ctx.events().clear();
        EnterFailure(ws);
      } else {
        backoff_.Reset();
        if (!ctx.events().empty()) {
          last_seq_.store(ctx.events().back().seq, std::memory_order_release);
          notified_seq_ = ctx.events().back().seq;
          NotifyListeners(ctx.events());
        }
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      (results[i].ok() ? commits_ok_ : commits_failed_).fetch_add(1);
      if (group[i].done) group[i].done(results[i]);
    }
  }

  StoreOptions options_;
  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;  // over fs_ when it is not the default
  std::shared_ptr<BackgroundErrorListener> error_listener_ =
      std::make_shared<BackgroundErrorListener>();
  struct HandleDeleter {
    void operator()(rocksdb::ColumnFamilyHandle* h) const { delete h; }
  };
  // Replaced only by the thread running a group (Reopen, in TryRecover),
  // which then holds db_mu_ exclusively; readers on other threads hold it
  // shared. That thread's own reads need no lock: nobody else replaces them.
  mutable std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;  // GUARDED_BY(db_mu_); null while reopening fails
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle, HandleDeleter>> handles_;  // GUARDED_BY(db_mu_)

  // Recovery state, touched only by the thread running a group (running_),
  // read by others only under mu_ while none runs (refusing_ mirrors
  // failing_ for Stats).
  bool failing_ = false;
  bool reopen_needed_ = false;
  bool read_only_ = false;     // db_ is the read-only fallback (Reopen)
  uint64_t notified_seq_ = 0;  // the newest event handed to the commit listeners
  rocksdb::Status cause_;  // the latest reason the disk is not writable
  Backoff backoff_;
  std::chrono::steady_clock::time_point next_attempt_;
  std::atomic<bool> refusing_{false};
  std::atomic<uint64_t> recoveries_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;      // GUARDED_BY(mu_)
  // A group is being run, by the committer or inline by a submitting thread
  // (InlineCommitScope); groups never overlap.
  bool running_ = false;  // GUARDED_BY(mu_)
  std::thread committer_;
  int upgrade_from_ = 0;  // set by CheckFormat

  std::mutex listeners_mu_;
  std::vector<CommitListener> listeners_;  // GUARDED_BY(listeners_mu_)

  std::atomic<uint64_t> last_seq_{0};
  std::atomic<uint64_t> groups_{0}, commits_ok_{0}, commits_failed_{0};
};

// ---- GroupContext ----

Result<std::optional<std::string>> GroupContext::Get(Table t, std::string_view key) const {
  std::string v;
  rocksdb::Status s = batch_.GetFromBatchAndDB(store_.db(), rocksdb::ReadOptions(), store_.cf(t),
                                               rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  NB_RETURN_IF_ERROR(FromRocks(s, "get"));
  return std::optional<std::string>(std::move(v));
}

Status GroupContext::Scan(Table t, std::string_view prefix, std::string_view start,
                          const ScanFn& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(batch_.NewIteratorWithBase(
      store_.cf(t), store_.db()->NewIterator(rocksdb::ReadOptions(), store_.cf(t))));
  return ScanIterator(it.get(), prefix, start, fn);
}

Result<std::optional<std::pair<std::string, std::string>>> GroupContext::SeekForPrev(
    Table t, std::string_view prefix, std::string_view key) const {
  std::unique_ptr<rocksdb::Iterator> it(batch_.NewIteratorWithBase(
      store_.cf(t), store_.db()->NewIterator(rocksdb::ReadOptions(), store_.cf(t))));
  return SeekForPrevIterator(it.get(), prefix, key);
}

void GroupContext::Put(Table t, std::string_view key, std::string_view value) {
  rocksdb::Status s = batch_.Put(store_.cf(t), rocksdb::Slice(key.data(), key.size()),
                                 rocksdb::Slice(value.data(), value.size()));
  if (!s.ok() && failed_.ok()) failed_ = FromRocks(s, "stage put");
}

void GroupContext::Delete(Table t, std::string_view key) {
  rocksdb::Status s = batch_.Delete(store_.cf(t), rocksdb::Slice(key.data(), key.size()));
  if (!s.ok() && failed_.ok()) failed_ = FromRocks(s, "stage delete");
}

Result<int64_t> GroupContext::NextId(std::string_view counter) {
  const std::string key = CounterKey(counter);
  NB_ASSIGN_OR_RETURN(auto cur, Get(Table::kMeta, key));
  int64_t next = cur ? std::stoll(*cur) + 1 : 1;
  Put(Table::kMeta, key, std::to_string(next));
  return next;
}

uint64_t GroupContext::AppendEvent(domain::Event e) {
  auto id = NextId(kEventCounter);
  if (!id.ok()) {
    if (failed_.ok()) failed_ = id.status();
    return 0;
  }
  e.seq = static_cast<uint64_t>(*id);
  e.time_ms = now_;
  Put(Table::kEvents, EncodeU64(e.seq), domain::EncodeEvent(e));
  events_.push_back(std::move(e));
  return events_.back().seq;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenRocksStore(StoreOptions options,
                                              std::shared_ptr<rocksdb::FileSystem> fs) {
  if (options.max_group_requests == 0) options.max_group_requests = 1;
  auto s = std::make_unique<RocksStore>(std::move(options), std::move(fs));
  try {
    NB_RETURN_IF_ERROR(s->OpenDb());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("opening the store failed: ") + e.what());
  }
  s->Start();
  if (const int from = s->upgrade_from(); from != 0) {
    NB_RETURN_IF_ERROR(UpgradeFormat(*s, from));
  }
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  return OpenRocksStore(std::move(options), nullptr);
}

Store::~Store() = default;

}  // namespace normbase::store
