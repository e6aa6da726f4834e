// The public read endpoints against a freshly seeded server: health, metrics,
// codebook, agreement listing with every filter and pagination, one
// agreement, history, the event log and both exports. Nothing here writes, so
// the whole suite shares one server.
#include <gtest/gtest.h>

#include <map>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

class ReadApiTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }

  static HttpClient Client() { return HttpClient(server_->base_url()); }

  // Follows next_cursor from the first page to the last.
  static std::vector<std::string> VisitAllPages(HttpClient& c, const std::string& query,
                                                size_t page_size, int* pages) {
    std::vector<std::string> ids;
    std::string cursor;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      std::string target = "/api/v1/agreements?limit=" + std::to_string(page_size) + query;
      if (!cursor.empty()) target += "&cursor=" + cursor;
      auto r = c.Get(target);
      EXPECT_TRUE(IsStatus(r, 200));
      const json j = r.json();
      ++*pages;
      EXPECT_LE(j["items"].size(), page_size);
      EXPECT_EQ(j["coverage"]["agreements"], kSeedAgreements) << "coverage is of all matches";
      for (const auto& a : j["items"]) ids.push_back(a["id"]);
      if (j["next_cursor"].is_null()) return ids;
      cursor = j["next_cursor"].get<std::string>();
    }
    ADD_FAILURE() << "pagination does not end";
    return ids;
  }
};

TEST_F(ReadApiTest, HealthzReportsTheSeededDataset) {
  auto c = Client();
  auto r = c.Get("/healthz");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.header("content-type"), "application/json");
  const json j = r.json();
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["agreements"], kSeedAgreements);
  EXPECT_EQ(j["coded_agreements"], kSeedCoded);
  EXPECT_EQ(j["dataset_revision"], 1);
  EXPECT_EQ(j["retired_agreements"], 0);
  EXPECT_GE(j["last_event_seq"].get<int>(), 3) << "seeding, admin user and bootstrap token";
}

TEST_F(ReadApiTest, HeadIsAnsweredLikeGetWithoutABody) {
  auto c = Client();
  auto r = c.Request("HEAD", "/healthz", "");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.body.empty());
  // The connection is still usable afterwards.
  EXPECT_TRUE(IsStatus(c.Get("/healthz"), 200));
}

TEST_F(ReadApiTest, MetricsArePrometheusText) {
  auto c = Client();
  ASSERT_TRUE(IsStatus(c.Get("/api/v1/codebook"), 200));
  auto r = c.Get("/metrics");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u) << r.header("content-type");
  EXPECT_NE(r.body.find("# TYPE normbase_http_requests_total counter"), std::string::npos);
  EXPECT_NE(
      r.body.find(
          "normbase_http_requests_total{method=\"GET\",route=\"/api/v1/codebook\",status=\"200\"}"),
      std::string::npos)
      << r.body.substr(0, 2000);
  EXPECT_NE(r.body.find("normbase_agreements 33"), std::string::npos);
  EXPECT_NE(r.body.find("normbase_agreements_coded 19"), std::string::npos);
  EXPECT_NE(r.body.find("normbase_event_log_last_seq"), std::string::npos);
  // Every sample line is "name[{labels}] value".
  size_t start = 0;
  while (start < r.body.size()) {
    size_t end = r.body.find('\n', start);
    if (end == std::string::npos) end = r.body.size();
    const std::string line = r.body.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(line.rfind("normbase_", 0), 0u) << line;
    EXPECT_NE(line.rfind(' '), std::string::npos) << line;
  }
}

