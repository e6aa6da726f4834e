// Bad input of every kind gets the right 4xx with a problem+json detail that
// says what to fix, and leaves the data unchanged; broken HTTP is answered or
// closed without harming the server.
#include <gtest/gtest.h>

#include <chrono>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

constexpr size_t kBodyLimit = 2000;
constexpr size_t kHeaderLimit = 2000;

// One server for the suite, with small limits so that oversized requests are
// cheap to make.
class BadInputTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    StartShared({"--body-limit", std::to_string(kBodyLimit), "--header-limit",
                 std::to_string(kHeaderLimit)});
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    admin_ = std::make_unique<HttpClient>(server_->base_url());
    admin_->set_token(server_->admin_token());
    before_ = Snapshot(*admin_);
  }
  // Every test here only makes refused requests: nothing may have changed.
  void TearDown() override {
    if (admin_) {
      EXPECT_EQ(Snapshot(*admin_), before_) << "a refused request changed the data";
    }
  }

  HttpResult PostRaw(const std::string& raw, const std::string& type = "application/json") {
    return admin_->Post("/api/v1/proposals", raw, type);
  }
  HttpResult PostProposal(const json& body) { return admin_->Post("/api/v1/proposals", body); }
  json Paris() { return admin_->Get(std::string("/api/v1/agreements/") + kParisCall).json(); }
  // The server still answers normally.
  void ExpectHealthy() {
    HttpClient fresh(server_->base_url());
    auto r = fresh.Get("/healthz");
    EXPECT_TRUE(IsStatus(r, 200)) << "the server stopped serving";
  }

  std::unique_ptr<HttpClient> admin_;
  DataSnapshot before_;
};

TEST_F(BadInputTest, MalformedJson) {
  for (const char* raw : {"{", "{\"kind\": \"add\",}", "kind=add", "{'kind': 'add'}", "nul",
                          "{\"kind\": \"add\"} trailing", "\xEF\xBB"}) {
    EXPECT_TRUE(IsProblem(PostRaw(raw), 400, "malformed JSON")) << raw;
  }
  // The message says where it broke.
  auto r = PostRaw("{\"kind\": \"add\",\n \"rationale\": }");
  EXPECT_TRUE(IsProblem(r, 400, "line 2"));
}

TEST_F(BadInputTest, JsonOfTheWrongType) {
  EXPECT_TRUE(IsProblem(PostProposal(json::array({{{"kind", "add"}}})), 400,
                        "body: expected a JSON object"));
  EXPECT_TRUE(IsProblem(PostRaw("\"add\""), 400, "expected a JSON object"));
  EXPECT_TRUE(IsProblem(PostRaw("42"), 400, "expected a JSON object"));
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", 1}}), 400, "kind: is required"));
  json year_string = NewAgreement("bad-year-type");
  year_string["year"] = "2024";
  EXPECT_TRUE(
      IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", year_string}, {"rationale", "r"}}),
                400, "agreement.year: expected an integer, got string"));
  json year_float = NewAgreement("bad-year-float");
  year_float["year"] = 2024.5;
  EXPECT_TRUE(
      IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", year_float}, {"rationale", "r"}}),
                400, "agreement.year: expected an integer"));
  json parties_array = NewAgreement("bad-parties");
  parties_array["parties"] = json::array({"a", "b"});
  EXPECT_TRUE(IsProblem(
      PostProposal(json{{"kind", "add"}, {"agreement", parties_array}, {"rationale", "r"}}), 400,
      "agreement.parties: expected a string, got array"));
  EXPECT_TRUE(IsProblem(
      PostProposal(json{{"kind", "add"}, {"agreement", "paris-call-2018"}, {"rationale", "r"}}),
      400, "agreement: expected an object, got string"));
  json p = RecodeBody(Paris(), "ransomware");
  p["base_revision"] = "1";
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "base_revision: expected an integer"));
  p = RecodeBody(Paris(), "ransomware");
  p["codings"] = json::array();
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "codings: expected an object"));
  p = RecodeBody(Paris(), "ransomware");
  p["codings"]["ransomware"]["evidence"] = "a quote";
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "codings.ransomware.evidence: expected an array"));
  p = RecodeBody(Paris(), "ransomware");
  p["rationale"] = json::object();
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "rationale: expected a string"));
}

