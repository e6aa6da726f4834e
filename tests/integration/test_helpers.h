// Shared helpers of the integration tests: assertions on problem+json
// answers, the "nothing changed" check, user and token set-up, seed facts and
// a small CSV reader. Header-only so that each *_test.cc stays self-contained.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/server_process.h"

namespace normbase::testing {

using nlohmann::json;

// Facts of the seed data (data/seed) that the tests rely on.
inline constexpr int kSeedAgreements = 33;
inline constexpr int kSeedCoded = 19;
inline constexpr int kCodebookElements = 26;
inline constexpr char kParisCall[] = "paris-call-2018";  // multistakeholder, 2018, 17 codings
inline constexpr char kTechAccord[] = "cybersecurity-tech-accord-2018";  // industry, uncoded

// Checks an error answer: the status, the problem+json content type, the RFC
// 9457 members, and a `detail` that contains `detail_part` (say what to fix).
inline ::testing::AssertionResult IsProblem(const HttpResult& r, int status,
                                            const std::string& detail_part = "") {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure()
           << why << "\n  status: " << r.status << " (expected " << status << ")"
           << "\n  content-type: " << r.header("content-type") << "\n  body: " << r.body
           << (r.error.empty() ? "" : "\n  error: " + r.error);
  };
  if (r.status != status) return fail("wrong status");
  if (r.header("content-type").rfind("application/problem+json", 0) != 0)
    return fail("not application/problem+json");
  const json j = r.json();
  if (!j.is_object()) return fail("the body is not a JSON object");
  if (!j.contains("status") || j["status"] != status) return fail("problem.status is wrong");
  if (!j.contains("title") || !j["title"].is_string()) return fail("problem.title is missing");
  if (!j.contains("type") || !j["type"].is_string()) return fail("problem.type is missing");
  if (!j.contains("detail") || !j["detail"].is_string()) return fail("problem.detail is missing");
  const std::string detail = j["detail"].get<std::string>();
  if (detail.size() < 10) return fail("problem.detail is too short to help anyone");
  if (!detail_part.empty() && detail.find(detail_part) == std::string::npos)
    return fail("problem.detail does not mention '" + detail_part + "'");
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult IsStatus(const HttpResult& r, int status) {
  if (r.status == status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "status " << r.status << " (expected " << status << ")\n  body: " << r.body
         << (r.error.empty() ? "" : "\n  error: " + r.error);
}

// The sequence number of the newest event: every write appends at least one
// event, so an unchanged last_seq means an unchanged store.
inline uint64_t LastSeq(HttpClient& c) {
  auto r = c.Get("/api/v1/events?since=0&limit=1");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json().value("last_seq", uint64_t{0});
}

// A snapshot of what a refused write must not change: the event log's head
// and the dataset (revision, counts, one agreement's full record).
struct DataSnapshot {
  uint64_t last_seq = 0;
  json health;
  json agreement;
  bool operator==(const DataSnapshot& o) const {
    return last_seq == o.last_seq && health == o.health && agreement == o.agreement;
  }
};

inline DataSnapshot Snapshot(HttpClient& c, const std::string& agreement_id = kParisCall) {
  DataSnapshot s;
  s.last_seq = LastSeq(c);
  s.health = c.Get("/healthz").json();
  s.health.erase("uptime_seconds");
  s.agreement = c.Get("/api/v1/agreements/" + agreement_id).json();
  return s;
}

inline void PrintTo(const DataSnapshot& s, std::ostream* os) {
  *os << "{last_seq " << s.last_seq << ", health " << s.health.dump() << ", agreement revision "
      << s.agreement.value("revision", json()).dump() << "}";
}

// A name no other test of the same server uses.
inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(++n);
}

// The workflow's own events in a page of the log, without the plugin jobs
// (check.*, analysis.*) that proposals, merges and imports queue.
inline json WorkflowEvents(const json& items) {
  json out = json::array();
  for (const auto& e : items) {
    const std::string type = e.value("type", "");
    if (type.rfind("check.", 0) != 0 && type.rfind("analysis.", 0) != 0) out.push_back(e);
  }
  return out;
}

struct TestUser {
  int64_t id = 0;
  std::string name;
  std::string token;
};

// Creates a user through the API as `admin` and issues a token for them.
inline TestUser CreateUser(HttpClient& admin, const std::string& role, const std::string& group,
                           const std::string& name_prefix = "user") {
  TestUser u;
  u.name = UniqueName(name_prefix);
  json body{{"name", u.name}, {"role", role}};
  if (!group.empty()) body["stakeholder_group"] = group;
  auto r = admin.Post("/api/v1/users", body);
  EXPECT_EQ(r.status, 201) << r.body;
  u.id = r.json().value("id", int64_t{0});
  auto t = admin.Post("/api/v1/users/" + std::to_string(u.id) + "/tokens", json{{"label", "test"}});
  EXPECT_EQ(t.status, 201) << t.body;
  u.token = t.json().value("token", std::string());
  return u;
}

inline HttpClient ClientFor(const ServerProcess& server, const std::string& token = "") {
  HttpClient c(server.base_url());
  if (!token.empty()) c.set_token(token);
  return c;
}

// A suite whose tests share one real server, started once for the suite:
// derived suites call StartShared() from their SetUpTestSuite.
class SharedServerTest : public ::testing::Test {
 protected:
  static void StartShared(std::vector<std::string> args = {}) {
    server_ = new ServerProcess(std::move(args));
    ASSERT_TRUE(server_->Start()) << server_->output();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }
  static inline ServerProcess* server_ = nullptr;
};

// Every agreement now (one page: the seed is far below the page limit).
inline json AllAgreements(HttpClient& c, const std::string& extra_query = "") {
  auto r = c.Get("/api/v1/agreements?limit=500" + extra_query);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json()["items"];
}

inline std::set<std::string> Ids(const json& items) {
  std::set<std::string> ids;
  for (const auto& a : items) ids.insert(a["id"].get<std::string>());
  return ids;
}

// A valid new agreement for add proposals and imports.
inline json NewAgreement(const std::string& id, int year = 2024) {
  return json{
      {"id", id},
      {"title", "Test agreement " + id},
      {"year", year},
      {"kind", "bilateral"},
      {"leading_stakeholders", {"government"}},
      {"parties", "Two test states"},
      {"source_url", "https://example.org/" + id},
      {"codings",
       {{"human-rights",
         {{"evidence",
           {{{"quote", "Both parties respect human rights online."}, {"locator", "art. 1"}}}},
          {"note", "operative"}}}}}};
}

// A recode body for `agreement` (a record as GET returns it).
inline json RecodeBody(const json& agreement, const std::string& element,
                       const std::string& rationale = "recoded after reading the text") {
  return json{
      {"kind", "recode"},
      {"agreement_id", agreement["id"]},
      {"base_revision", agreement["revision"]},
      {"codings",
       {{element,
         {{"evidence", {{{"quote", "A verbatim quote for " + element}, {"locator", "p. 1"}}}},
          {"note", "test"}}}}},
      {"rationale", rationale}};
}

// RFC 4180 reader for the export: quoted fields with commas, doubled quotes
// and line breaks.
inline std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field += c;
    }
  }
  if (any || !field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace normbase::testing
