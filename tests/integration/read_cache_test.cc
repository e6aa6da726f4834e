// The read cache of serialised answers (service/answer_cache.h) and the ETags
// of the public agreement reads, against the real server: a merge or an
// import is in the very next GET of the item and of the list (also while
// other clients keep reading), `?revision=N` answers stay what they were,
// the cache keeps to its byte bound, 304 on If-None-Match, and with the
// cache off (--read-cache-mb 0) everything still works.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

// The value of an unlabelled metric on /metrics; -1 (and a failure) if absent.
double Metric(HttpClient& c, const std::string& name) {
  const std::string body = c.Get("/metrics").body;
  for (size_t pos = body.find(name + " "); pos != std::string::npos;
       pos = body.find(name + " ", pos + 1))
    if (pos == 0 || body[pos - 1] == '\n') return std::stod(body.substr(pos + name.size() + 1));
  ADD_FAILURE() << name << " is not on /metrics";
  return -1;
}

std::string ItemPath(const std::string& id) { return "/api/v1/agreements/" + id; }

// The agreement with `id` in a list answer (null if absent).
json InList(const json& list, const std::string& id) {
  for (const auto& a : list["items"])
    if (a["id"] == id) return a;
  return json();
}

// Base of the suites below: one server per suite, started with `args`, with
// the users a merge needs (an author, approvers from two stakeholder groups,
// a moderator).
class ReadCacheServer : public SharedServerTest {
 protected:
  static void StartWith(std::vector<std::string> args) {
    StartShared(std::move(args));
    HttpClient admin = ClientFor(*server_, server_->admin_token());
    users_ = {CreateUser(admin, "contributor", "civil-society", "author"),
              CreateUser(admin, "contributor", "government", "gov"),
              CreateUser(admin, "contributor", "private-sector", "industry"),
              CreateUser(admin, "moderator", "technical-community", "mod")};
  }

  static HttpClient Reader() { return ClientFor(*server_); }
  static HttpClient As(size_t user) { return ClientFor(*server_, users_.at(user).token); }

  // Recodes `id` to hold only `element`, through review and merge; returns the
  // merge's answer (200 once the merge is durable).
  static HttpResult MergeRecode(const std::string& id, const std::string& element) {
    auto reader = Reader();
    const json current = reader.Get(ItemPath(id)).json();
    auto author = As(0);
    auto created = author.Post("/api/v1/proposals", RecodeBody(current, element));
    EXPECT_TRUE(IsStatus(created, 201));
    const std::string path = "/api/v1/proposals/" + std::to_string(created.json().value("id", 0));
    for (size_t reviewer : {1, 2}) {
      auto c = As(reviewer);
      EXPECT_TRUE(IsStatus(c.Post(path + "/reviews", json{{"verdict", "approve"}}), 201));
    }
    auto moderator = As(3);
    return moderator.Post(path + "/merge", json::object());
  }

  // A merge shows in the very next GET of the item and of the list (both
  // read, and so cached, just before).
  static void CheckMergeIsInTheNextGet(const std::string& id, const std::string& element) {
    auto reader = Reader();
    for (int i = 0; i < 2; ++i) {  // the second answer of each is a cached one when the cache is on
      ASSERT_TRUE(IsStatus(reader.Get(ItemPath(id)), 200));
      ASSERT_TRUE(IsStatus(reader.Get("/api/v1/agreements?limit=500"), 200));
    }
    const json before = reader.Get(ItemPath(id)).json();
    const int64_t ds = reader.Get("/api/v1/agreements?limit=500").json()["dataset_revision"];
    ASSERT_FALSE(before["codings"].contains(element));

    ASSERT_TRUE(IsStatus(MergeRecode(id, element), 200));

    const json item = reader.Get(ItemPath(id)).json();
    EXPECT_EQ(item["revision"], before["revision"].get<int>() + 1);
    EXPECT_TRUE(item["codings"].contains(element)) << item.dump();
    const json list = reader.Get("/api/v1/agreements?limit=500").json();
    EXPECT_EQ(list["dataset_revision"], ds + 1);
    EXPECT_EQ(InList(list, id), item);
  }