TEST_F(BadInputTest, MissingRequiredFields) {
  EXPECT_TRUE(IsProblem(PostProposal(json{{"rationale", "r"}}), 400,
                        "kind: is required: one of add, recode, amend, retire"));
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"rationale", "r"}}), 400,
                        "agreement: is required"));
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", NewAgreement("no-why")}}),
                        400, "rationale: is required"));
  json no_title = NewAgreement("no-title");
  no_title.erase("title");
  EXPECT_TRUE(
      IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", no_title}, {"rationale", "r"}}),
                400, "agreement.title: is required"));
  json no_kind = NewAgreement("no-kind");
  no_kind.erase("kind");
  EXPECT_TRUE(
      IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", no_kind}, {"rationale", "r"}}),
                400, "agreement.kind: is required"));
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "recode"}, {"rationale", "r"}}), 400,
                        "agreement_id: is required"));
  json p = RecodeBody(Paris(), "ransomware");
  p.erase("codings");
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "codings: is required"));
  p = RecodeBody(Paris(), "ransomware");
  p["codings"]["ransomware"]["evidence"][0].erase("quote");
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "quote: is required"));
  // An empty body is not an object either.
  EXPECT_TRUE(IsProblem(PostRaw(""), 400, "expected a JSON object"));
}

TEST_F(BadInputTest, UnknownFields) {
  json p = RecodeBody(Paris(), "ransomware");
  p["priority"] = "high";
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "priority: unknown field for a proposal"));
  json a = NewAgreement("unknown-field");
  a["signatories_count"] = 3;
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}}),
                        400, "agreement.signatories_count: unknown field"));
  p = RecodeBody(Paris(), "ransomware");
  p["codings"]["ransomware"]["evidence"][0]["page"] = 3;
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "evidence[0].page: unknown field"));
  p = RecodeBody(Paris(), "ransomware");
  p["codings"]["ransomware"]["confidence"] = "high";
  EXPECT_TRUE(IsProblem(PostProposal(p), 400, "codings.ransomware.confidence: unknown field"));
  EXPECT_TRUE(IsProblem(
      admin_->Post("/api/v1/proposals/1/reviews", json{{"verdict", "approve"}, {"score", 5}}), 400,
      "score: unknown field"));
}

TEST_F(BadInputTest, UnknownElementsKindsAndGroups) {
  EXPECT_TRUE(IsProblem(PostProposal(RecodeBody(Paris(), "world-peace")), 400,
                        "codings.world-peace: unknown element 'world-peace'"));
  json a = NewAgreement("unknown-kind-2024");
  a["kind"] = "treaty";
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}}),
                        400, "kind: 'treaty' is not an agreement kind of the codebook"));
  a = NewAgreement("unknown-group-2024");
  a["leading_stakeholders"] = {"government", "aliens"};
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}}),
                        400, "leading_stakeholders[1]: 'aliens' is not a stakeholder group"));
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "delete"}, {"rationale", "r"}}), 400,
                        "kind: 'delete' is not one of add, recode, amend, retire"));
  a = NewAgreement("Not A Slug");
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}}),
                        400, "id: 'Not A Slug' is not a slug"));
  a = NewAgreement("bad-date-2024");
  a["date"] = "2024-02-30";
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}}),
                        400, "date: '2024-02-30' is not YYYY-MM-DD"));
  a = NewAgreement("bad-url-2024");
  a["source_url"] = "ftp://example.org/x";
  EXPECT_TRUE(IsProblem(PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}}),
                        400, "source_url: 'ftp://example.org/x' is not an http(s) URL"));
}

TEST_F(BadInputTest, AddOfAnExistingId) {
  json a = NewAgreement(kParisCall, 2018);
  auto r = PostProposal(json{{"kind", "add"}, {"agreement", a}, {"rationale", "r"}});
  EXPECT_TRUE(IsProblem(r, 409, "agreement 'paris-call-2018' exists already"));
  EXPECT_TRUE(IsProblem(r, 409, "propose a recode or amend"));
}

TEST_F(BadInputTest, InvalidUtf8InAJsonString) {
  const std::string bad_rationale =
      "{\"kind\":\"retire\",\"agreement_id\":\"paris-call-2018\",\"base_revision\":1,"
      "\"rationale\":\"caf\xC3\x28 \xFF\"}";
  EXPECT_TRUE(IsProblem(PostRaw(bad_rationale), 400, "UTF-8"));
  const std::string bad_key = "{\"kind\":\"retire\",\"\xFE\xFE\":1}";
  EXPECT_TRUE(IsProblem(PostRaw(bad_key), 400, "malformed JSON"));
  // The problem document itself is valid JSON and valid UTF-8.
  auto r = PostRaw(bad_rationale);
  EXPECT_TRUE(r.json().is_object());
  EXPECT_NO_THROW(r.json().dump());
}

