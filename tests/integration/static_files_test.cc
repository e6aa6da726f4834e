// The dashboard's static files, served by the real server from --web.root:
// content types, caching (ETag revalidation, immutable hashed assets), the
// single-page fallback, paths that must never leave the root (.., encoded
// .., hidden files, symlinks out), read-only methods, the size cap, and a
// server without a built dashboard. The API's own paths are never files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kIndex[] = "<!doctype html><title>Normbase test dashboard</title>";
constexpr char kScript[] = "console.log('hashed asset');";
constexpr char kSecret[] = "outside the web root";

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class StaticFilesTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    base_ = fs::path(::testing::TempDir()) / ("normbase-web-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    const fs::path root = base_ / "dist";
    Write(root / "index.html", kIndex);
    Write(root / "assets" / "index-Ab12Cd34.js", kScript);
    Write(root / "assets" / "index-Ab12Cd34.css", "body{}");
    Write(root / "favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    Write(root / ".env", "SECRET=1");
    Write(base_ / "secret.txt", kSecret);
    fs::create_symlink(base_ / "secret.txt", root / "leak.txt");   // points out of the root
    fs::create_symlink(root / "favicon.svg", root / "alias.svg");  // stays inside
    // Larger than the 16 MiB cap without using the disk: a sparse file.
    std::ofstream(root / "huge.bin").close();
    fs::resize_file(root / "huge.bin", (16u << 20) + 1);
    StartShared({"--web.root", root.string()});
  }
  static void TearDownTestSuite() {
    SharedServerTest::TearDownTestSuite();
    fs::remove_all(base_);
  }
  static fs::path Root() { return base_ / "dist"; }
  static inline fs::path base_;
};

