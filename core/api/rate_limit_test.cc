// RateLimiter with a fake clock over real accounts (a RocksDB store in a
// temporary directory): buckets per account and per address, refill, the
// 429 answer, what is never limited, and the bound on remembered clients.
#include "api/rate_limit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "service/importer.h"
#include "support/temp_dir.h"

namespace normbase::api {
namespace {

using namespace std::chrono_literals;

std::string ReadSeed(const char* name) {
  const auto p = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                 "data" / "seed" / name;
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.path = dir_;
    o.sync = false;
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto seeded = service::SeedIfEmpty(*store_, codebook_, ReadSeed("codebook.json"),
                                       ReadSeed("agreements.json"), config_);
    ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
    accounts_ = std::make_unique<service::Accounts>(*store_, codebook_);
    auto admin = accounts_->Bootstrap();
    ASSERT_TRUE(admin.ok() && *admin);
    admin_token_ = **admin;
    // A second token of the same account, and another account.
    auto again = accounts_->IssueTokenDirect(1, "second");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    admin_token2_ = (*again)["token"].get<std::string>();
    auto ana = accounts_->CreateUserDirect(
        domain::Json{{"name", "ana"}, {"role", "contributor"}, {"stakeholder_group", "academia"}});
    ASSERT_TRUE(ana.ok()) << ana.status().ToString();
    auto t = accounts_->IssueTokenDirect((*ana)["id"].get<int64_t>(), "t");
    ASSERT_TRUE(t.ok());
    ana_token_ = (*t)["token"].get<std::string>();
  }
  void TearDown() override {
    accounts_.reset();
    store_.reset();
  }

  RateLimiter Limiter(RateLimitOptions o) {
    return RateLimiter(o, *accounts_, [this] { return now_; });
  }
  static HttpRequest Req(const std::string& token, const std::string& remote = "192.0.2.1",
                         const std::string& path = "/api/v1/agreements") {
    HttpRequest r;
    r.method = "GET";
    r.path = r.target = path;
    r.remote = remote;
    if (!token.empty()) r.authorization = "Bearer " + token;
    return r;
  }
  // How many of `n` requests right now get through.
  static int Allowed(RateLimiter& l, const HttpRequest& req, int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i) ok += l.Admit(req) ? 0 : 1;
    return ok;
  }

  normbase::testing::TempDir tmp_{"nb-ratelimit"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<store::Store> store_;
  service::CodebookCache codebook_;
  service::ServiceConfig config_;
  std::unique_ptr<service::Accounts> accounts_;
  std::string admin_token_, admin_token2_, ana_token_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
};

TEST_F(RateLimitTest, OffByDefault) {
  RateLimiter l = Limiter({});
  EXPECT_FALSE(l.enabled());
  EXPECT_EQ(Allowed(l, Req(admin_token_), 1000), 1000);
  EXPECT_EQ(Allowed(l, Req(""), 1000), 1000);
  EXPECT_EQ(l.clients(), 0u);
}

TEST_F(RateLimitTest, AnAccountGetsItsBurstThenItsRate) {
  RateLimiter l = Limiter({.token_per_second = 2, .token_burst = 5});
  EXPECT_EQ(Allowed(l, Req(admin_token_), 20), 5);
  auto refused = l.Admit(Req(admin_token_));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->content_type.rfind("application/problem+json", 0), 0u);
  const auto j = nlohmann::json::parse(refused->body);
  EXPECT_EQ(j["status"], 429);
  EXPECT_EQ(j["title"], "Too Many Requests");
  EXPECT_NE(j["detail"].get<std::string>().find("this account may make 2 per second (bursts of 5)"),
            std::string::npos)
      << j.dump();
  ASSERT_EQ(refused->headers.size(), 1u);
  EXPECT_EQ(refused->headers[0].first, "Retry-After");
  EXPECT_EQ(refused->headers[0].second, "1");  // half a second to the next token, rounded up