TEST_F(BadInputTest, UnsupportedContentTypeSaysWhatToSend) {
  const std::string body = RecodeBody(Paris(), "ransomware").dump();
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "application/xml",
                           "multipart/form-data; boundary=x"}) {
    auto r = PostRaw(body, type);
    // 415 Unsupported Media Type, naming the type to use.
    EXPECT_TRUE(IsProblem(r, 415, "send application/json")) << type;
    EXPECT_TRUE(IsProblem(r, 415, std::string("unsupported Content-Type '") + type + "'"));
  }
  // JSON types with parameters or a +json suffix are fine: they get past the
  // content check and fail (here) only on the stale base revision.
  json stale = RecodeBody(Paris(), "ransomware");
  stale["base_revision"] = 99;
  for (const char* type : {"application/json; charset=utf-8", "application/merge-patch+json"})
    EXPECT_TRUE(IsProblem(PostRaw(stale.dump(), type), 409, "is stale")) << type;
}

TEST_F(BadInputTest, OversizedBodyIs413) {
  json p = RecodeBody(Paris(), "ransomware");
  p["rationale"] = std::string(kBodyLimit + 500, 'x');
  auto r = PostProposal(p);
  EXPECT_TRUE(IsProblem(r, 413, "larger than the limit of 2000 bytes"));
  // A body just under the limit is read (and refused for its content only).
  p["rationale"] = "x";
  p["codings"]["ransomware"]["note"] = std::string(kBodyLimit - p.dump().size() - 10, 'n');
  ASSERT_LT(p.dump().size(), kBodyLimit);
  p["base_revision"] = 99;
  EXPECT_TRUE(IsProblem(PostProposal(p), 409, "is stale"));
  // Much larger bodies too, and the server keeps serving.
  r = admin_->Post("/api/v1/import?dry_run=true", std::string(200000, '['), "application/json");
  EXPECT_TRUE(IsProblem(r, 413, "2000 bytes"));
  // Larger than the socket buffers: the server answers before the client is
  // done sending, and closes.
  r = admin_->Post("/api/v1/import?dry_run=true", std::string(8 << 20, '['), "application/json");
  EXPECT_TRUE(IsProblem(r, 413, "2000 bytes"));
  ExpectHealthy();
}

TEST_F(BadInputTest, OversizedHeadersAre431) {
  auto r = admin_->Request("GET", "/healthz", "", {{"X-Padding", std::string(kHeaderLimit, 'p')}});
  EXPECT_TRUE(IsProblem(r, 431, "headers are larger than the limit of 2000 bytes"));
  r = admin_->Request("GET", "/api/v1/agreements?q=" + std::string(kHeaderLimit + 100, 'a'), "");
  EXPECT_TRUE(IsProblem(r, 431, "2000 bytes")) << "the request line counts too";
  r = admin_->Request("POST", "/api/v1/proposals", RecodeBody(Paris(), "ransomware").dump(),
                      {{"Cookie", std::string(3 * kHeaderLimit, 'c')}});
  EXPECT_TRUE(IsProblem(r, 431, "2000 bytes"));
  ExpectHealthy();
}

TEST_F(BadInputTest, GarbageInsteadOfHttp) {
  HttpClient raw(server_->base_url());
  const std::string cases[] = {
      std::string("GARBAGE\x00\x01\x02\r\n\r\n", 14),
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + std::string(64, '\xaa'),  // TLS hello
      "GET / HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /api/v1/proposals HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n",
      "\r\n\r\n\r\n",
  };
  for (const auto& bytes : cases) {
    const std::string got = raw.SendRaw(bytes, 3000);
    // Either a 400 problem or a closed connection; never a hang or a crash.
    if (!got.empty()) {
      EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
      EXPECT_NE(got.find("application/problem+json"), std::string::npos) << got;
      EXPECT_NE(got.find("malformed HTTP request"), std::string::npos) << got;
    }
    ExpectHealthy();
  }
  ASSERT_TRUE(server_->running());
}