  static inline std::vector<TestUser> users_;
};

class ReadCacheTest : public ReadCacheServer {
 protected:
  static constexpr int kCacheMiB = 1;
  static void SetUpTestSuite() { StartWith({"--read-cache-mb", std::to_string(kCacheMiB)}); }
};

TEST_F(ReadCacheTest, RepeatedReadsAreServedFromTheCache) {
  auto c = Reader();
  const double hits = Metric(c, "normbase_read_cache_hits_total");
  const double misses = Metric(c, "normbase_read_cache_misses_total");
  auto first = c.Get(ItemPath("sco-iis-agreement-2009"));
  auto second = c.Get(ItemPath("sco-iis-agreement-2009"));
  ASSERT_TRUE(IsStatus(first, 200));
  ASSERT_TRUE(IsStatus(second, 200));
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("content-type"), "application/json");
  EXPECT_EQ(Metric(c, "normbase_read_cache_misses_total"), misses + 1);
  EXPECT_EQ(Metric(c, "normbase_read_cache_hits_total"), hits + 1);
  // The text search ignores case, so these two share one answer.
  auto lower = c.Get("/api/v1/agreements?q=christchurch");
  auto upper = c.Get("/api/v1/agreements?q=CHRISTCHURCH");
  ASSERT_TRUE(IsStatus(upper, 200));
  EXPECT_EQ(Ids(upper.json()["items"]), std::set<std::string>{"christchurch-call-2019"});
  EXPECT_EQ(upper.body, lower.body);
  EXPECT_EQ(Metric(c, "normbase_read_cache_hits_total"), hits + 2);
}

TEST_F(ReadCacheTest, AMergeIsInTheVeryNextGetOfTheItemAndTheList) {
  CheckMergeIsInTheNextGet("commonwealth-cyber-declaration-2018", "capacity-building");
}

TEST_F(ReadCacheTest, AnImportIsInTheVeryNextGetOfTheItemAndTheList) {
  auto reader = Reader();
  const std::string id = "gcsc-six-critical-norms";
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(IsStatus(reader.Get(ItemPath(id)), 200));
    ASSERT_TRUE(IsStatus(reader.Get(ItemPath("import-cache-2024")), 404));
    ASSERT_TRUE(IsStatus(reader.Get("/api/v1/agreements?limit=500"), 200));
  }
  json changed = reader.Get(ItemPath(id)).json();
  changed["notes"] = "changed by an import";
  auto admin = ClientFor(*server_, server_->admin_token());
  auto r = admin.Post("/api/v1/import",
                      json{{"agreements", {NewAgreement("import-cache-2024"), changed}}});
  ASSERT_TRUE(IsStatus(r, 200));
  const int64_t ds = r.json()["dataset_revision"];

  const json item = reader.Get(ItemPath(id)).json();
  EXPECT_EQ(item["notes"], "changed by an import");
  EXPECT_TRUE(IsStatus(reader.Get(ItemPath("import-cache-2024")), 200));
  const json list = reader.Get("/api/v1/agreements?limit=500").json();
  EXPECT_EQ(list["dataset_revision"], ds);
  EXPECT_EQ(InList(list, id), item);
  EXPECT_FALSE(InList(list, "import-cache-2024").is_null());
}

