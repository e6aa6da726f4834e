// Store against a real RocksDB in a temporary directory: atomicity of a
// mutation inside a commit group, gap-free event sequence numbers, counters
// that survive a reopen, group commit under concurrent writers, the commit
// listener, back-pressure, and the refusals at open.
#include "store/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/codec.h"
#include "support/temp_dir.h"

namespace normbase::store {
namespace {

using domain::Event;
using domain::Json;

// A fresh directory under the system temp dir, removed with everything in it.
using normbase::testing::TempDir;

std::unique_ptr<Store> OpenOrDie(StoreOptions o) {
  auto s = Store::Open(std::move(o));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

Event MakeEvent(const std::string& type, const std::string& subject, int64_t actor = 7) {
  Event e;
  e.type = type;
  e.actor = actor;
  e.subjects["item"] = subject;
  e.payload = domain::Dump(Json{{"subject", subject}});
  return e;
}

// A mutation that stores `value` under `key` in the jobs table.
Mutation PutKey(const std::string& key, const std::string& value = "v") {
  return [key, value](WriteContext& w) {
    w.Put(Table::kJobs, key, value);
    return Status::Ok();
  };
}

std::optional<std::string> GetOrDie(const Reader& r, Table t, const std::string& key) {
  auto v = r.Get(t, key);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : std::nullopt;
}

std::vector<Event> AllEvents(const Store& s) {
  auto ev = s.ReadEvents(0, 1'000'000);
  EXPECT_TRUE(ev.ok()) << ev.status().ToString();
  return ev.ok() ? *ev : std::vector<Event>{};
}

// Asserts seqs are exactly 1..n in order.
void ExpectContiguousFromOne(const std::vector<Event>& events) {
  for (size_t i = 0; i < events.size(); ++i)
    ASSERT_EQ(events[i].seq, i + 1) << "gap or reordering at index " << i;
}

// Holds the committer inside a mutation until Release(): everything submitted
// meanwhile queues up and is taken as the next commit group(s).
class Gate {
 public:
  Mutation Blocker() {
    return [this](WriteContext&) {
      std::unique_lock lk(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lk, [&] { return released_; });
      return Status::Ok();
    };
  }
  void WaitEntered() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard lk(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;   // GUARDED_BY(mu_)
  bool released_ = false;  // GUARDED_BY(mu_)
};

// Collects the completion of named requests and waits for all of them.
class Completions {
 public:
  CommitCallback For(const std::string& name) {
    {
      std::lock_guard lk(mu_);
      ++expected_;
    }
    return [this, name](const Status& s) {
      std::lock_guard lk(mu_);
      calls_[name]++;
      results_.insert_or_assign(name, s);
      order_.push_back(name);
      cv_.notify_all();
    };
  }
  void WaitAll() {
    std::unique_lock lk(mu_);
    ASSERT_TRUE(
        cv_.wait_for(lk, std::chrono::seconds(30), [&] { return order_.size() >= expected_; }))
        << "only " << order_.size() << " of " << expected_ << " callbacks ran";
  }
  Status Result(const std::string& name) {
    std::lock_guard lk(mu_);
    auto it = results_.find(name);
    return it == results_.end() ? Status::Internal("no callback for " + name) : it->second;
  }
  int Calls(const std::string& name) {
    std::lock_guard lk(mu_);
    return calls_[name];
  }
  std::vector<std::string> Order() {
    std::lock_guard lk(mu_);
    return order_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t expected_ = 0;                    // GUARDED_BY(mu_)
  std::map<std::string, int> calls_;       // GUARDED_BY(mu_)
  std::map<std::string, Status> results_;  // GUARDED_BY(mu_)
  std::vector<std::string> order_;         // GUARDED_BY(mu_)
};

class StoreTest : public ::testing::Test {
 protected:
  StoreOptions Options() {
    StoreOptions o;
    o.path = dir_.path();
    return o;
  }
  void Reopen(StoreOptions o) {
    store_.reset();
    store_ = OpenOrDie(std::move(o));
    ASSERT_NE(store_, nullptr);
  }
  void SetUp() override { Reopen(Options()); }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// ---- encoding -------------------------------------------------------------

TEST(EncodeU64Test, RoundTripsAndSortsNumerically) {
  const uint64_t values[] = {0, 1, 255, 256, 65535, 1ull << 32, ~0ull - 1, ~0ull};
  for (uint64_t v : values) EXPECT_EQ(DecodeU64(EncodeU64(v)), v);
  for (size_t i = 0; i + 1 < std::size(values); ++i)
    EXPECT_LT(EncodeU64(values[i]), EncodeU64(values[i + 1])) << values[i];
  EXPECT_EQ(DecodeU64("short"), 0u);
  EXPECT_EQ(DecodeU64("nine bytes"), 0u);
}

// ---- atomicity inside a group ----------------------------------------------

TEST_F(StoreTest, FailedMutationLeavesNothingWhileGroupmatesCommit) {
  Gate gate;
  Completions done;
  const uint64_t groups_before = store_->Stats().commit_groups;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();

  // Queued behind the gate, so the three land in the same group.
  int64_t id_a = 0, id_c = 0;
  store_->Submit(
      [&](WriteContext& w) {
        w.Put(Table::kJobs, "a", "1");
        id_a = *w.NextId("widget");
        w.AppendEvent(MakeEvent("test.a", "a"));
        return Status::Ok();
      },
      done.For("a"));
  store_->Submit(
      [&](WriteContext& w) {
        w.Put(Table::kJobs, "b1", "1");
        w.Put(Table::kCodebook, "b-elsewhere", "1");
        (void)w.NextId("widget");
        (void)w.NextId("only-b");
        w.AppendEvent(MakeEvent("test.b", "b"));
        w.Delete(Table::kJobs, "a");  // would undo a's write if it leaked
        w.Put(Table::kJobs, "b2", "1");
        return Status::Conflict("b gives up half-way");
      },
      done.For("b"));
  store_->Submit(
      [&](WriteContext& w) -> Status {
        w.Put(Table::kJobs, "d", "1");
        w.AppendEvent(MakeEvent("test.d", "d"));
        throw std::runtime_error("d throws half-way");
      },
      done.For("d"));
  store_->Submit(
      [&](WriteContext& w) {
        w.Put(Table::kJobs, "c", "1");
        id_c = *w.NextId("widget");
        w.AppendEvent(MakeEvent("test.c", "c"));
        return Status::Ok();
      },
      done.For("c"));
  EXPECT_EQ(store_->Stats().queue_depth, 4u);
  gate.Release();
  done.WaitAll();

  EXPECT_EQ(store_->Stats().commit_groups - groups_before, 2u) << "a, b, d, c were not one group";
  EXPECT_TRUE(done.Result("a").ok()) << done.Result("a").ToString();
  EXPECT_TRUE(done.Result("c").ok()) << done.Result("c").ToString();
  EXPECT_TRUE(done.Result("b").IsConflict()) << done.Result("b").ToString();
  EXPECT_EQ(done.Result("b").message(), "b gives up half-way");
  EXPECT_EQ(done.Result("d").code(), Status::Code::kInternal);
  EXPECT_NE(done.Result("d").message().find("d throws half-way"), std::string::npos);

  // a and c are there; nothing of b or d is.
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "a"), "1");
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "c"), "1");
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "b1"), std::nullopt);
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "b2"), std::nullopt);
  EXPECT_EQ(GetOrDie(*store_, Table::kCodebook, "b-elsewhere"), std::nullopt);
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "d"), std::nullopt);

  // b's counter increments were rolled back: c got the id b had taken.
  EXPECT_EQ(id_a, 1);
  EXPECT_EQ(id_c, 2);
  int64_t next_widget = 0, next_only_b = 0;
  ASSERT_TRUE(store_
                  ->Commit([&](WriteContext& w) {
                    next_widget = *w.NextId("widget");
                    next_only_b = *w.NextId("only-b");
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(next_widget, 3);
  EXPECT_EQ(next_only_b, 1);

  // The log holds a's and c's events with consecutive seqs, no hole for b or d.
  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 2u);
  ExpectContiguousFromOne(events);
  EXPECT_EQ(events[0].type, "test.a");
  EXPECT_EQ(events[1].type, "test.c");
  EXPECT_EQ(store_->LastEventSeq(), 2u);

  const StoreStats st = store_->Stats();
  EXPECT_EQ(st.commits_failed, 2u);
  EXPECT_EQ(st.commits_ok, 4u);  // gate, a, c and the counter check
}

TEST_F(StoreTest, GroupWhereEveryMutationFailsWritesNothing) {
  Gate gate;
  Completions done;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();
  for (int i = 0; i < 3; ++i)
    store_->Submit(
        [i](WriteContext& w) {
          w.Put(Table::kJobs, "k" + std::to_string(i), "v");
          w.AppendEvent(MakeEvent("test.fail", std::to_string(i)));
          return Status::InvalidArgument("no");
        },
        done.For("f" + std::to_string(i)));
  gate.Release();
  done.WaitAll();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(done.Result("f" + std::to_string(i)).IsInvalidArgument());
    EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "k" + std::to_string(i)), std::nullopt);
  }
  EXPECT_TRUE(AllEvents(*store_).empty());
  EXPECT_EQ(store_->LastEventSeq(), 0u);
}