TEST_F(BadInputTest, ClosingMidRequestDoesNotHurt) {
  HttpClient raw(server_->base_url());
  // Headers promise a body that never comes; the client goes away.
  raw.SendRaw("POST /api/v1/proposals HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"k", 100);
  raw.SendRaw("GET /heal", 100);
  ExpectHealthy();
}

TEST_F(BadInputTest, BadPercentEncoding) {
  for (const char* target : {"/api/v1/agre%zzments", "/api/v1/agreements/paris%2", "/api/v1/%",
                             "/api/v1/agreements?q=%G1", "/api/v1/agreements?kind%=x"}) {
    auto r = admin_->Get(target);
    EXPECT_TRUE(IsProblem(r, 400, "bad percent-encoding")) << target;
  }
  // Well-formed escapes are decoded: %2D is '-'.
  EXPECT_TRUE(IsStatus(admin_->Get("/api/v1/agreements/paris%2Dcall%2D2018"), 200));
  EXPECT_TRUE(
      IsProblem(admin_->Post("/api/v1/proposals%zz", json::object()), 400, "percent-encoding"));
}

TEST_F(BadInputTest, UnknownRoutesAre404) {
  for (const char* target : {"/api", "/api/v1", "/api/v2/agreements", "/api/v1/agreement",
                             "/api/v1/agreements/paris-call-2018/codings", "/healthz/x",
                             "/api/v1/proposals/1/approve"}) {
    auto r = admin_->Get(target);
    EXPECT_TRUE(IsProblem(r, 404, "no such endpoint")) << target;
    EXPECT_TRUE(IsProblem(r, 404, "/api/v1")) << target;
  }
  EXPECT_TRUE(IsProblem(admin_->Post("/api/v1/proposals/1/approve", json::object()), 404,
                        "no such endpoint: POST /api/v1/proposals/1/approve"));
}

TEST_F(BadInputTest, WrongMethodsAre405WithAllow) {
  struct Case {
    const char* method;
    const char* target;
    const char* allow;
  } cases[] = {
      {"DELETE", "/api/v1/agreements", "GET"},
      {"POST", "/api/v1/agreements/paris-call-2018", "GET"},
      {"PUT", "/api/v1/codebook", "GET"},
      {"POST", "/healthz", "GET"},
      {"GET", "/api/v1/proposals/1/merge", "POST"},
      {"DELETE", "/api/v1/proposals", "GET, POST"},
      {"PUT", "/api/v1/users/1", "GET, PATCH"},
      {"GET", "/api/v1/import", "POST"},
      {"PATCH", "/api/v1/export.json", "GET"},
  };
  for (const auto& c : cases) {
    auto r = admin_->Request(c.method, c.target, "");
    EXPECT_TRUE(IsProblem(r, 405, std::string(c.method) + " is not allowed"))
        << c.method << " " << c.target;
    std::set<std::string> allow, expected;
    std::string got = r.header("allow");
    for (size_t i = 0; i < got.size();) {
      size_t j = got.find(',', i);
      if (j == std::string::npos) j = got.size();
      std::string m = got.substr(i, j - i);
      while (!m.empty() && m.front() == ' ') m.erase(0, 1);
      allow.insert(m);
      i = j + 1;
    }
    std::string want = c.allow;
    for (size_t i = 0; i < want.size();) {
      size_t j = want.find(", ", i);
      if (j == std::string::npos) j = want.size();
      expected.insert(want.substr(i, j - i));
      i = j + 2;
    }
    EXPECT_EQ(allow, expected) << c.method << " " << c.target << ": Allow: " << got;
  }
}

TEST_F(BadInputTest, NonNumericProposalIdsAre404) {
  // The server treats an id that is not a positive integer as an unknown
  // resource (404) and says why.
  for (const char* id : {"abc", "1x", "0", "-1", "1.5", "99999999999999999999", "%2D1"}) {
    const std::string base = std::string("/api/v1/proposals/") + id;
    EXPECT_TRUE(IsProblem(admin_->Get(base), 404, "is not a valid id")) << id;
    EXPECT_TRUE(IsProblem(admin_->Post(base + "/reviews", json{{"verdict", "approve"}}), 404,
                          "is not a valid id"))
        << id;
    EXPECT_TRUE(IsProblem(admin_->Post(base + "/merge", json::object()), 404, "not a valid id"));
  }
  EXPECT_TRUE(IsProblem(admin_->Get("/api/v1/users/abc"), 404, "is not a valid id"));
  EXPECT_TRUE(IsProblem(admin_->Delete("/api/v1/users/1/tokens/abc"), 404, "is not a valid id"));
}

TEST_F(BadInputTest, UnknownProposalIdsAre404) {
  const std::string p = "/api/v1/proposals/987654";
  EXPECT_TRUE(IsProblem(admin_->Get(p), 404, "proposal 987654 does not exist"));
  EXPECT_TRUE(IsProblem(admin_->Get(p + "/diff"), 404, "proposal 987654 does not exist"));
  EXPECT_TRUE(IsProblem(admin_->Post(p + "/reviews", json{{"verdict", "comment"}}), 404,
                        "proposal 987654 does not exist"));
  EXPECT_TRUE(IsProblem(admin_->Post(p + "/comments", json{{"text", "hello"}}), 404,
                        "proposal 987654 does not exist"));
  EXPECT_TRUE(IsProblem(admin_->Post(p + "/merge", json::object()), 404, "does not exist"));
  EXPECT_TRUE(IsProblem(admin_->Post(p + "/reject", json{{"reason", "r"}}), 404, "does not exist"));
  EXPECT_TRUE(IsProblem(admin_->Post(p + "/withdraw", json::object()), 404, "does not exist"));
  EXPECT_TRUE(
      IsProblem(admin_->Post(p + "/revisions", json{{"rationale", "r"}}), 404, "does not exist"));
  EXPECT_TRUE(
      IsProblem(admin_->Post(p + "/comments/1/resolve", json::object()), 404, "does not exist"));
}

TEST_F(BadInputTest, NegativeOrNonIntegerQueryParameters) {
  struct Case {
    const char* target;
    const char* detail;
  } cases[] = {
      {"/api/v1/agreements?limit=-1", "limit: '-1' is not a non-negative integer"},
      {"/api/v1/agreements?limit=ten", "limit: 'ten' is not a non-negative integer"},
      {"/api/v1/agreements?limit=1.5", "limit: '1.5' is not a non-negative integer"},
      {"/api/v1/agreements?limit=5abc", "is not a non-negative integer"},
      {"/api/v1/agreements?limit=99999999999999999999", "is not a non-negative integer"},
      {"/api/v1/agreements?year_from=-2000", "year_from: '-2000' is not a non-negative integer"},
      {"/api/v1/agreements?year_to=twenty", "year_to: 'twenty' is not a non-negative integer"},
      {"/api/v1/agreements?revision=-1", "revision: '-1' is not a non-negative integer"},
      {"/api/v1/agreements?revision=latest", "revision: 'latest' is not a non-negative integer"},
      {"/api/v1/agreements/paris-call-2018?revision=x",
       "revision: 'x' is not a non-negative integer"},
      {"/api/v1/events?since=-5", "since: '-5' is not a non-negative integer"},
      {"/api/v1/events?since=abc", "since: 'abc' is not a non-negative integer"},
      {"/api/v1/events?limit=1e3", "limit: '1e3' is not a non-negative integer"},
      {"/api/v1/proposals?limit=-3", "limit: '-3' is not a non-negative integer"},
      {"/api/v1/proposals?cursor=xyz", "cursor: 'xyz' is not a cursor"},
      {"/api/v1/proposals/1/diff?revision=-1", "revision: '-1' is not a non-negative integer"},
  };
  for (const auto& c : cases)
    EXPECT_TRUE(IsProblem(admin_->Get(c.target), 400, c.detail)) << c.target;
  // Large and zero limits are clamped rather than refused.
  auto r = admin_->Get("/api/v1/agreements?limit=1000000");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["items"].size(), static_cast<size_t>(kSeedAgreements));
  r = admin_->Get("/api/v1/agreements?limit=0");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["items"].size(), static_cast<size_t>(kSeedAgreements));
}