TEST_F(ReadApiTest, CodebookHasCategoriesElementsKindsAndGroups) {
  auto c = Client();
  auto r = c.Get("/api/v1/codebook");
  ASSERT_TRUE(IsStatus(r, 200));
  const json j = r.json();
  EXPECT_EQ(j["codebook"], "normbase-starter");
  EXPECT_EQ(j["version"], 1);
  std::set<std::string> elements;
  for (const auto& cat : j["categories"])
    for (const auto& e : cat["elements"]) {
      elements.insert(e["id"].get<std::string>());
      EXPECT_FALSE(e["label"].get<std::string>().empty());
      EXPECT_FALSE(e["definition"].get<std::string>().empty());
    }
  EXPECT_EQ(elements.size(), static_cast<size_t>(kCodebookElements));
  EXPECT_TRUE(elements.count("human-rights"));
  EXPECT_TRUE(elements.count("ransomware"));
  std::set<std::string> kinds, groups;
  for (const auto& k : j["agreement_kinds"]) kinds.insert(k["id"]);
  for (const auto& g : j["stakeholder_groups"]) groups.insert(g["id"]);
  EXPECT_EQ(kinds, (std::set<std::string>{"multilateral", "regional", "plurilateral", "bilateral",
                                          "multistakeholder", "industry"}));
  EXPECT_EQ(groups.size(), 6u);
  EXPECT_TRUE(groups.count("civil-society"));
}

TEST_F(ReadApiTest, ListingShowsEveryAgreementAndCoverage) {
  auto c = Client();
  auto r = c.Get("/api/v1/agreements");
  ASSERT_TRUE(IsStatus(r, 200));
  const json j = r.json();
  EXPECT_EQ(j["items"].size(), static_cast<size_t>(kSeedAgreements)) << "default page is 50";
  EXPECT_TRUE(j["next_cursor"].is_null());
  EXPECT_EQ(j["dataset_revision"], 1);
  EXPECT_EQ(j["coverage"]["agreements"], kSeedAgreements);
  EXPECT_EQ(j["coverage"]["coded"], kSeedCoded);
  EXPECT_EQ(j["coverage"]["uncoded"], kSeedAgreements - kSeedCoded);
  int coded = 0;
  std::string prev;
  for (const auto& a : j["items"]) {
    EXPECT_EQ(a["revision"], 1);
    EXPECT_EQ(a["coded"], !a["codings"].empty());
    coded += a["coded"].get<bool>();
    EXPECT_LT(prev, a["id"].get<std::string>()) << "ordered by id";
    prev = a["id"];
  }
  EXPECT_EQ(coded, kSeedCoded);
  EXPECT_TRUE(Ids(j["items"]).count(kParisCall));
}

TEST_F(ReadApiTest, CursorPaginationVisitsEveryAgreementOnce) {
  auto c = Client();
  const std::set<std::string> all = Ids(AllAgreements(c));
  ASSERT_EQ(all.size(), static_cast<size_t>(kSeedAgreements));
  for (size_t page : {1u, 5u, 10u, 32u, 33u}) {
    int pages = 0;
    auto ids = VisitAllPages(c, "", page, &pages);
    EXPECT_EQ(ids.size(), all.size()) << "page size " << page;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), all) << "page size " << page;
    EXPECT_EQ(pages, static_cast<int>((kSeedAgreements + page - 1) / page)) << "page " << page;
  }
}

TEST_F(ReadApiTest, PaginationWorksWithAFilter) {
  auto c = Client();
  const json all = AllAgreements(c);
  std::set<std::string> regional;
  for (const auto& a : all)
    if (a["kind"] == "regional") regional.insert(a["id"]);
  std::vector<std::string> ids;
  std::string cursor;
  for (int guard = 0; guard < 50; ++guard) {
    auto r = c.Get("/api/v1/agreements?kind=regional&limit=4" +
                   (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(IsStatus(r, 200));
    const json j = r.json();
    EXPECT_EQ(j["coverage"]["agreements"].get<size_t>(), regional.size());
    for (const auto& a : j["items"]) ids.push_back(a["id"]);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"];
  }
  EXPECT_EQ(ids.size(), regional.size());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), regional);
}

