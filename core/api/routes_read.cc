// Public reads: codebook, agreements, history, proposals, events, exports.
// The agreement and the list are served as cached serialised answers with a
// strong ETag (service/answer_cache.h).
#include <nlohmann/json.hpp>

#include "api/route_util.h"

namespace normbase::api {

namespace {

HttpResponse Text(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

}  // namespace

void AddReadRoutes(Router& r, ApiServices& s) {
  r.Add("GET", "/api/v1/codebook", [&s](const HttpRequest&, const PathParams&, Respond respond) {
    ReplyNow(respond, s.catalog.Codebook());
  });

  r.Add("GET", "/api/v1/agreements", [&s](const HttpRequest& req, const PathParams&, Respond respond) {
    service::AgreementQuery q;
    q.kind = QueryString(req, "kind");
    q.element = QueryString(req, "element");
    q.q = QueryString(req, "q");
    q.cursor = QueryString(req, "cursor");
    q.include_retired = QueryString(req, "include_retired") == "true";
    auto from = QueryInt(req, "year_from"), to = QueryInt(req, "year_to");
    auto rev = QueryInt(req, "revision"), limit = QueryInt(req, "limit");
    for (const auto* x : {&from, &to, &rev, &limit})
      if (!x->ok()) return respond(Problem(x->status()));
    if (*from) q.year_from = static_cast<int>(**from);
    if (*to) q.year_to = static_cast<int>(**to);
    q.revision = *rev;
    if (*limit) q.limit = static_cast<size_t>(**limit);
    ReplyAnswer(req, respond, s.catalog.ListAgreementsAnswer(q));
  });

  r.Add("GET", "/api/v1/agreements/{id}", [&s](const HttpRequest& req, const PathParams& p, Respond respond) {
    auto rev = QueryInt(req, "revision");
    if (!rev.ok()) return respond(Problem(rev.status()));
    ReplyAnswer(req, respond, s.catalog.AgreementAnswer(p.at("id"), *rev));
  });

  r.Add("GET", "/api/v1/agreements/{id}/history",
        [&s](const HttpRequest&, const PathParams& p, Respond respond) {
          ReplyNow(respond, s.catalog.History(p.at("id")));
        });

  r.Add("GET", "/api/v1/dataset/revisions/{revision}",
        [&s](const HttpRequest&, const PathParams& p, Respond respond) {
          auto rev = PathId(p, "revision");
          if (!rev.ok()) return respond(Problem(rev.status()));
          ReplyNow(respond, s.catalog.DatasetRevisionInfo(*rev));
        });

  r.Add("GET", "/api/v1/proposals", [&s](const HttpRequest& req, const PathParams&, Respond respond) {
    service::ProposalQuery q;
    q.status = QueryString(req, "status");
    q.author = QueryString(req, "author");
    q.agreement = QueryString(req, "agreement");
    q.kind = QueryString(req, "kind");
    q.cursor = QueryString(req, "cursor");
    auto limit = QueryInt(req, "limit");
    if (!limit.ok()) return respond(Problem(limit.status()));
    if (*limit) q.limit = static_cast<size_t>(**limit);
    ReplyNow(respond, s.proposals.List(q));
  });

  r.Add("GET", "/api/v1/proposals/{id}", [&s](const HttpRequest&, const PathParams& p, Respond respond) {
    auto id = PathId(p, "id");
    if (!id.ok()) return respond(Problem(id.status()));
    ReplyNow(respond, s.proposals.Get(*id));
  });

  r.Add("GET", "/api/v1/proposals/{id}/diff", [&s](const HttpRequest& req, const PathParams& p, Respond respond) {
    auto id = PathId(p, "id");
    if (!id.ok()) return respond(Problem(id.status()));
    auto rev = QueryInt(req, "revision");
    if (!rev.ok()) return respond(Problem(rev.status()));
    std::optional<int> n;
    if (*rev) n = static_cast<int>(**rev);
    ReplyNow(respond, s.proposals.Diff(*id, n));
  });

  r.Add("GET", "/api/v1/events", [&s](const HttpRequest& req, const PathParams&, Respond respond) {
    auto since = QueryInt(req, "since"), limit = QueryInt(req, "limit");
    if (!since.ok()) return respond(Problem(since.status()));
    if (!limit.ok()) return respond(Problem(limit.status()));
    std::optional<size_t> l;
    if (*limit) l = static_cast<size_t>(**limit);
    // Account events are shown to moderators only; the token is optional here.
    bool privileged = false;
    if (!req.authorization.empty()) {
      auto token = BearerToken(req.authorization);
      if (!token.ok()) return respond(Problem(token.status()));
      auto u = s.accounts.Authenticate(*token);
      if (!u.ok()) return respond(Problem(u.status()));
      privileged = domain::RoleAllows(u->role, domain::Role::kModerator);
    }
    ReplyNow(respond, s.catalog.Events(static_cast<uint64_t>(since->value_or(0)), l, privileged));
  });

  r.Add("GET", "/api/v1/export.json", [&s](const HttpRequest&, const PathParams&, Respond respond) {
    auto doc = s.catalog.ExportJson();
    if (!doc.ok()) return respond(Problem(doc.status()));
    HttpResponse res = JsonResponse(200, *doc);
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"normbase.json\"");
    respond(std::move(res));
  });

  r.Add("GET", "/api/v1/export.csv", [&s](const HttpRequest&, const PathParams&, Respond respond) {
    auto csv = s.catalog.ExportCsv();
    if (!csv.ok()) return respond(Problem(csv.status()));
    HttpResponse res = Text(200, "text/csv; charset=utf-8", std::move(csv).value());
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"normbase.csv\"");
    respond(std::move(res));
  });

  r.Add("GET", "/api/v1/whoami", Authed(s, [](const domain::User& u, const HttpRequest&, const PathParams&,
                                               Respond respond) { respond(JsonResponse(200, domain::ToJson(u))); }));
}

}  // namespace normbase::api