TEST_F(StoreTest, MutationsInOneGroupSeeEarlierWritesButNotFailedOnes) {
  ASSERT_TRUE(store_
                  ->Commit([](WriteContext& w) {
                    w.Put(Table::kJobs, "old/1", "committed");
                    w.Put(Table::kJobs, "old/2", "committed");
                    return Status::Ok();
                  })
                  .ok());
  Gate gate;
  Completions done;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();

  store_->Submit(
      [](WriteContext& w) {
        w.Put(Table::kJobs, "new/a", "from-a");
        w.Put(Table::kJobs, "old/1", "changed-by-a");
        w.Delete(Table::kJobs, "old/2");
        return Status::Ok();
      },
      done.For("writer"));
  store_->Submit(
      [](WriteContext& w) {
        w.Put(Table::kJobs, "new/b", "from-failed");
        return Status::Internal("fails");
      },
      done.For("failed"));

  std::optional<std::string> seen_a, seen_old1, seen_old2, seen_failed, committed_a;
  std::vector<std::string> scanned;
  std::optional<std::pair<std::string, std::string>> prev;
  store_->Submit(
      [&](WriteContext& w) {
        seen_a = *w.Get(Table::kJobs, "new/a");
        seen_old1 = *w.Get(Table::kJobs, "old/1");
        seen_old2 = *w.Get(Table::kJobs, "old/2");
        seen_failed = *w.Get(Table::kJobs, "new/b");
        // The committed store does not see the group's writes before they are durable.
        committed_a = *store_->Get(Table::kJobs, "new/a");
        NB_RETURN_IF_ERROR(
            w.Scan(Table::kJobs, "", "", [&](std::string_view k, std::string_view v) {
              scanned.push_back(std::string(k) + "=" + std::string(v));
              return true;
            }));
        NB_ASSIGN_OR_RETURN(prev, w.SeekForPrev(Table::kJobs, "new/", "new/z"));
        return Status::Ok();
      },
      done.For("reader"));
  gate.Release();
  done.WaitAll();
  ASSERT_TRUE(done.Result("reader").ok()) << done.Result("reader").ToString();

  EXPECT_EQ(seen_a, "from-a");
  EXPECT_EQ(seen_old1, "changed-by-a");
  EXPECT_EQ(seen_old2, std::nullopt);
  EXPECT_EQ(seen_failed, std::nullopt) << "a rolled-back write leaked to a later mutation";
  EXPECT_EQ(committed_a, std::nullopt);
  EXPECT_EQ(scanned, (std::vector<std::string>{"new/a=from-a", "old/1=changed-by-a"}));
  ASSERT_TRUE(prev.has_value());
  EXPECT_EQ(prev->first, "new/a");
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "new/a"), "from-a");
}

