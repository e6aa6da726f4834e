// Api: the REST surface of Normbase under /api/v1 (plus /healthz and
// /metrics). It authenticates, parses, calls the services and maps their
// Status values to problem+json (api/problem.cc). It is transport-neutral:
// HttpServer feeds it requests and takes back responses. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <vector>
#include <memory>

#include "api/http_types.h"
#include "api/metrics.h"
#include "api/rate_limit.h"
#include "api/router.h"
#include "api/static_files.h"
#include "service/accounts.h"
#include "service/catalog.h"
#include "service/importer.h"
#include "service/jobs.h"
#include "service/proposals.h"

namespace normbase::api {

struct ApiServices {
  service::Catalog& catalog;
  service::Proposals& proposals;
  service::Accounts& accounts;
  service::Importer& importer;
  const store::Store& store;
  Metrics& metrics;
  const StaticFiles* web = nullptr;  // the dashboard; null: API only
  service::Jobs* jobs = nullptr;     // jobs and analyses; null: those routes answer 503
  // The job broker's view of connected workers, and its figures for /metrics
  // (functions, so the api layer does not depend on the bus).
  std::function<domain::Json()> workers;
  std::function<std::vector<Gauge>()> bus_gauges;
  RateLimiter* rate_limiter = nullptr;  // per-client request rates; null: none
};

class Api {
 public:
  explicit Api(ApiServices services);
  // Handles one request; `respond` is called exactly once, possibly on another thread.
  void Handle(HttpRequest&& req, Respond respond);
  const Router& router() const { return router_; }

 private:
  ApiServices s_;
  Router router_;
  std::chrono::steady_clock::time_point started_;
};

// Route registration, split by concern; each file is small and Beast-free.
void AddReadRoutes(Router& r, ApiServices& s);
void AddProposalRoutes(Router& r, ApiServices& s);
void AddAdminRoutes(Router& r, ApiServices& s);
void AddJobRoutes(Router& r, ApiServices& s);

}  // namespace normbase::api