TEST_F(ReadApiTest, FilterByKind) {
  auto c = Client();
  const json all = AllAgreements(c);
  std::map<std::string, std::set<std::string>> by_kind;
  for (const auto& a : all) by_kind[a["kind"]].insert(a["id"]);
  ASSERT_GE(by_kind.size(), 4u);
  for (const auto& [kind, expected] : by_kind) {
    auto r = c.Get("/api/v1/agreements?limit=500&kind=" + kind);
    ASSERT_TRUE(IsStatus(r, 200));
    EXPECT_EQ(Ids(r.json()["items"]), expected) << kind;
    EXPECT_EQ(r.json()["coverage"]["agreements"].get<size_t>(), expected.size());
  }
  auto r = c.Get("/api/v1/agreements?kind=multistakeholder");
  EXPECT_TRUE(Ids(r.json()["items"]).count(kParisCall));
  EXPECT_FALSE(Ids(r.json()["items"]).count(kTechAccord)) << "the Tech Accord is industry-led";
}

TEST_F(ReadApiTest, FilterByElement) {
  auto c = Client();
  const json all = AllAgreements(c);
  std::set<std::string> expected;
  for (const auto& a : all)
    if (a["codings"].contains("human-rights")) expected.insert(a["id"]);
  ASSERT_GE(expected.size(), 5u);
  auto r = c.Get("/api/v1/agreements?limit=500&element=human-rights");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(Ids(r.json()["items"]), expected);
  EXPECT_TRUE(expected.count(kParisCall));
  EXPECT_EQ(r.json()["coverage"]["coded"].get<size_t>(), expected.size()) << "every match is coded";

  // An element nobody has coded yet: empty, not an error.
  r = c.Get("/api/v1/agreements?element=ransomware");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["items"].empty());
  EXPECT_EQ(r.json()["coverage"]["agreements"], 0);
}

TEST_F(ReadApiTest, FilterByYearRange) {
  auto c = Client();
  const json all = AllAgreements(c);
  auto expect_range = [&](std::optional<int> from, std::optional<int> to) -> size_t {
    std::set<std::string> expected;
    for (const auto& a : all) {
      if (a["year"].is_null()) continue;  // an unknown year is outside every range
      const int y = a["year"];
      if ((!from || y >= *from) && (!to || y <= *to)) expected.insert(a["id"]);
    }
    std::string q = "/api/v1/agreements?limit=500";
    if (from) q += "&year_from=" + std::to_string(*from);
    if (to) q += "&year_to=" + std::to_string(*to);
    auto r = c.Get(q);
    EXPECT_TRUE(IsStatus(r, 200)) << q;
    EXPECT_EQ(Ids(r.json()["items"]), expected) << q;
    for (const json page = r.json(); const auto& a : page["items"]) {
      if (from) {
        EXPECT_GE(a["year"].get<int>(), *from);
      }
      if (to) {
        EXPECT_LE(a["year"].get<int>(), *to);
      }
    }
    return expected.size();
  };
  EXPECT_GT(expect_range(2015, 2016), 3u);
  EXPECT_EQ(expect_range(2018, 2018), 7u);
  EXPECT_GT(expect_range(2020, std::nullopt), 3u);
  EXPECT_EQ(expect_range(std::nullopt, 2009), 2u) << "Budapest 2001 and SCO 2009";
  EXPECT_EQ(expect_range(2030, std::nullopt), 0u);
  EXPECT_EQ(expect_range(2019, 2015), 0u) << "an empty range is empty, not an error";
  // Every agreement with a year is within 1900..2100; two have no year.
  EXPECT_EQ(expect_range(1900, 2100), static_cast<size_t>(kSeedAgreements - 2));
}

