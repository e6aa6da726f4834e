// Workers, jobs and analyses. Workers and jobs are operations views for
// moderators; analyses are public reads like the dataset they describe.
#include <nlohmann/json.hpp>

#include "api/route_util.h"

namespace normbase::api {

namespace {

Status NoJobs() { return Status::Unavailable("jobs are not enabled on this server"); }

}  // namespace

void AddJobRoutes(Router& r, ApiServices& s) {
  r.Add("GET", "/api/v1/workers", Authed(s, [&s](const domain::User& u, const HttpRequest&, const PathParams&,
                                                  Respond respond) {
          if (auto st = service::RequireRole(u, domain::Role::kModerator, "listing workers"); !st.ok())
            return respond(Problem(st));
          if (!s.workers) return respond(Problem(NoJobs()));
          respond(JsonResponse(200, s.workers()));
        }));

  r.Add("GET", "/api/v1/jobs", Authed(s, [&s](const domain::User& u, const HttpRequest& req, const PathParams&,
                                               Respond respond) {
          if (auto st = service::RequireRole(u, domain::Role::kModerator, "listing jobs"); !st.ok())
            return respond(Problem(st));
          if (s.jobs == nullptr) return respond(Problem(NoJobs()));
          auto limit = QueryInt(req, "limit");
          if (!limit.ok()) return respond(Problem(limit.status()));
          std::optional<size_t> n;
          if (*limit) n = static_cast<size_t>(**limit);
          ReplyNow(respond, s.jobs->List(QueryString(req, "state"), QueryString(req, "cursor"), n));
        }));

  r.Add("GET", "/api/v1/jobs/{id}", Authed(s, [&s](const domain::User& u, const HttpRequest&, const PathParams& p,
                                                    Respond respond) {
          if (auto st = service::RequireRole(u, domain::Role::kModerator, "reading jobs"); !st.ok())
            return respond(Problem(st));
          if (s.jobs == nullptr) return respond(Problem(NoJobs()));
          auto job = s.jobs->Get(p.at("id"));
          if (!job.ok()) return respond(Problem(job.status()));
          if (!*job) return respond(Problem(Status::NotFound("job " + p.at("id") + " does not exist")));
          respond(JsonResponse(200, domain::ToJson(**job)));
        }));

  r.Add("GET", "/api/v1/analyses", [&s](const HttpRequest&, const PathParams&, Respond respond) {
    if (s.jobs == nullptr) return respond(Problem(NoJobs()));
    ReplyNow(respond, s.jobs->ListAnalyses());
  });

  r.Add("GET", "/api/v1/analyses/{name}", [&s](const HttpRequest& req, const PathParams& p, Respond respond) {
    if (s.jobs == nullptr) return respond(Problem(NoJobs()));
    auto rev = QueryInt(req, "revision");
    if (!rev.ok()) return respond(Problem(rev.status()));
    ReplyNow(respond, s.jobs->GetAnalysis(p.at("name"), *rev));
  });
}

}  // namespace normbase::api
