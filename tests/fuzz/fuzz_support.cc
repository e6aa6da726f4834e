#include "fuzz_support.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "service/accounts.h"
#include "service/catalog.h"
#include "service/importer.h"
#include "service/proposals.h"
#include "service/token_hash.h"

namespace normbase::fuzz {

namespace {

// Far above any answer's real latency (a write without fsync takes
// microseconds); only a lost Respond gets near it.
constexpr auto kAnswerDeadline = std::chrono::seconds(20);

}  // namespace

void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string ReadSeedFile(const std::string& name) {
  const std::string path = std::string(NORMBASE_SEED_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(templ.data())) Fail("mkdtemp " + templ);
  return templ;
}

FuzzServer& FuzzServer::Get() {
  // Deliberately leaked: libFuzzer may exit from any thread, and the store's
  // committer must not be torn down under a running callback. The directory
  // goes with an atexit hook instead.
  static FuzzServer* server = new FuzzServer();
  return *server;
}

FuzzServer::FuzzServer() {
  // The routes log every 5xx; the fuzzer makes thousands of refused requests.
  // NORMBASE_FUZZ_LOG=1 keeps it, to see why an input failed.
  if (!std::getenv("NORMBASE_FUZZ_LOG")) spdlog::set_level(spdlog::level::off);
  if (!service::InitCrypto()) Fail("libsodium failed to initialise");
  dir_ = MakeTempDir("normbase-fuzz");
  static std::string dir_to_remove = dir_;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(dir_to_remove, ec);
  });
  store::StoreOptions o;
  o.path = dir_ + "/db";
  o.sync = false;
  auto store = store::Store::Open(std::move(o));
  if (!store.ok()) Fail("store: " + store.status().message());
  store_ = std::move(store).value();
  config_.jobs.enabled = true;  // jobs get queued (nobody runs them): the job routes have data
  auto seeded = service::SeedIfEmpty(*store_, codebook_, ReadSeedFile("codebook.json"),
                                     ReadSeedFile("agreements.json"), config_);
  if (!seeded.ok()) Fail("seed: " + seeded.status().message());
  catalog_ = std::make_unique<service::Catalog>(*store_, codebook_, config_);
  proposals_ = std::make_unique<service::Proposals>(*store_, codebook_, config_);
  accounts_ = std::make_unique<service::Accounts>(*store_, codebook_);
  importer_ = std::make_unique<service::Importer>(*store_, codebook_, config_);
  jobs_ = std::make_unique<service::Jobs>(*store_, codebook_, config_);
  api_ = std::make_unique<api::Api>(api::ApiServices{
      *catalog_, *proposals_, *accounts_, *importer_, *store_, metrics_, nullptr, jobs_.get(),
      [] { return domain::Json::array(); }, [] { return std::vector<api::Gauge>{}; }});
  auto token = accounts_->Bootstrap();
  if (!token.ok() || !*token) Fail("bootstrap admin");
  admin_token_ = **token;
  auto admin = accounts_->Authenticate(admin_token_);
  if (!admin.ok()) Fail("admin token does not authenticate");
  admin_ = *admin;

  // One open proposal (id 1), so that reviews, comments and merges of
  // proposal 1 reach the workflow rather than stopping at "does not exist".
  api::HttpRequest req;
  req.method = "POST";
  req.target = req.path = "/api/v1/proposals";
  req.content_type = "application/json";
  req.authorization = std::string("Bearer ") + kAdminPlaceholder;
  req.body = R"({"kind":"recode","agreement_id":"paris-call-2018","base_revision":1,)"
             R"("codings":{"ransomware":{"evidence":[{"quote":"q","locator":"p. 1"}],"note":""}},)"
             R"("rationale":"fuzz set-up"})";
  const auto r = Handle(std::move(req));
  if (!r || r->status != 201)
    Fail("set-up proposal: " + (r ? std::to_string(r->status) + " " + r->body : ""));
}

FuzzServer::~FuzzServer() = default;

namespace {

// "/api/v1/users/1..." in any spelling the router accepts (empty segments,
// leading zeros), with a method that changes something.
bool TouchesAdmin(const api::HttpRequest& req) {
  if (req.method == "GET" || req.method == "HEAD") return false;
  std::vector<std::string> segs;
  std::string cur;
  for (char c : req.path + "/") {
    if (c != '/') {
      cur += c;
    } else if (!cur.empty()) {
      segs.push_back(cur);
      cur.clear();
    }
  }
  if (segs.size() < 4 || segs[0] != "api" || segs[1] != "v1" || segs[2] != "users") return false;
  const auto first = segs[3].find_first_not_of('0');
  return first != std::string::npos && segs[3].substr(first) == "1";
}

}  // namespace

std::optional<api::HttpResponse> FuzzServer::Handle(api::HttpRequest req) {
  if (TouchesAdmin(req)) return std::nullopt;
  const std::string placeholder = std::string("Bearer ") + kAdminPlaceholder;
  if (req.authorization == placeholder) req.authorization = "Bearer " + admin_token_;
  auto promise = std::make_shared<std::promise<api::HttpResponse>>();
  auto answered = std::make_shared<std::atomic<int>>(0);
  auto future = promise->get_future();
  api_->Handle(std::move(req), [promise, answered](api::HttpResponse r) {
    // Respond must run exactly once; a second call is a bug of the route.
    if (answered->fetch_add(1) != 0) Fail("a route answered twice");
    promise->set_value(std::move(r));
  });
  if (future.wait_for(kAnswerDeadline) != std::future_status::ready)
    Fail("no answer within the deadline: a route lost its Respond");
  api::HttpResponse r = future.get();
  r.Render();
  if (r.status < 100 || r.status > 599)
    Fail("HTTP status out of range: " + std::to_string(r.status));
  if (r.status >= 500 && r.status != 503)
    Fail("internal error: " + std::to_string(r.status) + " " + r.body);
  // Every answer is JSON or text the client can read: problem bodies parse.
  if (r.content_type.rfind("application/problem+json", 0) == 0) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("detail"))
      Fail("a problem answer that is not a problem document: " + r.body);
  }
  return r;
}

}  // namespace normbase::fuzz