TEST_F(ReadApiTest, TextSearchIsCaseInsensitiveOverIdTitleAndParties) {
  auto c = Client();
  for (const char* q : {"paris", "PARIS", "Paris%20Call", "paris+call"}) {
    auto r = c.Get(std::string("/api/v1/agreements?q=") + q);
    ASSERT_TRUE(IsStatus(r, 200));
    EXPECT_TRUE(Ids(r.json()["items"]).count(kParisCall)) << q;
  }
  auto r = c.Get("/api/v1/agreements?limit=500&q=gge");
  ASSERT_TRUE(IsStatus(r, 200));
  const auto ids = Ids(r.json()["items"]);
  EXPECT_TRUE(ids.count("un-gge-2015"));
  EXPECT_TRUE(ids.count("un-gge-2021"));
  EXPECT_FALSE(ids.count(kParisCall));
  r = c.Get("/api/v1/agreements?q=no-such-words-anywhere");
  EXPECT_TRUE(r.json()["items"].empty());
}

TEST_F(ReadApiTest, FiltersCombine) {
  auto c = Client();
  const json all = AllAgreements(c);
  std::set<std::string> expected;
  for (const auto& a : all)
    if (a["kind"] == "regional" && a["codings"].contains("human-rights") && !a["year"].is_null() &&
        a["year"] >= 2010)
      expected.insert(a["id"]);
  ASSERT_FALSE(expected.empty());
  auto r = c.Get("/api/v1/agreements?limit=500&kind=regional&element=human-rights&year_from=2010");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(Ids(r.json()["items"]), expected);
}

TEST_F(ReadApiTest, RevisionParameterReadsADatasetRevision) {
  auto c = Client();
  auto r = c.Get("/api/v1/agreements?revision=1&limit=500");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["dataset_revision"], 1);
  EXPECT_EQ(r.json()["items"].size(), static_cast<size_t>(kSeedAgreements));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/agreements?revision=2"), 404, "dataset revision 2"));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/agreements?revision=0"), 404, "revisions are 1..1"));

  r = c.Get("/api/v1/dataset/revisions/1");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["revision"], 1);
  EXPECT_EQ(r.json()["changes"].size(), static_cast<size_t>(kSeedAgreements));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/dataset/revisions/7"), 404, "does not exist"));
}

TEST_F(ReadApiTest, UnknownFilterValuesAreRefusedWithTheReason) {
  auto c = Client();
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/agreements?kind=treaty"), 400, "treaty"));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/agreements?element=world-peace"), 400,
                        "'world-peace' is not an element"));
}

TEST_F(ReadApiTest, OneAgreementWithCodingsAndEvidence) {
  auto c = Client();
  auto r = c.Get(std::string("/api/v1/agreements/") + kParisCall);
  ASSERT_TRUE(IsStatus(r, 200));
  const json a = r.json();
  EXPECT_EQ(a["id"], kParisCall);
  EXPECT_EQ(a["year"], 2018);
  EXPECT_EQ(a["kind"], "multistakeholder");
  EXPECT_EQ(a["revision"], 1);
  EXPECT_EQ(a["retired"], false);
  EXPECT_EQ(a["codings"].size(), 17u);
  ASSERT_TRUE(a["codings"].contains("human-rights"));
  const json& hr = a["codings"]["human-rights"];
  ASSERT_FALSE(hr["evidence"].empty());
  for (const auto& e : hr["evidence"]) {
    EXPECT_FALSE(e["quote"].get<std::string>().empty());
    EXPECT_TRUE(e.contains("locator"));
  }
  EXPECT_TRUE(hr.contains("note"));

  r = c.Get(std::string("/api/v1/agreements/") + kTechAccord);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["codings"].empty());
  EXPECT_EQ(r.json()["coded"], false);

  r = c.Get(std::string("/api/v1/agreements/") + kParisCall + "?revision=1");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json(), a);
}

TEST_F(ReadApiTest, UnknownAgreementIs404) {
  auto c = Client();
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/agreements/no-such-agreement"), 404,
                        "'no-such-agreement' does not exist"));
  EXPECT_TRUE(
      IsProblem(c.Get("/api/v1/agreements/no-such-agreement/history"), 404, "does not exist"));
  EXPECT_TRUE(IsProblem(c.Get(std::string("/api/v1/agreements/") + kParisCall + "?revision=9"), 404,
                        "dataset revision 9"));
}

