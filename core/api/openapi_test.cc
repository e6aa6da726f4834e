// The OpenAPI document compiled into the server: its shape (OpenAPI 3, every
// $ref resolves, every path parameter declared, every operation answers
// something), and OpenApiDrift, which Api runs at start-up against its router.
// tests/integration/openapi_test.cc checks the served document against the
// real server.
#include "api/openapi.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace normbase::api {
namespace {

using nlohmann::json;

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options"};

json Doc() { return json::parse(kOpenApiJson); }

void CollectRefs(const json& j, std::vector<std::string>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) out->push_back(v.get<std::string>());
      CollectRefs(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectRefs(v, out);
  }
}

// Follows "#/a/b/c" inside the document; null when it leads nowhere.
const json* Resolve(const json& doc, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const json* at = &doc;
  size_t i = 2;
  while (i <= ref.size()) {
    size_t j = ref.find('/', i);
    if (j == std::string::npos) j = ref.size();
    const std::string key = ref.substr(i, j - i);
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
    i = j + 1;
  }
  return at;
}

TEST(OpenApiDocument, IsOpenApi3Shaped) {
  const json doc = Doc();
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc["openapi"].is_string());
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u) << doc["openapi"];
  EXPECT_TRUE(doc["info"]["title"].is_string());
  EXPECT_TRUE(doc["info"]["version"].is_string());
  ASSERT_TRUE(doc["paths"].is_object());
  EXPECT_GT(doc["paths"].size(), 20u);
  ASSERT_TRUE(doc["components"]["schemas"].is_object());
  EXPECT_TRUE(doc["components"]["schemas"].contains("Problem"));
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
}

TEST(OpenApiDocument, EveryRefResolves) {
  const json doc = Doc();
  std::vector<std::string> refs;
  CollectRefs(doc, &refs);
  EXPECT_GT(refs.size(), 10u);
  for (const auto& r : refs) EXPECT_NE(Resolve(doc, r), nullptr) << "dangling $ref " << r;
}

TEST(OpenApiDocument, EveryOperationIsComplete) {
  const json doc = Doc();
  std::set<std::string> operation_keys;
  for (const auto& [path, item] : doc["paths"].items()) {
    EXPECT_EQ(path.rfind('/', 0), 0u) << path;
    // Template parameters of the path, each to be declared "in: path".
    std::set<std::string> templated;
    static const std::regex kParam(R"(\{([a-z_]+)\})");
    for (std::sregex_iterator it(path.begin(), path.end(), kParam), end; it != end; ++it)
      templated.insert((*it)[1]);
    for (const auto& [method, op] : item.items()) {
      ASSERT_TRUE(kMethods.count(method)) << path << ": '" << method << "' is not an HTTP method";
      SCOPED_TRACE(method + " " + path);
      EXPECT_TRUE(op["summary"].is_string());
      ASSERT_TRUE(op["responses"].is_object());
      EXPECT_FALSE(op["responses"].empty());
      for (const auto& [code, r] : op["responses"].items()) {
        EXPECT_TRUE(std::regex_match(code, std::regex("[1-5][0-9][0-9]"))) << code;
        EXPECT_TRUE(r.contains("description") || r.contains("$ref")) << code;
      }
      // Writes say how they are authorised; reads are public unless they say otherwise.
      EXPECT_TRUE(op.contains("security")) << "every operation states its security, [] for public";
      if (method != "get") {
        EXPECT_FALSE(op["security"].empty()) << "a write must require a token";
      }
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", json::array())) {
        EXPECT_TRUE(p["name"].is_string());
        EXPECT_TRUE(p["schema"].is_object()) << p.dump();
        if (p["in"] == "path") {
          EXPECT_EQ(p["required"], true) << p.dump();
          declared.insert(p["name"].get<std::string>());
        }
      }
      EXPECT_EQ(declared, templated) << "path parameters declared vs in the template";
    }
  }
}

// The function Api runs at start-up, on routers made for the purpose.
RouteHandler Nothing() {
  return [](const HttpRequest&, const PathParams&, Respond) {};
}

const char kSmallDoc[] = R"({"openapi":"3.1.0","paths":{
  "/a": {"get": {"responses": {"200": {"description": "ok"}}},
         "post": {"responses": {"201": {"description": "ok"}}}},
  "/a/{id}": {"get": {"responses": {"200": {"description": "ok"}}}},
  "/soon": {"get": {"x-normbase-pending": true, "responses": {"200": {"description": "ok"}}}},
  "/ws": {"get": {"x-normbase-websocket": true, "responses": {"101": {"description": "ws"}}}}}})";

TEST(OpenApiDrift, NoneWhenRoutesAndDocumentAgree) {
  Router r;
  r.Add("GET", "/a", Nothing());
  r.Add("POST", "/a", Nothing());
  r.Add("GET", "/a/{id}", Nothing());
  EXPECT_TRUE(OpenApiDrift(r, kSmallDoc).empty());
  r.Add("GET", "/soon", Nothing());  // a pending operation that landed
  EXPECT_TRUE(OpenApiDrift(r, kSmallDoc).empty());
}

TEST(OpenApiDrift, ReportsBothDirections) {
  Router r;
  r.Add("GET", "/a", Nothing());
  r.Add("DELETE", "/a", Nothing());  // not documented
  r.Add("GET", "/a/{id}", Nothing());
  // POST /a documented but not served.
  auto drift = OpenApiDrift(r, kSmallDoc);
  std::sort(drift.begin(), drift.end());
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_EQ(drift[0], "documented but not served: POST /a");
  EXPECT_EQ(drift[1], "undocumented route: DELETE /a");
}

TEST(OpenApiDrift, ABrokenDocumentIsReported) {
  Router r;
  EXPECT_EQ(OpenApiDrift(r, "{not json").size(), 1u);
  EXPECT_EQ(OpenApiDrift(r, "[]").size(), 1u);
}

}  // namespace
}  // namespace normbase::api