TEST_F(BadInputTest, ReviewAndCommentBodiesOfTheWrongShape) {
  EXPECT_TRUE(IsProblem(admin_->Post("/api/v1/proposals/1/reviews", json::array()), 400,
                        "expected a JSON object"));
  EXPECT_TRUE(IsProblem(admin_->Post("/api/v1/proposals/1/reviews", json{{"verdict", true}}), 400,
                        "verdict: is required"));
  EXPECT_TRUE(IsProblem(admin_->Post("/api/v1/proposals/1/comments", "\"hi\"", "application/json"),
                        400, "expected a JSON object"));
  EXPECT_TRUE(IsProblem(admin_->Post("/api/v1/users/1/tokens", json{{"label", 7}}), 400,
                        "label: expected a string"));
  EXPECT_TRUE(IsProblem(admin_->Post("/api/v1/users", "{\"name\":", "application/json"), 400,
                        "malformed JSON"));
}

// Deeply nested JSON within the body limit must not take the server down
// (copying such a value recursed once per level and overflowed the stack).
TEST(DeepJsonTest, DeeplyNestedJsonIsRefusedAndTheServerSurvives) {
  ServerProcess server;  // the default 1 MiB body limit
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin(server.base_url());
  admin.set_token(server.admin_token());
  const DataSnapshot before = Snapshot(admin);
  const int depth = 300000;
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  const std::string in_proposal =
      R"({"kind":"add","rationale":"x","agreement":{"id":"deep-one","title":"t",)"
      R"("kind":"bilateral","notes":)" +
      nested + "}}";
  ASSERT_LT(in_proposal.size(), 1u << 20);
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/proposals", in_proposal, "application/json"), 400,
                        "nested deeper than"));
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/import?dry_run=true",
                                   R"({"agreements":[)" + nested + "]}", "application/json"),
                        400, "nested deeper than"));
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(100000, '}');
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/users", objects, "application/json"), 400,
                        "nested deeper than"));
  // Brackets inside strings do not count, and moderate nesting is parsed as usual.
  const std::string in_string =
      R"({"name":")" + std::string(5000, '[') + R"(","stakeholder_group":"academia"})";
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/users", in_string, "application/json"), 400,
                        "must be 1-64 characters"));
  const std::string moderate =
      R"({"kind":"add","rationale":"x","agreement":{"id":"deep-two","title":"t",)"
      R"("kind":"bilateral","notes":)" +
      std::string(50, '[') + std::string(50, ']') + "}}";
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/proposals", moderate, "application/json"), 400,
                        "agreement.notes: expected a string, got array"));
  ASSERT_TRUE(IsStatus(admin.Get("/healthz"), 200)) << server.output();
  EXPECT_EQ(Snapshot(admin), before);
}