TEST_F(StaticFilesTest, ServesIndexAndAssetsWithTypesAndCaching) {
  HttpClient c = ClientFor(*server_);
  auto index = c.Get("/");
  ASSERT_TRUE(IsStatus(index, 200));
  EXPECT_EQ(index.body, kIndex);
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("cache-control"), "no-cache") << "index.html must be revalidated";
  EXPECT_FALSE(index.header("etag").empty());
  EXPECT_NE(index.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");

  auto js = c.Get("/assets/index-Ab12Cd34.js");
  ASSERT_TRUE(IsStatus(js, 200));
  EXPECT_EQ(js.body, kScript);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(c.Get("/assets/index-Ab12Cd34.css").header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(c.Get("/favicon.svg").header("content-type"), "image/svg+xml");
  EXPECT_EQ(c.Get("/index.html").body, kIndex);
}

TEST_F(StaticFilesTest, EtagRevalidatesAndChangesWithTheFile) {
  HttpClient c = ClientFor(*server_);
  const std::string etag = c.Get("/favicon.svg").header("etag");
  ASSERT_FALSE(etag.empty());
  auto same = c.Request("GET", "/favicon.svg", "", {{"If-None-Match", etag}});
  EXPECT_TRUE(IsStatus(same, 304));
  EXPECT_TRUE(same.body.empty());
  EXPECT_TRUE(
      IsStatus(c.Request("GET", "/favicon.svg", "", {{"If-None-Match", "\"other\""}}), 200));
  // A rebuilt file is served without a restart, under a new ETag.
  Write(Root() / "favicon.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><title>v2</title></svg>");
  auto changed = c.Request("GET", "/favicon.svg", "", {{"If-None-Match", etag}});
  ASSERT_TRUE(IsStatus(changed, 200));
  EXPECT_NE(changed.body.find("v2"), std::string::npos);
  EXPECT_NE(changed.header("etag"), etag);
}

TEST_F(StaticFilesTest, DashboardRoutesGetIndexMissingAssetsAre404) {
  HttpClient c = ClientFor(*server_);
  for (const char* route :
       {"/proposals", "/proposals/12", "/agreements/paris-call-2018", "/analyses/"}) {
    auto r = c.Get(route);
    EXPECT_TRUE(IsStatus(r, 200)) << route;
    EXPECT_EQ(r.body, kIndex) << route;
    EXPECT_EQ(r.header("cache-control"), "no-cache") << route;
  }
  for (const char* missing :
       {"/assets/index-Missing.js", "/assets/nothing", "/logo.png", "/proposals/12.json"})
    EXPECT_TRUE(IsProblem(c.Get(missing), 404, "no such file")) << missing;
}

TEST_F(StaticFilesTest, ServerPathsAreNeverFiles) {
  HttpClient c = ClientFor(*server_);
  for (const char* target :
       {"/api", "/api/", "/api/v1/nope", "/api/v2/index.html", "/healthz/x", "/metrics/index.html"})
    EXPECT_TRUE(IsProblem(c.Get(target), 404, "no such endpoint")) << target;
  auto agreements = c.Get("/api/v1/agreements?limit=1");
  ASSERT_TRUE(IsStatus(agreements, 200));
  EXPECT_EQ(agreements.json()["coverage"]["agreements"], kSeedAgreements);
  EXPECT_TRUE(IsStatus(c.Get("/healthz"), 200));
}

TEST_F(StaticFilesTest, NothingOutsideTheRootIsServed) {
  HttpClient c = ClientFor(*server_);
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2E%2E/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt", "/leak.txt", "/.env", "/assets/./index-Ab12Cd34.js",
        "/%00index.html", "/assets\\..\\..\\secret.txt"}) {
    auto r = c.Get(target);
    EXPECT_EQ(r.body.find(kSecret), std::string::npos) << target;
    EXPECT_TRUE(IsProblem(r, 404, "no such file")) << target << ": " << r.status << " " << r.body;
  }
  // The raw request line, exactly as a hostile client would send it.
  const std::string raw =
      c.SendRaw("GET /../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.find(kSecret), std::string::npos) << raw;
  EXPECT_NE(raw.find(" 404 "), std::string::npos) << raw;
  // A symlink that stays inside the root is followed.
  auto alias = c.Get("/alias.svg");
  EXPECT_TRUE(IsStatus(alias, 200));
  EXPECT_EQ(alias.header("content-type"), "image/svg+xml");
}

TEST_F(StaticFilesTest, OnlyGetAndHeadAndTheSizeCap) {
  HttpClient c = ClientFor(*server_);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    auto r = c.Request(method, "/index.html", "");
    EXPECT_TRUE(IsProblem(r, 405, "read-only")) << method;
    EXPECT_EQ(r.header("allow"), "GET, HEAD") << method;
  }
  auto head = c.Request("HEAD", "/", "");
  EXPECT_TRUE(IsStatus(head, 200));
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-type"), "text/html; charset=utf-8");
  // HEAD says how long the GET's body is (RFC 9110 9.3.2).
  EXPECT_EQ(head.header("content-length"), std::to_string(c.Get("/").body.size()));
  auto huge = c.Get("/huge.bin");
  EXPECT_TRUE(IsProblem(huge, 500, "larger than the 16777216-byte limit"));
}

TEST(StaticFilesNotBuilt, TheServerRunsAndSaysHowToBuildTheDashboard) {
  const std::string missing = ::testing::TempDir() + "no-such-web-root";
  ServerProcess server({"--web.root", missing});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient c = ClientFor(server);
  for (const char* page : {"/", "/proposals/1"}) {
    auto r = c.Get(page);
    EXPECT_EQ(r.status, 404) << page;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("npm ci &amp;&amp; npm run build"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(missing), std::string::npos) << "names the folder it looked in";
  }
  EXPECT_TRUE(IsStatus(c.Get("/api/v1/codebook"), 200));
  EXPECT_NE(server.output().find("no dashboard"), std::string::npos) << server.output();
}

}  // namespace
}  // namespace normbase::testing