TEST_F(StoreTest, GroupSizeIsBoundedByMaxGroupRequests) {
  StoreOptions o = Options();
  o.max_group_requests = 2;
  Reopen(o);
  Gate gate;
  Completions done;
  const uint64_t before = store_->Stats().commit_groups;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();
  for (int i = 0; i < 5; ++i)
    store_->Submit(
        [i](WriteContext& w) {
          w.AppendEvent(MakeEvent("test.n", std::to_string(i)));
          return Status::Ok();
        },
        done.For(std::to_string(i)));
  gate.Release();
  done.WaitAll();
  EXPECT_EQ(store_->Stats().commit_groups - before, 1u + 3u);  // gate, then 2 + 2 + 1
  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(events[i].subjects.at("item"), std::to_string(i));
}

// ---- sequence numbers and counters ----------------------------------------

TEST_F(StoreTest, EventSeqsAreGapFreeAcrossGroupsAndReopen) {
  auto append = [&](int n, bool fail) {
    return store_->Commit([n, fail](WriteContext& w) {
      for (int i = 0; i < n; ++i) w.AppendEvent(MakeEvent("test.e", std::to_string(i)));
      return fail ? Status::Conflict("rolled back") : Status::Ok();
    });
  };
  ASSERT_TRUE(append(3, false).ok());
  ASSERT_TRUE(append(2, true).IsConflict());
  ASSERT_TRUE(append(1, false).ok());
  EXPECT_EQ(store_->LastEventSeq(), 4u);

  Reopen(Options());
  EXPECT_EQ(store_->LastEventSeq(), 4u);
  uint64_t assigned = 0;
  ASSERT_TRUE(store_
                  ->Commit([&](WriteContext& w) {
                    assigned = w.AppendEvent(MakeEvent("test.after-reopen", "x"));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(assigned, 5u);
  ASSERT_TRUE(append(2, true).IsConflict());
  ASSERT_TRUE(append(2, false).ok());

  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 7u);
  ExpectContiguousFromOne(events);
  EXPECT_EQ(store_->LastEventSeq(), 7u);
  EXPECT_EQ(events[4].type, "test.after-reopen");

  // Paging: seq > after, at most limit.
  auto page = store_->ReadEvents(2, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].seq, 3u);
  EXPECT_EQ((*page)[2].seq, 5u);
  auto tail = store_->ReadEvents(7, 10);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->empty());
  auto none = store_->ReadEvents(0, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << "ReadEvents(limit=0) returned events";
  auto past_end = store_->ReadEvents(~uint64_t{0}, 10);
  ASSERT_TRUE(past_end.ok());
  EXPECT_TRUE(past_end->empty()) << "nothing comes after the largest seq";
}

TEST_F(StoreTest, EventsRoundTripEveryField) {
  Event e;
  e.type = "proposal.created";
  e.actor = 42;
  e.subjects = {{"proposal", "12"}, {"agreement", "paris-call-2018"}};
  e.payload = domain::Dump(Json{{"title", "Paris Call"}, {"n", 3}});
  ASSERT_TRUE(store_
                  ->Commit([&](WriteContext& w) {
                    w.AppendEvent(e);
                    return Status::Ok();
                  })
                  .ok());
  Reopen(Options());
  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, 1u);
  EXPECT_EQ(events[0].type, e.type);
  EXPECT_EQ(events[0].actor, 42);
  EXPECT_EQ(events[0].subjects, e.subjects);
  EXPECT_EQ(Json::parse(events[0].payload), Json::parse(e.payload));
}

