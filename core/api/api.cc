#include "api/api.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/openapi.h"
#include "api/problem.h"

namespace normbase::api {

namespace {

std::vector<Gauge> StoreGauges(const store::Store& store, const service::Catalog& catalog) {
  std::vector<Gauge> g;
  const store::StoreStats st = store.Stats();
  g.push_back({"normbase_event_log_last_seq", "Sequence number of the newest event", double(st.last_event_seq), {}});
  g.push_back({"normbase_store_commit_groups_total", "Commit groups written (one fsync each)", double(st.commit_groups), {}});
  g.push_back({"normbase_store_commits_total", "Mutations committed", double(st.commits_ok), {{"result", "ok"}}});
  g.push_back({"normbase_store_commits_total", "Mutations committed", double(st.commits_failed), {{"result", "failed"}}});
  g.push_back({"normbase_store_queue_depth", "Mutations waiting for the committer", double(st.queue_depth), {}});
  g.push_back({"normbase_store_refusing_writes", "1 while the store refuses writes after a disk write failure", st.refusing_writes ? 1.0 : 0.0, {}});
  g.push_back({"normbase_store_write_recoveries_total", "Times the store took writes again after a write failure, without a restart", double(st.write_recoveries), {}});
  for (const auto& [k, v] : st.rocksdb) {
    std::string name = "normbase_rocksdb_" + k.substr(k.find('.') + 1);
    for (auto& c : name)
      if (c == '-' || c == '.') c = '_';
    g.push_back({name, "RocksDB property " + k + " (sum over column families)", double(v), {}});
  }
  if (auto sum = catalog.Summary(); sum.ok()) {
    g.push_back({"normbase_dataset_revision", "Current dataset revision", (*sum)["dataset_revision"].get<double>(), {}});
    g.push_back({"normbase_agreements", "Agreements in the dataset", (*sum)["agreements"].get<double>(), {}});
    g.push_back({"normbase_agreements_coded", "Agreements with at least one coding", (*sum)["coded_agreements"].get<double>(), {}});
  }
  const service::AnswerCacheStats rc = catalog.AnswerCacheFigures();  // service/answer_cache.h
  g.push_back({"normbase_read_cache_hits_total", "Public reads answered from the read cache", double(rc.hits), {}});
  g.push_back({"normbase_read_cache_misses_total", "Public reads the read cache did not have", double(rc.misses), {}});
  g.push_back({"normbase_read_cache_evictions_total", "Read cache entries dropped for room or as stale", double(rc.evictions), {}});
  g.push_back({"normbase_read_cache_bytes", "Bytes held by the read cache", double(rc.bytes), {}});
  g.push_back({"normbase_read_cache_entries", "Answers held by the read cache", double(rc.entries), {}});
  g.push_back({"normbase_read_cache_capacity_bytes", "Bound of the read cache (--read-cache-mb)", double(rc.capacity_bytes), {}});
  return g;
}

}  // namespace

Api::Api(ApiServices services) : s_(services), started_(std::chrono::steady_clock::now()) {
  router_.Add("GET", "/healthz", [this](const HttpRequest&, const PathParams&, Respond respond) {
    auto sum = s_.catalog.Summary();
    if (!sum.ok()) return respond(Problem(Status::Unavailable("store not readable: " + sum.status().message())));
    domain::Json body = *sum;
    body["status"] = "ok";
    body["uptime_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    respond(JsonResponse(200, body));
  });
  router_.Add("GET", "/metrics", [this](const HttpRequest&, const PathParams&, Respond respond) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    auto gauges = StoreGauges(s_.store, s_.catalog);
    if (s_.bus_gauges) {
      auto more = s_.bus_gauges();
      gauges.insert(gauges.end(), more.begin(), more.end());
    }
    r.body = s_.metrics.Render(gauges);
    respond(std::move(r));
  });
  // The API's own description, public like every read (docs/openapi.json).
  router_.Add("GET", "/api/v1/openapi.json", [](const HttpRequest&, const PathParams&, Respond respond) {
    HttpResponse r;
    r.content_type = "application/json";
    r.body = kOpenApiJson;
    respond(std::move(r));
  });
  AddReadRoutes(router_, s_);
  AddProposalRoutes(router_, s_);
  AddAdminRoutes(router_, s_);
  AddJobRoutes(router_, s_);
  // The document ships in the binary; a route added without it is a bug to see at once.
  for (const auto& d : OpenApiDrift(router_, kOpenApiJson)) spdlog::warn("OpenAPI drift: {}", d);
}

void Api::Handle(HttpRequest&& req, Respond respond) {
  const auto start = std::chrono::steady_clock::now();
  auto match = router_.Find(req.method, req.path);
  std::string route = match.pattern.empty() ? "unmatched" : match.pattern;
  Respond timed = [this, respond = std::move(respond), route, method = req.method, start,
                   target = req.target](HttpResponse res) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s_.metrics.ObserveRequest(method, route, res.status, secs);
    if (res.status >= 500) spdlog::error("{} {} -> {}: {}", method, target, res.status, res.body);
    respond(std::move(res));
  };
  if (s_.rate_limiter)
    if (auto refused = s_.rate_limiter->Admit(req)) return timed(std::move(*refused));
  if (!match.handler) {
    // Every other path is the dashboard's (its files, or index.html for its routes).
    if (s_.web && match.allowed.empty() && !StaticFiles::IsServerPath(req.path))
      return timed(s_.web->Serve(req));
    if (!match.allowed.empty()) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      HttpResponse r = Problem(405, req.method + " is not allowed on " + req.path + "; allowed: " + allow);
      r.headers.emplace_back("Allow", allow);
      return timed(std::move(r));
    }
    return timed(Problem(404, "no such endpoint: " + req.method + " " + req.path +
                                  " (the API lives under /api/v1; see /api/v1/openapi.json)"));
  }
  try {
    // Answers are posted to the connection's thread, so a write may run and
    // answer here, before Submit returns (store.h).
    store::InlineCommitScope inline_commits;
    (*match.handler)(req, match.params, timed);
  } catch (const std::exception& e) {
    // A bug in a route must not take the connection or the server down.
    spdlog::error("route {} threw: {}", route, e.what());
    timed(Problem(500, "an internal error occurred; the server log has the details"));
  }
}

}  // namespace normbase::api