  // Refill at the rate: one second gives two requests, not more.
  now_ += 1s;
  EXPECT_EQ(Allowed(l, Req(admin_token_), 10), 2);
  // A long pause refills to the burst, never beyond.
  now_ += 1h;
  EXPECT_EQ(Allowed(l, Req(admin_token_), 10), 5);
}

TEST_F(RateLimitTest, TokensOfOneAccountShareItsBucketOtherAccountsDoNot) {
  RateLimiter l = Limiter({.token_per_second = 1, .token_burst = 3});
  EXPECT_EQ(Allowed(l, Req(admin_token_), 2), 2);
  EXPECT_EQ(Allowed(l, Req(admin_token2_), 5), 1) << "a second token must not double the rate";
  EXPECT_EQ(Allowed(l, Req(ana_token_), 5), 3) << "another account has its own bucket";
  // Accounts are limited whatever address they come from.
  EXPECT_EQ(Allowed(l, Req(admin_token_, "198.51.100.7"), 5), 0);
}

TEST_F(RateLimitTest, AnonymousClientsAndBadTokensAreLimitedByAddress) {
  RateLimiter l = Limiter({.ip_per_second = 1, .ip_burst = 2});
  EXPECT_EQ(Allowed(l, Req("", "192.0.2.1"), 5), 2);
  // A made-up or malformed token does not buy a fresh bucket.
  EXPECT_EQ(Allowed(l, Req("not-a-real-token", "192.0.2.1"), 5), 0);
  auto r = Req("", "192.0.2.1");
  r.authorization = "Basic abc";
  EXPECT_TRUE(l.Admit(r));
  auto refused = l.Admit(Req("", "192.0.2.1"));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->body.find("this address without a valid token"), std::string::npos);
  // Another address is not affected, and valid tokens are not limited by
  // address (the account limit is off here).
  EXPECT_EQ(Allowed(l, Req("", "192.0.2.2"), 5), 2);
  EXPECT_EQ(Allowed(l, Req(admin_token_, "192.0.2.1"), 50), 50);
}

TEST_F(RateLimitTest, HealthAndMetricsAreNeverLimited) {
  RateLimiter l =
      Limiter({.token_per_second = 1, .token_burst = 1, .ip_per_second = 1, .ip_burst = 1});
  EXPECT_EQ(Allowed(l, Req("", "192.0.2.1", "/healthz"), 100), 100);
  EXPECT_EQ(Allowed(l, Req("", "192.0.2.1", "/metrics"), 100), 100);
  EXPECT_EQ(Allowed(l, Req("", "192.0.2.1"), 3), 1);
}

TEST_F(RateLimitTest, RememberedClientsAreBounded) {
  RateLimiter l = Limiter({.ip_per_second = 1, .ip_burst = 1, .max_clients = 100});
  for (int i = 0; i < 1000; ++i) {
    l.Admit(Req("", "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)));
    ASSERT_LE(l.clients(), 100u);
  }
  // Idle (full) buckets go first: a busy client keeps its state through a sweep.
  RateLimiter k = Limiter({.ip_per_second = 1, .ip_burst = 1, .max_clients = 10});
  EXPECT_EQ(Allowed(k, Req("", "192.0.2.1"), 2), 1);  // empty now
  for (int i = 0; i < 9; ++i) k.Admit(Req("", "10.1.0." + std::to_string(i)));
  now_ += 2s;  // the nine are full again; 192.0.2.1 too, so also drained again:
  EXPECT_EQ(Allowed(k, Req("", "192.0.2.1"), 2), 1);
  k.Admit(Req("", "10.2.0.1"));  // a new client beyond the bound: the sweep drops the full ones
  EXPECT_LE(k.clients(), 10u);
  EXPECT_TRUE(k.Admit(Req("", "192.0.2.1"))) << "the drained bucket survived the sweep";
}

}  // namespace
}  // namespace normbase::api
