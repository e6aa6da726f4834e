// RocksDB implementation of Store: the committer thread and group commit.
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/codec.h"
#include "store/store.h"
#include "store/info_log.h"
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
    case Table::kCount: break;
  }
  return "?";
}

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
  explicit RocksStore(StoreOptions o) : options_(std::move(o)) {}

  Status OpenDb() {
    rocksdb::DBOptions db_opts;
    db_opts.create_if_missing = true;
    db_opts.create_missing_column_families = true;
    db_opts.max_background_jobs = 2;
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
    rocksdb::Status s = rocksdb::DB::Open(db_opts, options_.path, descs, &handles, &raw);
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

  void Start() { committer_ = std::thread([this] { CommitLoop(); }); }

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
  Result<std::optional<std::string>> Get(Table t, std::string_view key) const override {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(t), rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    NB_RETURN_IF_ERROR(FromRocks(s, "get"));
    return std::optional<std::string>(std::move(v));
  }

  Status Scan(Table t, std::string_view prefix, std::string_view start,
              const ScanFn& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(t)));
    return ScanIterator(it.get(), prefix, start, fn);
  }

  Result<std::optional<std::pair<std::string, std::string>>> SeekForPrev(
      Table t, std::string_view prefix, std::string_view key) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(t)));
    return SeekForPrevIterator(it.get(), prefix, key);
  }

  // ---- writes ----
  void Submit(Mutation m, CommitCallback done) override {
    Status refused;
    {
      std::lock_guard lk(mu_);
      if (stopping_) {
        refused = Status::Unavailable("the server is shutting down");
      } else if (queue_.size() >= options_.max_queue) {
        refused = Status::Unavailable("write queue is full (" + std::to_string(options_.max_queue) +
                                      " pending); retry shortly");
      } else {
        queue_.push_back(Pending{std::move(m), std::move(done)});
      }
    }
    if (!refused.ok()) {
      // Outside mu_: the callback may use the store (Stats, a retry) without deadlocking.
      if (done) done(refused);
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
    {
      std::lock_guard lk(mu_);
      s.queue_depth = queue_.size();
    }
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

 private:
  Status CheckFormat() {
    NB_ASSIGN_OR_RETURN(auto v, Get(Table::kMeta, kFormatKey));
    if (!v) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      NB_RETURN_IF_ERROR(FromRocks(
          db_->Put(wo, cf(Table::kMeta), kFormatKey, std::to_string(kFormatVersion)), "format"));
    } else if (*v != std::to_string(kFormatVersion)) {
      // No upgrade path exists yet (version 1 is the first): refuse rather than misread.
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
    NB_ASSIGN_OR_RETURN(auto seq, Get(Table::kMeta, CounterKey(kEventCounter)));
    last_seq_ = seq ? std::stoull(*seq) : 0;
    return Status::Ok();
  }

  int64_t Now() const {
    if (options_.clock) return options_.clock();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void CommitLoop() {
    for (;;) {
      std::vector<Pending> group;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        while (!queue_.empty() && group.size() < options_.max_group_requests) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      RunGroup(group);
    }
  }

  void RunGroup(std::vector<Pending>& group) {
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
      } else if (!ctx.events().empty()) {
        last_seq_.store(ctx.events().back().seq, std::memory_order_release);
        std::vector<CommitListener> ls;
        {
          std::lock_guard lk(listeners_mu_);
          ls = listeners_;
        }
        for (auto& l : ls) l(ctx.events());
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      (results[i].ok() ? commits_ok_ : commits_failed_).fetch_add(1);
      if (group[i].done) group[i].done(results[i]);
    }
  }

  StoreOptions options_;
  struct HandleDeleter {
    void operator()(rocksdb::ColumnFamilyHandle* h) const { delete h; }
  };
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle, HandleDeleter>> handles_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;      // GUARDED_BY(mu_)
  std::thread committer_;

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
  Put(Table::kEvents, EncodeU64(e.seq), domain::Dump(domain::ToJson(e)));
  events_.push_back(std::move(e));
  return events_.back().seq;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  if (options.max_group_requests == 0) options.max_group_requests = 1;
  auto s = std::make_unique<RocksStore>(std::move(options));
  try {
    NB_RETURN_IF_ERROR(s->OpenDb());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("opening the store failed: ") + e.what());
  }
  s->Start();
  return std::unique_ptr<Store>(std::move(s));
}

Store::~Store() = default;

}  // namespace normbase::store