TEST_F(ReadApiTest, HistoryShowsTheSeedVersionAndProvenance) {
  auto c = Client();
  auto r = c.Get(std::string("/api/v1/agreements/") + kParisCall + "/history");
  ASSERT_TRUE(IsStatus(r, 200));
  const json h = r.json();
  EXPECT_EQ(h["agreement_id"], kParisCall);
  ASSERT_EQ(h["versions"].size(), 1u);
  const json& v = h["versions"][0];
  EXPECT_EQ(v["change"], "seeded");
  EXPECT_EQ(v["agreement_revision"], 1);
  EXPECT_EQ(v["dataset_revision"], 1);
  EXPECT_TRUE(v["proposal"].is_null());
  EXPECT_EQ(v["agreement"]["id"], kParisCall);
  ASSERT_TRUE(h["provenance"].contains("human-rights"));
  const json& p = h["provenance"]["human-rights"][0];
  EXPECT_EQ(p["change"], "added");
  EXPECT_EQ(p["actor_name"], "seed");
  // Times are milliseconds since the epoch, the same in the version and its provenance.
  EXPECT_EQ(p["at"], v["at"]);
  EXPECT_GT(p["at"].get<int64_t>(), int64_t{1'600'000'000'000});
}

TEST_F(ReadApiTest, EventsPageThroughTheLogInOrder) {
  // A moderator (here the admin) sees every event, account events included.
  auto c = Client();
  c.set_token(server_->admin_token());
  auto r = c.Get("/api/v1/events?since=0&limit=2");
  ASSERT_TRUE(IsStatus(r, 200));
  json j = r.json();
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["seq"], 1);
  EXPECT_EQ(j["items"][0]["type"], "dataset.seeded");
  EXPECT_EQ(j["items"][0]["payload"]["added"], kSeedAgreements);
  EXPECT_EQ(j["items"][1]["seq"], 2);
  // The seed queues the dataset analyses in the same batch as the seed itself.
  EXPECT_EQ(j["items"][1]["type"], "analysis.queued");
  EXPECT_EQ(j["next_since"], 2);
  const uint64_t last = j["last_seq"];
  ASSERT_GE(last, 3u);

  r = c.Get("/api/v1/events?since=1&limit=1");
  ASSERT_TRUE(IsStatus(r, 200));
  ASSERT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["seq"], 2);

  // Walking with next_since visits every event once, in order.
  std::vector<uint64_t> seqs;
  uint64_t since = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    r = c.Get("/api/v1/events?since=" + std::to_string(since) + "&limit=1");
    ASSERT_TRUE(IsStatus(r, 200));
    j = r.json();
    if (j["items"].empty()) break;
    for (const auto& e : j["items"]) {
      seqs.push_back(e["seq"]);
      EXPECT_TRUE(e["type"].is_string());
      EXPECT_TRUE(e.contains("payload"));
    }
    since = j["next_since"];
  }
  ASSERT_EQ(seqs.size(), last);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);

  r = c.Get("/api/v1/events?since=" + std::to_string(last));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["items"].empty());
  EXPECT_EQ(r.json()["next_since"], last);
}

TEST_F(ReadApiTest, AnonymousEventsLeaveOutAccountEvents) {
  auto c = Client();
  auto r = c.Get("/api/v1/events?since=0&limit=10");
  ASSERT_TRUE(IsStatus(r, 200));
  const json j = r.json();
  ASSERT_FALSE(j["items"].empty());
  EXPECT_EQ(j["items"][0]["type"], "dataset.seeded");
  for (const auto& e : j["items"]) {
    const std::string type = e["type"];
    EXPECT_NE(type.rfind("user.", 0), 0u) << type;
    EXPECT_NE(type.rfind("token.", 0), 0u) << type;
  }
  // The head of the log is still reported, so clients can resume after it.
  EXPECT_GE(j["last_seq"].get<int>(), 3);
  EXPECT_EQ(j["next_since"], j["last_seq"]);
  // A wrong token is refused rather than silently treated as anonymous.
  c.set_token("nb_not-a-real-token");
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/events"), 401, "token"));
}

