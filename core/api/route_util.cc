#include "api/route_util.h"

#include <nlohmann/json.hpp>

namespace normbase::api {

RouteHandler Authed(ApiServices& s, AuthedHandler h) {
  return [&s, h = std::move(h)](const HttpRequest& req, const PathParams& p, Respond respond) {
    std::string_view auth = req.authorization;
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.empty())
      return respond(Problem(Status::Unauthenticated(
          "this request changes data and needs a token: send 'Authorization: Bearer <token>'")));
    if (auth.size() <= kBearer.size() || auth.substr(0, kBearer.size()) != kBearer)
      return respond(Problem(Status::Unauthenticated("the Authorization header must be 'Bearer <token>'")));
    auto user = s.accounts.Authenticate(auth.substr(kBearer.size()));
    if (!user.ok()) return respond(Problem(user.status()));
    h(*user, req, p, std::move(respond));
  };
}

Result<domain::Json> JsonBody(const HttpRequest& req) {
  if (req.body.empty()) return domain::Json(nullptr);
  const std::string& ct = req.content_type;
  if (!ct.empty() && ct.rfind("application/json", 0) != 0 && ct.find("+json") == std::string::npos)
    return Status::InvalidArgument("unsupported Content-Type '" + ct + "': send application/json");
  return domain::ParseJson(req.body);
}

Result<std::optional<int64_t>> QueryInt(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return std::optional<int64_t>();
  const std::string& v = it->second;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || used == 0)
    return Status::InvalidArgument(std::string(name) + ": '" + v + "' is not an integer");
  if (n < 0) return Status::InvalidArgument(std::string(name) + ": must not be negative");
  return std::optional<int64_t>(n);
}

Result<int64_t> PathId(const PathParams& p, const char* name) {
  auto it = p.find(name);
  const std::string v = it == p.end() ? "" : it->second;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size() || n <= 0)
    return Status::NotFound(std::string(name) + " '" + v + "' is not a valid id");
  return n;
}

std::string QueryString(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

service::Done<domain::Json> Reply(Respond respond, int ok_status) {
  return [respond = std::move(respond), ok_status](Result<domain::Json> r) {
    if (!r.ok()) return respond(Problem(r.status()));
    respond(JsonResponse(ok_status, *r));
  };
}

void ReplyNow(const Respond& respond, Result<domain::Json> r) {
  if (!r.ok()) return respond(Problem(r.status()));
  respond(JsonResponse(200, *r));
}

}  // namespace normbase::api
