// Accounts and bulk data: users, tokens, import. Admin-only except that users
// may list and revoke their own tokens.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/route_util.h"

namespace normbase::api {

void AddAdminRoutes(Router& r, ApiServices& s) {
  r.Add("GET", "/api/v1/users", Authed(s, [&s](const domain::User& u, const HttpRequest& req,
                                                const PathParams&, Respond respond) {
          if (auto st = service::RequireRole(u, domain::Role::kModerator, "listing users"); !st.ok())
            return respond(Problem(st));
          auto cursor = QueryInt(req, "cursor"), limit = QueryInt(req, "limit");
          if (!cursor.ok()) return respond(Problem(cursor.status()));
          if (!limit.ok()) return respond(Problem(limit.status()));
          constexpr int64_t kDefaultPage = 100, kMaxPage = 1000;
          const int64_t n = std::min(limit->value_or(kDefaultPage) == 0 ? kDefaultPage : limit->value_or(kDefaultPage), kMaxPage);
          ReplyNow(respond, s.accounts.ListUsers(cursor->value_or(0), static_cast<size_t>(n)));
        }));

  r.Add("POST", "/api/v1/users", Authed(s, [&s](const domain::User& u, const HttpRequest& req,
                                                 const PathParams&, Respond respond) {
          auto body = JsonBody(req);
          if (!body.ok()) return respond(Problem(body.status()));
          s.accounts.CreateUser(u, *body, Reply(std::move(respond), 201));
        }));

  r.Add("GET", "/api/v1/users/{id}", [&s](const HttpRequest&, const PathParams& p, Respond respond) {
    auto id = PathId(p, "id");
    if (!id.ok()) return respond(Problem(id.status()));
    ReplyNow(respond, s.accounts.GetUser(*id));
  });

  r.Add("PATCH", "/api/v1/users/{id}", Authed(s, [&s](const domain::User& u, const HttpRequest& req,
                                                       const PathParams& p, Respond respond) {
          auto id = PathId(p, "id");
          if (!id.ok()) return respond(Problem(id.status()));
          auto body = JsonBody(req);
          if (!body.ok()) return respond(Problem(body.status()));
          s.accounts.UpdateUser(u, *id, *body, Reply(std::move(respond)));
        }));

  r.Add("POST", "/api/v1/users/{id}/tokens", Authed(s, [&s](const domain::User& u, const HttpRequest& req,
                                                             const PathParams& p, Respond respond) {
          auto id = PathId(p, "id");
          if (!id.ok()) return respond(Problem(id.status()));
          auto body = JsonBody(req);
          if (!body.ok()) return respond(Problem(body.status()));
          std::string label;
          if (body->is_object() && body->contains("label")) {
            if (!(*body)["label"].is_string())
              return respond(Problem(Status::InvalidArgument("label: expected a string")));
            label = (*body)["label"].get<std::string>();
          }
          s.accounts.IssueToken(u, *id, std::move(label), Reply(std::move(respond), 201));
        }));

  r.Add("GET", "/api/v1/users/{id}/tokens", Authed(s, [&s](const domain::User& u, const HttpRequest&,
                                                            const PathParams& p, Respond respond) {
          auto id = PathId(p, "id");
          if (!id.ok()) return respond(Problem(id.status()));
          ReplyNow(respond, s.accounts.ListTokens(u, *id));
        }));

  r.Add("DELETE", "/api/v1/users/{id}/tokens/{token}",
        Authed(s, [&s](const domain::User& u, const HttpRequest&, const PathParams& p, Respond respond) {
          auto id = PathId(p, "id");
          auto token = PathId(p, "token");
          if (!id.ok()) return respond(Problem(id.status()));
          if (!token.ok()) return respond(Problem(token.status()));
          s.accounts.RevokeToken(u, *id, *token, Reply(std::move(respond)));
        }));

  r.Add("POST", "/api/v1/import", Authed(s, [&s](const domain::User& u, const HttpRequest& req,
                                                  const PathParams&, Respond respond) {
          std::string format = QueryString(req, "format");
          if (format.empty())
            format = req.content_type.rfind("text/csv", 0) == 0 ? "csv" : "json";
          if (format != "csv" && format != "json")
            return respond(Problem(Status::InvalidArgument("format: '" + format + "' is not csv or json")));
          const std::string dry = QueryString(req, "dry_run");
          if (!dry.empty() && dry != "true" && dry != "false")
            return respond(Problem(Status::InvalidArgument("dry_run: expected true or false")));
          s.importer.Import(u, format == "csv" ? service::ImportFormat::kCsv : service::ImportFormat::kJson,
                            req.body, dry == "true", Reply(std::move(respond)));
        }));
}

}  // namespace normbase::api