TEST_F(ReadApiTest, ExportJsonHasEveryAgreementAndCounts) {
  auto c = Client();
  auto r = c.Get("/api/v1/export.json");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_NE(r.header("content-disposition").find("attachment"), std::string::npos);
  const json j = r.json();
  EXPECT_EQ(j["dataset_revision"], 1);
  EXPECT_EQ(j["codebook"]["id"], "normbase-starter");
  EXPECT_EQ(j["counts"]["agreements"], kSeedAgreements);
  EXPECT_EQ(j["counts"]["coded_agreements"], kSeedCoded);
  EXPECT_GT(j["counts"]["codings"].get<int>(), kSeedCoded);
  EXPECT_GE(j["counts"]["evidence_quotes"].get<int>(), j["counts"]["codings"].get<int>());
  ASSERT_EQ(j["agreements"].size(), static_cast<size_t>(kSeedAgreements));
  EXPECT_EQ(Ids(j["agreements"]), Ids(AllAgreements(c)));
}

TEST_F(ReadApiTest, ExportCsvHasOneRowPerAgreementAndOneColumnPerElement) {
  auto c = Client();
  auto r = c.Get("/api/v1/export.csv");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.header("content-type").rfind("text/csv", 0), 0u);
  EXPECT_NE(r.header("content-disposition").find("normbase.csv"), std::string::npos);
  const auto rows = ParseCsv(r.body);
  ASSERT_EQ(rows.size(), static_cast<size_t>(kSeedAgreements + 1)) << "header + 33 rows";

  // Header: the agreement fields, then the elements in codebook order.
  const json cb = c.Get("/api/v1/codebook").json();
  std::vector<std::string> expected_header = {
      "id",      "title",      "year",          "date", "kind", "leading_stakeholders",
      "parties", "source_url", "bpf_inclusion", "coded"};
  const size_t fixed = expected_header.size();
  for (const auto& cat : cb["categories"])
    for (const auto& e : cat["elements"]) expected_header.push_back(e["id"]);
  ASSERT_EQ(rows[0], expected_header);

  std::map<std::string, json> by_id;
  for (const auto& a : AllAgreements(c)) by_id[a["id"]] = a;
  std::set<std::string> seen;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    ASSERT_EQ(row.size(), expected_header.size()) << "row " << i;
    ASSERT_TRUE(by_id.count(row[0])) << row[0];
    EXPECT_TRUE(seen.insert(row[0]).second) << row[0] << " twice";
    const json& a = by_id[row[0]];
    EXPECT_EQ(row[1], a["title"]);
    EXPECT_EQ(row[4], a["kind"]);
    EXPECT_EQ(row[9], a["coded"].get<bool>() ? "1" : "0");
    for (size_t col = fixed; col < row.size(); ++col) {
      ASSERT_TRUE(row[col] == "0" || row[col] == "1") << row[0] << " " << rows[0][col];
      EXPECT_EQ(row[col] == "1", a["codings"].contains(rows[0][col]))
          << row[0] << " " << rows[0][col];
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kSeedAgreements));
}

TEST_F(ReadApiTest, ProposalsListIsEmptyOnAFreshServer) {
  auto c = Client();
  auto r = c.Get("/api/v1/proposals");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["items"].empty());
  EXPECT_TRUE(r.json()["next_cursor"].is_null());
}

TEST_F(ReadApiTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto c = Client();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(IsStatus(c.Get("/healthz"), 200));
  EXPECT_EQ(c.connections_opened(), 1);
}

}  // namespace
}  // namespace normbase::testing