TEST_F(StoreTest, NextIdCountersSurviveReopen) {
  auto next = [&](const std::string& counter) {
    int64_t v = 0;
    Status s = store_->Commit([&](WriteContext& w) -> Status {
      NB_ASSIGN_OR_RETURN(v, w.NextId(counter));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  };
  EXPECT_EQ(next("proposal"), 1);
  EXPECT_EQ(next("proposal"), 2);
  EXPECT_EQ(next("user"), 1);  // counters are independent
  int64_t in_one = 0;
  ASSERT_TRUE(store_
                  ->Commit([&](WriteContext& w) {
                    (void)w.NextId("proposal");
                    in_one = *w.NextId("proposal");  // sees its own increment
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(in_one, 4);
  Reopen(Options());
  EXPECT_EQ(next("proposal"), 5);
  EXPECT_EQ(next("user"), 2);
  EXPECT_EQ(next("fresh"), 1);
}

// ---- concurrency ------------------------------------------------------------

// Submits `per_thread` writes from each of `threads` threads at once (the
// threads `in_scope` names inside an InlineCommitScope, so they may run groups
// themselves), then checks what every interleaving must keep: each write
// committed once, in order per thread, events gap-free, no two mutations at
// once, no counter value given twice.
void ExpectRacingSubmittersCommitOnceInOrder(Store& store, int threads, int per_thread,
                                             const std::function<bool(int)>& in_scope) {
  std::atomic<int> inside{0}, overlapped{0}, failures{0};
  std::vector<std::atomic<int>> calls(threads * per_thread);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      std::optional<InlineCommitScope> scope;
      if (in_scope(t)) scope.emplace();
      for (int i = 0; i < per_thread; ++i) {
        const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        store.Submit(
            [&, key, t, i](WriteContext& w) {
              if (inside.fetch_add(1) != 0) overlapped.fetch_add(1);
              NB_ASSIGN_OR_RETURN(int64_t n, w.NextId("n"));
              w.Put(Table::kJobs, key, std::to_string(n));
              Event e = MakeEvent("test.concurrent", key);
              e.subjects["thread"] = std::to_string(t);
              e.subjects["i"] = std::to_string(i);
              w.AppendEvent(std::move(e));
              inside.fetch_sub(1);
              return Status::Ok();
            },
            [&, idx = t * per_thread + i](const Status& s) {
              if (!s.ok()) failures.fetch_add(1);
              calls[idx].fetch_add(1);
            });
      }
    });
  }
  for (auto& th : running) th.join();
  // Queued after every Submit above: when it returns, all of them have run.
  ASSERT_TRUE(store.Commit([](WriteContext&) { return Status::Ok(); }).ok());

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(overlapped.load(), 0) << "two mutations ran at once";
  for (size_t i = 0; i < calls.size(); ++i) ASSERT_EQ(calls[i].load(), 1) << "request " << i;
  auto events = AllEvents(store);
  ASSERT_EQ(events.size(), static_cast<size_t>(threads * per_thread));
  ExpectContiguousFromOne(events);
  std::vector<int> last_i(threads, -1);
  std::set<std::string> ids;
  for (const auto& e : events) {
    const int t = std::stoi(e.subjects.at("thread")), i = std::stoi(e.subjects.at("i"));
    EXPECT_EQ(i, last_i[t] + 1) << "thread " << t << "'s requests ran out of order";
    last_i[t] = i;
    ids.insert(*GetOrDie(store, Table::kJobs, e.subjects.at("item")));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(threads * per_thread)) << "a counter value was reused";
  const StoreStats st = store.Stats();
  EXPECT_EQ(st.last_event_seq, static_cast<uint64_t>(threads * per_thread));
  EXPECT_EQ(st.queue_depth, 0u);
}

TEST_F(StoreTest, ConcurrentSubmitsAllCommitOnceInSubmissionOrderPerThread) {
  // Durability is not what this test checks: sync=false keeps it fast.
  StoreOptions o = Options();
  o.sync = false;
  Reopen(o);
  ExpectRacingSubmittersCommitOnceInOrder(*store_, 8, 150, [](int) { return false; });
}

// ---- inline commits (InlineCommitScope) -------------------------------------

// Where a mutation, its callback and the commit listener ran, and whether the
// callback had run before Submit returned.
struct Ran {
  std::thread::id mutation, callback, listener;
  bool before_return = false;
};

Ran SubmitAndWatch(Store& store, Mutation m, std::atomic<std::thread::id>* heard) {
  Ran ran;
  std::mutex mu;
  std::condition_variable cv;
  bool called = false;
  bool returned = false;
  store.Submit(
      [&, m = std::move(m)](WriteContext& w) {
        ran.mutation = std::this_thread::get_id();
        return m(w);
      },
      [&](const Status& s) {
        EXPECT_TRUE(s.ok()) << s.ToString();
        std::lock_guard lk(mu);
        ran.callback = std::this_thread::get_id();
        ran.before_return = !returned;
        called = true;
        cv.notify_all();
      });
  std::unique_lock lk(mu);
  returned = true;
  cv.wait(lk, [&] { return called; });
  ran.listener = heard->load();
  return ran;
}

// Commits empty mutations from inside a scope until one runs on this thread:
// the committer keeps its group for a moment after the last callback, and a
// submission meanwhile is queued. False if none did within ~2 s.
bool RunsHereOnceIdle(Store& store) {
  InlineCommitScope scope;
  for (int i = 0; i < 400; ++i) {
    std::thread::id ran;
    const Status s = store.Commit([&](WriteContext&) {
      ran = std::this_thread::get_id();
      return Status::Ok();
    });
    if (!s.ok()) return false;
    if (ran == std::this_thread::get_id()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST_F(StoreTest, InlineScopeRunsAnIdleStoresGroupOnTheSubmittingThread) {
  std::atomic<std::thread::id> heard;
  store_->AddCommitListener([&](const std::vector<Event>&) { heard = std::this_thread::get_id(); });
  const auto me = std::this_thread::get_id();
  auto put = [](const std::string& key) {
    return [key](WriteContext& w) {
      w.Put(Table::kJobs, key, "v");
      w.AppendEvent(MakeEvent("test.inline", key));
      return Status::Ok();
    };
  };

  const Ran queued = SubmitAndWatch(*store_, put("outside"), &heard);
  EXPECT_NE(queued.mutation, me) << "without a scope the committer runs it";
  EXPECT_EQ(queued.callback, queued.mutation);
  EXPECT_EQ(queued.listener, queued.mutation);

  ASSERT_TRUE(RunsHereOnceIdle(*store_));
  {
    // Right after a group run here nothing runs or waits: this one runs here too.
    InlineCommitScope scope;
    EXPECT_TRUE(InlineCommitScope::Active());
    const Ran here = SubmitAndWatch(*store_, put("inside"), &heard);
    EXPECT_EQ(here.mutation, me);
    EXPECT_EQ(here.callback, me);
    EXPECT_EQ(here.listener, me);
    EXPECT_TRUE(here.before_return) << "durable and answered before Submit returned";
    { InlineCommitScope nested; }
    EXPECT_TRUE(InlineCommitScope::Active()) << "a nested scope's end keeps the outer one";
  }
  EXPECT_FALSE(InlineCommitScope::Active());
  EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "inside"), "v");

  // The store can refuse: --inline-commits 0.
  StoreOptions o = Options();
  o.inline_commits = false;
  Reopen(o);
  store_->AddCommitListener([&](const std::vector<Event>&) { heard = std::this_thread::get_id(); });
  InlineCommitScope scope;
  const Ran off = SubmitAndWatch(*store_, put("off"), &heard);
  EXPECT_NE(off.mutation, me);
  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 3u);
  ExpectContiguousFromOne(events);
}

TEST_F(StoreTest, InlineSubmitBehindARunningGroupQueuesAndKeepsItsTurn) {
  Gate gate;
  Completions done;
  store_->Submit(gate.Blocker(), done.For("gate"));  // the committer is busy
  gate.WaitEntered();
  std::vector<std::string> seen;  // in mutation order; mutations never overlap
  auto record = [&seen](const std::string& name) {
    return [&seen, name](WriteContext& w) {
      seen.push_back(name);
      w.Put(Table::kJobs, name, "v");
      return Status::Ok();
    };
  };
  store_->Submit(record("queued"), done.For("queued"));
  {
    InlineCommitScope scope;
    store_->Submit(record("inline"), done.For("inline"));
    // Not run here: a group was running, so it waits behind "queued".
    EXPECT_EQ(done.Calls("inline"), 0);
  }
  gate.Release();
  done.WaitAll();
  EXPECT_EQ(seen, (std::vector<std::string>{"queued", "inline"}));
  EXPECT_EQ(done.Order(), (std::vector<std::string>{"gate", "queued", "inline"}));
  EXPECT_TRUE(done.Result("inline").ok());

  // Idle again: a submission from a scope runs here.
  EXPECT_TRUE(RunsHereOnceIdle(*store_));
}

// Threads that commit inline race the committer and each other.
TEST_F(StoreTest, InlineAndQueuedSubmittersRacingAllCommitOnceInOrderPerThread) {
  StoreOptions o = Options();
  o.sync = false;  // what is checked is ordering, not durability
  Reopen(o);
  ExpectRacingSubmittersCommitOnceInOrder(*store_, 6, 150, [](int t) { return t % 2 == 0; });
}

TEST_F(StoreTest, CommitListenerGetsEventsInOrderOnlyOnceDurable) {
  std::mutex mu;
  std::vector<std::string> log;  // listener and callback calls, in the order they happened
  std::vector<uint64_t> heard;
  bool visible_when_heard = true;
  store_->AddCommitListener([&](const std::vector<Event>& events) {
    // Whatever the listener hears is already readable from committed state.
    for (const auto& e : events) {
      auto back = store_->ReadEvents(e.seq - 1, 1);
      if (!back.ok() || back->size() != 1 || (*back)[0].seq != e.seq) visible_when_heard = false;
      auto key = store_->Get(Table::kJobs, e.subjects.at("item"));
      if (!key.ok() || !key->has_value()) visible_when_heard = false;
      if (store_->LastEventSeq() < e.seq) visible_when_heard = false;
    }
    std::lock_guard lk(mu);
    for (const auto& e : events) {
      heard.push_back(e.seq);
      log.push_back("heard " + e.subjects.at("item"));
    }
  });

  Gate gate;
  Completions done;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();
  for (int i = 0; i < 6; ++i) {
    const std::string name = "m" + std::to_string(i);
    const bool fail = i == 2;
    auto record = done.For(name);
    store_->Submit(
        [name, fail](WriteContext& w) {
          w.Put(Table::kJobs, name, "v");
          w.AppendEvent(MakeEvent("test.listen", name));
          if (name == "m4") w.AppendEvent(MakeEvent("test.listen", name));  // two in one mutation
          return fail ? Status::Conflict("no") : Status::Ok();
        },
        [&, name, record](const Status& s) {
          {
            std::lock_guard lk(mu);
            log.push_back("done " + name);
          }
          record(s);
        });
  }
  gate.Release();
  done.WaitAll();
  ASSERT_TRUE(store_
                  ->Commit([](WriteContext& w) {
                    w.Put(Table::kJobs, "late", "v");
                    w.AppendEvent(MakeEvent("test.listen", "late"));
                    return Status::Ok();
                  })
                  .ok());
  // A group without events does not wake listeners.
  ASSERT_TRUE(store_->Commit([](WriteContext&) { return Status::Ok(); }).ok());

  std::lock_guard lk(mu);
  EXPECT_TRUE(visible_when_heard);
  EXPECT_EQ(heard, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));  // 7: "late"
  // The failed m2 is never heard; every event is heard before its request's callback.
  const std::vector<std::string> expected_prefix = {"heard m0", "heard m1", "heard m3",
                                                    "heard m4", "heard m4", "heard m5"};
  ASSERT_GE(log.size(), expected_prefix.size());
  EXPECT_EQ(std::vector<std::string>(log.begin(), log.begin() + 6), expected_prefix);
  EXPECT_EQ(log.back(), "heard late");
}

TEST_F(StoreTest, FullQueueAnswersUnavailable) {
  StoreOptions o = Options();
  o.max_queue = 2;
  Reopen(o);
  Gate gate;
  Completions done;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();  // the gate has left the queue
  store_->Submit(PutKey("q1"), done.For("q1"));
  store_->Submit(PutKey("q2"), done.For("q2"));

  // Refused at once, on the caller's thread; the callback may use the store.
  Status refused = Status::Ok();
  uint64_t depth_seen = 0;
  bool ran = false;
  store_->Submit(
      [&](WriteContext&) {
        ran = true;
        return Status::Ok();
      },
      [&](const Status& s) {
        refused = s;
        depth_seen = store_->Stats().queue_depth;
      });
  EXPECT_EQ(refused.code(), Status::Code::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("queue"), std::string::npos) << refused.message();
  EXPECT_EQ(depth_seen, 2u);

  gate.Release();
  done.WaitAll();
  EXPECT_TRUE(done.Result("q1").ok());
  EXPECT_TRUE(done.Result("q2").ok());
  EXPECT_FALSE(ran);
  // Room again once the queue drained.
  EXPECT_TRUE(store_->Commit([](WriteContext&) { return Status::Ok(); }).ok());
}

TEST_F(StoreTest, ClosingDrainsQueuedMutations) {
  Gate gate;
  Completions done;
  store_->Submit(gate.Blocker(), done.For("gate"));
  gate.WaitEntered();
  for (int i = 0; i < 20; ++i)
    store_->Submit(
        [i](WriteContext& w) {
          w.Put(Table::kJobs, "k" + std::to_string(i), "v");
          return Status::Ok();
        },
        done.For(std::to_string(i)));
  std::thread closer([&] { store_.reset(); });
  gate.Release();
  closer.join();
  done.WaitAll();
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(done.Result(std::to_string(i)).ok()) << i;
  Reopen(Options());
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(GetOrDie(*store_, Table::kJobs, "k" + std::to_string(i)), "v") << i;
}

// ---- time -------------------------------------------------------------------

TEST_F(StoreTest, FakeClockStampsEventsAndMutations) {
  std::atomic<int64_t> now{1'700'000'000'000};
  StoreOptions o = Options();
  o.clock = [&] { return now.load(); };
  Reopen(o);
  int64_t seen_now = 0;
  ASSERT_TRUE(store_
                  ->Commit([&](WriteContext& w) {
                    seen_now = w.Now();
                    w.AppendEvent(MakeEvent("test.t", "1"));
                    return Status::Ok();
                  })
                  .ok());
  now += 61'000;
  ASSERT_TRUE(store_
                  ->Commit([&](WriteContext& w) {
                    w.AppendEvent(MakeEvent("test.t", "2"));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen_now, 1'700'000'000'000);
  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].time_ms, 1'700'000'000'000);
  EXPECT_EQ(events[1].time_ms, 1'700'000'061'000);
}

// ---- reads ------------------------------------------------------------------

TEST_F(StoreTest, ScanAndSeekForPrevStayInsideThePrefix) {
  ASSERT_TRUE(store_
                  ->Commit([](WriteContext& w) {
                    for (const char* k : {"a/1", "a/2", "a/3", "ab", "b/1"})
                      w.Put(Table::kJobs, k, k);
                    return Status::Ok();
                  })
                  .ok());
  std::vector<std::string> keys;
  auto collect = [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  };
  ASSERT_TRUE(store_->Scan(Table::kJobs, "a/", "", collect).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  keys.clear();
  ASSERT_TRUE(store_->Scan(Table::kJobs, "a/", "a/2", collect).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a/2", "a/3"}));
  keys.clear();
  ASSERT_TRUE(store_
                  ->Scan(Table::kJobs, "", "",
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return keys.size() < 2;  // stop early
                         })
                  .ok());
  EXPECT_EQ(keys.size(), 2u);
  // Tables are separate key spaces.
  keys.clear();
  ASSERT_TRUE(store_->Scan(Table::kUsers, "", "", collect).ok());
  EXPECT_TRUE(keys.empty());

  auto hit = store_->SeekForPrev(Table::kJobs, "a/", "a/2x");
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((*hit)->first, "a/2");
  EXPECT_EQ((*hit)->second, "a/2");
  auto before_prefix = store_->SeekForPrev(Table::kJobs, "b/", "b/0");
  ASSERT_TRUE(before_prefix.ok());
  EXPECT_FALSE(before_prefix->has_value()) << "SeekForPrev crossed into another prefix";
}

// ---- open -------------------------------------------------------------------

TEST_F(StoreTest, ReopeningAnotherFormatVersionIsRefused) {
  ASSERT_TRUE(store_
                  ->Commit([](WriteContext& w) {
                    w.Put(Table::kMeta, "format_version", std::to_string(kFormatVersion + 1));
                    return Status::Ok();
                  })
                  .ok());
  store_.reset();
  auto again = Store::Open(Options());
  ASSERT_FALSE(again.ok());
  const std::string msg = again.status().message();
  EXPECT_NE(msg.find(dir_.path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("format version " + std::to_string(kFormatVersion + 1)), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("version " + std::to_string(kFormatVersion)), std::string::npos) << msg;
}

TEST_F(StoreTest, SecondOpenOfAHeldDirectoryIsUnavailable) {
  auto second = Store::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable) << second.status().ToString();
  EXPECT_NE(second.status().message().find(dir_.path()), std::string::npos);
  // The first store is unaffected, and the directory opens once it is released.
  EXPECT_TRUE(store_->Commit(PutKey("x", "1")).ok());
  store_.reset();
  auto third = Store::Open(Options());
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(GetOrDie(**third, Table::kJobs, "x"), "1");
}

}  // namespace
}  // namespace normbase::store