TEST_F(ReadCacheTest, RevisionQueriesKeepTheirOldAnswers) {
  auto reader = Reader();
  const std::string id = "un-gge-2015";
  const auto old_item = reader.Get(ItemPath(id));
  const auto old_list = reader.Get("/api/v1/agreements?limit=500");
  ASSERT_TRUE(IsStatus(old_item, 200));
  const int64_t ds = old_list.json()["dataset_revision"];
  const std::string at = "revision=" + std::to_string(ds);
  // Cached at revision ds before the merge...
  const auto item_at = reader.Get(ItemPath(id) + "?" + at);
  const auto list_at = reader.Get("/api/v1/agreements?limit=500&" + at);
  ASSERT_TRUE(IsStatus(item_at, 200));
  ASSERT_TRUE(IsStatus(list_at, 200));
  EXPECT_EQ(item_at.json(), old_item.json());
  EXPECT_EQ(list_at.json(), old_list.json());
  // ...a revision that does not exist yet is refused, and not remembered as such.
  const std::string next = "revision=" + std::to_string(ds + 1);
  EXPECT_TRUE(IsProblem(reader.Get(ItemPath(id) + "?" + next), 404, "does not exist"));

  ASSERT_TRUE(IsStatus(MergeRecode(id, "human-rights"), 200));

  for (int i = 0; i < 2; ++i) {  // computed after the merge, then from the cache
    EXPECT_EQ(reader.Get(ItemPath(id) + "?" + at).body, item_at.body);
    EXPECT_EQ(reader.Get("/api/v1/agreements?limit=500&" + at).body, list_at.body);
  }
  const auto item_next = reader.Get(ItemPath(id) + "?" + next);
  ASSERT_TRUE(IsStatus(item_next, 200));
  EXPECT_EQ(item_next.json(), reader.Get(ItemPath(id)).json());
  EXPECT_NE(item_next.json(), old_item.json());
}

TEST_F(ReadCacheTest, ETagRevalidationAnswers304) {
  auto c = Reader();
  const std::string id = "au-malabo-convention-2014";
  auto r = c.Get(ItemPath(id));
  ASSERT_TRUE(IsStatus(r, 200));
  const std::string etag = r.header("etag");
  ASSERT_EQ(etag.size(), 34u) << "a quoted 128-bit hex fingerprint: " << etag;
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(r.header("cache-control"), "no-cache");

  for (const std::string& inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto nm = c.Request("GET", ItemPath(id), "", {{"If-None-Match", inm}});
    EXPECT_TRUE(IsStatus(nm, 304)) << inm;
    EXPECT_TRUE(nm.body.empty());
    EXPECT_EQ(nm.header("etag"), etag);
    EXPECT_EQ(nm.header("content-length"), "") << "RFC 9110 8.6";
  }
  for (const std::string& inm :
       {std::string("\"other\""), etag.substr(0, 20) + "\"", std::string("garbage")}) {
    auto full = c.Request("GET", ItemPath(id), "", {{"If-None-Match", inm}});
    EXPECT_TRUE(IsStatus(full, 200)) << inm;
    EXPECT_EQ(full.body, r.body);
  }
  // The connection is still usable after a 304.
  EXPECT_TRUE(IsStatus(c.Get(ItemPath(id)), 200));

  // HEAD: the GET's headers and length, no body.
  auto head = c.Request("HEAD", ItemPath(id), "");
  ASSERT_TRUE(IsStatus(head, 200));
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(r.body.size()));
  EXPECT_EQ(head.header("etag"), etag);

  // The list has its own tag; a merge elsewhere changes it but not this item's.
  auto list = c.Get("/api/v1/agreements");
  const std::string list_etag = list.header("etag");
  ASSERT_FALSE(list_etag.empty());
  EXPECT_NE(list_etag, etag);
  ASSERT_TRUE(IsStatus(MergeRecode("un-gge-2010", "human-rights"), 200));
  EXPECT_TRUE(IsStatus(c.Request("GET", ItemPath(id), "", {{"If-None-Match", etag}}), 304))
      << "same bytes, same tag, whatever the revision";
  auto relisted = c.Request("GET", "/api/v1/agreements", "", {{"If-None-Match", list_etag}});
  ASSERT_TRUE(IsStatus(relisted, 200));
  EXPECT_NE(relisted.header("etag"), list_etag);
  // A merge of the item itself changes its tag.
  ASSERT_TRUE(IsStatus(MergeRecode(id, "ransomware"), 200));
  auto changed = c.Request("GET", ItemPath(id), "", {{"If-None-Match", etag}});
  ASSERT_TRUE(IsStatus(changed, 200));
  EXPECT_NE(changed.header("etag"), etag);
  EXPECT_TRUE(changed.json()["codings"].contains("ransomware"));
}

