// The review workflow's writes: propose, revise, comment, review, merge,
// reject, withdraw. Each needs a token; roles are checked by the services.
#include <nlohmann/json.hpp>

#include "api/route_util.h"

namespace normbase::api {

namespace {

// The common shape of "POST /api/v1/proposals/{id}/<action>" with a JSON body.
using ProposalAction = void (service::Proposals::*)(const domain::User&, int64_t, const domain::Json&,
                                                    service::Done<domain::Json>);

RouteHandler Action(ApiServices& s, ProposalAction action, int ok_status = 200) {
  return Authed(s, [&s, action, ok_status](const domain::User& u, const HttpRequest& req,
                                           const PathParams& p, Respond respond) {
    auto id = PathId(p, "id");
    if (!id.ok()) return respond(Problem(id.status()));
    auto body = JsonBody(req);
    if (!body.ok()) return respond(Problem(body.status()));
    (s.proposals.*action)(u, *id, *body, Reply(std::move(respond), ok_status));
  });
}

}  // namespace

void AddProposalRoutes(Router& r, ApiServices& s) {
  r.Add("POST", "/api/v1/proposals",
        Authed(s, [&s](const domain::User& u, const HttpRequest& req, const PathParams&, Respond respond) {
          auto body = JsonBody(req);
          if (!body.ok()) return respond(Problem(body.status()));
          s.proposals.Create(u, *body, Reply(std::move(respond), 201));
        }));
  r.Add("POST", "/api/v1/proposals/{id}/revisions", Action(s, &service::Proposals::Revise, 201));
  r.Add("POST", "/api/v1/proposals/{id}/comments", Action(s, &service::Proposals::AddComment, 201));
  r.Add("POST", "/api/v1/proposals/{id}/reviews", Action(s, &service::Proposals::AddReview, 201));
  r.Add("POST", "/api/v1/proposals/{id}/merge", Action(s, &service::Proposals::Merge));
  r.Add("POST", "/api/v1/proposals/{id}/reject", Action(s, &service::Proposals::Reject));
  r.Add("POST", "/api/v1/proposals/{id}/withdraw", Action(s, &service::Proposals::Withdraw));
  r.Add("POST", "/api/v1/proposals/{id}/comments/{comment}/resolve",
        Authed(s, [&s](const domain::User& u, const HttpRequest&, const PathParams& p, Respond respond) {
          auto id = PathId(p, "id");
          auto cid = PathId(p, "comment");
          if (!id.ok()) return respond(Problem(id.status()));
          if (!cid.ok()) return respond(Problem(cid.status()));
          s.proposals.ResolveComment(u, *id, *cid, Reply(std::move(respond)));
        }));
}

}  // namespace normbase::api
