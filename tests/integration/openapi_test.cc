// The OpenAPI document as the real server serves it: public, the same as
// docs/openapi.json, no drift reported at start-up (Api compares it with its
// route table), the methods of every documented path exactly the ones the
// server allows there (its 405 answers list them), and for a few routes
// every documented status code produced for real, with the documented
// content type and required members.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options"};

json SourceDocument() {
  // docs/openapi.json, found from this file's place in the repository.
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                    "docs" / "openapi.json";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  return json::parse(in, nullptr, false);
}

// "/api/v1/proposals/{id}/comments/{comment}/resolve" with sample values.
std::string Concrete(const std::string& templ) {
  return std::regex_replace(templ, std::regex(R"(\{[a-z_]+\})"), "1");
}

std::set<std::string> SplitAllow(const std::string& allow) {
  std::set<std::string> out;
  std::stringstream ss(allow);
  std::string m;
  while (std::getline(ss, m, ',')) {
    m.erase(0, m.find_first_not_of(' '));
    m.erase(m.find_last_not_of(' ') + 1);
    if (!m.empty()) out.insert(m);
  }
  return out;
}

class OpenApiTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static json Served() {
    HttpClient c(server_->base_url());
    auto r = c.Get("/api/v1/openapi.json");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  // The documented status codes of one operation.
  static std::set<int> Documented(const json& doc, const std::string& path,
                                  const std::string& method) {
    std::set<int> out;
    for (const auto& [code, _] : doc["paths"][path][method]["responses"].items())
      out.insert(std::stoi(code));
    return out;
  }
};

TEST_F(OpenApiTest, ServedPubliclyAndIdenticalToTheSource) {
  HttpClient anonymous(server_->base_url());
  auto r = anonymous.Get("/api/v1/openapi.json");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.header("content-type").rfind("application/json", 0), 0u) << r.header("content-type");
  const json doc = r.json();
  ASSERT_TRUE(doc.is_object()) << "not JSON";
  EXPECT_EQ(doc, SourceDocument()) << "rebuild: the binary serves an older docs/openapi.json";
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
  EXPECT_TRUE(doc["info"].is_object());
  EXPECT_TRUE(doc["components"]["schemas"].is_object());
}

TEST_F(OpenApiTest, TheServerReportsNoDriftBetweenRoutesAndDocument) {
  // Api compares its route table with the compiled-in document at start-up
  // (both directions) and logs each difference.
  const std::string log = server_->output();
  EXPECT_EQ(log.find("OpenAPI drift"), std::string::npos) << log;
}

TEST_F(OpenApiTest, EveryDocumentedPathAllowsExactlyTheDocumentedMethods) {
  const json doc = Served();
  HttpClient c(server_->base_url());
  int checked = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> documented;
    bool pending = false, websocket = false;
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.count(method)) continue;
      std::string m = method;
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      documented.insert(m);
      pending = pending || op.value("x-normbase-pending", false);
      websocket = websocket || op.value("x-normbase-websocket", false);
    }
    if (websocket) {
      // Served by the upgrade, not the router: a plain GET is told to upgrade.
      EXPECT_TRUE(IsProblem(c.Get(path), 426)) << path;
      continue;
    }
    // No route uses PUT: the router answers 405 and lists the path's methods.
    auto r = c.Request("PUT", Concrete(path), "");
    if (pending && r.status != 405) {
      std::cout << "[ pending ] " << path
                << " is documented, not served yet (x-normbase-pending)\n";
      continue;
    }
    ASSERT_TRUE(IsProblem(r, 405)) << "PUT " << path;
    EXPECT_EQ(SplitAllow(r.header("allow")), documented) << path;
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST_F(OpenApiTest, AgreementReadAnswersEveryDocumentedStatus) {
  const json doc = Served();
  const std::string path = "/api/v1/agreements/{id}";
  HttpClient c(server_->base_url());
  std::map<int, HttpResult> got;
  got[200] = c.Get(std::string("/api/v1/agreements/") + kParisCall);
  got[400] = c.Get(std::string("/api/v1/agreements/") + kParisCall + "?revision=abc");
  got[404] = c.Get("/api/v1/agreements/no-such-agreement");
  got[304] = c.Request("GET", std::string("/api/v1/agreements/") + kParisCall, "",
                       {{"If-None-Match", got[200].header("etag")}});
  std::set<int> produced;
  for (const auto& [code, r] : got) {
    EXPECT_EQ(r.status, code) << r.body;
    produced.insert(r.status);
  }
  EXPECT_EQ(produced, Documented(doc, path, "get"));
  // The 200 body has the Agreement schema's required members.
  for (const auto& k : doc["components"]["schemas"]["Agreement"]["required"])
    EXPECT_TRUE(got[200].json().contains(k.get<std::string>())) << k;
  EXPECT_TRUE(IsProblem(got[400], 400));
  EXPECT_TRUE(IsProblem(got[404], 404));
}

TEST_F(OpenApiTest, TokenIssueAnswersEveryDocumentedStatus) {
  const json doc = Served();
  const std::string path = "/api/v1/users/{id}/tokens";
  HttpClient admin = ClientFor(*server_, server_->admin_token());
  const TestUser someone = CreateUser(admin, "contributor", "academia", "openapi");
  const std::string target = "/api/v1/users/" + std::to_string(someone.id) + "/tokens";
  HttpClient anonymous(server_->base_url());
  HttpClient contributor = ClientFor(*server_, someone.token);
  std::map<int, HttpResult> got;
  got[201] = admin.Post(target, json{{"label", "openapi"}});
  got[400] = admin.Post(target, json{{"label", 7}});
  got[401] = anonymous.Post(target, json{{"label", "x"}});
  got[403] = contributor.Post(target, json{{"label", "x"}});
  got[404] = admin.Post("/api/v1/users/999999/tokens", json{{"label", "x"}});
  std::set<int> produced;
  for (const auto& [code, r] : got) {
    EXPECT_EQ(r.status, code) << code << ": " << r.body;
    if (code >= 400) {
      EXPECT_TRUE(IsProblem(r, code));
    }
    produced.insert(r.status);
  }
  EXPECT_EQ(produced, Documented(doc, path, "post"));
  for (const auto& k : doc["components"]["schemas"]["IssuedToken"]["required"])
    EXPECT_TRUE(got[201].json().contains(k.get<std::string>())) << k;
}

TEST_F(OpenApiTest, EventLogAnswersEveryDocumentedStatus) {
  const json doc = Served();
  HttpClient c(server_->base_url());
  HttpClient bad(server_->base_url());
  bad.set_token("nb_not-a-real-token");
  std::map<int, HttpResult> got;
  got[200] = c.Get("/api/v1/events?since=0&limit=5");
  got[400] = c.Get("/api/v1/events?since=minus-one");
  got[401] = bad.Get("/api/v1/events");
  std::set<int> produced;
  for (const auto& [code, r] : got) {
    EXPECT_EQ(r.status, code) << r.body;
    produced.insert(r.status);
  }
  EXPECT_EQ(produced, Documented(doc, "/api/v1/events", "get"));
  for (const auto& k : doc["components"]["schemas"]["EventPage"]["required"])
    EXPECT_TRUE(got[200].json().contains(k.get<std::string>())) << k;
  for (const auto& k : doc["components"]["schemas"]["Event"]["required"])
    EXPECT_TRUE(got[200].json()["items"][0].contains(k.get<std::string>())) << k;
}

}  // namespace
}  // namespace normbase::testing