TEST_F(ReadCacheTest, TheCacheKeepsToItsByteBound) {
  auto c = Reader();
  const double capacity = Metric(c, "normbase_read_cache_capacity_bytes");
  EXPECT_EQ(capacity, kCacheMiB * 1024.0 * 1024.0);
  const size_t list_bytes = c.Get("/api/v1/agreements?limit=500").body.size();
  ASSERT_GT(list_bytes, 50000u) << "the full list should be tens of KB";
  // Distinct keys (each limit >= 33 is the full list) worth twice the bound.
  const size_t variants = 2 * static_cast<size_t>(capacity) / list_bytes + 1;
  const double evictions = Metric(c, "normbase_read_cache_evictions_total");
  for (size_t i = 0; i < variants; ++i)
    ASSERT_TRUE(IsStatus(c.Get("/api/v1/agreements?limit=" + std::to_string(100 + i)), 200));
  const double bytes = Metric(c, "normbase_read_cache_bytes");
  EXPECT_LE(bytes, capacity);
  EXPECT_GT(bytes, capacity / 2) << "it should be well used after that";
  EXPECT_GT(Metric(c, "normbase_read_cache_evictions_total"), evictions + variants / 3);
  EXPECT_GE(Metric(c, "normbase_read_cache_entries"), 1);
}

// Readers keep reading (and filling the cache) while a merge commits: every
// request sent after the merge was acknowledged sees it.
TEST_F(ReadCacheTest, NoReaderSeesAStaleAnswerAfterTheMergeIsAcknowledged) {
  const std::string id = "g20-antalya-communique-2015";
  std::atomic<bool> merged{false}, stop{false};
  std::atomic<int> stale{0}, after{0}, failed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&, t] {
      auto c = Reader();
      while (!stop) {
        const bool was_merged = merged.load();  // read before the request is sent
        auto r = c.Get(t == 0 ? "/api/v1/agreements?limit=500" : ItemPath(id));
        if (r.status != 200) {
          ++failed;
          continue;
        }
        const json a = t == 0 ? InList(r.json(), id) : r.json();
        if (!was_merged) continue;
        ++after;
        if (!a["codings"].contains("ransomware")) ++stale;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // readers warm the cache
  auto r = MergeRecode(id, "ransomware");
  merged = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& th : readers) th.join();
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(failed, 0);
  EXPECT_GT(after, 0);
  EXPECT_EQ(stale, 0) << "of " << after << " reads sent after the merge was acknowledged";
}

// The same guarantees and the ETags without the cache.
class ReadCacheOffTest : public ReadCacheServer {
 protected:
  static void SetUpTestSuite() { StartWith({"--read-cache-mb", "0"}); }
};

TEST_F(ReadCacheOffTest, ReadsMergesAndETagsWorkWithoutTheCache) {
  auto c = Reader();
  EXPECT_EQ(Metric(c, "normbase_read_cache_capacity_bytes"), 0);
  auto r = c.Get(ItemPath(kParisCall));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["id"], kParisCall);
  EXPECT_EQ(c.Get("/api/v1/agreements").json()["coverage"]["agreements"], kSeedAgreements);
  EXPECT_TRUE(IsStatus(
      c.Request("GET", ItemPath(kParisCall), "", {{"If-None-Match", r.header("etag")}}), 304));

  CheckMergeIsInTheNextGet("osce-cbms-2013", "confidence-building");

  EXPECT_EQ(Metric(c, "normbase_read_cache_hits_total"), 0);
  EXPECT_EQ(Metric(c, "normbase_read_cache_entries"), 0);
  EXPECT_EQ(Metric(c, "normbase_read_cache_bytes"), 0);
}

}  // namespace
}  // namespace normbase::testing