// Slow and idle clients are cut off after the configured timeouts.
TEST(ConnectionLimitsTest, SlowAndIdleConnectionsAreClosed) {
  ServerProcess server({"--read-timeout", "1", "--idle-timeout", "1"});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient raw(server.base_url());
  using Clock = std::chrono::steady_clock;

  // Headers that never end: closed without an answer once the read times out.
  auto start = Clock::now();
  std::string got = raw.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1", 15000);
  auto waited = Clock::now() - start;
  EXPECT_TRUE(got.empty()) << got;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(10)) << "the slow request was not cut off";

  // A served keep-alive connection that stays idle is closed too.
  start = Clock::now();
  got = raw.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 15000);
  waited = Clock::now() - start;
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_LT(waited, std::chrono::seconds(10)) << "the idle connection was not closed";

  // The client library reconnects transparently after such a close.
  HttpClient c(server.base_url());
  ASSERT_TRUE(IsStatus(c.Get("/healthz"), 200));
  // Two idle periods of other connections pass: c's connection was closed in the first.
  for (int i = 0; i < 2; ++i)
    ASSERT_FALSE(raw.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 15000).empty());
  EXPECT_TRUE(IsStatus(c.Get("/healthz"), 200));
  EXPECT_EQ(c.connections_opened(), 2);
}

TEST(ConnectionLimitsTest, ConnectionsBeyondTheLimitGet503) {
  ServerProcess server({"--max-connections", "2"});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient a(server.base_url()), b(server.base_url());
  ASSERT_TRUE(IsStatus(a.Get("/healthz"), 200));
  ASSERT_TRUE(IsStatus(b.Get("/healthz"), 200));  // both keep their connection open

  HttpClient third(server.base_url());
  const std::string got =
      third.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000);
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  EXPECT_NE(got.find("too many connections"), std::string::npos) << got;
  EXPECT_NE(got.find("application/problem+json"), std::string::npos) << got;

  // Once a connection closes, a new one is served (the server notices the
  // close asynchronously: poll).
  a.Close();
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    const std::string r =
        third.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000);
    served = r.rfind("HTTP/1.1 200", 0) == 0;
  }
  EXPECT_TRUE(served);
  EXPECT_TRUE(IsStatus(b.Get("/healthz"), 200)) << "held connections keep working";
}

}  // namespace
}  // namespace normbase::testing
